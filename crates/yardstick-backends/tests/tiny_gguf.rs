//! The GGUF exporter on the real tiny Llama-2 GGUF (32,000-token vocabulary) and, when the peers'
//! Python is set up, end-to-end against the reference server (shared/tools/ref_server.py): tokenizer
//! agreement on MMLU/CMMLU text, the probe, grouped == per-choice, a fault-injecting proxy, and the probe
//! catching a tokenizer that disagrees with the server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use yardstick_backends::gguf::{export_tokenizer, GgufFile};
use yardstick_backends::Tokenizer;
use yardstick_backends::{
    check_tokenizer_against_server, Backend, BackendError, EchoSupport, OpenAiBackend,
    OpenAiOptions, ScoringPath, TokenizerCheck, TokenizerChoice,
};
use yardstick_testkit::{require_shared_data, tiny_llama_gguf, FaultConfig, FaultProxy, RefServer};

fn exported(gguf: &Path) -> (Tokenizer, PathBuf) {
    let f = GgufFile::open(gguf).expect("open gguf");
    let e = export_tokenizer(&f).expect("export");
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let stem = gguf
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("ys-tok-{}-{n}-{stem}", std::process::id()));
    e.write(&dir).expect("write");
    (Tokenizer::from_path(&dir).expect("load export"), dir)
}

/// MMLU and CMMLU rows rendered as lm-eval prompts (plus raw lines), from the shared data.
fn benchmark_texts(shared: &Path, per_dir: usize) -> Vec<String> {
    let mut out = Vec::new();
    for sub in [
        "benchmarks/mmlu/dev",
        "benchmarks/cmmlu/dev",
        "benchmarks/mmlu/val",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(shared.join(sub))
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for f in files.iter().take(per_dir) {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            for line in text
                .lines()
                .skip(usize::from(sub.contains("cmmlu")))
                .take(3)
            {
                let cols: Vec<&str> = line.split(',').collect();
                if cols.len() >= 6 {
                    let q = cols[..cols.len() - 5].join(",");
                    let n = cols.len();
                    out.push(format!(
                        "{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:",
                        q.trim_matches('"'),
                        cols[n - 5],
                        cols[n - 4],
                        cols[n - 3],
                        cols[n - 2]
                    ));
                }
                out.push(line.to_string());
            }
        }
    }
    out
}

