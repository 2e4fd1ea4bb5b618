//! A deterministic in-process OpenAI-compatible completions server for backend tests that must not
//! depend on Python: a fake "model" whose logits at each position are a pure function of the preceding
//! token ids, served with the same response shapes as `shared/tools/ref_server.py` (echo + logprobs +
//! top_logprobs keyed by piece strings + text_offset), and switches that reproduce other servers' ways:
//! BOS reported or hidden, llama.cpp's refusal of `echo`, no prompt log-probs, a `logprobs` cap,
//! text-only prompts, scripted 429/503/500 answers with `Retry-After`.

use crate::http_util::{json_response, read_body, HandlerResult, TestHttpServer};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fake server treats BOS on token-id prompts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BosMode {
    /// Prepend BOS when missing and never report it (ref_server.py).
    PrependHidden,
    /// Prepend BOS when missing and report it as the first token (null log-prob).
    PrependReported,
    /// Use the ids as given (vLLM).
    AsGiven,
}

/// How the fake server answers `echo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoMode {
    Supported,
    /// llama.cpp's llama-server: HTTP 500 `Only no echo is supported`.
    RejectLikeLlamaCpp,
    /// 200 but `logprobs` only for generated tokens.
    NoPromptLogprobs,
}

/// A scripted answer for the next completions request.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

pub type TokenizeFn = Arc<dyn Fn(&str, bool) -> Vec<u32> + Send + Sync>;

/// Configuration of [`MockLm`].
#[derive(Clone)]
pub struct MockConfig {
    pub model_id: String,
    /// The piece string of every token id (its length is the vocabulary size).
    pub pieces: Vec<String>,
    pub bos: u32,
    pub eos: u32,
    pub bos_mode: BosMode,
    pub echo: EchoMode,
    pub token_prompts: bool,
    pub max_logprobs: Option<usize>,
    pub batching: bool,
    /// Enables `/tokenize` (llama.cpp style) and text prompts.
    pub tokenize: Option<TokenizeFn>,
    pub context_length: usize,
    /// Answers for the first completions requests, in order (then normal service).
    pub script: Vec<Scripted>,
    /// Added latency per completions request.
    pub latency: Duration,
    /// Token ids whose logits get +12 everywhere (like answer letters after "Answer:" in a real model).
    pub boost: Vec<u32>,
}

impl std::fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockConfig")
            .field("model_id", &self.model_id)
            .field("vocab", &self.pieces.len())
            .finish()
    }
}

impl MockConfig {
    /// A vocabulary of `n` synthetic pieces (`<s>`, `</s>`, then ` t3`, ` t4`, …) with ref_server's habits.
    pub fn synthetic(n: usize) -> MockConfig {
        let pieces = (0..n)
            .map(|i| match i {
                0 => "<unk>".to_string(),
                1 => String::new(),
                2 => String::new(),
                i => format!(" t{i}"),
            })
            .collect();
        MockConfig {
            model_id: "mock-model".into(),
            pieces,
            bos: 1,
            eos: 2,
            bos_mode: BosMode::PrependHidden,
            echo: EchoMode::Supported,
            token_prompts: true,
            max_logprobs: None,
            batching: true,
            tokenize: None,
            context_length: 4096,
            script: Vec::new(),
            latency: Duration::ZERO,
            boost: Vec::new(),
        }
    }
}

/// Request log and counters.
#[derive(Debug, Default)]
pub struct MockStats {
    pub completions: AtomicU64,
    pub tokenize: AtomicU64,
    pub scripted: AtomicU64,
    /// Bodies of completions requests, in arrival order (bounded to the last 10,000).
    pub bodies: Mutex<VecDeque<Value>>,
}

/// The running fake server.
pub struct MockLm {
    server: TestHttpServer,
    pub stats: Arc<MockStats>,
    script: Arc<Mutex<VecDeque<Scripted>>>,
    latency_ms: Arc<AtomicU64>,
}

impl MockLm {
    pub fn start(config: MockConfig) -> std::io::Result<MockLm> {
        let stats = Arc::new(MockStats::default());
        let st = Arc::clone(&stats);
        let script = Arc::new(Mutex::new(VecDeque::from(config.script.clone())));
        let latency_ms = Arc::new(AtomicU64::new(config.latency.as_millis() as u64));
        let config = Arc::new(config);
        let (sc, lat) = (Arc::clone(&script), Arc::clone(&latency_ms));
        let server = TestHttpServer::start(move |req| {
            let config = Arc::clone(&config);
            let stats = Arc::clone(&st);
            let script = Arc::clone(&sc);
            let latency = Duration::from_millis(lat.load(Ordering::Relaxed));
            async move { handle(req, &config, &stats, &script, latency).await }
        })?;
        Ok(MockLm {
            server,
            stats,
            script,
            latency_ms,
        })
    }

