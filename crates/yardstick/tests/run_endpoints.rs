//! One run across several endpoints of one model (three real reference servers on the tiny GGUF, each on
//! its own port): the results equal a one-endpoint run's, every endpoint takes a share, and stopping one
//! endpoint in the middle of a run neither fails the run nor changes a number.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use yardstick_testkit::ref_server::{start_tiny_servers, RefServer};
use yardstick_testkit::require_shared_data;

/// A run writing its results file under `out` (stdout and stderr stay those of a person's run).
fn command(model: &str, data: &Path, store: &str, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    c.args([
        "run",
        "--model",
        model,
        "--tasks",
        "mmlu_anatomy,mmlu_astronomy",
        "--limit",
        "10",
    ])
    .args([
        "--concurrency",
        "2",
        "--bootstrap-iters",
        "100",
        "--data-dir",
    ])
    .arg(data)
    .arg("--store")
    .arg(store)
    .arg("--output")
    .arg(out);
    c
}

/// The scores of the results file under `out` (what must not depend on the endpoints).
fn scores(out: &Path) -> Value {
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read output dir").flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            if p.is_dir() {
                stack.push(p);
            } else if name.starts_with("results_") && name.ends_with(".json") {
                let doc: Value = serde_json::from_slice(&std::fs::read(&p).expect("read results"))
                    .expect("JSON");
                return serde_json::json!({"results": doc["results"], "n-samples": doc["n-samples"]});
            }
        }
    }
    panic!("no results file under {}", out.display())
}

fn stored(store: &str) -> i64 {
    yardstick_store::Store::open_location_read_only(store)
        .and_then(|s| s.response_keys(None))
        .map_or(0, |k| k.len() as i64)
}

/// `endpoint URL: N answered in M HTTP calls, F failures` lines of the summary.
fn endpoint_lines(stderr: &str) -> Vec<(u64, u64)> {
    stderr
        .lines()
        .filter(|l| l.starts_with("endpoint "))
        .map(|l| {
            let n = |after: &str| -> u64 {
                let rest = l.split(after).next().unwrap_or("");
                rest.rsplit(' ')
                    .next()
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(0)
            };
            (n(" answered"), n(" failures"))
        })
        .collect()
}

#[test]
fn several_endpoints_share_a_run_and_survive_one_stopping() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(mut servers) = start_tiny_servers(3) else {
        return;
    };
    let urls: Vec<String> = servers.iter().flatten().map(RefServer::url).collect();
    let all = urls.join(",");
    let data = shared.join("benchmarks");
    let tmp = tempfile::tempdir().expect("tempdir");

    let one = command(
        &urls[0],
        &data,
        &yardstick_testkit::test_store(tmp.path(), "one.db"),
        &tmp.path().join("one"),
    )
    .output()
    .expect("run");
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let expected = scores(&tmp.path().join("one"));

    // All three: the same scores, every endpoint used.
    let three = command(
        &all,
        &data,
        &yardstick_testkit::test_store(tmp.path(), "three.db"),
        &tmp.path().join("three"),
    )
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&three.stderr).into_owned();
    assert!(three.status.success(), "{err}");
    assert_eq!(
        scores(&tmp.path().join("three")),
        expected,
        "three endpoints, same scores"
    );
    let lines = endpoint_lines(&err);
    assert_eq!(lines.len(), 3, "one summary line per endpoint:\n{err}");
    assert!(
        lines
            .iter()
            .all(|(answered, failures)| *answered > 0 && *failures == 0),
        "every endpoint takes a share:\n{err}"
    );

    // One endpoint stopped mid-run: the run ends well, with the same scores.
    let store = yardstick_testkit::test_store(tmp.path(), "stopped.db");
    let mut child = command(&all, &data, &store, &tmp.path().join("stopped"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(120);
    while stored(&store) < 12 {
        assert!(Instant::now() < deadline, "no progress");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the run ended before the stop"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(servers[1].take()); // kills the server
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        scores(&tmp.path().join("stopped")),
        expected,
        "an endpoint stopped mid-run, same scores"
    );
    let lines = endpoint_lines(&err);
    assert!(
        lines.iter().any(|(_, failures)| *failures > 0),
        "the stopped endpoint's failures are counted:\n{err}"
    );
}
