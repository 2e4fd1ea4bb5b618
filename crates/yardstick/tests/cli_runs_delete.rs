//! `yardstick runs --delete RUN_ID` through the real binary on a store written through the store's API: the run,
//! its tasks, samples and aggregates go; the responses it used stay (a later run reuses them); an unknown id is
//! an error naming the command that lists runs.

use serde_json::json;
use std::process::Command;
use yardstick_store::ledger::{RunRecord, RunStatus, SampleRecord, StoredResponse};
use yardstick_store::Store;

fn yardstick(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(args)
        .output()
        .expect("run yardstick")
}

#[test]
fn a_run_is_deleted_and_its_responses_stay() {
    let dir = tempfile::tempdir().unwrap();
    let db = yardstick_testkit::test_store(dir.path(), "y.db");
    {
        let store = Store::open_location(&db).unwrap();
        store
            .begin_run(&RunRecord {
                run_id: "run-a".into(),
                command: "yardstick run".into(),
                model_name: "m".into(),
                model_location: "http://127.0.0.1:8080/v1".into(),
                model_fingerprint: "fp".into(),
                config: json!({}),
                tool_version: "test".into(),
                lm_eval_compat: "0.4.13".into(),
                git_rev: None,
                hardware: json!({}),
            })
            .unwrap();
        store
            .put_responses(&[StoredResponse {
                request_key: "k1".into(),
                model_fingerprint: "fp".into(),
                kind: "loglikelihood".into(),
                request: json!({}),
                response: json!({"logprob": -1.0, "is_greedy": true}),
                raw: None,
                latency_ms: None,
                prompt_tokens: None,
                completion_tokens: None,
            }])
            .unwrap();
        let sample = SampleRecord {
            task: "arc_easy".into(),
            doc_id: 0,
            filter: "none".into(),
            doc_hash: "d".into(),
            prompt_hash: "p".into(),
            target_hash: "t".into(),
            record: json!({}),
            request_keys: vec!["k1".into()],
            fewshot_ids: vec![],
            metrics: json!({"acc": {"kind": "int", "value": 1}}),
        };
        store
            .put_scores("run-a", "arc_easy", &[sample], &[])
            .unwrap();
        store
            .end_run("run-a", RunStatus::Finished, &json!({}))
            .unwrap();
    }
    let db_s = db.as_str();
    let o = yardstick(&["runs", "--store", db_s, "--delete", "run-a"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("deleted run run-a (1 samples)"), "{out}");
    let o = yardstick(&["runs", "--store", db_s]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("holds no runs"));
    let store = Store::open_location(&db).unwrap();
    assert_eq!(
        store.get_responses(&["k1"]).unwrap().len(),
        1,
        "the response stays"
    );
    drop(store);
    let o = yardstick(&["runs", "--store", db_s, "--delete", "run-a"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("no run run-a") && err.contains("yardstick runs --store"),
        "{err}"
    );
}
