//! Prompt processing of the in-process llama.cpp backend, comparable with `llama-bench -p N -n 0`: a
//! context of N tokens scored with a one-token continuation (so the log-softmax is taken once), from an
//! empty cache each time; and prefix sharing on a few-shot-shaped workload (shared vs from scratch, both
//! split as sharing splits and as whole prompts the way a server evaluates them).
//!
//!   cargo bench -p yardstick-backends --features llama-cpp --bench native_pp -- MODEL.gguf [THREADS] [N] [REPS] [QUESTIONS]
//!
//! Prints one line per measurement (median of REPS).

use std::path::PathBuf;
use std::time::Instant;
use yardstick_backends::native::{Layout, NativeBackend, NativeOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(model) = args.first().map(PathBuf::from) else {
        eprintln!("usage: native_pp MODEL.gguf [THREADS] [N] [REPS]");
        std::process::exit(2);
    };
    let threads: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(512);
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    let n_questions: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(20);
    let opts = NativeOptions {
        threads: Some(threads),
        ..NativeOptions::default()
    };
    let b = NativeBackend::open(&model, opts, &[]).await.expect("open");
    eprintln!("{}", b.describe());
    // Token ids spread over the vocabulary (llama-bench also feeds arbitrary tokens).
    let vocab = b.vocab_size();
    let ids: Vec<u32> = (0..n as u64)
        .map(|i| ((i * 7919 + 13) % (vocab as u64 - 1) + 1) as u32)
        .collect();
    let mut rates = Vec::new();
    for _ in 0..reps + 1 {
        let t = Instant::now();
        b.continuation_logprobs(&ids[..n - 1], &[vec![ids[n - 1]]], Layout::Split)
            .await
            .expect("score");
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    rates.remove(0); // warm-up
    println!(
        "pp{n}: {:.1} tok/s (median of {reps}, {threads} threads)",
        median(rates)
    );

    // Few-shot shape: a 400-token prefix shared by the questions (60 tokens each), 4 choices of 2 tokens each.
    let prefix = &ids[..400];
    let questions: Vec<(Vec<u32>, Vec<Vec<u32>>)> = (0..n_questions)
        .map(|q| {
            let mut ctx = prefix.to_vec();
            ctx.extend(ids[400 + q..460 + q].iter().copied());
            let conts = (0..4).map(|c| vec![ids[c + 1], ids[c + 2]]).collect();
            (ctx, conts)
        })
        .collect();
    for layout in [Layout::Shared, Layout::Split, Layout::Whole] {
        let t = Instant::now();
        for (ctx, conts) in &questions {
            b.continuation_logprobs(ctx, conts, layout)
                .await
                .expect("score");
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "few-shot {n_questions} questions x 4 choices, layout {}: {s:.2}s ({:.2} questions/s)",
            layout.name(),
            n_questions as f64 / s
        );
    }
}
