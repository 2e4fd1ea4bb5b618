//! The built-in humaneval and mbpp tasks scored by the run engine with the real sandbox: HumanEval and MBPP
//! from `../shared/data` through `--data-dir`, hand-written generations (the canonical solution, a wrong
//! one, one that loops, one that calls `exit()`), the sandbox running every program as lm-eval's code_eval
//! does, and the ledger keeping the results so that scoring again runs nothing. Expected values are
//! reasoned from code_eval's rules (a program passes when `exec` of it raises nothing within 3 s).

use serde_json::{json, Value};
use std::sync::Arc;
use yardstick_engine::run::score::{score_task_with, DocResults};
use yardstick_engine::run::{CodeExec, CodeExecOptions};
use yardstick_engine::scoring::NumericEnv;
use yardstick_store::Store;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{PreparedTask, TaskIndex};

fn task(name: &str, data: &std::path::Path, limit: usize) -> PreparedTask {
    let index = TaskIndex::load(&[]).unwrap();
    let sel = index.resolve(&[name]).unwrap();
    let opts = DataOptions {
        data_dir: Some(data.join("benchmarks")),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let limit = yardstick_tasks::Limit::Count(limit);
    PreparedTask::prepare(sel.tasks()[0], &opts, None, 1234, Some(limit)).unwrap()
}

async fn exec(store: Arc<Store>) -> Option<CodeExec> {
    match CodeExec::new(
        &CodeExecOptions {
            workers: 2,
            ..Default::default()
        },
        store,
    )
    .await
    {
        Ok(e) => Some(e),
        Err(e) => {
            yardstick_testkit::skip_or_fail(&format!("no sandbox: {e}"));
            None
        }
    }
}

fn lines(scored: &yardstick_engine::run::ScoredTask) -> Vec<Value> {
    scored
        .lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn humaneval_pass_at_1_from_the_sandbox() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/humaneval") else {
        return;
    };
    let store = Arc::new(fresh_store());
    let Some(exec) = exec(store.clone()).await else {
        return;
    };
    let task = task("humaneval", &data, 4);
    let docs = task.all_docs().unwrap();
    assert_eq!(docs.len(), 4);
    // Doc 0's canonical body (has_close_elements), a wrong body, an endless loop, and a body that calls
    // exit() (code_eval sets it to None: a TypeError, so a failure).
    let canonical = "    for idx, elem in enumerate(numbers):\n        for idx2, elem2 in enumerate(numbers):\n            \
                     if idx != idx2:\n                distance = abs(elem - elem2)\n                if distance < threshold:\n                    \
                     return True\n\n    return False\n";
    let responses = [
        canonical,
        "    return []\n",
        "    while True:\n        pass\n",
        "    exit(0)\n",
    ];
    let results: Vec<DocResults> = responses
        .iter()
        .map(|r| DocResults::generated([*r]))
        .collect();
    let env = NumericEnv::for_python(3, 11);
    let shared = Arc::new((task, docs, results, exec));
    let s2 = shared.clone();
    let scored = tokio::task::spawn_blocking(move || {
        let (t, d, r, e) = &*s2;
        score_task_with(t, d, r, 1000, env, Some(e)).map_err(|e| e.to_string())
    })
    .await
    .unwrap()
    .unwrap();
    let per = lines(&scored);
    let pass: Vec<f64> = per.iter().map(|l| l["pass@1"].as_f64().unwrap()).collect();
    assert_eq!(pass, [1.0, 0.0, 0.0, 0.0], "{per:#?}");
    assert_eq!(per[0]["filter"], "create_test");
    // The filtered response is the prompt followed by the generation (build_predictions).
    assert!(per[0]["filtered_resps"][0][0]
        .as_str()
        .unwrap()
        .starts_with("from typing import List"));
    let stored: Vec<Value> = scored.samples.iter().map(|s| s.record.clone()).collect();
    let results_of = |i: usize| {
        stored[i]["code_executions"][0]["result"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(results_of(0), "passed");
    assert!(results_of(1).starts_with("failed"), "{}", results_of(1));
    assert_eq!(results_of(2), "timed out");
    // Each doc's limit: code_eval's 3 s unless its reference solution is slow here (×4); HumanEval's run in
    // milliseconds, so 3 s, with the reference's time recorded.
    for r in &stored {
        let e = &r["code_executions"][0];
        assert_eq!(e["timeout_s"], json!(3.0), "{e}");
        assert!(e["reference_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{e}");
    }
    assert!(results_of(3).starts_with("failed: "), "{}", results_of(3));
    let agg: Vec<(&str, f64)> = scored
        .output
        .aggregate
        .metrics
        .iter()
        .map(|m| (m.metric.as_str(), m.value))
        .collect();
    assert_eq!(agg, [("pass@1", 0.25)]);

    // Scoring again finds every result in the ledger: nothing runs (the endless loop would take 3 s).
    let started = std::time::Instant::now();
    let again = tokio::task::spawn_blocking(move || {
        let (t, d, r, e) = &*shared;
        score_task_with(t, d, r, 1000, env, Some(e)).map_err(|e| e.to_string())
    })
    .await
    .unwrap()
    .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(lines(&again), per);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpp_pass_at_1_and_its_main_block_rule() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/mbpp") else {
        return;
    };
    let store = Arc::new(fresh_store());
    let Some(exec) = exec(store).await else {
        return;
    };
    let task = task("mbpp", &data, 3);
    let docs = task.all_docs().unwrap();
    // The test split starts at task 11 (remove_Occ).
    assert_eq!(docs[0].doc["task_id"], json!(11));
    let code = docs[0].doc["code"].as_str().unwrap().to_string();
    let responses = [
        // the reference code, then a main block reading stdin: code_eval never runs it (__name__ is not
        // "__main__" under exec with empty globals), so it passes
        format!("{code}\nif __name__ == \"__main__\":\n    print(input())\n"),
        // printing is fine (swallowed); sys.exit(0) is a failure under code_eval
        "import sys\nprint('hello')\nsys.exit(0)\n".to_string(),
        "def nothing(:\n".to_string(),
    ];
    let results: Vec<DocResults> = responses
        .iter()
        .map(|r| DocResults::generated([r.clone()]))
        .collect();
    let env = NumericEnv::for_python(3, 11);
    let scored = tokio::task::spawn_blocking(move || {
        score_task_with(&task, &docs, &results, 1000, env, Some(&exec)).map_err(|e| e.to_string())
    })
    .await
    .unwrap()
    .unwrap();
    let per = lines(&scored);
    let pass: Vec<f64> = per
        .iter()
        .map(|l| l["pass_at_1"].as_f64().unwrap())
        .collect();
    assert_eq!(pass, [1.0, 0.0, 0.0], "{per:#?}");
    let stored: Vec<Value> = scored.samples.iter().map(|s| s.record.clone()).collect();
    assert_eq!(stored[1]["code_executions"][0]["result"], "failed: 0");
    assert!(stored[2]["code_executions"][0]["result"]
        .as_str()
        .unwrap()
        .starts_with("failed: invalid syntax"));
}

/// A fresh store: in memory, or a new PostgreSQL database when `YARDSTICK_TEST_PG_URL` is set.
fn fresh_store() -> Store {
    match yardstick_testkit::test_database() {
        Some(url) => Store::open_location(&url).unwrap(),
        None => Store::open_in_memory().unwrap(),
    }
}
