//! End-to-end: the real binary against the real reference server (llama.cpp through llama-cpp-python)
//! serving the tiny small-vocabulary GGUF, with real SQLite stores.
//!
//! - `kill -9` in the middle of an MMLU run, then the same command: the results are identical to an
//!   uninterrupted run, and only the requests missing from the store are sent (counted by a proxy).
//! - A fault-injecting proxy (HTTP 500s, dropped connections, slow responses) in front of the server does
//!   not change any result.
//! - `--tokenizer server` tokenises exactly as the exported tokenizer (same samples, same results).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use yardstick_testkit::fault_proxy::{FaultConfig, FaultProxy};
use yardstick_testkit::ref_server::start_tiny_server;
use yardstick_testkit::require_shared_data;

fn yardstick() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
}

fn run_args(url: &str, tok: &Path, data: &Path, store: &str, out: &Path) -> Vec<String> {
    [
        "run",
        "--model",
        url,
        "--tasks",
        "mmlu_abstract_algebra,mmlu_anatomy,mmlu_college_physics",
        "--num-fewshot",
        "5",
        "--limit",
        "20",
        "--concurrency",
        "4",
        "--bootstrap-iters",
        "1000",
        "--max-retries",
        "12",
        "--timeout",
        "60",
        "--max-length",
        "4096",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "--tokenizer".into(),
        tok.display().to_string(),
        "--data-dir".into(),
        data.display().to_string(),
        "--store".into(),
        store.to_string(),
        "--output".into(),
        out.display().to_string(),
        "--json".into(),
    ])
    .collect()
}

/// Run to completion; return the results JSON printed on stdout.
fn run_ok(args: &[String]) -> serde_json::Value {
    let out = yardstick().args(args).output().expect("run yardstick");
    assert!(
        out.status.success(),
        "yardstick {:?} failed: {}\n{}",
        args,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("results JSON on stdout")
}

/// Every samples_*.jsonl under `dir`, by task, with its lines.
fn samples(dir: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read output dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                if let Some(rest) = name.strip_prefix("samples_") {
                    let task = rest
                        .rsplit_once('_')
                        .map(|(t, _)| t.to_string())
                        .unwrap_or_default();
                    let text = std::fs::read_to_string(&p).expect("read samples");
                    out.insert(task, text.lines().map(str::to_string).collect());
                }
            }
        }
    }
    out
}

/// Equal samples, or a failure that shows the first difference (task, line, character) in context.
fn assert_same_samples(
    a: &std::collections::BTreeMap<String, Vec<String>>,
    b: &std::collections::BTreeMap<String, Vec<String>>,
    what: &str,
) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: different tasks"
    );
    for (task, la) in a {
        let lb = &b[task];
        assert_eq!(
            la.len(),
            lb.len(),
            "{what}: {task} has {} vs {} samples",
            la.len(),
            lb.len()
        );
        for (i, (x, y)) in la.iter().zip(lb).enumerate() {
            if x != y {
                let at = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
                let ctx = |s: &str| {
                    s.chars()
                        .skip(at.saturating_sub(120))
                        .take(240)
                        .collect::<String>()
                };
                panic!("{what}: {task} sample line {i} differs at character {at}:\n  A: …{}…\n  B: …{}…", ctx(x), ctx(y));
            }
        }
    }
}

fn stored_responses(store: &str) -> i64 {
    yardstick_store::Store::open_location_read_only(store)
        .and_then(|s| s.response_keys(None))
        .map_or(0, |k| k.len() as i64)
}

