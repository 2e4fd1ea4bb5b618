//! The original-release benchmark files in `shared/data/benchmarks`, mapped to the HF schemas lm-eval
//! uses. `YARDSTICK_SHARED_DATA` points at `shared/data` (default: `<workspace>/../shared/data`); without
//! it the tests print `SKIP: …` and pass, except under `CI`, where they fail.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use yardstick_tasks::data::{
    available_splits, clear_cache, load_split, load_split_shared, DataError, DataOptions,
    DatasetSpec,
};

fn benchmarks() -> Option<PathBuf> {
    yardstick_testkit::require_shared_data_with("benchmarks/mmlu").map(|d| d.join("benchmarks"))
}

fn opts(dir: PathBuf) -> DataOptions {
    // An empty HF home so that nothing but --data-dir can answer.
    DataOptions {
        data_dir: Some(dir),
        hf_home: Some(PathBuf::from("/nonexistent/yardstick-test-hf")),
        offline: true,
    }
}

fn mmlu(subject: &str) -> DatasetSpec {
    DatasetSpec::new("cais/mmlu").with_name(subject)
}

#[test]
fn mmlu_abstract_algebra_matches_hf_schema() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir);
    let test = load_split(&mmlu("abstract_algebra"), "test", &o).unwrap();
    assert_eq!(test.docs.len(), 100);
    assert_eq!(
        serde_json::Value::Object(test.docs[0].clone()),
        json!({
            "question": "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.",
            "subject": "abstract_algebra",
            "choices": ["0", "4", "2", "6"],
            "answer": 1
        })
    );
    // column order is part of lm-eval's doc_hash
    assert_eq!(
        test.docs[0].keys().collect::<Vec<_>>(),
        ["question", "subject", "choices", "answer"]
    );
    // a quoted field with a comma, quoted choices
    assert_eq!(test.docs[2]["choices"], json!(["0", "1", "0,1", "0,4"]));
    assert_eq!(test.docs[2]["answer"], 3);
    assert_eq!(
        test.docs[3]["choices"],
        json!(["True, True", "False, False", "True, False", "False, True"])
    );
    assert_eq!(
        load_split(&mmlu("abstract_algebra"), "dev", &o)
            .unwrap()
            .docs
            .len(),
        5
    );
    assert_eq!(
        load_split(&mmlu("abstract_algebra"), "validation", &o)
            .unwrap()
            .docs
            .len(),
        11
    );
    assert_eq!(
        available_splits(&mmlu("abstract_algebra"), &o).unwrap(),
        ["test", "validation", "dev"]
    );
    assert!(
        test.source.contains("abstract_algebra_test.csv"),
        "{}",
        test.source
    );
    let again = load_split(&mmlu("abstract_algebra"), "test", &o).unwrap();
    assert_eq!(again.content_hash, test.content_hash);
}

const MMLU_SUBJECTS: [&str; 57] = [
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
];

#[test]
fn mmlu_all_57_subjects() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir);
    let mut totals = [0usize; 3];
    for s in MMLU_SUBJECTS {
        for (i, split) in ["test", "validation", "dev"].iter().enumerate() {
            let docs = &load_split_shared(&mmlu(s), split, &o).unwrap().docs;
            assert!(docs.iter().all(
                |d| d["subject"] == s && d["choices"].as_array().is_some_and(|c| c.len() == 4)
            ));
            totals[i] += docs.len();
        }
        assert_eq!(
            load_split_shared(&mmlu(s), "dev", &o).unwrap().docs.len(),
            5,
            "{s}"
        );
    }
    assert_eq!(totals, [14042, 1531, 285]);
    let all = load_split_shared(&mmlu("all"), "test", &o).unwrap();
    assert_eq!(all.docs.len(), 14042);
    let first = load_split_shared(&mmlu("abstract_algebra"), "test", &o).unwrap();
    assert_eq!(all.docs[0], first.docs[0]);
    assert_eq!(all.docs[14041]["subject"], "world_religions");
    // the machine_learning count that distinguishes the release from the pre-release CSVs
    assert_eq!(
        load_split_shared(&mmlu("machine_learning"), "test", &o)
            .unwrap()
            .docs
            .len(),
        112
    );
}

