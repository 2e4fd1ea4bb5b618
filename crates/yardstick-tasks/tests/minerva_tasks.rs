//! The built-in minerva_math tasks without the shared data: how they resolve and are configured (as lm-eval
//! 0.4.13's YAMLs say), and a full `prepare` on synthetic release files (`math/{train,test}.jsonl`) — row
//! order by file name, `process_docs`, the four `list_fewshot_samples` exemplars as `first_n` shots, the
//! prompt and the target — plus the error for a solution without a `\boxed{}` answer.

use serde_json::{json, Value};
use yardstick_core::{Doc, RequestArgs};
use yardstick_tasks::config::FewshotSamples;
use yardstick_tasks::data::{clear_cache, DataOptions};
use yardstick_tasks::functions::ResultsProcessor;
use yardstick_tasks::{math_answer, EntryKind, PreparedTask, TaskIndex};

const SUBJECT_TASKS: [&str; 7] = [
    "minerva_math_algebra",
    "minerva_math_counting_and_prob",
    "minerva_math_geometry",
    "minerva_math_intermediate_algebra",
    "minerva_math_num_theory",
    "minerva_math_prealgebra",
    "minerva_math_precalc",
];

#[test]
fn minerva_tasks_resolve_as_lm_eval_defines_them() {
    let idx = TaskIndex::load(&[]).unwrap();
    for t in SUBJECT_TASKS.iter().chain(&["minerva_math500"]) {
        assert_eq!(idx.get(t).map(|e| e.kind), Some(EntryKind::Task), "{t}");
    }
    assert_eq!(
        idx.get("minerva_math").map(|e| e.kind),
        Some(EntryKind::Group)
    );
    let sel = idx.resolve(&["minerva_math"]).unwrap();
    let names: Vec<&str> = sel.tasks().iter().map(|t| t.task.as_str()).collect();
    assert_eq!(names, SUBJECT_TASKS);
    let subjects: Vec<Option<&str>> = sel
        .tasks()
        .iter()
        .map(|t| t.dataset_name.as_deref())
        .collect();
    assert_eq!(
        subjects,
        [
            "algebra",
            "counting_and_probability",
            "geometry",
            "intermediate_algebra",
            "number_theory",
            "prealgebra",
            "precalculus"
        ]
        .map(Some)
    );
    let tag = idx.resolve(&["math_word_problems"]).unwrap();
    assert!(tag.tasks().iter().any(|t| t.task == "minerva_math500"));

    let t = &idx.resolve(&["minerva_math500"]).unwrap().tasks()[0].clone();
    assert_eq!(t.dataset_path.as_deref(), Some("HuggingFaceH4/MATH-500"));
    assert_eq!(t.training_split, None);
    assert_eq!(t.num_fewshot, Some(4));
    assert_eq!(
        t.process_docs.map(|f| f.name),
        Some("minerva_math.process_docs")
    );
    assert_eq!(t.process_results, Some("minerva_math"));
    assert_eq!(t.results_processor(), Some(ResultsProcessor::MinervaMath));
    let Some(FewshotSamples::Native(f)) = &t.fewshot_config.samples else {
        panic!("samples: {:?}", t.fewshot_config.samples)
    };
    assert_eq!(f.fewshot_samples().unwrap(), math_answer::fewshot_samples());
    // both metrics are listed and computed (math_verify by the native port), in lm-eval's order
    let names: Vec<String> = t.metrics().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["exact_match", "math_verify"]);
    assert_eq!(
        ResultsProcessor::MinervaMath.metrics_computed(),
        ["exact_match", "math_verify"]
    );
    assert!(t.metrics_not_computed().is_empty());
    let dump = t.to_lm_eval_dict(None);
    assert_eq!(dump["metric_list"][1]["metric"], "math_verify");
    assert_eq!(
        dump["fewshot_config"]["samples"],
        "!builtin minerva_math.list_fewshot_samples"
    );
    assert_eq!(dump["process_results"], "!builtin minerva_math");
    assert_eq!(dump["generation_kwargs"]["until"], json!(["Problem:"]));
    // A task without a native process_results has nothing not computed.
    let gsm = &idx.resolve(&["gsm8k"]).unwrap().tasks()[0].clone();
    assert!(gsm.metrics_not_computed().is_empty());
}

fn row(split: &str, subject: &str, file: &str, problem: &str, solution: &str) -> Value {
    json!({"problem": problem, "level": "Level 2", "type": "Algebra", "solution": solution,
           "unique_id": format!("{split}/{subject}/{file}")})
}

