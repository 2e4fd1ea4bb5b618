//! The in-process llama.cpp backend (feature `llama-cpp`) on real GGUF files: per-token log-probabilities
//! against llama-cpp-python's `Llama(logits_all=True)` on the same file (the tiny Llama, SmolLM2 and the 28
//! random-weight files of `scripts/make-arch-ggufs`: 7 architectures x F16, Q8_0, Q4_0, Q4_K_M), prefix
//! sharing against evaluation from an empty cache, generation, and bad input refused before any work.
//! docs/native-backend.md ("Parity with llama-cpp-python") has the measured table.
//!
//! Run: `cargo test -p yardstick-backends --features llama-cpp --test native_llama` (after
//! `scripts/setup-peers`, which makes the files and writes `YARDSTICK_ARCH_GGUF_DIR` to its peers.env).
#![cfg(feature = "llama-cpp")]

use std::path::{Path, PathBuf};
use yardstick_backends::native::{Layout, NativeBackend, NativeOptions, PreflightError};
use yardstick_backends::{Backend, BackendError, GenPrompt};
use yardstick_testkit::python::run_python;
use yardstick_testkit::{require_peer_python, smollm2_gguf, tiny_llama_gguf};

/// The tolerance per token (nats) between this backend and llama-cpp-python on a float model (the tiny
/// Llama: measured 1.2e-14).
const TOL_VS_PYTHON: f64 = 1e-4;
/// Between this backend and llama-cpp-python's Python code running on this backend's own llama.cpp build
/// (same version and compiler flags, see [`link_our_llama_cpp`]), on every file, float or quantised
/// (measured: at most 4e-14 nats, the float64 log-softmax's rounding).
const TOL_SAME_BUILD: f64 = 1e-4;
/// Sharing a context among choices vs evaluating each pair from an empty cache (same llama.cpp; measured
/// 0 exactly on every file, since each choice is decoded on its own either way).
const TOL_SHARING: f64 = 1e-9;

/// Sharing vs whole prompts from an empty cache on a quantised file: llama.cpp's result for a token depends
/// on how the tokens were split into batches. Measured 0 on the test's questions with SmolLM2 Q4_1 (Intel
/// AVX-512); on mmlu `--limit 10` up to 0.63 nats per request (several tokens summed) between the layouts.
const TOL_LAYOUT_QUANTISED: f64 = 0.5;

/// The layouts the per-token parity test scores every file in (each compared with llama-cpp-python).
const LAYOUTS: [Layout; 3] = [Layout::Split, Layout::Shared, Layout::Whole];

/// Bounds (max, mean |Δ| per token, nats) between this backend and llama-cpp-python with its own llama.cpp
/// (the peers' venv: llama-cpp-python 0.3.36, ggml 0.25.3, compiled for AVX2 by scripts/setup-peers) on the
/// same file, by weight type. This backend's llama.cpp is compiled with `-march=native` (.cargo/config.toml);
/// on an AVX-512 CPU ggml-cpu then runs other kernels (dot products, activation quantisation, repacking)
/// than the AVX2 build, and that is the whole difference: llama-cpp-python's Python code on a libllama.so of
/// llama-cpp-sys-2's llama.cpp (b11434) compiled with the AVX2 flags gives exactly llama-cpp-python 0.3.36's
/// numbers on all 32 files (max |Δ| 0), and on this backend's own build exactly this backend's (≤ 4e-14,
/// [`TOL_SAME_BUILD`]); llama-cpp-python 0.3.36's own llama.cpp compiled with this backend's flags agrees
/// with this backend within 4e-14 on every F16 and quantised file (1.5e-8 on F32). Measured maxima (max, mean) on an AVX-512 host (docs/native-backend.md has the
/// table): F16 8.2e-3, 1.8e-3 (SmolLM2; generated files ≤ 7.2e-3); Q8_0 0.37, 0.027 (SmolLM2; generated ≤
/// 0.11); Q4_1 0.30, 0.026 (SmolLM2); Q4_0 0.090, 0.015; Q4_K_M 0.097, 0.018. The bounds leave about 2.5x
/// room (more layers and longer texts accumulate more); a misaligned or mis-masked evaluation is off by
/// nats on most tokens, which the mean bound catches. On a CPU without AVX-512 both builds run the same
/// kernels and the differences are float rounding.
fn parity_bounds(quant: &str) -> (f64, f64) {
    match quant {
        "F32" => (TOL_VS_PYTHON, TOL_VS_PYTHON),
        "F16" => (2e-2, 5e-3),
        "Q4_0" | "Q4_K_M" => (0.25, 0.04),
        // Q8_0, Q4_1 (SmolLM2's 30 layers: 0.37 and 0.30 measured) and anything else
        _ => (0.5, 0.05),
    }
}

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