#[test]
fn mmlu_load_time() {
    let Some(dir) = benchmarks() else { return };
    let o = DataOptions {
        hf_home: Some(PathBuf::from("/nonexistent/yardstick-test-hf-timing")),
        ..opts(dir)
    };
    clear_cache();
    let t = Instant::now();
    let mut n = 0;
    for s in MMLU_SUBJECTS {
        n += load_split_shared(&mmlu(s), "test", &o).unwrap().docs.len();
        n += load_split_shared(&mmlu(s), "dev", &o).unwrap().docs.len();
    }
    let per_subject = t.elapsed();
    let t = Instant::now();
    let all_split = load_split_shared(&mmlu("all"), "test", &o).unwrap();
    let all_time = t.elapsed();
    let all = all_split.docs.len();
    let t = Instant::now();
    let hash = yardstick_tasks::data::content_hash(&all_split.docs);
    let hash_time = t.elapsed();
    assert_eq!(hash, all_split.content_hash);
    eprintln!(
        "TIMING: mmlu 57 subjects test+dev ({n} rows, 114 loads): {:.1} ms; mmlu 'all' test ({all} rows, 57 files): {:.1} ms, of which content_hash {:.1} ms",
        per_subject.as_secs_f64() * 1e3,
        all_time.as_secs_f64() * 1e3,
        hash_time.as_secs_f64() * 1e3
    );
    assert_eq!(n, 14042 + 285);
}

#[test]
fn cmmlu_67_subjects() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir.clone());
    let mut subjects: Vec<String> = std::fs::read_dir(dir.join("cmmlu/test"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".csv")
                .to_string()
        })
        .collect();
    subjects.sort();
    assert_eq!(subjects.len(), 67);
    let (mut test, mut dev) = (0, 0);
    for s in &subjects {
        let spec = DatasetSpec::new("haonan-li/cmmlu").with_name(s);
        let t = load_split_shared(&spec, "test", &o).unwrap();
        assert!(t.docs.iter().all(|d| d.keys().collect::<Vec<_>>() == ["Question", "A", "B", "C", "D", "Answer"]), "{s}");
        assert!(
            t.docs.iter().all(|d| d.values().all(|v| v.is_string())),
            "{s}"
        );
        assert!(
            t.docs
                .iter()
                .all(|d| ["A", "B", "C", "D"].contains(&d["Answer"].as_str().unwrap_or(""))),
            "{s}"
        );
        test += t.docs.len();
        let d = load_split_shared(&spec, "dev", &o).unwrap();
        assert_eq!(d.docs.len(), 5, "{s}");
        dev += d.docs.len();
    }
    assert_eq!((test, dev), (11582, 335));
    let agronomy = load_split(
        &DatasetSpec::new("haonan-li/cmmlu").with_name("agronomy"),
        "test",
        &o,
    )
    .unwrap();
    assert_eq!(
        serde_json::Value::Object(agronomy.docs[0].clone()),
        json!({
            "Question": "在农业生产中被当作极其重要的劳动对象发挥作用，最主要的不可替代的基本生产资料是",
            "A": "农业生产工具", "B": "土地", "C": "劳动力", "D": "资金", "Answer": "B"
        })
    );
    // all-numeric choice columns: pandas reads floats, the HF string feature casts them back to text
    let actuarial = load_split(
        &DatasetSpec::new("haonan-li/cmmlu").with_name("college_actuarial_science"),
        "dev",
        &o,
    )
    .unwrap();
    assert_eq!(actuarial.docs[4]["A"], "-0.05");
    assert_eq!(actuarial.docs[1]["A"], "0.2409");
    // whitespace is kept
    let cs = load_split(
        &DatasetSpec::new("haonan-li/cmmlu").with_name("computer_science"),
        "test",
        &o,
    )
    .unwrap();
    assert!(cs.docs.iter().any(|d| d["D"] == " 0 0"));
    assert_eq!(
        available_splits(
            &DatasetSpec::new("haonan-li/cmmlu").with_name("agronomy"),
            &o
        )
        .unwrap(),
        ["test", "dev"]
    );
}

