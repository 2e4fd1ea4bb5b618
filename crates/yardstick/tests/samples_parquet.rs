//! `yardstick store export RUN --format parquet` and `yardstick import` of what it wrote: the per-sample records
//! of a real run (the reference server on the tiny GGUF) come back as the same per-item data as importing the
//! run's own lm-eval output (`--output`: results_*.json and samples_*.jsonl).

use std::path::Path;
use std::process::Command;
use yardstick_testkit::ref_server::start_tiny_server;
use yardstick_testkit::require_shared_data;

fn ok(c: &mut Command) -> String {
    let out = c.output().expect("run yardstick");
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Per-item rows imported into `store`: (task, metric, filter, doc_id, doc_hash, value).
fn items(store: &Path) -> Vec<(String, String, String, i64, String, f64)> {
    let c = rusqlite::Connection::open(store).unwrap();
    let mut s = c
        .prepare(
            "SELECT task, metric, filter, doc_id, doc_hash, value FROM obs_items ORDER BY task, metric, filter, doc_id",
        )
        .unwrap();
    s.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn exported_parquet_samples_import_as_the_runs_own_lm_eval_output_does() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(server) = start_tiny_server() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let y = || Command::new(env!("CARGO_BIN_EXE_yardstick"));
    ok(y()
        .args(["run", "--model", &server.url(), "--tokenizer", "server"])
        .args([
            "--tasks",
            "arc_easy,mmlu_anatomy",
            "--limit",
            "12",
            "--bootstrap-iters",
            "10",
        ])
        .arg("--data-dir")
        .arg(shared.join("benchmarks"))
        .arg("--store")
        .arg(d.join("run.db"))
        .arg("--output")
        .arg(d.join("lm-eval"))
        .arg("-q"));
    let runs: serde_json::Value = serde_json::from_str(&ok(y()
        .args(["runs", "--json", "--store"])
        .arg(d.join("run.db"))))
    .unwrap();
    let run_id = runs["runs"][0]["run_id"]
        .as_str()
        .or_else(|| runs[0]["run_id"].as_str())
        .unwrap_or_else(|| panic!("no run id in {runs}"))
        .to_string();
    let wrote = ok(y()
        .args(["store", "export", &run_id, "--store"])
        .arg(d.join("run.db"))
        .arg("--out")
        .arg(d.join("export")));
    assert_eq!(wrote.matches(".parquet").count(), 2, "{wrote}");
    ok(y()
        .arg("import")
        .arg(d.join("lm-eval"))
        .arg("--store")
        .arg(d.join("a.db")));
    let report = ok(y()
        .arg("import")
        .arg(d.join("export"))
        .arg("--store")
        .arg(d.join("b.db")));
    assert!(report.contains("0 skipped"), "{report}");
    let (a, b) = (items(&d.join("a.db")), items(&d.join("b.db")));
    assert_eq!(
        a.len(),
        12 * 3,
        "arc_easy acc and acc_norm, mmlu_anatomy acc: 12 documents each"
    );
    assert_eq!(a, b);
}