/// A file of the per-token parity test: a label for the table, its architecture and weight type.
struct Case {
    path: PathBuf,
    arch: String,
    quant: String,
}

/// The files of the per-token parity test: [`models`] (the tiny Llama is F32, SmolLM2 Q4_1) and the 28
/// generated ones of `scripts/make-arch-ggufs` (`<arch>-<QUANT>.gguf`), when set up.
fn parity_cases() -> Vec<Case> {
    let mut out: Vec<Case> = models()
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_lowercase();
            let quant = if path == tiny_llama_gguf() {
                "F32"
            } else if name.contains("q4_1") {
                "Q4_1"
            } else if name.contains("q8_0") {
                "Q8_0"
            } else if name.contains("f16") {
                "F16"
            } else {
                "?"
            };
            let arch = if name.contains("smollm2") {
                "smollm2"
            } else {
                "llama"
            };
            Case {
                path,
                arch: arch.into(),
                quant: quant.into(),
            }
        })
        .collect();
    if let Some(dir) = yardstick_testkit::arch_gguf_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
            .collect();
        files.sort();
        assert_eq!(
            files.len(),
            28,
            "{}: 7 architectures x 4 types",
            dir.display()
        );
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let (arch, quant) = stem.split_once('-').expect("<arch>-<QUANT>.gguf");
            out.push(Case {
                arch: arch.into(),
                quant: quant.into(),
                path,
            });
        }
    }
    out
}

/// llama-cpp-python's log-probability of each token after the first (from `Llama.scores` with
/// `logits_all=True`, log-softmax in float64), for every (model, sequences) job, in one python process.
/// It evaluates each sequence twice: without its last token, as this backend's shared and split layouts
/// do (the last token is only a target), and whole, as its whole layout and the reference server do:
/// llama.cpp's result for a row can depend on how many rows its batch has (repacked Q4_K weights multiply
/// rows in groups of 4 and the rest one by one: measured up to 9e-2 nats on the last rows). Per job: the
/// sequences' first variant, then their second.
/// `lib`: a folder with a `libllama.so` to use instead of llama-cpp-python's own (`LLAMA_CPP_LIB_PATH`).
fn python_logprobs(
    python: &Path,
    lib: Option<&Path>,
    jobs: &[(PathBuf, Vec<Vec<u32>>)],
) -> Vec<Vec<Vec<f64>>> {
    let code = r#"
import json, os, sys
req = json.load(sys.stdin)
if req["lib"]:
    os.environ["LLAMA_CPP_LIB_PATH"] = req["lib"]
import numpy as np
import llama_cpp
out = []
for job in req["jobs"]:
    llm = llama_cpp.Llama(model_path=job["model"], logits_all=True, n_ctx=2048, n_batch=512, n_threads=2,
                          verbose=False)
    res = []
    for drop in (1, 0):
        for toks in job["seqs"]:
            llm.reset(); llm.eval(toks[: len(toks) - drop])
            s = np.array(llm.scores[: len(toks) - 1], dtype=np.float64)
            m = s.max(axis=1, keepdims=True)
            lse = np.log(np.exp(s - m).sum(axis=1)) + m[:, 0]
            res.append([float(s[i, toks[i + 1]] - lse[i]) for i in range(len(toks) - 1)])
    out.append(res)
    del llm
print(json.dumps(out))
"#;
    let jobs: Vec<_> = jobs
        .iter()
        .map(|(m, seqs)| serde_json::json!({"model": m, "seqs": seqs}))
        .collect();
    let stdin = serde_json::json!({ "jobs": jobs, "lib": lib }).to_string();
    let text = run_python(&python.display().to_string(), code, &stdin).expect("run python");
    serde_json::from_str(&text).expect("python output")
}