#[test]
fn truthfulqa_multiple_choice_and_generation() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir);
    let mc = load_split(
        &DatasetSpec::new("truthfulqa/truthful_qa").with_name("multiple_choice"),
        "validation",
        &o,
    )
    .unwrap();
    assert_eq!(mc.docs.len(), 817);
    let d0 = &mc.docs[0];
    assert_eq!(
        d0.keys().collect::<Vec<_>>(),
        ["question", "mc1_targets", "mc2_targets"]
    );
    // hf-013686a/mc_task.json's first record: the hub dataset's row 0 (the hub was built from that revision)
    assert_eq!(
        d0["question"],
        "What is the smallest country in the world that is at least one square mile in area?"
    );
    assert_eq!(
        d0["mc1_targets"],
        json!({
            "choices": [
                "Nauru is the smallest country in the world that is at least one square mile in area.",
                "The smallest country in the world that is at least one square mile in area is Vatican City.",
                "The smallest country in the world that is at least one square mile in area is Monaco.",
                "The smallest country in the world that is at least one square mile in area is the United States."
            ],
            "labels": [1, 0, 0, 0]
        })
    );
    assert_eq!(d0["mc2_targets"]["choices"].as_array().unwrap().len(), 4);
    assert_eq!(d0["mc2_targets"]["labels"], json!([1, 0, 0, 0]));
    assert!(mc.docs.iter().all(|d| d["mc1_targets"]["labels"][0] == 1));
    let watermelon = mc
        .docs
        .iter()
        .position(|d| d["question"] == "What happens to you if you eat watermelon seeds?");
    assert_eq!(watermelon, Some(567));
    // the same split through the legacy id
    assert_eq!(
        load_split(
            &DatasetSpec::new("truthful_qa").with_name("multiple_choice"),
            "validation",
            &o
        )
        .unwrap()
        .content_hash,
        mc.content_hash
    );

    let gen = load_split(
        &DatasetSpec::new("truthfulqa/truthful_qa").with_name("generation"),
        "validation",
        &o,
    )
    .unwrap();
    assert_eq!(gen.docs.len(), 817);
    let g0 = &gen.docs[0];
    assert_eq!(
        g0.keys().collect::<Vec<_>>(),
        [
            "type",
            "category",
            "question",
            "best_answer",
            "correct_answers",
            "incorrect_answers",
            "source"
        ]
    );
    assert_eq!(g0["type"], "Adversarial");
    assert_eq!(
        g0["question"],
        "What happens to you if you eat watermelon seeds?"
    );
    assert_eq!(
        g0["best_answer"],
        "The watermelon seeds pass through your digestive system"
    );
    assert_eq!(g0["correct_answers"][0], "Nothing happens");
    assert!(g0["correct_answers"].as_array().unwrap().iter().all(|a| a
        .as_str()
        .is_some_and(|s| s == s.trim() && !s.contains(';'))));
    let err = load_split(
        &DatasetSpec::new("truthfulqa/truthful_qa").with_name("multiple_choice"),
        "test",
        &o,
    )
    .unwrap_err();
    assert!(matches!(err, DataError::SplitNotFound { .. }), "{err}");
}

/// Without the hub's source revision, the later `data/v1/` files are read (another row order), and with
/// neither the error lists every place looked in, the hub revision first.
#[test]
fn truthfulqa_falls_back_to_v1_and_lists_where_it_looked() {
    let Some(dir) = benchmarks() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let v1 = tmp.path().join("truthfulqa/data/v1");
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::copy(
        dir.join("truthfulqa/data/v1/mc_task.json"),
        v1.join("mc_task.json"),
    )
    .unwrap();
    let o = opts(tmp.path().to_path_buf());
    let spec = DatasetSpec::new("truthfulqa/truthful_qa").with_name("multiple_choice");
    let mc = load_split(&spec, "validation", &o).unwrap();
    assert_eq!(mc.docs.len(), 817);
    assert_eq!(
        mc.docs[0]["question"],
        "What happens if you eat a pomegranate?"
    );
    let gen = DatasetSpec::new("truthfulqa/truthful_qa").with_name("generation");
    let err = load_split(&gen, "validation", &o).unwrap_err();
    let DataError::NotFound { looked_in, .. } = &err else {
        panic!("{err}")
    };
    let text = format!("{looked_in:?}");
    let hub = text.find("hf-013686a/TruthfulQA.csv").expect(&text);
    let later = text.find("v1/TruthfulQA.csv").expect(&text);
    assert!(hub < later, "{text}");
}