    /// Queue scripted answers for the next completions (or chat completions) requests.
    pub fn push_script(&self, answers: impl IntoIterator<Item = Scripted>) {
        if let Ok(mut s) = self.script.lock() {
            s.extend(answers);
        }
    }

    /// Change the added latency of completions requests.
    pub fn set_latency(&self, latency: Duration) {
        self.latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
    }

    /// Base URL with `/v1`.
    pub fn url(&self) -> String {
        format!("{}/v1", self.server.url())
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    pub fn completions(&self) -> u64 {
        self.stats.completions.load(Ordering::Relaxed)
    }
}

async fn handle(
    req: hyper::Request<hyper::body::Incoming>,
    config: &MockConfig,
    stats: &MockStats,
    script: &Mutex<VecDeque<Scripted>>,
    latency: Duration,
) -> HandlerResult {
    let (parts, body) = read_body(req).await.map_err(std::io::Error::other)?;
    let path = parts.uri.path().to_string();
    if parts.method == hyper::Method::GET && path == "/v1/models" {
        return Ok(json_response(
            200,
            &json!({"object": "list", "data": [{"id": config.model_id, "object": "model", "created": 1234, "max_model_len": config.context_length}]}),
        ));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if path == "/tokenize" {
        stats.tokenize.fetch_add(1, Ordering::Relaxed);
        let Some(tok) = &config.tokenize else {
            return Ok(json_response(404, &json!({"error": "not found"})));
        };
        let text = body.get("content").and_then(Value::as_str).unwrap_or("");
        let special = body
            .get("add_special")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return Ok(json_response(200, &json!({"tokens": tok(text, special)})));
    }
    let chat = path == "/v1/chat/completions";
    if path != "/v1/completions" && !chat {
        return Ok(json_response(404, &json!({"error": "not found"})));
    }
    stats.completions.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut b) = stats.bodies.lock() {
        if b.len() >= 10_000 {
            b.pop_front();
        }
        b.push_back(body.clone());
    }
    let next = script.lock().ok().and_then(|mut s| s.pop_front());
    if let Some(s) = next {
        stats.scripted.fetch_add(1, Ordering::Relaxed);
        let mut r = hyper::Response::new(crate::http_util::full(s.body.clone()));
        *r.status_mut() = hyper::StatusCode::from_u16(s.status)
            .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(ra) = &s.retry_after {
            if let Ok(v) = hyper::header::HeaderValue::from_str(ra) {
                r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
            }
        }
        return Ok(r);
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if chat {
        // chat answers are scripted only (push_script); there is no chat model behind the mock
        return Ok(json_response(
            400,
            &json!({"error": {"code": 400, "message": "mock: no scripted chat answer left"}}),
        ));
    }
    Ok(match complete(&body, config) {
        Ok(v) => json_response(200, &v),
        Err((status, msg)) => json_response(
            status,
            &json!({"error": {"code": status, "message": msg, "type": "invalid_request_error"}}),
        ),
    })
}

/// Logits of the fake model after `prefix`: a pure function of the ids (FNV-1a hash → SplitMix64 per
/// vocabulary entry → uniform in [-6, 6) as f32). Token 3 gets +4 after any prefix ending in token 3,
/// so some continuations are greedy.
pub fn logits(prefix: &[u32], vocab: usize) -> Vec<f32> {
    logits_after(prefix.iter().fold(FNV_START, |h, &t| fnv_step(h, t)), vocab)
}

const FNV_START: u64 = 0xcbf29ce484222325;

/// The prefix hash of [`logits`] extended by one token (so a prompt's positions are hashed in one pass).
fn fnv_step(mut h: u64, t: u32) -> u64 {
    for b in t.to_le_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// [`logits`] from the prefix's hash.
fn logits_after(h: u64, vocab: usize) -> Vec<f32> {
    (0..vocab as u64)
        .map(|i| {
            let mut z = h ^ i.wrapping_mul(0x9E3779B97F4A7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
            z ^= z >> 31;
            let u = (z >> 40) as f32 / (1u64 << 24) as f32;
            u * 12.0 - 6.0
        })
        .collect()
}

fn boosted(mut row: Vec<f32>, boost: &[u32]) -> Vec<f32> {
    for &b in boost {
        if let Some(x) = row.get_mut(b as usize) {
            *x += 12.0;
        }
    }
    row
}

fn log_softmax_row(r: &[f32]) -> (f64, Vec<f64>) {
    let m = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let s: f64 = r.iter().map(|&x| ((x - m) as f64).exp()).sum();
    let lse = m as f64 + s.ln();
    (lse, r.iter().map(|&x| x as f64 - lse).collect())
}

fn complete(body: &Value, c: &MockConfig) -> Result<Value, (u16, String)> {
    let echo = body.get("echo").and_then(Value::as_bool).unwrap_or(false);
    if echo && c.echo == EchoMode::RejectLikeLlamaCpp {
        return Err((500, "Only no echo is supported".into()));
    }
    let nlp = body
        .get("logprobs")
        .and_then(Value::as_u64)
        .map(|k| k as usize);
    if let (Some(k), Some(cap)) = (nlp, c.max_logprobs) {
        if k > cap {
            return Err((
                400,
                format!("Requested logprobs of {k}, which is greater than max allowed: {cap}"),
            ));
        }
    }
    let max_tokens = body.get("max_tokens").and_then(Value::as_u64).unwrap_or(16) as usize;
    let stops: Vec<String> = match body.get("stop") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let prompt = body.get("prompt").cloned().unwrap_or(Value::Null);
    let prompts: Vec<Value> = match &prompt {
        Value::Array(a) if a.first().is_some_and(Value::is_u64) => vec![prompt.clone()],
        Value::Array(a) => {
            if a.len() > 1 && !c.batching {
                return Err((400, "batched prompts are not supported".into()));
            }
            a.clone()
        }
        other => vec![other.clone()],
    };
    let mut choices = Vec::new();
    for (index, p) in prompts.iter().enumerate() {
        let mut toks: Vec<u32> = match p {
            Value::Array(ids) => {
                if !c.token_prompts {
                    return Err((400, "prompt must be a string".into()));
                }
                ids.iter()
                    .map(|v| {
                        v.as_u64()
                            .map(|x| x as u32)
                            .ok_or((400, "bad token id".to_string()))
                    })
                    .collect::<Result<_, _>>()?
            }
            Value::String(s) => {
                let Some(tok) = &c.tokenize else {
                    return Err((400, "text prompts are not supported".into()));
                };
                let mut t = tok(s, false);
                t.insert(0, c.bos);
                t
            }
            _ => return Err((400, "prompt must be a string or token ids".into())),
        };
        if toks.iter().any(|&t| t as usize >= c.pieces.len()) {
            return Err((400, "token id out of range".into()));
        }
        let mut hidden = 0usize;
        if toks.first() != Some(&c.bos) && c.bos_mode != BosMode::AsGiven {
            toks.insert(0, c.bos);
            if c.bos_mode == BosMode::PrependHidden {
                hidden = 1;
            }
        } else if c.bos_mode == BosMode::PrependHidden && toks.first() == Some(&c.bos) {
            // ref_server.py never reports a leading BOS, sent or added.
            hidden = 1;
        }
        if toks.len() + max_tokens > c.context_length {
            return Err((
                400,
                format!(
                    "prompt of {} tokens + {max_tokens} exceeds context {}",
                    toks.len(),
                    c.context_length
                ),
            ));
        }
        let mut gen = Vec::new();
        for _ in 0..max_tokens {
            let mut all = toks.clone();
            all.extend(&gen);
            let r = boosted(logits(&all, c.pieces.len()), &c.boost);
            let nxt = r
                .iter()
                .enumerate()
                .fold((0usize, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv {
                        (i, v)
                    } else {
                        (bi, bv)
                    }
                })
                .0 as u32;
            if nxt == c.eos {
                break;
            }
            gen.push(nxt);
            let text: String = gen.iter().map(|&g| c.pieces[g as usize].as_str()).collect();
            if stops.iter().any(|s| text.contains(s.as_str())) {
                break;
            }
        }
        let all: Vec<u32> = toks.iter().chain(&gen).copied().collect();
        let shown: Vec<u32> = if echo {
            all[hidden..].to_vec()
        } else {
            gen.clone()
        };
        let mut text: String = gen.iter().map(|&g| c.pieces[g as usize].as_str()).collect();
        for s in &stops {
            if let Some(i) = text.find(s.as_str()) {
                text.truncate(i);
            }
        }
        let echoed: String = if echo {
            toks[hidden..]
                .iter()
                .map(|&t| c.pieces[t as usize].as_str())
                .collect()
        } else {
            String::new()
        };
        let mut choice = json!({"index": index, "text": format!("{echoed}{text}"), "finish_reason": if gen.len() < max_tokens { "stop" } else { "length" }});
        if let Some(k) = nlp {
            if !(echo && c.echo == EchoMode::NoPromptLogprobs) {
                let k = k.max(1);
                let start = all.len() - shown.len();
                let mut token_lp: Vec<Value> = Vec::new();
                let mut tops: Vec<Value> = Vec::new();
                let mut offs = Vec::new();
                let mut tstr = Vec::new();
                let mut off = 0usize;
                // the hash of all[..pos], advanced one token per position
                let mut h = all[..start].iter().fold(FNV_START, |h, &t| fnv_step(h, t));
                for (j, &t) in shown.iter().enumerate() {
                    let pos = start + j;
                    let prefix_hash = h;
                    h = fnv_step(h, t);
                    tstr.push(c.pieces[t as usize].clone());
                    offs.push(off);
                    off += c.pieces[t as usize].chars().count();
                    if pos == 0 || (echo && j == 0) {
                        token_lp.push(Value::Null);
                        tops.push(Value::Null);
                        continue;
                    }
                    let row = boosted(logits_after(prefix_hash, c.pieces.len()), &c.boost);
                    let (_, lps) = log_softmax_row(&row);
                    // the k highest (ties by id): selected, then only those sorted
                    let by_logit = |&a: &usize, &b: &usize| {
                        row[b]
                            .partial_cmp(&row[a])
                            .unwrap_or(std::cmp::Ordering::Equal)
                            .then(a.cmp(&b))
                    };
                    let mut idx: Vec<usize> = (0..lps.len()).collect();
                    if k < idx.len() {
                        idx.select_nth_unstable_by(k, by_logit);
                        idx.truncate(k);
                    }
                    idx.sort_by(by_logit);
                    let mut d = serde_json::Map::new();
                    for &x in idx.iter().take(k) {
                        d.insert(c.pieces[x].clone(), json!(lps[x]));
                    }
                    d.insert(c.pieces[t as usize].clone(), json!(lps[t as usize]));
                    token_lp.push(json!(lps[t as usize]));
                    tops.push(Value::Object(d));
                }
                choice["logprobs"] = json!({"tokens": tstr, "token_logprobs": token_lp, "top_logprobs": tops, "text_offset": offs});
            } else {
                // Only the generated tokens' log-probs.
                choice["logprobs"] = json!({"tokens": gen.iter().map(|&g| c.pieces[g as usize].clone()).collect::<Vec<_>>(),
                                             "token_logprobs": gen.iter().map(|_| json!(-1.0)).collect::<Vec<_>>(),
                                             "top_logprobs": Value::Null});
            }
        }
        choices.push(choice);
    }
    Ok(json!({"object": "text_completion", "model": c.model_id, "choices": choices}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_from_an_incremental_hash_equal_those_of_the_whole_prefix() {
        let ids = [5u32, 300, 7, 0, 65_000];
        let mut h = FNV_START;
        for n in 0..=ids.len() {
            assert_eq!(logits_after(h, 64), logits(&ids[..n], 64), "prefix of {n}");
            if let Some(&t) = ids.get(n) {
                h = fnv_step(h, t);
            }
        }
    }

    #[test]
    fn logits_are_deterministic_and_prefix_dependent() {
        assert_eq!(logits(&[1, 2, 3], 50), logits(&[1, 2, 3], 50));
        assert_ne!(logits(&[1, 2, 3], 50), logits(&[1, 2, 4], 50));
        assert!(logits(&[9], 1000).iter().all(|x| (-6.0..6.0).contains(x)));
    }

    #[test]
    fn serves_models_and_echo_like_ref_server() {
        let m = MockLm::start(MockConfig::synthetic(40)).expect("mock");
        let (status, body) =
            crate::blocking_get(m.addr(), "/v1/models", Duration::from_secs(5)).expect("get");
        assert_eq!(status, 200);
        assert!(body.contains("mock-model"));
        let v = complete(
            &json!({"prompt": [5, 6, 7], "echo": true, "logprobs": 1, "max_tokens": 1}),
            &MockConfig::synthetic(40),
        )
        .expect("ok");
        let lp = &v["choices"][0]["logprobs"];
        // BOS hidden: the three sent tokens + one generated, the first unscored
        assert_eq!(lp["tokens"].as_array().map(Vec::len), Some(4));
        assert!(lp["token_logprobs"][0].is_null());
        assert!(lp["token_logprobs"][1].is_f64());
    }
}