#[test]
fn kill_9_resume_and_faults_leave_results_unchanged() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(server) = start_tiny_server() else {
        return;
    };
    let gguf = server.model.clone();
    let tmp = tempfile::tempdir().expect("tempdir");
    let tok = tmp.path().join("tok");
    let st = yardstick()
        .args(["tokenizer", "export"])
        .arg(&gguf)
        .arg("-o")
        .arg(&tok)
        .status()
        .expect("export");
    assert!(st.success(), "tokenizer export failed");
    let data = shared.join("benchmarks");
    let url = server.url();

    // A: uninterrupted.
    let (store_a, out_a) = (
        yardstick_testkit::test_store(tmp.path(), "a.db"),
        tmp.path().join("out_a"),
    );
    let res_a = run_ok(&run_args(&url, &tok, &data, &store_a, &out_a));
    let total = res_a["yardstick"]["requests_total"]
        .as_i64()
        .expect("requests_total");
    assert!(
        total >= 200,
        "expected a real workload, got {total} requests"
    );
    let samples_a = samples(&out_a);
    assert_eq!(samples_a.len(), 3, "one samples file per task");

    // B: kill -9 part way, then the same command through a counting proxy.
    let (store_b, out_b) = (
        yardstick_testkit::test_store(tmp.path(), "b.db"),
        tmp.path().join("out_b"),
    );
    let mut child = yardstick()
        .args(run_args(&url, &tok, &data, &store_b, &out_b))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn run");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let n = stored_responses(&store_b);
        if n >= total / 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run stored only {n} responses in 300 s"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended ({status}) before it could be killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9"); // SIGKILL on Unix: no chance to clean up
    let _ = child.wait();
    let before = stored_responses(&store_b);
    assert!(
        before > 0 && before < total,
        "killed with {before} of {total} stored"
    );

    let proxy = FaultProxy::start(
        &server.root(),
        FaultConfig {
            p_500: 0.0,
            p_drop: 0.0,
            p_slow: 0.0,
            ..FaultConfig::default()
        },
    )
    .expect("proxy");
    let res_b = run_ok(&run_args(
        &format!("{}/v1", proxy.url()),
        &tok,
        &data,
        &store_b,
        &out_b,
    ));
    assert_eq!(
        res_b["yardstick"]["requests_reused"].as_i64(),
        Some(before),
        "reused what was stored"
    );
    assert_eq!(
        res_b["yardstick"]["requests_sent"].as_i64(),
        Some(total - before),
        "sent only what was missing"
    );
    let forwarded = proxy.summary().forwarded;
    // The probe makes a few calls of its own (models, tokenize, echo checks); every other call carries
    // missing requests (grouped single-token questions: one call for several).
    assert!(
        forwarded as i64 <= total - before + 16,
        "the proxy forwarded {forwarded} calls for {} missing requests",
        total - before
    );
    assert_eq!(
        res_a["results"], res_b["results"],
        "results after kill -9 + resume differ"
    );
    assert_same_samples(&samples_a, &samples(&out_b), "after kill -9 + resume");

    // C: faults on every side of the wire.
    let faulty = FaultProxy::start(
        &server.root(),
        FaultConfig {
            p_500: 0.2,
            p_drop: 0.05,
            p_slow: 0.05,
            slow: Duration::from_millis(300),
            ..FaultConfig::default()
        },
    )
    .expect("fault proxy");
    let (store_c, out_c) = (
        yardstick_testkit::test_store(tmp.path(), "c.db"),
        tmp.path().join("out_c"),
    );
    let res_c = run_ok(&run_args(
        &format!("{}/v1", faulty.url()),
        &tok,
        &data,
        &store_c,
        &out_c,
    ));
    let s = faulty.summary();
    assert!(
        s.failures() > 10,
        "the proxy injected too few faults to mean anything: {s:?}"
    );
    assert_eq!(
        res_a["results"], res_c["results"],
        "faults changed the results"
    );
    assert_same_samples(&samples_a, &samples(&out_c), "with injected faults");
    eprintln!("kill -9: {before}/{total} stored before resume; faults injected: {s:?}");

    // D: `--tokenizer server` (every string through the server's /tokenize, from the thread that prepares
    // tasks) scores the same token ids: the same samples and results as A. (Its model fingerprint names the
    // tokenizer source, so it has a store of its own.)
    let (store_d, out_d) = (
        yardstick_testkit::test_store(tmp.path(), "d.db"),
        tmp.path().join("out_d"),
    );
    let mut args_d = run_args(&url, &tok, &data, &store_d, &out_d);
    let at = args_d
        .iter()
        .position(|a| a == "--tokenizer")
        .expect("--tokenizer");
    args_d[at + 1] = "server".into();
    let res_d = run_ok(&args_d);
    assert_eq!(
        res_d["yardstick"]["requests_total"].as_i64(),
        Some(total),
        "--tokenizer server made a different number of requests"
    );
    assert_eq!(
        res_a["results"], res_d["results"],
        "--tokenizer server changed the results"
    );
    assert_same_samples(&samples_a, &samples(&out_d), "with --tokenizer server");
}

#[test]
fn ctrl_c_stops_cleanly_and_prints_the_resume_command() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(server) = start_tiny_server() else {
        return;
    };
    let gguf = server.model.clone();
    let tmp = tempfile::tempdir().expect("tempdir");
    let tok = tmp.path().join("tok");
    let st = yardstick()
        .args(["tokenizer", "export"])
        .arg(&gguf)
        .arg("-o")
        .arg(&tok)
        .stdout(Stdio::null())
        .status();
    assert!(
        st.map(|s| s.success()).unwrap_or(false),
        "tokenizer export failed"
    );
    let store = yardstick_testkit::test_store(tmp.path(), "s.db");
    let mut args = run_args(
        &server.url(),
        &tok,
        &shared.join("benchmarks"),
        &store,
        &tmp.path().join("out"),
    );
    args.retain(|a| a != "--json");
    let child = yardstick()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run");
    let deadline = Instant::now() + Duration::from_secs(300);
    while stored_responses(&store) < 8 {
        assert!(Instant::now() < deadline, "no progress within 300 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(st.success());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(130),
        "exit code after Ctrl-C; stderr:\n{err}"
    );
    assert!(
        err.contains("Resume with"),
        "no resume command printed:\n{err}"
    );
    assert!(
        err.contains("--tasks"),
        "the resume command should be the full command line:\n{err}"
    );
    let conn = yardstick_store::Store::open_location_read_only(&store).expect("open store");
    let runs = conn.list_runs().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "interrupted");
    let stored = conn.response_keys(None).expect("count").len();
    assert!(
        stored >= 8,
        "responses received before Ctrl-C were kept ({stored})"
    );
}
