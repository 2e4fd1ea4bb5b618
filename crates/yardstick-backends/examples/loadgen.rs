//! Load generator for the OpenAI-compatible backend: MMLU-style 5-shot questions (rendered as lm-eval's
//! `mmlu` prompts from the shared data's CSVs), tokenized with lm-eval's pair encoding and scored through
//! (a) the grouped single-token path and (b) one request per choice; prints tokenization throughput,
//! wall time, requests/s and questions/s of each, and checks both give identical results.
//!
//!   cargo run -p yardstick-backends --example loadgen -- URL TOKENIZER [QUESTIONS] [CONCURRENCY]
//!
//! URL: e.g. http://127.0.0.1:8080/v1; TOKENIZER: a tokenizer.json or a directory with one (for a GGUF:
//! `yardstick tokenizer export MODEL.gguf -o DIR`). Data: $YARDSTICK_SHARED_DATA or ../shared/data.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use yardstick_backends::{Backend, OpenAiBackend, OpenAiOptions, Tokenizer, TokenizerChoice};

fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let Ok(mut r) = csv::ReaderBuilder::new().has_headers(false).from_path(path) else {
        return Vec::new();
    };
    r.records()
        .filter_map(Result::ok)
        .map(|rec| rec.iter().map(str::to_string).collect())
        .collect()
}

fn render(r: &[String]) -> String {
    format!(
        "{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:",
        r[0].trim(),
        r[1],
        r[2],
        r[3],
        r[4]
    )
}

fn prompts(n: usize) -> Vec<String> {
    let data = std::env::var_os("YARDSTICK_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let mut subjects: Vec<PathBuf> = std::fs::read_dir(data.join("benchmarks/mmlu/test"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    subjects.sort();
    let mut out = Vec::new();
    'outer: for round in 0.. {
        let mut any = false;
        for s in &subjects {
            let name = s
                .file_name()
                .map(|f| f.to_string_lossy().replace("_test.csv", ""))
                .unwrap_or_default();
            let dev = rows(&data.join(format!("benchmarks/mmlu/dev/{name}_dev.csv")));
            let test = rows(s);
            let Some(q) = test.get(round) else { continue };
            any = true;
            let mut p = format!(
                "The following are multiple choice questions (with answers) about {}.\n\n",
                name.replace('_', " ")
            );
            for d in dev.iter().filter(|d| d.len() >= 6) {
                p.push_str(&format!("{} {}\n\n", render(d), d[5]));
            }
            if q.len() >= 6 {
                p.push_str(&render(q));
                out.push(p);
            }
            if out.len() >= n {
                break 'outer;
            }
        }
        if !any {
            break;
        }
    }
    out
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: loadgen URL TOKENIZER [QUESTIONS=200] [CONCURRENCY=8]");
        std::process::exit(2);
    }
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let conc: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(8);
    let tok = Arc::new(Tokenizer::from_path(&args[1])?);
    let qs = prompts(n);
    if qs.is_empty() {
        return Err("no MMLU data found (set YARDSTICK_SHARED_DATA)".into());
    }
    let pairs: Vec<(String, String)> = qs
        .iter()
        .flat_map(|q| ["A", "B", "C", "D"].map(|c| (q.clone(), format!(" {c}"))))
        .collect();
    let t0 = Instant::now();
    let enc = tok.encode_pairs(pairs.clone(), false).await?;
    let tok_secs = t0.elapsed().as_secs_f64();
    let prompt_tokens: usize = enc
        .iter()
        .map(|e| e.context.len() + e.continuation.len())
        .sum();
    println!(
        "tokenize   {} pairs, {} tokens in {:.3} s: {:.0} pairs/s, {:.2} M tokens/s (cache hits/misses {:?})",
        pairs.len(),
        prompt_tokens,
        tok_secs,
        pairs.len() as f64 / tok_secs,
        prompt_tokens as f64 / tok_secs / 1e6,
        tok.cache_stats()
    );
    let questions: Vec<(Vec<u32>, Vec<Vec<u32>>)> = enc
        .chunks(4)
        .map(|c| {
            (
                c[0].context.to_vec(),
                c.iter().map(|e| e.continuation.clone()).collect(),
            )
        })
        .collect();
    let mut results = Vec::new();
    for (label, grouped) in [("grouped", true), ("per-choice", false)] {
        let opts = OpenAiOptions {
            tokenizer: TokenizerChoice::Loaded(Arc::clone(&tok)),
            concurrency: conc,
            grouped,
            batch_prompts: Some(false),
            ..OpenAiOptions::default()
        };
        let b = Arc::new(OpenAiBackend::connect(&args[0], opts).await?);
        let probe = b.probe().await?;
        if label == "grouped" {
            eprint!("{}", probe.render());
        }
        let before = b.counters();
        let t0 = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for (i, (ctx, conts)) in questions.iter().cloned().enumerate() {
            let b = Arc::clone(&b);
            set.spawn(async move { (i, b.loglikelihood_group(&ctx, &conts).await) });
        }
        let mut out = vec![Vec::new(); questions.len()];
        while let Some(r) = set.join_next().await {
            let (i, r) = r?;
            out[i] = r?.into_iter().map(|o| o.result).collect::<Vec<_>>();
        }
        let secs = t0.elapsed().as_secs_f64();
        let c = b.counters();
        let calls = c.http_calls - before.http_calls;
        println!(
            "{label:<10} {} questions, {calls} requests in {secs:.2} s: {:.1} req/s, {:.1} questions/s (read from top-k: {}, fallbacks: {}, retries: {})",
            questions.len(),
            calls as f64 / secs,
            questions.len() as f64 / secs,
            c.grouped_choices_read,
            c.grouped_fallbacks,
            c.retries
        );
        results.push(out);
    }
    let same = results[0]
        .iter()
        .flatten()
        .zip(results[1].iter().flatten())
        .all(|(a, b)| a.logprob.to_bits() == b.logprob.to_bits() && a.is_greedy == b.is_greedy);
    println!("grouped == per-choice, bit for bit: {same}");
    if !same {
        std::process::exit(1);
    }
    Ok(())
}
