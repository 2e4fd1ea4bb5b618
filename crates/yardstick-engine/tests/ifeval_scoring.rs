//! The built-in `ifeval` task scored by the run engine with canned responses (no model, no Python, no
//! shared data): synthetic `ifeval/input_data.jsonl` rows, hand-written generations and `score_task`.
//! Checks the per-sample values as lm-eval logs them (`prompt_level_*_acc` booleans, `inst_level_*_acc`
//! lists of booleans), the `mean` / `agg_inst_level_acc` aggregates, and the stderrs: the closed form for
//! the prompt-level means, `N/A` for the inst-level ones (lm-eval has no stderr for a task-defined
//! aggregation function).

use serde_json::{json, Value};
use yardstick_engine::run::score::{score_task, DocResults};
use yardstick_engine::scoring::{Aggregation, NumericEnv, StderrValue};
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{PreparedTask, TaskIndex};

/// Three rows: no_comma + end_checker("Bye."), quotation + keywords(["river"]), title.
const IFEVAL_ROWS: &str = include_str!("fixtures/ifeval_three_rows.jsonl");

#[test]
fn ifeval_scores_prompt_and_instruction_levels() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ifeval");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("input_data.jsonl"), IFEVAL_ROWS).unwrap();
    let index = TaskIndex::load(&[]).unwrap();
    let sel = index.resolve(&["ifeval"]).unwrap();
    let opts = DataOptions {
        data_dir: Some(dir.path().to_path_buf()),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let task = PreparedTask::prepare(sel.tasks()[0], &opts, None, 1234, None).unwrap();
    let docs = task.all_docs().unwrap();
    assert_eq!(docs.len(), 3);
    let responses = [
        "Hello there.\nBye.",                 // both followed
        "Here you go:\n\"The river flows.\"", // quotation only once the first line is dropped
        "No title here.",                     // not followed
    ];
    let results: Vec<DocResults> = responses
        .iter()
        .map(|r| DocResults::generated([*r]))
        .collect();
    let env = NumericEnv::for_python(3, 11);
    let scored = score_task(&task, &docs, &results, 100_000, env).unwrap();
    let lines: Vec<Value> = scored
        .lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    let expected = [
        (true, json!([true, true]), true, json!([true, true])),
        (false, json!([false, true]), true, json!([true, true])),
        (false, json!([false]), false, json!([false])),
    ];
    for (line, (ps, is, pl, il)) in lines.iter().zip(expected) {
        assert_eq!(line["prompt_level_strict_acc"], json!(ps), "{line}");
        assert_eq!(line["inst_level_strict_acc"], is, "{line}");
        assert_eq!(line["prompt_level_loose_acc"], json!(pl), "{line}");
        assert_eq!(line["inst_level_loose_acc"], il, "{line}");
    }
    // lm-eval's key order in the sample line: process_results' dict order.
    let keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    assert!(pos("prompt_level_strict_acc") < pos("inst_level_strict_acc"));
    assert!(pos("inst_level_strict_acc") < pos("prompt_level_loose_acc"));

    let agg: Vec<(&str, Aggregation, f64, StderrValue)> = scored
        .output
        .aggregate
        .metrics
        .iter()
        .map(|m| (m.metric.as_str(), m.aggregation, m.value, m.stderr))
        .collect();
    let names: Vec<&str> = agg.iter().map(|a| a.0).collect();
    assert_eq!(
        names,
        [
            "prompt_level_strict_acc",
            "inst_level_strict_acc",
            "prompt_level_loose_acc",
            "inst_level_loose_acc"
        ]
    );
    // prompt level: mean of [1, 0, 0] and [1, 1, 0]; stderr = sample stddev / sqrt(3)
    assert_eq!(agg[0].1, Aggregation::Mean);
    assert!((agg[0].2 - 1.0 / 3.0).abs() < 1e-15);
    let StderrValue::Value(se) = agg[0].3 else {
        panic!("prompt-level stderr: {:?}", agg[0].3)
    };
    assert!((se - 1.0 / 3.0).abs() < 1e-12, "{se}");
    assert!((agg[2].2 - 2.0 / 3.0).abs() < 1e-15);
    // instruction level: 3 of 5 strict, 4 of 5 loose, no stderr
    assert_eq!(agg[1].1, Aggregation::InstLevelAcc);
    assert_eq!(agg[1].2, 3.0 / 5.0);
    assert_eq!(agg[1].3, StderrValue::NotAvailable);
    assert_eq!(agg[3].2, 4.0 / 5.0);
    assert_eq!(agg[3].3, StderrValue::NotAvailable);
}
