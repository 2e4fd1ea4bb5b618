//! The in-process llama.cpp backend (feature `llama-cpp`) on real GGUF files: per-token log-probabilities
//! against llama-cpp-python's `Llama(logits_all=True)` on the same file, prefix sharing against evaluation
//! from an empty cache, generation, and bad input refused before any work.
//!
//! Run: `cargo test -p yardstick-backends --features llama-cpp --test native_llama`.
#![cfg(feature = "llama-cpp")]

use std::path::{Path, PathBuf};
use yardstick_backends::native::{NativeBackend, NativeOptions, PreflightError};
use yardstick_backends::{Backend, BackendError, GenPrompt};
use yardstick_testkit::python::run_python;
use yardstick_testkit::{require_peer_python, smollm2_gguf, tiny_llama_gguf};

/// The tolerance per token (nats) between this backend and llama-cpp-python on a float model (the tiny
/// Llama: measured 1.2e-14).
const TOL_VS_PYTHON: f64 = 1e-4;
/// On quantised files the two llama.cpp versions (llama-cpp-python 0.3.36's and llama-cpp-sys-2 0.1.161's)
/// compute prompt batches with different kernels: measured on SmolLM2-135M, max |Δ| 0.30 nats (Q4_1), 0.37
/// (Q8_0), 8e-3 (F16), and llama-cpp-python alone differs by 0.014 between n_batch 1 and 512. A misaligned
/// or mis-masked evaluation is off by nats on most tokens, so the bound is on the mean as well as the max.
const TOL_QUANT_MAX: f64 = 0.5;
const TOL_QUANT_MEAN: f64 = 0.05;
/// Sharing a context among choices vs evaluating each pair from an empty cache (same llama.cpp; measured
/// 0 exactly on every file, since each choice is decoded on its own either way).
const TOL_SHARING: f64 = 1e-9;

fn opts() -> NativeOptions {
    NativeOptions {
        threads: Some(2),
        ..NativeOptions::default()
    }
}

async fn open(path: &Path) -> NativeBackend {
    NativeBackend::open(path, opts(), &[]).await.expect("open")
}

fn models() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let tiny = tiny_llama_gguf();
    if tiny.is_file() {
        out.push(tiny);
    } else {
        yardstick_testkit::skip_or_fail(&format!("{} is missing", tiny.display()));
    }
    if let Some(s) = smollm2_gguf() {
        out.push(s);
    }
    // More files (e.g. other quantisations or architectures), separated by ':'.
    if let Some(extra) = std::env::var_os("YARDSTICK_NATIVE_EXTRA_GGUFS") {
        out.extend(std::env::split_paths(&extra).filter(|p| p.is_file()));
    }
    out
}

/// llama-cpp-python's log-probability of each token after the first (from `Llama.scores` with
/// `logits_all=True`, log-softmax in float64).
fn python_logprobs(python: &Path, model: &Path, seqs: &[Vec<u32>]) -> Vec<Vec<f64>> {
    let code = r#"
import json, sys
import numpy as np
import llama_cpp
req = json.load(sys.stdin)
llm = llama_cpp.Llama(model_path=req["model"], logits_all=True, n_ctx=2048, n_batch=512, n_threads=2, verbose=False)
out = []
for toks in req["seqs"]:
    llm.reset(); llm.eval(toks)
    s = np.array(llm.scores[: len(toks) - 1], dtype=np.float64)
    m = s.max(axis=1, keepdims=True)
    lse = np.log(np.exp(s - m).sum(axis=1)) + m[:, 0]
    out.append([float(s[i, toks[i + 1]] - lse[i]) for i in range(len(toks) - 1)])
print(json.dumps(out))
"#;
    let stdin = serde_json::json!({"model": model, "seqs": seqs}).to_string();
    let text = run_python(&python.display().to_string(), code, &stdin).expect("run python");
    serde_json::from_str(&text).expect("python output")
}