#[test]
fn tiny_llama_export_tokenizes_like_llama_2() {
    let Some(_) = require_shared_data() else {
        return;
    };
    let gguf = tiny_llama_gguf();
    let f = GgufFile::open(&gguf).expect("open");
    assert_eq!(f.get_str("tokenizer.ggml.model"), Some("llama"));
    let e = export_tokenizer(&f).expect("export");
    assert_eq!(e.summary.vocab_size, 32000);
    assert_eq!(e.summary.bos, Some((1, "<s>".into())));
    assert_eq!(e.summary.eos, Some((2, "</s>".into())));
    assert_eq!(e.summary.unk, Some((0, "<unk>".into())));
    assert!(
        e.summary.add_bos,
        "llama.cpp adds BOS for SentencePiece vocabularies by default"
    );
    let (tok, dir) = exported(&gguf);
    // Llama-2's tokenizer: "Hello world" → [15043, 3186] ("▁Hello", "▁world"), BOS = 1.
    assert_eq!(
        tok.encode_local("Hello world", false).expect("encode"),
        vec![15043, 3186]
    );
    assert_eq!(
        tok.encode_local("Hello world", true).expect("encode"),
        vec![1, 15043, 3186]
    );
    assert_eq!(tok.prefix_token_id(), Some(1));
    // " A" after "Answer:" is the single token "▁A" (319)
    let hf = tok.hf().expect("local");
    assert_eq!(hf.token_to_id("▁A"), Some(319));
    assert_eq!(
        tok.encode_local("Answer: A", false).expect("encode").last(),
        Some(&319)
    );
    // byte fallback for characters outside the vocabulary, and lossless round trips
    for text in [
        "naïve café 😀",
        "中文测试：答案是",
        "tabs\tand\nnewlines  and  spaces",
        "<s> is text here",
    ] {
        let ids = tok.encode_local(text, false).expect("encode");
        assert_eq!(
            hf.decode(&ids, false).expect("decode"),
            text,
            "{text:?} → {ids:?}"
        );
    }
    // the literal text "<s>" is not BOS (llama.cpp's parse_special = false)
    assert!(!tok.encode_local("<s>", false).expect("encode").contains(&1));
    let cfg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("tokenizer_config.json")).expect("cfg"),
    )
    .expect("json");
    assert_eq!(cfg["tokenizer_class"], "PreTrainedTokenizerFast");
    assert_eq!(cfg["bos_token"], "<s>");
    assert_eq!(cfg["add_bos_token"], true);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pair_encoding_and_batch_throughput_on_benchmark_text() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let (tok, dir) = exported(&tiny_llama_gguf());
    let tok = Arc::new(tok);
    let texts = benchmark_texts(&shared, 20);
    assert!(texts.len() > 50);
    let pairs: Vec<(String, String)> = texts
        .iter()
        .flat_map(|t| ["A", "B", "C", "D"].map(|c| (t.clone(), format!(" {c}"))))
        .collect();
    let t0 = std::time::Instant::now();
    let enc = tok.encode_pairs_blocking(&pairs, false).expect("encode");
    let secs = t0.elapsed().as_secs_f64();
    let bytes: usize = pairs.iter().map(|(a, b)| a.len() + b.len()).sum();
    eprintln!(
        "encoded {} pairs ({:.1} MB) in {secs:.3} s: {:.0} pairs/s",
        pairs.len(),
        bytes as f64 / 1e6,
        pairs.len() as f64 / secs
    );
    for ((c, x), e) in pairs.iter().zip(&enc).take(40) {
        let whole = tok.encode_local(&format!("{c}{x}"), false).expect("whole");
        let ctx = tok.encode_local(c, false).expect("ctx");
        assert_eq!(&*e.context, &ctx[..]);
        assert_eq!(e.continuation, whole[ctx.len()..].to_vec());
        assert_eq!(e.continuation.len(), 1, "{x:?} after {c:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `tests/fixtures/lm_eval_pairs_llama2.jsonl` holds (context, continuation) pairs from MMLU/CMMLU rows
/// with lm-eval 0.4.13's own encodings (`LocalCompletionsAPI._encode_pair`, `add_bos_token=False`, and its
/// empty-context rule) using the tokenizer exported from the tiny Llama-2 GGUF and loaded by transformers.
#[tokio::test]
async fn pair_encoding_matches_lm_eval_0_4_13() {
    let Some(_) = require_shared_data() else {
        return;
    };
    let (tok, dir) = exported(&tiny_llama_gguf());
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lm_eval_pairs_llama2.jsonl"
    ))
    .expect("fixture");
    let mut n = 0;
    for line in fixture.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let ids = |k: &str| -> Vec<u32> {
            v[k].as_array()
                .expect("ids")
                .iter()
                .map(|x| x.as_u64().expect("id") as u32)
                .collect()
        };
        let (ctx, cont) = (
            v["ctx"].as_str().expect("ctx"),
            v["cont"].as_str().expect("cont"),
        );
        let p = tok.encode_pair(ctx, cont, false).await.expect("pair");
        assert_eq!(
            &*p.context,
            &ids("ctx_ids")[..],
            "context of {ctx:?} + {cont:?}"
        );
        assert_eq!(
            p.continuation,
            ids("cont_ids"),
            "continuation of {ctx:?} + {cont:?}"
        );
        n += 1;
    }
    assert!(n >= 150, "{n}");
    let _ = std::fs::remove_dir_all(dir);
}