fn write_jsonl(path: &std::path::Path, rows: &[Value]) {
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn prepare(data: &std::path::Path, task: &str) -> Result<PreparedTask, yardstick_tasks::TaskError> {
    clear_cache();
    let idx = TaskIndex::load(&[]).unwrap();
    let sel = idx.resolve(&[task]).unwrap();
    let opts = DataOptions {
        data_dir: Some(data.to_path_buf()),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    PreparedTask::prepare(sel.tasks()[0], &opts, None, 1234, None)
}

#[test]
fn minerva_prepares_from_release_files_in_file_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let math = dir.path().join("math");
    std::fs::create_dir_all(&math).unwrap();
    write_jsonl(
        &math.join("test.jsonl"),
        &[
            row(
                "test",
                "algebra",
                "1.json",
                "One?",
                "So $\\boxed{\\frac12}$.",
            ),
            row(
                "test",
                "algebra",
                "2.json",
                "Two?",
                "It is $\\boxed{5\\text{ cm}}$.",
            ),
            row("test", "algebra", "10.json", "Ten?", "$x=\\boxed{10}$"),
            row("test", "geometry", "3.json", "Three?", "$\\boxed{3}$"),
        ],
    );
    write_jsonl(
        &math.join("train.jsonl"),
        &[row("train", "algebra", "0.json", "Zero?", "$\\boxed{0}$")],
    );
    let p = prepare(dir.path(), "minerva_math_algebra").unwrap();
    assert_eq!(p.num_fewshot(), 4);
    let docs = p.all_docs().unwrap();
    let problems: Vec<&str> = docs
        .iter()
        .map(|d| d.doc["problem"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["One?", "Ten?", "Two?"]); // 1.json, 10.json, 2.json
    let d = &docs[0];
    assert_eq!(
        d.doc.keys().collect::<Vec<_>>(),
        ["problem", "level", "type", "solution", "answer"]
    );
    assert_eq!(d.doc["answer"], "\\frac{1}{2}");
    assert_eq!(docs[2].doc["answer"], "5");
    assert_eq!(d.target_value, json!("\\frac{1}{2}"));
    let mut expected = String::new();
    for s in math_answer::fewshot_samples() {
        expected.push_str(&format!(
            "Problem:\n{}\n\nSolution: {}\n\n",
            s["problem"].as_str().unwrap(),
            s["solution"].as_str().unwrap()
        ));
    }
    expected.push_str("Problem:\nOne?\n\nSolution:");
    assert_eq!(d.context, expected);
    assert_eq!(d.fewshot_ids, [0, 1, 2, 3]);
    let RequestArgs::GenerateUntil { params, .. } = &d.instances[0].args else {
        panic!("{:?}", d.instances[0].args)
    };
    assert_eq!(params.until, ["Problem:"]);
    // exact_match on the processed doc, as the engine scores it
    let em = |r: &str| {
        math_answer::minerva_exact_match(&d.doc, r)
            .unwrap()
            .exact_match
    };
    assert_eq!(
        em("... Final Answer: The final answer is $0.5$. I hope it is correct."),
        1
    );
    assert_eq!(
        em("... Final Answer: The final answer is $\\frac{1}{3}$. I hope it is correct."),
        0
    );
    assert_eq!(em("The answer is \\boxed{\\frac12}."), 0);

    // four exemplars only: a fifth shot fails, as lm-eval's FirstNSampler asserts
    clear_cache();
    let idx = TaskIndex::load(&[]).unwrap();
    let sel = idx.resolve(&["minerva_math_algebra"]).unwrap();
    let opts = DataOptions {
        data_dir: Some(dir.path().to_path_buf()),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let five = PreparedTask::prepare(sel.tasks()[0], &opts, Some(5), 1234, None)
        .and_then(|p| p.all_docs().map(|_| ()));
    let err = five.unwrap_err().to_string();
    assert!(
        err.contains("5 few-shot examples requested but the pool has 4"),
        "{err}"
    );
}

#[test]
fn a_solution_without_a_boxed_answer_names_the_dataset_row() {
    let dir = tempfile::tempdir().unwrap();
    let math = dir.path().join("math");
    std::fs::create_dir_all(&math).unwrap();
    write_jsonl(
        &math.join("test.jsonl"),
        &[
            row("test", "precalculus", "1.json", "One?", "$\\boxed{1}$"),
            row("test", "precalculus", "2.json", "Two?", "It is 2."),
        ],
    );
    write_jsonl(&math.join("train.jsonl"), &[]);
    let err = prepare(dir.path(), "minerva_math_precalc")
        .unwrap_err()
        .to_string();
    assert!(err.contains("minerva_math.process_docs"), "{err}");
    assert!(err.contains("dataset row 1"), "{err}");
    assert!(err.contains("\\boxed"), "{err}");
}

#[test]
fn the_process_docs_port_keeps_columns_and_replaces_an_existing_answer() {
    let f = yardstick_tasks::functions::lookup("minerva_math.process_docs").unwrap();
    let doc: Doc = json!({"problem": "P", "solution": "$\\boxed{\\dfrac{3}{4}}$", "answer": "old", "subject": "S"})
        .as_object()
        .unwrap()
        .clone();
    let out = f.process_docs(&[doc]).unwrap();
    assert_eq!(
        out[0].keys().collect::<Vec<_>>(),
        ["problem", "solution", "answer", "subject"]
    );
    assert_eq!(out[0]["answer"], "\\dfrac{3}{4}"); // lm-eval keeps \dfrac
}
