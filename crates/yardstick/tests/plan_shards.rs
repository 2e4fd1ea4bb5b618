//! One run cut into shards (`yardstick plan`, `run --plan P --shard I`, `store merge`, `finalize`) gives the
//! results and samples of a plain `run`, byte for byte — for 1 shard and for 7, with one worker killed with
//! SIGKILL in the middle of its shard and one of three endpoints stopped mid-run. Every completion the model
//! servers answer is counted by a proxy in front of each: apart from the probe each worker makes, a request
//! is computed twice only when it was in flight in the killed worker.
//!
//! Real parts: three reference servers on the tiny GGUF, the real binary, SQLite stores per shard.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use yardstick_testkit::fault_proxy::{FaultConfig, FaultProxy};
use yardstick_testkit::pg::PgCluster;
use yardstick_testkit::ref_server::start_tiny_servers;
use yardstick_testkit::{files_under, require_shared_data};

const CONCURRENCY: usize = 2;

fn yardstick() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
}

fn ok(mut c: Command) -> Output {
    let out = c.output().expect("run yardstick");
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What must not depend on how the run was cut: every samples file (byte for byte, by task) and the results
/// file without its clock times and the store it was read from.
fn outputs(dir: &Path) -> (Vec<(String, Vec<u8>)>, serde_json::Value) {
    let samples = files_under(dir, "samples_")
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let task = name.rsplit_once('_').map(|(t, _)| t.to_string()).unwrap();
            (task, std::fs::read(&p).unwrap())
        })
        .collect();
    let results = files_under(dir, "results_")
        .pop()
        .unwrap_or_else(|| panic!("no results file under {}", dir.display()));
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(results).unwrap()).unwrap();
    let obj = doc.as_object_mut().unwrap();
    for volatile in [
        "date",
        "start_time",
        "end_time",
        "total_evaluation_time_seconds",
        "yardstick",
    ] {
        obj.remove(volatile);
    }
    (samples, doc)
}

fn assert_same(got: &Path, expected: &(Vec<(String, Vec<u8>)>, serde_json::Value), what: &str) {
    let (samples, results) = outputs(got);
    assert_eq!(samples.len(), expected.0.len(), "{what}: samples files");
    for ((t, a), (_, b)) in samples.iter().zip(&expected.0) {
        assert!(a == b, "{what}: samples of {t} differ from the plain run's");
    }
    assert_eq!(
        &results, &expected.1,
        "{what}: results differ from the plain run's"
    );
}

/// Completions answered so far by all the servers.
fn answered(proxies: &[FaultProxy]) -> u64 {
    proxies
        .iter()
        .map(|p| p.answered_bodies().values().sum::<u64>())
        .sum()
}

fn all_bodies(proxies: &[FaultProxy]) -> HashMap<Vec<u8>, u64> {
    let mut all = HashMap::new();
    for p in proxies {
        for (b, n) in p.answered_bodies() {
            *all.entry(b.to_vec()).or_insert(0) += n;
        }
    }
    all
}

/// Whether a completions body scores a prompt (a question's context and choices), rather than asking the
/// server for its names of the choice tokens — a few token ids, asked once per worker and endpoint and cached
/// for the run: like the probe, every worker's own overhead, not a request of the ledger.
fn scores_a_prompt(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return true;
    };
    let longest = match &v["prompt"] {
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_array()) => items
            .iter()
            .map(|i| i.as_array().map_or(0, Vec::len))
            .max()
            .unwrap_or(0),
        serde_json::Value::Array(items) => items.len(),
        serde_json::Value::String(s) => s.len(),
        _ => usize::MAX,
    };
    longest >= 16
}