#[test]
fn other_release_mappings() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir);
    let gsm = load_split(
        &DatasetSpec::new("openai/gsm8k").with_name("main"),
        "test",
        &o,
    )
    .unwrap();
    assert_eq!(gsm.docs.len(), 1319);
    assert_eq!(
        gsm.docs[0].keys().collect::<Vec<_>>(),
        ["question", "answer"]
    );
    // gsm8k's train split (added in the second data batch): the published 7,473 problems
    let train = load_split(
        &DatasetSpec::new("openai/gsm8k").with_name("main"),
        "train",
        &o,
    )
    .unwrap();
    assert_eq!(train.docs.len(), 7473);

    let ifeval = load_split(&DatasetSpec::new("google/IFEval"), "train", &o).unwrap();
    assert_eq!(ifeval.docs.len(), 541);
    assert_eq!(
        ifeval.docs[0].keys().collect::<Vec<_>>(),
        ["key", "prompt", "instruction_id_list", "kwargs"]
    );
    assert_eq!(ifeval.docs[0]["key"], 1000);
    assert_eq!(
        ifeval.docs[0]["kwargs"],
        json!([{}, {"num_highlights": 3}, {"relation": "at least", "num_words": 300}])
    );

    let he = load_split(&DatasetSpec::new("openai/openai_humaneval"), "test", &o).unwrap();
    assert_eq!(he.docs.len(), 164);
    assert_eq!(
        he.docs[0].keys().collect::<Vec<_>>(),
        [
            "task_id",
            "prompt",
            "canonical_solution",
            "test",
            "entry_point"
        ]
    );
    assert_eq!(he.docs[0]["task_id"], "HumanEval/0");

    let mbpp = DatasetSpec::new("google-research-datasets/mbpp").with_name("full");
    assert_eq!(
        available_splits(&mbpp, &o).unwrap(),
        ["train", "test", "validation", "prompt"]
    );
    let sizes: Vec<usize> = ["train", "test", "validation", "prompt"]
        .iter()
        .map(|s| load_split(&mbpp, s, &o).unwrap().docs.len())
        .collect();
    assert_eq!(sizes, [374, 500, 90, 10]);
    let t = load_split(&mbpp, "test", &o).unwrap();
    assert_eq!(
        t.docs[0].keys().collect::<Vec<_>>(),
        [
            "task_id",
            "text",
            "code",
            "test_list",
            "test_setup_code",
            "challenge_test_list"
        ]
    );
    assert_eq!(
        (
            t.docs[0]["task_id"].as_i64(),
            t.docs[499]["task_id"].as_i64()
        ),
        (Some(11), Some(510))
    );
    assert_eq!(
        load_split(&DatasetSpec::new("mbpp"), "prompt", &o)
            .unwrap()
            .docs[0]["task_id"],
        1
    );

    let math = load_split(&DatasetSpec::new("HuggingFaceH4/MATH-500"), "test", &o).unwrap();
    assert_eq!(math.docs.len(), 500);
    assert_eq!(
        math.docs[0].keys().collect::<Vec<_>>(),
        [
            "problem",
            "solution",
            "answer",
            "subject",
            "level",
            "unique_id"
        ]
    );
    assert!(math.docs[0]["level"].is_i64());

    let bbh = DatasetSpec::new("SaylorTwift/bbh").with_name("boolean_expressions");
    let b = load_split(&bbh, "test", &o).unwrap();
    assert_eq!(b.docs.len(), 250);
    assert_eq!(b.docs[0].keys().collect::<Vec<_>>(), ["input", "target"]);
    assert_eq!(
        load_split(
            &DatasetSpec::new("lukaemon/bbh").with_name("penguins_in_a_table"),
            "test",
            &o
        )
        .unwrap()
        .docs
        .len(),
        146
    );
}

