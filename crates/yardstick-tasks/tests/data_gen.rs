//! `--data-dir` mappings of the second data batch (gsm8k train, MGSM, CMATH, ARC, C-Eval, MMLU-Pro): record
//! counts from `shared/data/MANIFEST.md`, the HF column order, and the errors for what the release copy
//! lacks. The value-for-value comparison with the Python builders is `data_real.rs::cross_check_with_python`
//! (`scripts/oracles/check-data-mapping.py`).

use std::path::PathBuf;

use serde_json::Value;
use yardstick_tasks::data::{load_split, DataError, DataOptions, DatasetSpec};

fn benchmarks() -> Option<PathBuf> {
    yardstick_testkit::require_shared_data_with("benchmarks/mgsm").map(|d| d.join("benchmarks"))
}

fn opts(dir: PathBuf) -> DataOptions {
    DataOptions {
        data_dir: Some(dir),
        hf_home: Some(PathBuf::from("/nonexistent/yardstick-test-hf")),
        offline: true,
    }
}

/// (dataset, config, split, rows, columns)
type Case = (
    &'static str,
    Option<&'static str>,
    &'static str,
    usize,
    &'static [&'static str],
);

fn keys(d: &serde_json::Map<String, Value>) -> Vec<&str> {
    d.keys().map(String::as_str).collect()
}

#[test]
fn counts_and_columns() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir);
    let cases: &[Case] = &[
        (
            "openai/gsm8k",
            Some("main"),
            "train",
            7473,
            &["question", "answer"],
        ),
        (
            "openai/gsm8k",
            Some("main"),
            "test",
            1319,
            &["question", "answer"],
        ),
        (
            "juletxara/mgsm",
            Some("zh"),
            "test",
            250,
            &["question", "answer", "answer_number", "equation_solution"],
        ),
        (
            "juletxara/mgsm",
            Some("en"),
            "test",
            250,
            &["question", "answer", "answer_number", "equation_solution"],
        ),
        (
            "weitianwen/cmath",
            None,
            "validation",
            600,
            &["grade", "input", "golden", "reasoning_step", "num_digits"],
        ),
        (
            "allenai/ai2_arc",
            Some("ARC-Challenge"),
            "test",
            1172,
            &["id", "question", "choices", "answerKey"],
        ),
        (
            "allenai/ai2_arc",
            Some("ARC-Challenge"),
            "train",
            1119,
            &["id", "question", "choices", "answerKey"],
        ),
        (
            "allenai/ai2_arc",
            Some("ARC-Easy"),
            "validation",
            570,
            &["id", "question", "choices", "answerKey"],
        ),
        (
            "ceval/ceval-exam",
            Some("accountant"),
            "val",
            49,
            &[
                "id",
                "question",
                "A",
                "B",
                "C",
                "D",
                "answer",
                "explanation",
            ],
        ),
        (
            "ceval/ceval-exam",
            Some("accountant"),
            "dev",
            5,
            &[
                "id",
                "question",
                "A",
                "B",
                "C",
                "D",
                "answer",
                "explanation",
            ],
        ),
        (
            "TIGER-Lab/MMLU-Pro",
            None,
            "test",
            12032,
            &[
                "question_id",
                "question",
                "options",
                "answer",
                "answer_index",
                "cot_content",
                "category",
                "src",
            ],
        ),
        (
            "TIGER-Lab/MMLU-Pro",
            None,
            "validation",
            70,
            &[
                "question_id",
                "question",
                "options",
                "answer",
                "answer_index",
                "cot_content",
                "category",
                "src",
            ],
        ),
    ];
    for (path, name, split, n, cols) in cases {
        let mut spec = DatasetSpec::new(*path);
        if let Some(c) = name {
            spec = spec.with_name(*c);
        }
        let got =
            load_split(&spec, split, &o).unwrap_or_else(|e| panic!("{path} {name:?} {split}: {e}"));
        assert_eq!(got.docs.len(), *n, "{path} {name:?} {split}");
        assert_eq!(keys(&got.docs[0]), *cols, "{path} {name:?} {split}");
    }
}

#[test]
fn mgsm_rows_are_the_tsv_rows() {
    let Some(dir) = benchmarks() else { return };
    let tsv = std::fs::read_to_string(dir.join("mgsm/mgsm_zh.tsv")).unwrap();
    let docs = load_split(
        &DatasetSpec::new("juletxara/mgsm").with_name("zh"),
        "test",
        &opts(dir),
    )
    .unwrap()
    .docs;
    for (line, d) in tsv.lines().zip(&docs) {
        let (q, a) = line.split_once('\t').unwrap();
        assert_eq!(d["question"], Value::String(q.into()));
        assert_eq!(
            d["answer_number"].as_i64(),
            Some(a.replace(',', "").parse().unwrap())
        );
        assert!(d["answer"].is_null() && d["equation_solution"].is_null());
    }
}

#[test]
fn what_the_release_lacks_is_a_clear_not_found() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir);
    // a language whose TSV is not in shared/data
    let err = load_split(
        &DatasetSpec::new("juletxara/mgsm").with_name("de"),
        "test",
        &o,
    )
    .unwrap_err();
    assert!(matches!(err, DataError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("mgsm_de.tsv"), "{err}");
    // MGSM's few-shot exemplars (train) and CMATH's test split are not in the release copy
    let err = load_split(
        &DatasetSpec::new("juletxara/mgsm").with_name("zh"),
        "train",
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("exemplars.py"), "{err}");
    let err = load_split(&DatasetSpec::new("weitianwen/cmath"), "test", &o).unwrap_err();
    assert!(err.to_string().contains("cmath_test.jsonl"), "{err}");
    // an unknown language is a spec error listing the configs
    let err = load_split(
        &DatasetSpec::new("juletxara/mgsm").with_name("xx"),
        "test",
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("en, es, fr"), "{err}");
}
