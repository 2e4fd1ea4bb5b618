//! The built-in minerva_math tasks scored by the run engine, with no Python and no shared data: synthetic
//! release files (`math/{train,test}.jsonl`), hand-written generations, and `score_task`. Checks that the
//! native `process_results` scores both of lm-eval's metrics, `exact_match` and `math_verify` (ints per
//! sample, as lm-eval's function returns them), and aggregates both. Expected values are hand-reasoned and
//! were checked against lm-eval 0.4.13's `process_results` (math-verify 0.9.0).

use serde_json::{json, Value};
use yardstick_engine::run::score::{score_task, DocResults};
use yardstick_engine::scoring::NumericEnv;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{PreparedTask, TaskIndex};

fn row(file: &str, problem: &str, solution: &str) -> Value {
    json!({"problem": problem, "level": "Level 1", "type": "Algebra", "solution": solution,
           "unique_id": format!("test/algebra/{file}")})
}

#[test]
fn minerva_scores_exact_match_and_math_verify() {
    let dir = tempfile::tempdir().unwrap();
    let math = dir.path().join("math");
    std::fs::create_dir_all(&math).unwrap();
    let rows = [
        row("1.json", "Half?", "It is $\\boxed{\\frac{1}{2}}$."),
        row("2.json", "Pair?", "It is $\\boxed{(1,2)}$."),
        row("3.json", "Three?", "It is $\\boxed{3}$."),
        row("4.json", "Four?", "It is $\\boxed{4}$."),
    ];
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(math.join("test.jsonl"), text).unwrap();
    std::fs::write(math.join("train.jsonl"), "").unwrap();
    let index = TaskIndex::load(&[]).unwrap();
    let sel = index.resolve(&["minerva_math_algebra"]).unwrap();
    let opts = DataOptions {
        data_dir: Some(dir.path().to_path_buf()),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let task = PreparedTask::prepare(sel.tasks()[0], &opts, None, 1234, None).unwrap();
    let docs = task.all_docs().unwrap();
    let responses = [
        " We get 0.5.\nFinal Answer: The final answer is $0.5$. I hope it is correct.",
        " Final Answer: The final answer is $(1,2)$. I hope it is correct.", // equal as strings only
        " It is \\boxed{3}.", // no final-answer line: math_verify still finds the boxed 3
        " Final Answer: The final answer is $5$. I hope it is correct.", // wrong for both
    ];
    let results: Vec<DocResults> = responses
        .iter()
        .map(|r| DocResults::generated([*r]))
        .collect();
    let env = NumericEnv::for_python(3, 11);
    let scored = score_task(&task, &docs, &results, 1000, env).unwrap();
    let per_sample: Vec<Value> = scored
        .lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    assert_eq!(per_sample.len(), 4);
    for (line, (em, mv)) in per_sample.iter().zip([(1, 1), (1, 1), (0, 1), (0, 0)]) {
        assert_eq!(line["exact_match"], json!(em), "{line}");
        // 0.5 is 1/2 (math_verify normalises "0.5" to \frac{1}{2}); (1,2) is the same open interval
        assert_eq!(line["math_verify"], json!(mv), "{line}");
        assert_eq!(
            line["metrics"],
            json!(["exact_match", "math_verify"]),
            "{line}"
        );
        assert_eq!(line["filter"], "none");
    }
    let metrics: Vec<(&str, &str, f64)> = scored
        .output
        .aggregate
        .metrics
        .iter()
        .map(|m| (m.metric.as_str(), m.filter.as_str(), m.value))
        .collect();
    assert_eq!(
        metrics,
        [("exact_match", "none", 0.5), ("math_verify", "none", 0.75)]
    );
    assert!(scored.output.higher_is_better.contains_key("math_verify"));
}
