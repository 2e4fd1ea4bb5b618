//! Paired bootstrap benchmark: 10,000 replicates over 100 models × 14,042 items (MMLU-sized) with 0/1
//! scores. Prints the median wall time of 5 runs (after one warm-up).
//!
//! Run: `cargo bench -p yardstick-stats --bench paired_bootstrap`
//! Options (env): `YARDSTICK_BENCH_REPLICATES`, `YARDSTICK_BENCH_MODELS`, `YARDSTICK_BENCH_ITEMS`,
//! `YARDSTICK_BENCH_SCORES=binary|continuous`.

use std::time::Instant;
use yardstick_stats::{paired_bootstrap, BootstrapConfig, ScoreMatrix, Xoshiro256PlusPlus};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing special. Either way, run.
    let replicates = env_usize("YARDSTICK_BENCH_REPLICATES", 10_000);
    let models = env_usize("YARDSTICK_BENCH_MODELS", 100);
    let items = env_usize("YARDSTICK_BENCH_ITEMS", 14_042);
    let continuous = std::env::var("YARDSTICK_BENCH_SCORES").is_ok_and(|v| v == "continuous");

    // Logistic item-response scores: ability per model, difficulty per item.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let abilities: Vec<f64> = (0..models).map(|_| rng.normal()).collect();
    let difficulties: Vec<f64> = (0..items).map(|_| 1.5 * rng.normal()).collect();
    let mut data = Vec::with_capacity(models * items);
    for a in &abilities {
        for d in &difficulties {
            let p = 1.0 / (1.0 + (d - a).exp());
            data.push(if continuous {
                p
            } else if rng.uniform() < p {
                1.0
            } else {
                0.0
            });
        }
    }
    let matrix = match ScoreMatrix::new(models, items, data) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("bad benchmark matrix: {e}");
            std::process::exit(1);
        }
    };
    let config = BootstrapConfig::new(replicates, 2024, 0.95);
    let threads = rayon::current_num_threads();
    println!(
        "paired_bootstrap: {replicates} replicates x {models} models x {items} items ({}), {threads} rayon threads",
        if continuous { "continuous scores, f64 GEMM" } else { "0/1 scores, f32 GEMM" }
    );
    let mut times = Vec::new();
    let mut checksum = 0.0;
    for run in 0..6 {
        let start = Instant::now();
        let result = match paired_bootstrap(&matrix, &config) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("paired_bootstrap failed: {e}");
                std::process::exit(1);
            }
        };
        let elapsed = start.elapsed().as_secs_f64();
        checksum = result.replicate_means.iter().sum::<f64>();
        if run > 0 {
            times.push(elapsed);
        }
        println!(
            "  run {run}{}: {elapsed:.3} s",
            if run == 0 { " (warm-up)" } else { "" }
        );
    }
    times.sort_by(f64::total_cmp);
    println!("median of 5: {:.3} s  (checksum {checksum:.6})", times[2]);
}