fn small_vocab_gguf() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("HOME")?).join(".cache/yardstick/models");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("tiny-small-vocab-"))
                && p.extension().is_some_and(|e| e == "gguf")
        })
        .collect();
    v.sort();
    v.pop()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_agrees_with_the_reference_server_on_mmlu_and_cmmlu_text() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let mut models = vec![tiny_llama_gguf()];
    models.extend(small_vocab_gguf());
    let texts = benchmark_texts(&shared, 25);
    for model in models {
        let Some(server) = RefServer::start(&model) else {
            return;
        };
        let (tok, dir) = exported(&model);
        let n = check_tokenizer_against_server(&tok, &server.root(), &texts)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", model.display()));
        eprintln!(
            "{}: export agrees with the server's /tokenize on {n} texts",
            model.display()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_probe_grouped_path_and_faults_on_the_reference_server() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(server) = RefServer::start(&tiny_llama_gguf()) else {
        return;
    };
    let (tok, dir) = exported(&tiny_llama_gguf());
    let tok = Arc::new(tok);
    let opts = || OpenAiOptions {
        tokenizer: TokenizerChoice::Loaded(Arc::clone(&tok)),
        concurrency: 4,
        group_top_k: Some(100),
        probe_texts: benchmark_texts(&shared, 3),
        ..OpenAiOptions::default()
    };
    let b = OpenAiBackend::connect(&server.url(), opts())
        .await
        .expect("connect");
    let p = b.probe().await.expect("probe");
    eprintln!("{}", p.render());
    assert_eq!(p.echo, EchoSupport::TokenIds);
    assert_eq!(p.bos.plain_offset, 0);
    assert_eq!(
        p.bos.bos_first_offset, -1,
        "ref_server.py does not report a BOS that was sent"
    );
    assert!(matches!(p.tokenizer, TokenizerCheck::Agrees { .. }));
    assert!(p.grouped_single_token && p.prompt_batching);
    assert_eq!(p.server_context_length, Some(4096));

    // multiple-choice questions: grouped == one request per choice, bit for bit
    let questions: Vec<String> = benchmark_texts(&shared, 4)
        .into_iter()
        .filter(|t| t.ends_with("Answer:"))
        .take(6)
        .collect();
    let mut groups = Vec::new();
    for q in &questions {
        let mut conts = Vec::new();
        let mut ctx = Vec::new();
        for c in ["A", "B", "C", "D"] {
            let e = tok
                .encode_pair(q, &format!(" {c}"), false)
                .await
                .expect("pair");
            ctx = e.context.to_vec();
            conts.push(e.continuation);
        }
        let g = b.loglikelihood_group(&ctx, &conts).await.expect("group");
        for (gi, c) in g.iter().zip(&conts) {
            let s = b.loglikelihood(&ctx, c).await.expect("single");
            assert_eq!(
                gi.result.logprob.to_bits(),
                s.result.logprob.to_bits(),
                "{q:?}"
            );
            assert_eq!(gi.result.is_greedy, s.result.is_greedy);
            assert_eq!(gi.sent, s.sent);
        }
        groups.push((ctx, conts, g));
    }
    let c = b.counters();
    eprintln!("counters: {c:?}");
    assert!(c.grouped_questions as usize == questions.len());
    assert!(groups
        .iter()
        .flat_map(|g| &g.2)
        .any(|o| o.path == ScoringPath::Grouped));

    // through a proxy injecting 500s, dropped connections and slow responses: identical results
    let proxy = FaultProxy::start(
        &server.root(),
        FaultConfig {
            p_500: 0.2,
            p_drop: 0.1,
            p_slow: 0.05,
            slow: Duration::from_millis(200),
            seed: 3,
            max_in_flight: 16,
        },
    )
    .expect("proxy");
    let fb = OpenAiBackend::connect(
        &format!("{}/v1", proxy.url()),
        OpenAiOptions {
            max_retries: 10,
            ..opts()
        },
    )
    .await
    .expect("connect via proxy");
    for (ctx, conts, direct) in &groups {
        let via = fb.loglikelihood_group(ctx, conts).await.expect("via proxy");
        for (a, b) in direct.iter().zip(&via) {
            assert_eq!(a.result.logprob.to_bits(), b.result.logprob.to_bits());
            assert_eq!(a.result.is_greedy, b.result.is_greedy);
        }
    }
    let s = proxy.summary();
    eprintln!("proxy: {s:?}");
    assert!(s.failures() > 0, "{s:?}");

    // a tokenizer that does not agree with the server: the probe stops the run
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tokenizer.json")).expect("read"))
            .expect("json");
    other["model"]["merges"] = serde_json::json!([]);
    let bad = Arc::new(
        Tokenizer::from_json_bytes(
            other.to_string().as_bytes(),
            &serde_json::Value::Null,
            "no-merges.json".into(),
        )
        .expect("bad tokenizer"),
    );
    let wb = OpenAiBackend::connect(
        &server.url(),
        OpenAiOptions {
            tokenizer: TokenizerChoice::Loaded(bad),
            ..OpenAiOptions::default()
        },
    )
    .await
    .expect("connect");
    let err = wb.probe().await.expect_err("must disagree");
    assert!(
        matches!(err, BackendError::TokenizerMismatch { .. }),
        "{err}"
    );
    eprintln!("{err}");
    let _ = std::fs::remove_dir_all(dir);
}
