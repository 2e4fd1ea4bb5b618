//! Throughput of one run over 1, 2 and 4 endpoints, as a share of the sum of the endpoints' raw capacities
//! (issue 13, target ≥ 90%).
//!
//! On a 2-core machine, model servers that compute cannot each have their own CPU, so the endpoints here are
//! latency-bound, as remote GPU servers are seen from the client: each is a proxy that holds every request for
//! a fixed time from when its slot is taken (however long the shared upstream took, so the endpoints do not
//! slow each other down through it) and serves at most `--slots` at once (a server's batch), in front of one
//! in-process fake model
//! (testkit's `MockLm`: real response shapes, logits a pure function of the tokens, microseconds per request;
//! the reference server, one Python thread, would itself be the bottleneck). An endpoint's raw capacity is
//! measured alone — a run through that endpoint only, with more requests in flight than it has slots — and the
//! pool's throughput with the same run over all of them at once. Requests are sent one per choice
//! (`--no-grouping`) so that every request is one HTTP call.
//!
//! `cargo bench -p yardstick --bench endpoints -- [--delay-ms 100] [--slots 4] [--repeats 3] [--show-runs]`

use std::process::Command;
use std::time::Duration;
use yardstick_testkit::fault_proxy::{FaultConfig, FaultProxy};
use yardstick_testkit::require_shared_data;
use yardstick_testkit::{MockConfig, MockLm};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One run over `urls`; its "sent (x req/s)" rate.
/// Ten MMLU subjects of at least 100 questions each: 12 × scale questions of each, 4 requests per question.
const TASKS: &str = "mmlu_anatomy,mmlu_astronomy,mmlu_college_biology,mmlu_high_school_biology,\
                     mmlu_high_school_geography,mmlu_marketing,mmlu_nutrition,mmlu_prehistory,mmlu_sociology,\
                     mmlu_world_religions";

/// One run over `urls` of 480 × `scale` requests (so that a run over k endpoints takes about as long as one
/// over one: fixed costs — start-up, the first task's tokenisation, the last requests — weigh the same);
/// its "sent (x req/s)" rate.
fn rate(urls: &[String], concurrency: usize, data: &std::path::Path, tokenizer: &str) -> f64 {
    let scale = urls.len();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args([
            "run",
            "--model",
            &urls.join(","),
            "--tokenizer",
            tokenizer,
            "--no-grouping",
        ])
        .args(["--tasks", TASKS, "--limit", &(12 * scale).to_string()])
        .args([
            "--bootstrap-iters",
            "0",
            "--concurrency",
            &concurrency.to_string(),
        ])
        .arg("--data-dir")
        .arg(data)
        .arg("--store")
        .arg(dir.path().join("s.db"))
        .output()
        .expect("run yardstick");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    if std::env::args().any(|a| a == "--show-runs") {
        // the run's closing lines: rate, HTTP calls per endpoint, timings
        for l in err.lines().filter(|l| {
            l.starts_with("run ") || l.starts_with("endpoint ") || l.contains("seconds")
        }) {
            println!("    {l}");
        }
    }
    let line = err
        .lines()
        .find(|l| l.starts_with("run ") && l.contains(" sent ("))
        .unwrap_or_else(|| panic!("no summary line:\n{err}"));
    line.split(" sent (")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no rate in {line}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let data = shared.join("benchmarks");
    let delay = Duration::from_millis(arg("--delay-ms", 100));
    let slots = arg("--slots", 4) as usize;
    let repeats = arg("--repeats", 3) as usize;
    let json = yardstick_testkit::toy_tokenizer_json();
    let tok = yardstick_backends::Tokenizer::from_json_bytes(
        json.as_bytes(),
        &serde_json::Value::Null,
        "toy".into(),
    )
    .expect("toy tokenizer");
    let pieces = tok.pieces().expect("local tokenizer");
    let mut config = MockConfig::synthetic(pieces.len());
    config.pieces = (0..pieces.len() as u32)
        .map(|i| pieces.piece(i).unwrap_or("").to_string())
        .collect();
    config.batching = false;
    let server = MockLm::start(config).expect("fake model server");
    let tok_dir = tempfile::tempdir().expect("tempdir");
    let tok_path = tok_dir.path().join("tokenizer.json");
    std::fs::write(&tok_path, &json).expect("write tokenizer");
    let tok_arg = tok_path.display().to_string();
    let proxies: Vec<FaultProxy> = (0..4)
        .map(|_| {
            FaultProxy::start(
                &format!("http://{}", server.addr()),
                FaultConfig {
                    p_500: 0.0,
                    p_drop: 0.0,
                    p_slow: 1.0,
                    slow: delay,
                    seed: 1,
                    max_in_flight: slots,
                },
            )
            .expect("proxy")
        })
        .collect();
    let urls: Vec<String> = proxies.iter().map(|p| format!("{}/v1", p.url())).collect();
    // more in flight than an endpoint's slots, so that each is kept full
    let per_endpoint = 2 * slots;
    println!(
        "endpoints: each holds a request {} ms and serves {slots} at once (raw capacity about {:.0} req/s); \
         --concurrency {per_endpoint} per endpoint; median of {repeats}",
        delay.as_millis(),
        slots as f64 / delay.as_secs_f64()
    );
    let raw: Vec<f64> = urls
        .iter()
        .map(|u| {
            median(
                (0..repeats)
                    .map(|_| rate(std::slice::from_ref(u), per_endpoint, &data, &tok_arg))
                    .collect(),
            )
        })
        .collect();
    println!(
        "raw capacity, each endpoint alone: {}",
        raw.iter()
            .map(|r| format!("{r:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("| endpoints | req/s | sum of raw capacities | share |");
    println!("|---:|---:|---:|---:|");
    for k in [1usize, 2, 4] {
        let got = median(
            (0..repeats)
                .map(|_| rate(&urls[..k], per_endpoint, &data, &tok_arg))
                .collect(),
        );
        let sum: f64 = raw[..k].iter().sum();
        println!("| {k} | {got:.1} | {sum:.1} | {:.1}% |", 100.0 * got / sum);
    }
}
