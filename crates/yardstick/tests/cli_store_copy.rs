//! `yardstick store copy FROM TO` through the real binary: SQLite → SQLite, and SQLite → PostgreSQL → SQLite
//! on a private cluster (skipped, saying so, where PostgreSQL is not installed; never in CI): the counts per
//! table, every table identical after the round trip, a rerun that copies nothing, and a conflicting row
//! refused with its table and key.

use serde_json::json;
use std::process::Command;
use yardstick_store::ledger::{
    AggregateRecord, RunRecord, RunStatus, SampleRecord, StoredResponse,
};
use yardstick_store::Store;

fn yardstick(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(args)
        .output()
        .expect("run yardstick")
}

fn ok(args: &[&str]) -> String {
    let o = yardstick(args);
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fill(store: &Store) {
    store
        .begin_run(&RunRecord {
            run_id: "run-a".into(),
            command: "yardstick run".into(),
            model_name: "m".into(),
            model_location: "http://127.0.0.1:8080/v1".into(),
            model_fingerprint: "fp".into(),
            config: json!({"limit": 2}),
            tool_version: "test".into(),
            lm_eval_compat: "0.4.13".into(),
            git_rev: None,
            hardware: json!({}),
        })
        .unwrap();
    let responses: Vec<StoredResponse> = (0..3)
        .map(|i| StoredResponse {
            request_key: format!("k{i}"),
            model_fingerprint: "fp".into(),
            kind: "loglikelihood".into(),
            request: json!({"prompt": [1, 2, 3, 4 + i], "ctxlen": 3}),
            response: json!({"logprob": -1.0 - f64::from(i), "is_greedy": i == 0}),
            raw: Some(format!("{{\"raw\": {i}}}")),
            latency_ms: Some(2.5),
            prompt_tokens: Some(4),
            completion_tokens: Some(0),
        })
        .collect();
    store.put_responses(&responses).unwrap();
    let sample = SampleRecord {
        task: "arc_easy".into(),
        doc_id: 0,
        filter: "none".into(),
        doc_hash: "d".into(),
        prompt_hash: "p".into(),
        target_hash: "t".into(),
        record: json!({"doc_id": 0}),
        request_keys: vec!["k0".into(), "k1".into(), "k2".into()],
        fewshot_ids: vec![],
        metrics: json!({"acc": 1}),
    };
    let agg = AggregateRecord {
        task: "arc_easy".into(),
        metric: "acc".into(),
        filter: "none".into(),
        value: Some(1.0),
        stderr: None,
        n: 1,
        is_group: false,
    };
    store
        .put_scores("run-a", "arc_easy", &[sample], &[agg])
        .unwrap();
    store
        .end_run("run-a", RunStatus::Finished, &json!({}))
        .unwrap();
}

fn assert_same_tables(a: &str, b: &str) {
    let (a, b) = (
        Store::open_location_read_only(a).unwrap(),
        Store::open_location_read_only(b).unwrap(),
    );
    for t in Store::copied_tables() {
        assert_eq!(a.table_rows(t).unwrap(), b.table_rows(t).unwrap(), "{t}");
    }
}

/// The `copied` and `present` counts of `table` in the printed table.
fn counts(out: &str, table: &str) -> (u64, u64) {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(table))
        .unwrap_or_else(|| panic!("no {table} line in:\n{out}"));
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    (n[0], n[1])
}

#[test]
fn a_store_is_copied_between_files_and_through_postgres_losslessly() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db").display().to_string();
    fill(&Store::open(&a).unwrap());

    let b = dir.path().join("b.db").display().to_string();
    let out = ok(&["store", "copy", &a, &b]);
    assert_eq!(counts(&out, "responses"), (3, 0), "{out}");
    assert_eq!(counts(&out, "contexts"), (1, 0), "{out}");
    assert_eq!(counts(&out, "samples"), (1, 0), "{out}");
    assert_same_tables(&a, &b);
    let again = ok(&["store", "copy", &a, &b]);
    assert_eq!(counts(&again, "responses"), (0, 3), "{again}");
    assert!(again.contains("copied 0 row(s)"), "{again}");
    let same = yardstick(&["store", "copy", &a, &a]);
    assert!(!same.status.success());

    let Some(pg) = yardstick_testkit::PgCluster::start_or_skip() else {
        return;
    };
    let url = pg.create_database();
    let out = ok(&["store", "copy", &a, &url, "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        stats["tables"][0],
        json!({"table": "runs", "copied": 1, "present": 0})
    );
    let c = dir.path().join("c.db").display().to_string();
    ok(&["store", "copy", &url, &c]);
    assert_same_tables(&a, &c);
    assert_same_tables(&a, &url);
    let runs = ok(&["runs", "--store", &url]);
    assert!(runs.contains("run-a"), "{runs}");

    // a row that differs under the same key: refused, naming it
    Store::open(&c)
        .unwrap()
        .conn()
        .execute(
            "UPDATE aggregates SET value = 0.5",
            yardstick_store::vals![],
        )
        .unwrap();
    let o = yardstick(&["store", "copy", &c, &url]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("aggregates") && err.contains("run_id=run-a") && err.contains("value"),
        "{err}"
    );
}