#[test]
fn shards_reproduce_a_plain_run_through_a_killed_worker_and_a_stopped_endpoint() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(mut servers) = start_tiny_servers(3) else {
        return;
    };
    let proxies: Vec<FaultProxy> = servers
        .iter()
        .flatten()
        .map(|s| {
            // no faults: the proxy only counts what the server answered
            let counting = FaultConfig {
                p_500: 0.0,
                p_drop: 0.0,
                p_slow: 0.0,
                ..FaultConfig::default()
            };
            FaultProxy::start(&s.root(), counting).expect("proxy")
        })
        .collect();
    let fleet = proxies
        .iter()
        .map(|p| format!("{}/v1", p.url()))
        .collect::<Vec<_>>()
        .join(",");
    let data = shared.join("benchmarks");
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let what = |c: &mut Command, model: &str| {
        c.args(["--model", model, "--tasks", "mmlu", "--limit", "10"])
            .args(["--bootstrap-iters", "100", "--data-dir"])
            .arg(&data);
    };

    // The plain run, over the same endpoints (its results name them in `config.model_args`).
    let mut plain = yardstick();
    plain.arg("run");
    what(&mut plain, &fleet);
    plain
        .arg("--store")
        .arg(d.join("plain.db"))
        .arg("--output")
        .arg(d.join("plain"))
        .arg("-q");
    ok(plain);
    let expected = outputs(&d.join("plain"));
    assert_eq!(expected.0.len(), 57, "mmlu's 57 subjects");

    let make_plan = |shards: &str, path: &Path| {
        let mut c = yardstick();
        c.arg("plan");
        what(&mut c, &fleet);
        c.args(["--shards", shards, "--out"]).arg(path);
        ok(c);
    };
    let worker = |plan: &Path, shard: usize, store: &Path| {
        let mut c = yardstick();
        c.arg("run")
            .arg("--plan")
            .arg(plan)
            .args([
                "--shard",
                &shard.to_string(),
                "--concurrency",
                &CONCURRENCY.to_string(),
            ])
            .arg("--store")
            .arg(store)
            .arg("-q");
        c
    };
    let finalize = |plan: &Path, store: &Path, out: &Path| {
        let mut c = yardstick();
        c.arg("finalize")
            .arg("--plan")
            .arg(plan)
            .arg("--store")
            .arg(store)
            .arg("--output")
            .arg(out)
            .arg("-q");
        ok(c);
    };

    // One shard.
    let p1 = d.join("plan-1.json");
    make_plan("1", &p1);
    ok(worker(&p1, 0, &d.join("one.db")));
    finalize(&p1, &d.join("one.db"), &d.join("one"));
    assert_same(&d.join("one"), &expected, "1 shard");

    // Seven shards, one SQLite file each; shard 2's worker is killed mid-shard and run again; one of the three
    // servers stops while shard 4 runs.
    let p7 = d.join("plan-7.json");
    make_plan("7", &p7);
    let bodies_before = all_bodies(&proxies);
    let shard_db = |i: usize| d.join(format!("shard-{i}.db"));
    let mut killed_in_flight_bound = 0;
    for i in 0..7 {
        if i == 2 || i == 4 {
            let start = answered(&proxies);
            let mut child = worker(&p7, i, &shard_db(i))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn worker");
            let deadline = Instant::now() + Duration::from_secs(120);
            while answered(&proxies) < start + 8 {
                assert!(Instant::now() < deadline, "shard {i}: no progress");
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "shard {i} ended before the fault"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            if i == 2 {
                child.kill().expect("SIGKILL the worker");
                let _ = child.wait();
                // requests in flight: CONCURRENCY questions per endpoint, each one call, or four while the
                // first questions' grouped readings are checked choice by choice
                killed_in_flight_bound = CONCURRENCY * proxies.len() * 4;
                ok(worker(&p7, i, &shard_db(i)));
            } else {
                drop(servers[1].take()); // stops the server
                let out = child.wait_with_output().unwrap();
                assert!(
                    out.status.success(),
                    "shard 4 with an endpoint stopped: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        } else {
            ok(worker(&p7, i, &shard_db(i)));
        }
    }
    // A worker of a finished shard sends nothing but its probe: what the probe sends, every worker sends.
    let before_noop = all_bodies(&proxies);
    ok(worker(&p7, 0, &shard_db(0)));
    let probe: HashSet<Vec<u8>> = all_bodies(&proxies)
        .into_iter()
        .filter(|(b, n)| before_noop.get(b) != Some(n))
        .map(|(b, _)| b)
        .collect();
    assert!(!probe.is_empty(), "the no-op worker probed the servers");
    let computed_twice: u64 = all_bodies(&proxies)
        .into_iter()
        .filter(|(b, _)| !probe.contains(b) && scores_a_prompt(b))
        .map(|(b, n)| n - bodies_before.get(&b).copied().unwrap_or(0))
        .map(|n| n.saturating_sub(1))
        .sum();
    eprintln!(
        "7 shards: {computed_twice} requests computed twice (bound: {killed_in_flight_bound}, the killed worker's \
         in-flight requests)"
    );
    assert!(
        computed_twice as usize <= killed_in_flight_bound,
        "{computed_twice} requests were computed twice; at most the killed worker's {killed_in_flight_bound} in \
         flight may be"
    );

    // Where the plan stands, then merge (with the coverage check) and finalise.
    let mut watch = yardstick();
    watch
        .arg("runs")
        .arg("--plan")
        .arg(&p7)
        .arg("--shard-store");
    for i in 0..7 {
        watch.arg(shard_db(i));
    }
    let text = String::from_utf8_lossy(&ok(watch).stdout).into_owned();
    assert!(
        text.contains("7 shards — 7 done, 0 running, 0 stalled, 0 pending"),
        "{text}"
    );
    let mut merge = yardstick();
    merge.args(["store", "merge"]);
    for i in 0..7 {
        merge.arg(shard_db(i));
    }
    merge
        .arg("--into")
        .arg(d.join("merged.db"))
        .arg("--plan")
        .arg(&p7);
    let text = String::from_utf8_lossy(&ok(merge).stdout).into_owned();
    assert!(text.contains("coverage: every one of the plan's"), "{text}");
    finalize(&p7, &d.join("merged.db"), &d.join("seven"));
    assert_same(
        &d.join("seven"),
        &expected,
        "7 shards, a worker killed, an endpoint stopped",
    );

    // Seven shards on one shared PostgreSQL store, taken by three claiming workers at once.
    if let Some(pg) = PgCluster::start_or_skip() {
        let url = pg.create_database();
        let mut workers: Vec<std::process::Child> = (0..3)
            .map(|_| {
                let mut c = yardstick();
                c.arg("run")
                    .arg("--plan")
                    .arg(&p7)
                    .args(["--claim", "--concurrency", &CONCURRENCY.to_string()])
                    .args(["--store", &url, "-q"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn claiming worker")
            })
            .collect();
        for w in workers.drain(..) {
            let out = w.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut watch = yardstick();
        watch.args(["runs", "--store", &url]).arg("--plan").arg(&p7);
        let text = String::from_utf8_lossy(&ok(watch).stdout).into_owned();
        assert!(text.contains("7 shards — 7 done"), "{text}");
        finalize(&p7, Path::new(&url), &d.join("pg"));
        assert_same(
            &d.join("pg"),
            &expected,
            "7 shards on PostgreSQL, claimed by 3 workers",
        );
    }

    // Finalising an incomplete store says which shards are missing, and scores nothing.
    let mut c = yardstick();
    c.arg("finalize")
        .arg("--plan")
        .arg(&p7)
        .arg("--store")
        .arg(shard_db(3));
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not complete") && err.contains("shard(s) 0, 1, 2, 4, 5, 6"),
        "{err}"
    );
}