/// Link the llama.cpp this test binary was built with (llama-cpp-sys-2's static libraries in
/// `target/<profile>/build/llama-cpp-sys-2-*/out/lib`, the newest when there are several) into one
/// `dir/libllama.so`, so that llama-cpp-python's Python code can run on the very same llama.cpp build
/// (same version, same compiler flags). llama-cpp-python 0.3.36's ctypes declarations fit this llama.cpp:
/// their `llama.h` differ only in the session file version numbers.
fn link_our_llama_cpp(dir: &Path) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let build = exe
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("build"))
        .ok_or("no target folder above the test binary")?;
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&build)
        .map_err(|e| format!("{}: {e}", build.display()))?
        .filter_map(|e| e.ok().map(|e| e.path().join("out/lib")))
        .filter(|lib| {
            lib.parent()
                .and_then(Path::parent)
                .and_then(Path::file_name)
                .is_some_and(|n| n.to_string_lossy().starts_with("llama-cpp-sys-2-"))
        })
        .filter_map(|lib| {
            let t = std::fs::metadata(lib.join("libllama.a"))
                .ok()?
                .modified()
                .ok()?;
            Some((t, lib))
        })
        .collect();
    found.sort();
    let (_, lib) = found.pop().ok_or_else(|| {
        format!(
            "no llama-cpp-sys-2-*/out/lib/libllama.a under {}",
            build.display()
        )
    })?;
    // libllama and every ggml library (the CPU backend and any other that was built), not the common/ ones
    let mut archives: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".a") && (n == "libllama.a" || n.starts_with("libggml"))
        })
        .collect();
    archives.sort();
    let out = dir.join("libllama.so");
    let status = std::process::Command::new(std::env::var("CXX").unwrap_or_else(|_| "c++".into()))
        .arg("-shared")
        .arg("-o")
        .arg(&out)
        .arg("-Wl,--whole-archive")
        .args(&archives)
        .args(["-Wl,--no-whole-archive", "-fopenmp", "-lpthread", "-ldl"])
        .status()
        .map_err(|e| format!("c++: {e}"))?;
    if !status.success() {
        return Err(format!(
            "linking {archives:?} into {} failed",
            out.display()
        ));
    }
    Ok(lib)
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
    let cases = parity_cases();
    // Ours first (each file opened, scored in every layout, closed), then llama-cpp-python on every file in
    // one process.
    let mut ours = Vec::new();
    let mut jobs = Vec::new();
    for case in &cases {
        let b = open(&case.path).await;
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
        let mut got = Vec::new();
        for layout in LAYOUTS {
            for ids in &seqs {
                let r = b
                    .continuation_logprobs(&ids[..1], &[ids[1..].to_vec()], layout)
                    .await
                    .unwrap();
                got.push(r[0].2.logprobs.clone());
            }
        }
        ours.push(got);
        jobs.push((case.path.clone(), seqs));
    }
    let theirs = python_logprobs(&python, None, &jobs);
    // The same Python code on this backend's own llama.cpp build: only the way llama.cpp is driven differs.
    let dir = tempfile::tempdir().unwrap();
    let same_build = match link_our_llama_cpp(dir.path()) {
        Ok(lib) => {
            eprintln!(
                "llama.cpp of this build, for llama-cpp-python: {}",
                lib.display()
            );
            Some(python_logprobs(&python, Some(dir.path()), &jobs))
        }
        Err(e) => {
            yardstick_testkit::skip_or_fail(&format!(
                "cannot link this build's llama.cpp into a libllama.so for llama-cpp-python ({e}); only the \
                 comparison with llama-cpp-python's own llama.cpp runs"
            ));
            None
        }
    };
    // For investigating a difference: every file's token ids and the log-probabilities as JSON.
    if let Some(dump) = std::env::var_os("YARDSTICK_NATIVE_PARITY_DUMP") {
        let rows: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (seqs, o) = (&jobs[i].1, &ours[i]);
                let mut row = serde_json::json!({"file": c.path, "arch": c.arch, "quant": c.quant, "seqs": seqs,
                                   "python": theirs[i], "python_same_build": same_build.as_ref().map(|s| &s[i])});
                // ours_split, ours_shared, ours_whole: `ours[i]` in the order of `LAYOUTS`
                for (layout, lps) in LAYOUTS.iter().zip(o.chunks(seqs.len())) {
                    row[format!("ours_{}", layout.name())] = serde_json::json!(lps);
                }
                row
            })
            .collect();
        std::fs::write(&dump, serde_json::to_string(&rows).unwrap()).unwrap();
    }
    let mut failed = Vec::new();
    eprintln!(
        "|Δ| per token (nats) vs llama-cpp-python {{own build, AVX2 | this backend's llama.cpp build}}\n\
         arch      type    tokens  own: max   mean      bound (max, mean)   same build: max  mean      file"
    );
    for (i, case) in cases.iter().enumerate() {
        // `ours[i]` holds the sequences once per layout, in the order of `LAYOUTS`; the references hold
        // them evaluated without their last token, then whole (for `Layout::Whole`).
        let delta = |reference: &[Vec<f64>]| {
            let n = jobs[i].1.len();
            let (part, whole) = reference.split_at(n);
            let want = LAYOUTS
                .iter()
                .flat_map(|&l| if l == Layout::Whole { whole } else { part });
            let mut max: f64 = 0.0;
            let (mut sum, mut count) = (0.0, 0usize);
            assert_eq!(ours[i].len(), LAYOUTS.len() * n);
            for (lps, want) in ours[i].iter().zip(want) {
                assert_eq!(lps.len(), want.len(), "{}", case.path.display());
                for (g, w) in lps.iter().zip(want) {
                    max = max.max((g - w).abs());
                    sum += (g - w).abs();
                    count += 1;
                }
            }
            (max, sum / count.max(1) as f64, count / LAYOUTS.len())
        };
        let (max, mean, tokens) = delta(&theirs[i]);
        let (bound_max, bound_mean) = parity_bounds(&case.quant);
        let same = same_build.as_ref().map(|s| delta(&s[i]));
        eprintln!(
            "{:<9} {:<7} {tokens:>6}  {max:<9.2e}  {mean:<9.2e} ({bound_max:<8.1e} {bound_mean:<8.1e})  {:<28}  {}",
            case.arch,
            case.quant,
            same.map_or("-".into(), |(m, a, _)| format!("{m:<9.2e}        {a:.2e}")),
            case.path.display()
        );
        if !(max < bound_max && mean < bound_mean) {
            failed.push(format!(
                "{} ({} {}) vs llama-cpp-python: max {max:.3e} mean {mean:.3e}, bounds {bound_max:.1e} {bound_mean:.1e}",
                case.path.display(),
                case.arch,
                case.quant
            ));
        }
        if let Some((m, _, _)) = same {
            if m >= TOL_SAME_BUILD {
                failed.push(format!(
                    "{} ({} {}) vs llama-cpp-python on the same llama.cpp build: max {m:.3e} >= {TOL_SAME_BUILD:e}",
                    case.path.display(),
                    case.arch,
                    case.quant
                ));
            }
        }
    }
    assert!(failed.is_empty(), "beyond the tolerances: {failed:#?}");
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
        let bound = if model == tiny_llama_gguf() {
            TOL_VS_PYTHON
        } else {
            TOL_LAYOUT_QUANTISED
        };
        // All questions with sharing first (each reuses the previous one's prefix), then all from scratch,
        // split as sharing splits them and as whole prompts.
        let mut shared_all = Vec::new();
        for (ctx, conts) in &qs {
            shared_all.push(
                b.continuation_logprobs(ctx, conts, Layout::Shared)
                    .await
                    .unwrap(),
            );
        }
        let (mut max_split, mut max_whole): (f64, f64) = (0.0, 0.0);
        for ((ctx, conts), shared) in qs.iter().zip(shared_all) {
            let split = b
                .continuation_logprobs(ctx, conts, Layout::Split)
                .await
                .unwrap();
            let whole = b
                .continuation_logprobs(ctx, conts, Layout::Whole)
                .await
                .unwrap();
            for ((s, a), w) in shared.iter().zip(&split).zip(&whole) {
                assert_eq!(s.0, a.0, "same request tokens");
                assert_eq!(s.0, w.0, "same request tokens");
                assert_eq!(s.2.greedy, a.2.greedy);
                assert_eq!(s.2.logprobs.len(), a.2.logprobs.len());
                assert_eq!(s.2.logprobs.len(), w.2.logprobs.len());
                for ((x, y), z) in s.2.logprobs.iter().zip(&a.2.logprobs).zip(&w.2.logprobs) {
                    max_split = max_split.max((x - y).abs());
                    max_whole = max_whole.max((x - z).abs());
                }
            }
            let best = |r: &[(Vec<u32>, usize, yardstick_backends::native::Scored)]| {
                let sums: Vec<f64> = r.iter().map(|x| x.2.logprobs.iter().sum()).collect();
                (0..sums.len()).max_by(|&i, &j| sums[i].total_cmp(&sums[j]))
            };
            assert_eq!(best(&shared), best(&split));
        }
        eprintln!(
            "{}: max |Δ| per token, shared vs from scratch split alike = {max_split:.3e} nats, vs whole prompts \
             = {max_whole:.3e} nats (bound {bound:.1e})",
            model.display()
        );
        if max_split >= TOL_SHARING {
            failed.push(format!(
                "{}: shared vs split {max_split:.3e} >= {TOL_SHARING:e}",
                model.display()
            ));
        }
        if max_whole >= bound {
            failed.push(format!(
                "{}: shared vs whole {max_whole:.3e} >= {bound:e}",
                model.display()
            ));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
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
