//! Load generator for the web UI: the Open LLM Leaderboard v1 export (7,169 rows) imported into a fresh
//! store, the server of `yardstick serve` (same router, same state) on a loopback port, and N concurrent
//! clients, each sending its next request as soon as the last one is answered (keep-alive connections),
//! for a fixed time per scenario. Reports p50/p95/p99 latency and throughput for the leaderboard page and
//! its JSON API at 1 and 64 clients: the same view again and again (answered from the server's cache of
//! rendered views after the first time), and a new view every request (filtered, sorted and rendered each
//! time).
//!
//!   cargo bench -p yardstick-web --bench web_load [-- --seconds 8 --clients 1,64]
//!
//! Needs `../shared/data` (or YARDSTICK_SHARED_DATA).

use std::path::PathBuf;
use std::time::{Duration, Instant};
use yardstick_analysis::import_summary::ImportSummary;
use yardstick_analysis::Registry;
use yardstick_store::Store;
use yardstick_web::AppState;

struct Options {
    seconds: f64,
    clients: Vec<usize>,
}

fn options() -> Options {
    let mut o = Options {
        seconds: 8.0,
        clients: vec![1, 64],
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--seconds" => {
                o.seconds = args[i + 1].parse().expect("--seconds N");
                i += 1;
            }
            "--clients" => {
                o.clients = args[i + 1]
                    .split(',')
                    .map(|c| c.parse().expect("--clients 1,64"))
                    .collect();
                i += 1;
            }
            _ => {} // cargo bench passes --bench
        }
        i += 1;
    }
    o
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// `fresh`: every request gets a query string of its own (one of the first 130 pages — the import has
/// 6,811 distinct models, 137 pages of 50 — and a counter the server ignores), so none is answered from the
/// server's cache of rendered views.
async fn scenario(url: &str, clients: usize, seconds: f64, fresh: bool) -> (Vec<Duration>, usize) {
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for client_no in 0..clients {
        let base = url.to_string();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut lat = Vec::new();
            let mut bytes = 0;
            let mut n = 0usize;
            while Instant::now() < end {
                n += 1;
                let url = match fresh {
                    true => format!("{base}?page={}&req={client_no}-{n}", n % 130 + 1),
                    false => base.clone(),
                };
                let t = Instant::now();
                let res = client.get(&url).send().await.expect("request");
                assert!(res.status().is_success(), "{url}: {}", res.status());
                bytes = res.bytes().await.expect("body").len();
                lat.push(t.elapsed());
            }
            (lat, bytes)
        }));
    }
    let mut all = Vec::new();
    let mut size = 0;
    for t in tasks {
        let (lat, bytes) = t.await.expect("client");
        all.extend(lat);
        size = bytes;
    }
    all.sort();
    (all, size)
}

fn main() {
    let o = options();
    let data = yardstick_testkit::shared_data_dir();
    let v1 = data.join("leaderboards/open_llm_leaderboard/fboulnois_huggingface_v1_2024-07-13.csv");
    if !v1.is_file() {
        eprintln!(
            "SKIP: {} not found (set YARDSTICK_SHARED_DATA)",
            v1.display()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let registry = Registry::builtin().expect("registry");
    {
        let store = Store::open(&db).expect("store");
        ImportSummary::run(&store, &registry, &[PathBuf::from(&v1)], false).expect("import v1");
    }
    let state = AppState::open(&db.display().to_string(), registry).expect("state");
    let server = tokio::runtime::Runtime::new().expect("server runtime");
    let listener = server
        .block_on(yardstick_web::bind("127.0.0.1:0".parse().expect("addr")))
        .expect("bind");
    let base = format!("http://{}", listener.addr);
    server.spawn(async move {
        let _ = yardstick_web::serve(state, listener, std::future::pending()).await;
    });
    let clients_rt = tokio::runtime::Runtime::new().expect("client runtime");
    let targets = [
        ("leaderboard page", "/", false),
        ("leaderboard API", "/api/leaderboard", false),
        ("leaderboard page, every request a new view", "/", true),
        (
            "leaderboard API, every request a new view",
            "/api/leaderboard",
            true,
        ),
    ];
    println!(
        "web_load: {} s per scenario, OLL v1 import ({}), {} CPU(s)",
        o.seconds,
        v1.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("| target | clients | requests | req/s | p50 ms | p95 ms | p99 ms | bytes |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (label, path, fresh) in targets {
        let url = format!("{base}{path}");
        // Warm-up: the first request builds the leaderboard table.
        clients_rt.block_on(scenario(&url, 1, 1.0, false));
        for &c in &o.clients {
            let (lat, size) = clients_rt.block_on(scenario(&url, c, o.seconds, fresh));
            println!(
                "| {label} | {c} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {size} |",
                lat.len(),
                lat.len() as f64 / o.seconds,
                percentile(&lat, 0.50),
                percentile(&lat, 0.95),
                percentile(&lat, 0.99)
            );
        }
    }
}