fn texts() -> Vec<&'static str> {
    vec![
        "The capital of France is Paris. The capital of Germany is Berlin.",
        "Question: Which of these is a prime number?\nA. 4\nB. 6\nC. 7\nD. 9\nAnswer: C",
        "def add(a, b):\n    return a + b\n\nprint(add(2, 3))",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_token_logprobs_equal_llama_cpp_python_on_the_same_file() {
    let Some(python) = require_peer_python() else {
        return;
    };
    let mut failed = Vec::new();
    for model in models() {
        let b = open(&model).await;
        let tok = b.tokenizer().expect("tokenizer").clone();
        let probe = b.probe().await.unwrap();
        let bos = probe.bos.server_adds_bos == Some(true);
        let mut seqs = Vec::new();
        for t in texts() {
            let mut ids = tok.encode_local(t, false).unwrap();
            if bos {
                ids.insert(0, tok.info().bos_id.expect("bos"));
            }
            seqs.push(ids);
        }
        let theirs = python_logprobs(&python, &model, &seqs);
        let mut max_delta: f64 = 0.0;
        let (mut sum, mut count) = (0.0, 0usize);
        for sharing in [false, true] {
            for (ids, want) in seqs.iter().zip(&theirs) {
                let got = b
                    .continuation_logprobs(&ids[..1], &[ids[1..].to_vec()], sharing)
                    .await
                    .unwrap();
                let lps = &got[0].2.logprobs;
                assert_eq!(lps.len(), want.len());
                for (g, w) in lps.iter().zip(want) {
                    max_delta = max_delta.max((g - w).abs());
                    sum += (g - w).abs();
                    count += 1;
                }
            }
        }
        let mean = sum / count.max(1) as f64;
        let float_model = model == tiny_llama_gguf();
        eprintln!(
            "{}: |Δ| per token vs llama-cpp-python: max {max_delta:.3e}, mean {mean:.3e} nats over {} tokens",
            model.display(),
            seqs.iter().map(|s| s.len() - 1).sum::<usize>()
        );
        let ok = if float_model {
            max_delta < TOL_VS_PYTHON
        } else {
            max_delta < TOL_QUANT_MAX && mean < TOL_QUANT_MEAN
        };
        if !ok {
            failed.push(format!(
                "{}: max {max_delta:.3e} mean {mean:.3e}",
                model.display()
            ));
        }
    }
    assert!(failed.is_empty(), "beyond the tolerances: {failed:?}");
}

/// Questions in the shape of a few-shot multiple-choice task: one shared prefix, a question each, four
/// single- and multi-token choices.
fn questions(tok: &yardstick_backends::Tokenizer) -> Vec<(Vec<u32>, Vec<Vec<u32>>)> {
    let prefix = "The following are multiple choice questions about science.\n\nWhat is H2O?\nA. water\nB. salt\n\
                  Answer: A\n\nWhat gas do plants take in?\nA. oxygen\nB. carbon dioxide\nAnswer: B\n\n";
    let qs = [
        "What is the boiling point of water at sea level?",
        "Which planet is closest to the sun?",
        "What is the chemical symbol for gold?",
        "How many legs does an insect have?",
    ];
    let choices = [" A", " B", " C", " D and some longer text"];
    qs.iter()
        .map(|q| {
            let ctx = tok
                .encode_local(&format!("{prefix}{q}\nAnswer:"), false)
                .unwrap();
            let conts = choices
                .iter()
                .map(|c| tok.encode_local(c, false).unwrap())
                .collect();
            (ctx, conts)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_sharing_gives_the_same_per_sample_results_as_no_sharing() {
    let mut failed = Vec::new();
    for model in models() {
        let b = open(&model).await;
        let tok = b.tokenizer().unwrap().clone();
        let qs = questions(&tok);
        let mut max_delta: f64 = 0.0;
        // All questions with sharing first (each reuses the previous one's prefix), then all from scratch.
        let mut shared_all = Vec::new();
        for (ctx, conts) in &qs {
            shared_all.push(b.continuation_logprobs(ctx, conts, true).await.unwrap());
        }
        for ((ctx, conts), shared) in qs.iter().zip(shared_all) {
            let alone = b.continuation_logprobs(ctx, conts, false).await.unwrap();
            for (s, a) in shared.iter().zip(&alone) {
                assert_eq!(s.0, a.0, "same request tokens");
                assert_eq!(s.2.greedy, a.2.greedy);
                assert_eq!(s.2.logprobs.len(), a.2.logprobs.len());
                for (x, y) in s.2.logprobs.iter().zip(&a.2.logprobs) {
                    max_delta = max_delta.max((x - y).abs());
                }
            }
            let best = |r: &[(Vec<u32>, usize, yardstick_backends::native::Scored)]| {
                let sums: Vec<f64> = r.iter().map(|x| x.2.logprobs.iter().sum()).collect();
                (0..sums.len()).max_by(|&i, &j| sums[i].total_cmp(&sums[j]))
            };
            assert_eq!(best(&shared), best(&alone));
        }
        eprintln!(
            "{}: max |Δ| per token, shared vs from scratch = {max_delta:.3e} nats",
            model.display()
        );
        if max_delta >= TOL_SHARING {
            failed.push(format!("{}: {max_delta:.3e}", model.display()));
        }
    }
    assert!(failed.is_empty(), "over {TOL_SHARING}: {failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_result_is_the_sum_of_the_token_logprobs_and_equals_single_requests() {
    let Some(model) = models().pop() else { return };
    let b = open(&model).await;
    let tok = b.tokenizer().unwrap().clone();
    let (ctx, conts) = questions(&tok).remove(1);
    let group = b.loglikelihood_group(&ctx, &conts).await.unwrap();
    for (g, c) in group.iter().zip(&conts) {
        let one = b.loglikelihood(&ctx, c).await.unwrap();
        assert!((g.result.logprob - one.result.logprob).abs() < TOL_SHARING);
        assert_eq!(g.sent, one.sent);
        assert_eq!(g.ctxlen, ctx.len());
        assert!(g.result.logprob < 0.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greedy_generation_stops_at_a_stop_sequence_and_seeded_sampling_repeats() {
    let Some(model) = smollm2_gguf() else { return };
    let b = open(&model).await;
    let prompt = GenPrompt::Text("Count: 1, 2, 3, 4,".into());
    let mut params = yardstick_core::GenerationParams {
        until: vec![],
        max_gen_toks: 12,
        temperature: 0.0,
        do_sample: false,
        extra: Default::default(),
    };
    let free = b.generate(&prompt, &params).await.unwrap();
    assert!(!free.text.is_empty());
    // A stop sequence taken from the free run's text cuts the text before it.
    let stop: String = free.text.chars().skip(3).take(2).collect();
    params.until = vec![stop.clone()];
    let cut = b.generate(&prompt, &params).await.unwrap();
    assert_eq!(cut.finish_reason.as_deref(), Some("stop"));
    assert_eq!(cut.text, free.text[..free.text.find(&stop).unwrap()]);
    params.until.clear();
    params.do_sample = true;
    params.temperature = 1.5;
    let a = b.generate(&prompt, &params).await.unwrap();
    let again = b.generate(&prompt, &params).await.unwrap();
    assert_eq!(a.text, again.text, "same seed, same text");
}

fn minimal_gguf(arch: &str) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes()); // tensors
    b.extend(1u64.to_le_bytes()); // metadata keys
    let key = "general.architecture";
    b.extend((key.len() as u64).to_le_bytes());
    b.extend(key.as_bytes());
    b.extend(8u32.to_le_bytes()); // string
    b.extend((arch.len() as u64).to_le_bytes());
    b.extend(arch.as_bytes());
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_before_any_work_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let arch = dir.path().join("arch.gguf");
    std::fs::write(&arch, minimal_gguf("no-such-architecture")).unwrap();
    let err = NativeBackend::open(&arch, opts(), &[]).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, BackendError::Native(_)), "{msg}");
    assert!(msg.contains("no-such-architecture"), "{msg}");

    let html = dir.path().join("page.gguf");
    std::fs::write(&html, "<!doctype html><p>rate limited</p>").unwrap();
    let err = NativeBackend::open(&html, opts(), &[]).await.unwrap_err();
    assert!(err.to_string().contains("not a GGUF file"), "{err}");

    let tiny = tiny_llama_gguf();
    if tiny.is_file() {
        let cut = dir.path().join("cut.gguf");
        let bytes = std::fs::read(&tiny).unwrap();
        std::fs::write(&cut, &bytes[..bytes.len() - 4096]).unwrap();
        let err = NativeBackend::open(&cut, opts(), &[]).await.unwrap_err();
        assert!(
            matches!(&err, BackendError::Preflight(p) if matches!(**p, PreflightError::Truncated(_))),
            "{err}"
        );
        let huge = NativeOptions {
            max_length: Some(1 << 40),
            ..opts()
        };
        let err = NativeBackend::open(&tiny, huge, &[]).await.unwrap_err();
        assert!(
            matches!(&err, BackendError::Preflight(p) if matches!(**p, PreflightError::TooLarge(_))),
            "{err}"
        );
    }
}