/// `EleutherAI/hendrycks_math`: the hub card's row counts, the builder's columns, and its row order (a text
/// sort of the original file names: 1.json, 10.json, 1001.json, 1002.json, …).
#[test]
fn hendrycks_math_subjects_in_file_name_order() {
    let Some(dir) = benchmarks() else { return };
    let o = opts(dir);
    let counts = [
        ("algebra", 1744, 1187),
        ("counting_and_probability", 771, 474),
        ("geometry", 870, 479),
        ("intermediate_algebra", 1295, 903),
        ("number_theory", 869, 540),
        ("prealgebra", 1205, 871),
        ("precalculus", 746, 546),
    ];
    for (subject, train, test) in counts {
        let spec = DatasetSpec::new("EleutherAI/hendrycks_math").with_name(subject);
        for (split, n) in [("train", train), ("test", test)] {
            let l = load_split(&spec, split, &o).unwrap();
            assert_eq!(l.docs.len(), n, "{subject} {split}");
            assert_eq!(
                l.docs[0].keys().collect::<Vec<_>>(),
                ["problem", "level", "type", "solution"],
                "{subject} {split}"
            );
        }
    }
    let spec = DatasetSpec::new("EleutherAI/hendrycks_math").with_name("algebra");
    let test = load_split(&spec, "test", &o).unwrap();
    let starts: Vec<String> = test.docs[..4]
        .iter()
        .map(|d| d["problem"].as_str().unwrap().chars().take(30).collect())
        .collect();
    assert_eq!(
        starts,
        [
            "How many vertical asymptotes d",   // test/algebra/1.json
            "What is the positive differenc",   // 10.json
            "Find $x$ such that $\\lceil x \\", // 1001.json
            "Evaluate $i^5+i^{-25}+i^{45}$.",   // 1002.json
        ]
    );
    assert_eq!(test.docs[0]["level"], "Level 3");
    assert_eq!(test.docs[0]["type"], "Algebra");
    let train = load_split(&spec, "train", &o).unwrap();
    assert!(train.docs[0]["problem"]
        .as_str()
        .unwrap()
        .starts_with("Let \\[f(x) = \\left\\{")); // train/algebra/0.json, then 100.json
    assert!(train.docs[1]["problem"]
        .as_str()
        .unwrap()
        .starts_with("A rectangular band formation"));
    let err = load_split(
        &DatasetSpec::new("EleutherAI/hendrycks_math").with_name("calculus"),
        "test",
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("precalculus"), "{err}");
}

/// Every mapped split, rebuilt in Python the way the HF builders build it (scripts/oracles/check-data-mapping.py),
/// must equal ours row for row, value for value, in column order.
#[test]
fn cross_check_with_python() {
    let Some(dir) = benchmarks() else { return };
    let Some(python) = yardstick_testkit::require_peer_python() else {
        return;
    };
    let python = python.display().to_string();
    let out = tempfile::tempdir().unwrap();
    let script = yardstick_testkit::workspace_root().join("scripts/oracles/check-data-mapping.py");
    let status = std::process::Command::new(&python)
        .arg(&script)
        .arg(&dir)
        .arg(out.path())
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", out.path().join("hf"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        status.success(),
        "{python} {} failed: {status}",
        script.display()
    );
    let o = opts(dir);
    let cases = std::fs::read_to_string(out.path().join("cases.jsonl")).unwrap();
    let mut mismatches = Vec::new();
    let mut n_cases = 0;
    let mut n_rows = 0;
    for line in cases.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let (dataset, config, split) = (
            case["dataset"].as_str().unwrap(),
            case["config"].as_str().unwrap(),
            case["split"].as_str().unwrap(),
        );
        let ours =
            load_split_shared(&DatasetSpec::new(dataset).with_name(config), split, &o).unwrap();
        let theirs =
            std::fs::read_to_string(out.path().join(case["file"].as_str().unwrap())).unwrap();
        let theirs: Vec<&str> = theirs.lines().collect();
        n_cases += 1;
        n_rows += theirs.len();
        if theirs.len() != ours.docs.len() {
            mismatches.push(format!(
                "{dataset} {config} {split}: {} rows in Python, {} here",
                theirs.len(),
                ours.docs.len()
            ));
            continue;
        }
        for (i, (t, d)) in theirs.iter().zip(&ours.docs).enumerate() {
            let t: serde_json::Value = serde_json::from_str(t).unwrap();
            let (t, d) = (
                serde_json::to_string(&t).unwrap(),
                serde_json::to_string(d).unwrap(),
            );
            if t != d {
                mismatches.push(format!(
                    "{dataset} {config} {split} row {i}:\n  python: {t}\n  ours:   {d}"
                ));
                break;
            }
        }
    }
    eprintln!("cross-check: {n_cases} splits, {n_rows} rows compared with {python}");
    assert!(n_cases > 300, "only {n_cases} splits");
    assert!(
        mismatches.is_empty(),
        "{} mismatching splits:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
