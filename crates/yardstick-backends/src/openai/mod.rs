//! OpenAI-compatible backend: log-likelihoods through `/v1/completions` with `echo` + `logprobs` over token
//! ids exactly as lm-evaluation-harness 0.4.13's `local-completions` computes them, the grouped
//! single-token multiple-choice fast path, generation, and a probe of the server.
//!
//! Payload of one log-likelihood request (lm-eval's key order): `{model, prompt: [ids], temperature: 0,
//! max_tokens: 1, logprobs: 1, seed, echo: true}`; the result is `Σ token_logprobs` over the continuation
//! positions, aligned by the server's echoed token list (see [`wire::score_echo`]).

#[cfg(test)]
mod tests;
pub mod wire;

use crate::backend::{
    Backend, BoxFuture, CallStats, GenPrompt, GenerationOutcome, LoglikelihoodOutcome,
    RequestPolicy, ScoringPath,
};
use crate::error::{excerpt, BackendError};
use crate::http::{api_key_from_env, http_error, ApiClient, RetryPolicy, ServerUrl};
use crate::probe::{BosBehaviour, EchoSupport, ProbeReport, TokenizerCheck, PROBE_TEXTS};
use crate::tokenizer::{Tokenizer, TokenizerSpec};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wire::{parse_completion, score_echo, truncate, usage_counts, Logprobs};
use yardstick_core::{redact_url, GenerationParams, LoglikelihoodResult, ModelRef};

/// lm-eval's default `max_length` for API models.
pub const LM_EVAL_DEFAULT_MAX_LENGTH: usize = 2048;
/// Questions scored through the grouped path before its hit rate is judged.
const GROUP_TRIAL_QUESTIONS: u64 = 32;
/// Default `logprobs` of grouped requests (at least the number of choices).
pub const DEFAULT_GROUP_TOP_K: usize = 10;

/// lm-eval's default `seed` in API payloads.
pub const LM_EVAL_DEFAULT_SEED: u64 = 1234;

/// Which tokenizer the backend uses.
#[derive(Clone, Debug)]
pub enum TokenizerChoice {
    /// Load per the spec (path, hub repo, `server`).
    Spec(TokenizerSpec),
    /// Already loaded.
    Loaded(Arc<Tokenizer>),
    /// The model id as a Hugging Face repo in the local cache, else the server's `/tokenize`.
    Auto,
}

/// Options of [`OpenAiBackend::connect`].
#[derive(Clone, Debug)]
pub struct OpenAiOptions {
    /// Model id sent in payloads; default: the first model `/v1/models` lists.
    pub model_name: Option<String>,
    /// API key; default `YARDSTICK_API_KEY`, else `OPENAI_API_KEY`.
    pub api_key: Option<String>,
    /// Requests in flight at most (the adaptive limiter may lower it).
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt on 5xx / 429 / 408 / connection errors / timeouts.
    pub max_retries: u32,
    /// lm-eval's `max_length` (requests are left-truncated to `max_length − 1` tokens); default 2048 like
    /// lm-eval (not the server's context: that would change scores of long prompts).
    pub max_length: Option<usize>,
    pub tokenizer: TokenizerChoice,
    /// lm-eval's `add_bos_token` (False for `local-completions`): `add_special_tokens` of the pair encoding.
    pub add_bos_token: bool,
    pub seed: u64,
    /// Score single-token multiple-choice questions from one request.
    pub grouped: bool,
    /// `logprobs` of grouped requests (default 10): at least the number of choices; larger values find more
    /// choices in the top-k (fewer fallback requests) at the cost of larger responses (k entries for every
    /// prompt position). Capped by the server's limit. After 32 grouped questions, if fewer than a quarter
    /// of the other choices were found in the top-k, the backend switches to one request per choice.
    pub group_top_k: Option<usize>,
    /// Send a multi-token question's choices as one request with a list of prompts, when the server
    /// supports it (None = as probed).
    pub batch_prompts: Option<bool>,
    /// Extra texts for the tokenizer agreement check (e.g. prompts of the requested tasks).
    pub probe_texts: Vec<String>,
    /// Report lm-eval's literal `sum(token_logprobs[ctxlen:-1])` instead of the aligned reading where the
    /// two differ (a server that reports a prepended BOS, or generated nothing because EOS was the greedy
    /// next token): for strict parity runs. The grouped path is off in this mode, since those quirks of
    /// one request per choice cannot be known from a shared request.
    pub lm_eval_literal_slicing: bool,
}

impl Default for OpenAiOptions {
    fn default() -> Self {
        OpenAiOptions {
            model_name: None,
            api_key: None,
            concurrency: 8,
            timeout: Duration::from_secs(300),
            max_retries: 5,
            max_length: None,
            tokenizer: TokenizerChoice::Auto,
            add_bos_token: false,
            seed: LM_EVAL_DEFAULT_SEED,
            grouped: true,
            group_top_k: None,
            batch_prompts: None,
            probe_texts: Vec::new(),
            lm_eval_literal_slicing: false,
        }
    }
}

/// Counters of what the backend sent (for progress and benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackendCounters {
    /// HTTP calls that returned a result (retries not counted).
    pub http_calls: u64,
    pub retries: u64,
    /// Single-token questions scored through the grouped path.
    pub grouped_questions: u64,
    /// Choices read from `top_logprobs` (beyond the one whose token was sent).
    pub grouped_choices_read: u64,
    /// Choices of grouped questions missing from the top-k, scored by their own request.
    pub grouped_fallbacks: u64,
}

#[derive(Debug, Default)]
struct Counters {
    http_calls: AtomicU64,
    retries: AtomicU64,
    grouped_questions: AtomicU64,
    grouped_choices_read: AtomicU64,
    grouped_fallbacks: AtomicU64,
}

/// The OpenAI-compatible backend. `Send + Sync`; share it with `Arc`.
#[derive(Debug)]
pub struct OpenAiBackend {
    client: ApiClient,
    opts: OpenAiOptions,
    model_id: String,
    served_models: Vec<String>,
    model_entry: Value,
    tokenizer: Arc<Tokenizer>,
    fingerprint: String,
    probe: tokio::sync::OnceCell<ProbeReport>,
    group_disabled: AtomicBool,
    counters: Counters,
    connect_warnings: Vec<String>,
}

/// Identity fields of a `/v1/models` entry: volatile ones (`created`, `object`, `owned_by`, permissions,
/// `max_model_len`, which is a server flag and not the weights) removed.
fn identity_fields(entry: &Value) -> Value {
    match entry {
        Value::Object(o) => {
            let mut o = o.clone();
            for k in [
                "created",
                "object",
                "owned_by",
                "permission",
                "max_model_len",
            ] {
                o.remove(k);
            }
            Value::Object(o)
        }
        other => other.clone(),
    }
}

fn context_from_entry(entry: &Value) -> Option<usize> {
    [
        "max_model_len",
        "context_length",
        "context_window",
        "max_context_length",
    ]
    .iter()
    .find_map(|k| entry.get(*k).and_then(Value::as_u64))
    .or_else(|| entry.pointer("/meta/n_ctx_train").and_then(Value::as_u64))
    .map(|c| c as usize)
}

fn first_difference(a: &[u32], b: &[u32]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

impl OpenAiBackend {
    /// Connect: check the server answers (`GET /v1/models`), pick the model id, load the tokenizer. The full
    /// probe runs on the first [`Backend::probe`] (or the first request).
    pub async fn connect(
        base_url: &str,
        opts: OpenAiOptions,
    ) -> Result<OpenAiBackend, BackendError> {
        let url = ServerUrl::parse(base_url)?;
        let api_key = opts.api_key.clone().or_else(api_key_from_env);
        let retry = RetryPolicy {
            max_retries: opts.max_retries,
            ..RetryPolicy::default()
        };
        let client = ApiClient::new(url.clone(), api_key, opts.concurrency, opts.timeout, retry)?;
        // the client's URL, without any `user:pass@` (the client sends those as a header)
        let models_url = format!("{}/models", client.url.api);
        let mut connect_warnings = Vec::new();
        let (served_models, entries) = match client.get_probe(&models_url).await? {
            (200, body) => {
                let v: Value =
                    serde_json::from_str(&body).map_err(|e| BackendError::BadResponse {
                        url: models_url.clone(),
                        what: format!("not JSON ({e})"),
                        body: excerpt(&body),
                    })?;
                let data = v
                    .get("data")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let ids: Vec<String> = data
                    .iter()
                    .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect();
                (ids, data)
            }
            (s @ (401 | 403), body) => return Err(http_error(&models_url, s, &body)),
            (s, body) => {
                connect_warnings.push(format!(
                    "GET {models_url} answered HTTP {s} ({}); model metadata unknown",
                    excerpt(&body)
                ));
                (Vec::new(), Vec::new())
            }
        };
        let model_id = match (&opts.model_name, served_models.first()) {
            (Some(m), _) => {
                if !served_models.is_empty() && !served_models.contains(m) {
                    connect_warnings.push(format!("--model-name {m:?} is not among the models the server lists: {served_models:?}"));
                }
                m.clone()
            }
            (None, Some(first)) => first.clone(),
            (None, None) => {
                return Err(BackendError::Config(format!(
                    "{models_url} lists no models; pass the model id with --model-name"
                )))
            }
        };
        let model_entry = entries
            .iter()
            .find(|e| e.get("id").and_then(Value::as_str) == Some(model_id.as_str()))
            .cloned()
            .unwrap_or(Value::Null);
        let tokenizer = match &opts.tokenizer {
            TokenizerChoice::Loaded(t) => Arc::clone(t),
            TokenizerChoice::Spec(spec) => {
                Arc::new(Tokenizer::load(spec, Some(&client), Some(&model_id)).await?)
            }
            TokenizerChoice::Auto => {
                let hub = (model_id.split('/').count() == 2)
                    .then(|| Tokenizer::from_hub_cache(&model_id).ok())
                    .flatten();
                match hub {
                    Some(t) => Arc::new(t),
                    None => Arc::new(Tokenizer::server(client.clone(), Some(model_id.clone())).await.map_err(|e| {
                        BackendError::Config(format!(
                            "no tokenizer: {model_id:?} is not a Hugging Face repo in the local cache and {e}. Pass \
                             --tokenizer PATH (a tokenizer.json; for a GGUF: `yardstick tokenizer export MODEL.gguf -o DIR`)"
                        ))
                    })?),
                }
            }
        };
        let fingerprint = {
            let ident = json!({
                "model_id": model_id,
                "server_model": identity_fields(&model_entry),
                "tokenizer": tokenizer.info().content_hash,
            });
            yardstick_core::sha256_hex(serde_json::to_vec(&ident).unwrap_or_default())
        };
        Ok(OpenAiBackend {
            client,
            opts,
            model_id,
            served_models,
            model_entry,
            tokenizer,
            fingerprint,
            probe: tokio::sync::OnceCell::new(),
            group_disabled: AtomicBool::new(false),
            counters: Counters::default(),
            connect_warnings,
        })
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn counters(&self) -> BackendCounters {
        let c = &self.counters;
        BackendCounters {
            http_calls: c.http_calls.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            grouped_questions: c.grouped_questions.load(Ordering::Relaxed),
            grouped_choices_read: c.grouped_choices_read.load(Ordering::Relaxed),
            grouped_fallbacks: c.grouped_fallbacks.load(Ordering::Relaxed),
        }
    }

    /// The adaptive limiter's current concurrency and how often it backed off.
    pub fn concurrency_now(&self) -> (usize, u64) {
        (self.client.limiter.limit(), self.client.limiter.decreases())
    }

    fn completions_url(&self) -> String {
        format!("{}/completions", self.client.url.api)
    }

    fn max_length(&self) -> usize {
        self.opts.max_length.unwrap_or(LM_EVAL_DEFAULT_MAX_LENGTH)
    }

    fn ll_payload(&self, prompt: Value, logprobs: usize) -> Value {
        json!({
            "model": self.model_id,
            "prompt": prompt,
            "temperature": 0,
            "max_tokens": 1,
            "logprobs": logprobs,
            "seed": self.opts.seed,
            "echo": true,
        })
    }

    /// The canonical payload of the one-request-per-choice log-likelihood call for (context, continuation),
    /// after truncation: what the engine hashes into the request key (whichever path serves it).
    pub fn loglikelihood_request_payload(
        &self,
        context: &[u32],
        continuation: &[u32],
    ) -> Result<Value, BackendError> {
        let (inp, _) = truncate(context, continuation, self.max_length())?;
        Ok(self.ll_payload(json!(inp), 1))
    }

    async fn post(&self, body: &Value) -> Result<(Arc<str>, crate::http::CallMeta), BackendError> {
        let (text, meta) = self.client.post_json(&self.completions_url(), body).await?;
        self.counters.http_calls.fetch_add(1, Ordering::Relaxed);
        self.counters
            .retries
            .fetch_add(meta.retries() as u64, Ordering::Relaxed);
        Ok((Arc::from(text), meta))
    }

    async fn probe_cached(&self) -> Result<&ProbeReport, BackendError> {
        self.probe.get_or_try_init(|| self.run_probe()).await
    }

    fn offset_for(&self, probe: &ProbeReport, sent: &[u32]) -> isize {
        match (sent.first(), self.tokenizer.info().bos_id) {
            (Some(&f), Some(b)) if f == b => probe.bos.bos_first_offset,
            _ => probe.bos.plain_offset,
        }
    }

    /// In `lm_eval_literal_slicing` mode, swap in lm-eval's literal value (keeping the aligned one in
    /// `lm_eval_slice` for the record).
    fn literal(&self, mut s: wire::Scored) -> wire::Scored {
        if self.opts.lm_eval_literal_slicing {
            if let Some(lit) = s.lm_eval_slice {
                s.lm_eval_slice = Some(s.result);
                s.result = lit;
            }
        }
        s
    }

    fn require_scoring<'p>(&self, probe: &'p ProbeReport) -> Result<&'p ProbeReport, BackendError> {
        match &probe.echo {
            EchoSupport::Unsupported { reason } => Err(BackendError::EchoUnsupported {
                url: self.completions_url(),
                detail: reason.clone(),
            }),
            _ => Ok(probe),
        }
    }

    /// One request for one continuation.
    async fn score_one(
        &self,
        context: &[u32],
        continuation: &[u32],
        path: ScoringPath,
    ) -> Result<LoglikelihoodOutcome, BackendError> {
        let probe = self.require_scoring(self.probe_cached().await?)?;
        let (inp, ctxlen) = truncate(context, continuation, probe.max_length)?;
        if let EchoSupport::TextOnly { .. } = probe.echo {
            return self.score_text(&inp, ctxlen).await;
        }
        let (body, meta) = self.post(&self.ll_payload(json!(inp), 1)).await?;
        let url = self.completions_url();
        let resp = parse_completion(&body, &url)?;
        let lp = logprobs_of(&resp.choices[0], &url, &body)?;
        let scored = self.literal(score_echo(
            lp,
            inp.len(),
            ctxlen,
            self.offset_for(probe, &inp),
            &url,
        )?);
        let (pt, ct) = usage_counts(&resp, inp.len(), scored.generated);
        Ok(LoglikelihoodOutcome {
            result: scored.result,
            sent: inp.into(),
            ctxlen,
            path,
            stats: wire::stats(&meta, pt, ct, 1),
            raw_response: body,
            lm_eval_slice: scored.lm_eval_slice,
        })
    }

    /// Text-prompt fallback: decode, send text, locate the continuation by `text_offset`.
    async fn score_text(
        &self,
        inp: &[u32],
        ctxlen: usize,
    ) -> Result<LoglikelihoodOutcome, BackendError> {
        let url = self.completions_url();
        let text = self.tokenizer.decode(inp).await?;
        let ctx_text = self.tokenizer.decode(&inp[..ctxlen]).await?;
        if !text.starts_with(&ctx_text) {
            return Err(BackendError::InvalidRequest(format!(
                "the server accepts only text prompts, and the decoded context {:?} is not a prefix of the decoded \
                 prompt, so the continuation cannot be located by character offsets",
                excerpt(&ctx_text)
            )));
        }
        let (body, meta) = self.post(&self.ll_payload(json!(text), 1)).await?;
        let resp = parse_completion(&body, &url)?;
        let choice = &resp.choices[0];
        let lp = logprobs_of(choice, &url, &body)?;
        // Offsets are relative to the echoed text, which may differ from ours by a leading space the
        // server's detokenizer keeps: locate our text in it.
        let echoed = choice.text.clone().unwrap_or_default();
        let shift = echoed
            .char_indices()
            .take(5)
            .find(|(i, _)| echoed[*i..].starts_with(&text))
            .map(|(i, _)| echoed[..i].chars().count())
            .ok_or_else(|| BackendError::BadResponse {
                url: url.clone(),
                what: "the echoed text does not contain the prompt that was sent".into(),
                body: excerpt(&body),
            })?;
        let (result, _) = wire::score_text_offsets(
            lp,
            shift + ctx_text.chars().count(),
            shift + text.chars().count(),
            &url,
        )?;
        let (pt, ct) = usage_counts(&resp, inp.len(), 1);
        Ok(LoglikelihoodOutcome {
            result,
            sent: inp.into(),
            ctxlen,
            path: ScoringPath::TextOffsets,
            stats: wire::stats(&meta, pt, ct, 1),
            raw_response: body,
            lm_eval_slice: None,
        })
    }

    /// The grouped single-token path. Returns None when the question does not qualify (the caller then
    /// uses per-choice requests).
    async fn score_grouped(
        &self,
        probe: &ProbeReport,
        context: &[u32],
        conts: &[Vec<u32>],
    ) -> Result<Option<Vec<LoglikelihoodOutcome>>, BackendError> {
        if !probe.grouped_single_token
            || self.group_disabled.load(Ordering::Relaxed)
            || conts.len() < 2
        {
            return Ok(None);
        }
        if !conts.iter().all(|c| c.len() == 1) {
            return Ok(None);
        }
        // A model that rarely ranks the other choices in the top-k (a random test model) gains nothing from
        // the grouped request, which then only makes responses larger: after a fair trial, stop using it.
        let read = self.counters.grouped_choices_read.load(Ordering::Relaxed);
        let fell = self.counters.grouped_fallbacks.load(Ordering::Relaxed);
        if self.counters.grouped_questions.load(Ordering::Relaxed) >= GROUP_TRIAL_QUESTIONS
            && read * 4 < read + fell
        {
            if !self.group_disabled.swap(true, Ordering::Relaxed) {
                tracing::info!(
                    read,
                    fallbacks = fell,
                    "fewer than a quarter of the choices were in the top-k: scoring multiple-choice questions with one \
                     request per choice from now on"
                );
            }
            return Ok(None);
        }
        let Some(pieces) = self.tokenizer.pieces() else {
            return Ok(None);
        };
        let ids: Vec<u32> = conts.iter().map(|c| c[0]).collect();
        let mut keys = Vec::with_capacity(ids.len());
        for &id in &ids {
            match pieces.piece(id).filter(|_| pieces.is_unambiguous(id)) {
                Some(p) => keys.push(p.to_string()),
                None => return Ok(None),
            }
        }
        // Every choice shares the context and has one token, so truncation is the same for all of them.
        let (inp0, ctxlen) = truncate(context, &conts[0], probe.max_length)?;
        let n_distinct = {
            let mut v = ids.clone();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        let k = self
            .opts
            .group_top_k
            .unwrap_or(DEFAULT_GROUP_TOP_K)
            .max(n_distinct)
            .min(probe.max_logprobs)
            .max(1);
        let (body, meta) = self.post(&self.ll_payload(json!(inp0), k)).await?;
        let url = self.completions_url();
        let resp = parse_completion(&body, &url)?;
        let lp = logprobs_of(&resp.choices[0], &url, &body)?;
        let offset = self.offset_for(probe, &inp0);
        let first = score_echo(lp, inp0.len(), ctxlen, offset, &url)?;
        let pos = inp0.len() as isize - 1 + offset;
        let top = (pos >= 0)
            .then(|| {
                lp.top_logprobs
                    .as_ref()
                    .and_then(|t| t.get(pos as usize))
                    .and_then(Option::as_ref)
            })
            .flatten();
        let echoed = (pos >= 0)
            .then(|| lp.tokens.as_ref().and_then(|t| t.get(pos as usize)))
            .flatten();
        let sent_lp = (pos >= 0)
            .then(|| lp.token_logprobs.get(pos as usize).copied().flatten())
            .flatten();
        // The last prompt position must be scored (it is not when the server hides a BOS that was the whole
        // context): otherwise score per choice, without judging the server.
        let (Some(top), Some(v0)) = (top, sent_lp) else {
            return Ok(None);
        };
        // Verify the piece mapping on the token that was sent: the server must name it as we do, and its
        // top_logprobs entry must carry exactly its token_logprob. A server that does either differently
        // is never read by piece again.
        let verified =
            echoed == Some(&keys[0]) && top.get(&keys[0]).and_then(Value::as_f64) == Some(v0);
        let (pt, ct) = usage_counts(&resp, inp0.len(), first.generated);
        if !verified {
            tracing::warn!(
                expected = %keys[0], echoed = ?echoed,
                "the server names tokens differently from the local piece table; scoring multiple-choice questions \
                 with one request per choice from now on"
            );
            self.group_disabled.store(true, Ordering::Relaxed);
            // That request asked for k > 1 log-probs, so it is not a one-request-per-choice reading even of
            // choice 0 (is_greedy could differ): re-score every choice by its own request.
            return Ok(None);
        }
        // A key shared by several tokens (the server's dict keeps one value per string) can hide the true
        // maximum: is_greedy from this dict could then differ from a one-request-per-choice reading.
        if top.keys().any(|key| !pieces.is_unambiguous_piece(key)) {
            self.counters
                .grouped_questions
                .fetch_add(1, Ordering::Relaxed);
            self.counters
                .grouped_fallbacks
                .fetch_add(conts.len() as u64, Ordering::Relaxed);
            return Ok(None);
        }
        let mx = wire::top_max(top);
        let found: Vec<Option<f64>> = keys
            .iter()
            .map(|k| top.get(k).and_then(Value::as_f64))
            .collect();
        let n_read = found.iter().filter(|f| f.is_some()).count() as u32;
        self.counters
            .grouped_questions
            .fetch_add(1, Ordering::Relaxed);
        let mut out: Vec<Option<LoglikelihoodOutcome>> = vec![None; conts.len()];
        let mut missing = Vec::new();
        for (j, f) in found.iter().enumerate() {
            let sent: Arc<[u32]> = if j == 0 {
                inp0.clone().into()
            } else {
                let (inp, _) = truncate(context, &conts[j], probe.max_length)?;
                inp.into()
            };
            match f {
                Some(_) if j == 0 || ids[j] == ids[0] => {
                    out[j] = Some(LoglikelihoodOutcome {
                        result: first.result,
                        sent,
                        ctxlen,
                        path: ScoringPath::Grouped,
                        stats: wire::stats(&meta, pt, ct, n_read),
                        raw_response: Arc::clone(&body),
                        lm_eval_slice: first.lm_eval_slice,
                    });
                }
                Some(v) => {
                    let v = *v;
                    self.counters
                        .grouped_choices_read
                        .fetch_add(1, Ordering::Relaxed);
                    // Σ over one position, starting from 0.0 as Python's sum does.
                    let result = LoglikelihoodResult {
                        logprob: 0.0 + v,
                        is_greedy: Some(v) == mx,
                    };
                    out[j] = Some(LoglikelihoodOutcome {
                        result,
                        sent,
                        ctxlen,
                        path: ScoringPath::Grouped,
                        stats: wire::stats(&meta, pt, ct, n_read),
                        raw_response: Arc::clone(&body),
                        lm_eval_slice: None,
                    });
                }
                None => missing.push(j),
            }
        }
        if !missing.is_empty() {
            self.counters
                .grouped_fallbacks
                .fetch_add(missing.len() as u64, Ordering::Relaxed);
            let futs = missing
                .iter()
                .map(|&j| self.score_one(context, &conts[j], ScoringPath::GroupFallback));
            let results = futures::future::join_all(futs).await;
            for (&j, r) in missing.iter().zip(results) {
                out[j] = Some(r?);
            }
        }
        Ok(Some(out.into_iter().flatten().collect()))
    }

    /// Several prompts in one request (`prompt` = list of token-id lists).
    async fn score_batched(
        &self,
        probe: &ProbeReport,
        context: &[u32],
        conts: &[Vec<u32>],
    ) -> Result<Vec<LoglikelihoodOutcome>, BackendError> {
        let mut inputs = Vec::with_capacity(conts.len());
        for c in conts {
            inputs.push(truncate(context, c, probe.max_length)?);
        }
        let prompts: Vec<&Vec<u32>> = inputs.iter().map(|(i, _)| i).collect();
        let (body, meta) = self.post(&self.ll_payload(json!(prompts), 1)).await?;
        let url = self.completions_url();
        let resp = parse_completion(&body, &url)?;
        if resp.choices.len() != inputs.len() {
            return Err(BackendError::BadResponse {
                url,
                what: format!(
                    "sent {} prompts, got {} choices",
                    inputs.len(),
                    resp.choices.len()
                ),
                body: excerpt(&body),
            });
        }
        let total_sent: usize = inputs.iter().map(|(i, _)| i.len()).sum();
        let mut out = Vec::with_capacity(inputs.len());
        let mut scored = Vec::with_capacity(inputs.len());
        for ((inp, ctxlen), choice) in inputs.iter().zip(&resp.choices) {
            let lp = logprobs_of(choice, &url, &body)?;
            scored.push(self.literal(score_echo(
                lp,
                inp.len(),
                *ctxlen,
                self.offset_for(probe, inp),
                &url,
            )?));
        }
        let generated: usize = scored.iter().map(|s| s.generated).sum();
        let (pt, ct) = usage_counts(&resp, total_sent, generated);
        for ((inp, ctxlen), s) in inputs.into_iter().zip(scored) {
            out.push(LoglikelihoodOutcome {
                result: s.result,
                sent: inp.into(),
                ctxlen,
                path: ScoringPath::Batched,
                stats: wire::stats(&meta, pt, ct, conts.len() as u32),
                raw_response: Arc::clone(&body),
                lm_eval_slice: s.lm_eval_slice,
            });
        }
        Ok(out)
    }

    async fn group_impl(
        &self,
        context: &[u32],
        conts: &[Vec<u32>],
    ) -> Result<Vec<LoglikelihoodOutcome>, BackendError> {
        if conts.is_empty() {
            return Ok(Vec::new());
        }
        let probe = self.require_scoring(self.probe_cached().await?)?;
        if let Some(out) = self.score_grouped(probe, context, conts).await? {
            return Ok(out);
        }
        let batching = self.opts.batch_prompts.unwrap_or(probe.prompt_batching)
            && probe.echo == EchoSupport::TokenIds;
        if batching && conts.len() > 1 {
            return self.score_batched(probe, context, conts).await;
        }
        let futs = conts
            .iter()
            .map(|c| self.score_one(context, c, ScoringPath::Single));
        futures::future::join_all(futs).await.into_iter().collect()
    }

    async fn generate_impl(
        &self,
        prompt: &GenPrompt,
        params: &GenerationParams,
    ) -> Result<GenerationOutcome, BackendError> {
        let url = self.completions_url();
        let mut stop = params.until.clone();
        if let Some(eos) = self.eos_string() {
            if !stop.contains(&eos) {
                stop.push(eos);
            }
        }
        let prompt_value = match prompt {
            GenPrompt::Tokens(t) => {
                // lm-eval: contexts left-truncated to max_length − max_gen_toks (its max_length is already −1).
                let keep = self
                    .max_length()
                    .saturating_sub(1)
                    .saturating_sub(params.max_gen_toks as usize)
                    .max(1);
                json!(t[t.len().saturating_sub(keep)..])
            }
            GenPrompt::Text(s) => json!(s),
        };
        let mut body = json!({
            "prompt": prompt_value,
            "model": self.model_id,
            "max_tokens": params.max_gen_toks,
            "temperature": params.temperature,
            "stop": stop,
            "seed": self.opts.seed,
        });
        if let Value::Object(o) = &mut body {
            for (k, v) in &params.extra {
                if !matches!(k.as_str(), "until" | "do_sample" | "max_gen_toks") {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        let (text, meta) = self.post(&body).await?;
        let resp = parse_completion(&text, &url)?;
        let choice = &resp.choices[0];
        let sent = match prompt {
            GenPrompt::Tokens(t) => t.len(),
            GenPrompt::Text(_) => 0,
        };
        let (pt, ct) = usage_counts(&resp, sent, 0);
        Ok(GenerationOutcome {
            text: choice.text.clone().unwrap_or_default(),
            finish_reason: choice.finish_reason.clone(),
            stats: CallStats {
                latency: meta.latency,
                prompt_tokens: pt,
                completion_tokens: ct,
                retries: meta.retries(),
                shared_by: 1,
            },
            raw_response: text,
        })
    }

    fn eos_string(&self) -> Option<String> {
        let id = self.tokenizer.info().eos_id?;
        self.tokenizer.hf()?.id_to_token(id)
    }

    /// Run the probe (see [`ProbeReport`]).
    async fn run_probe(&self) -> Result<ProbeReport, BackendError> {
        let mut warnings = self.connect_warnings.clone();
        let url = self.completions_url();
        // Context length: /v1/models, then llama.cpp's /props (the runtime n_ctx wins).
        let mut server_ctx = context_from_entry(&self.model_entry);
        if let Ok((200, body)) = self
            .client
            .get_probe(&format!("{}/props", self.client.url.root))
            .await
        {
            if let Ok(v) = serde_json::from_str::<Value>(&body) {
                if let Some(c) = v
                    .pointer("/default_generation_settings/n_ctx")
                    .or_else(|| v.get("n_ctx"))
                    .and_then(Value::as_u64)
                {
                    server_ctx = Some(c as usize);
                }
            }
        }
        let max_length = self.max_length();
        if let Some(c) = server_ctx {
            if max_length > c {
                warnings.push(format!(
                    "max_length {max_length} exceeds the server's context of {c} tokens: requests longer than {c} will \
                     fail; pass --max-length {c}"
                ));
            }
        }

        // Tokenizer agreement through the server's /tokenize.
        let texts: Vec<String> = PROBE_TEXTS
            .iter()
            .map(|s| s.to_string())
            .chain(self.opts.probe_texts.iter().cloned())
            .collect();
        let mut tokenizer_check = None;
        let mut server_tokenize = false;
        if !self.tokenizer.is_local() {
            tokenizer_check = Some(TokenizerCheck::ServerTokenizer);
            server_tokenize = true;
        } else if let Ok(server_tok) =
            Tokenizer::server(self.client.clone(), Some(self.model_id.clone())).await
        {
            server_tokenize = true;
            for t in &texts {
                let local = self.tokenizer.encode_local(t, false)?;
                let remote = server_tok.encode(t, false).await?;
                if local != *remote {
                    return Err(BackendError::TokenizerMismatch {
                        local_source: self.tokenizer.info().source.clone(),
                        text: t.clone(),
                        position: first_difference(&local, &remote),
                        local,
                        server: remote.to_vec(),
                    });
                }
            }
            tokenizer_check = Some(TokenizerCheck::Agrees {
                texts: texts.len(),
                method: "server /tokenize".into(),
            });
        }

        // Echo over token ids.
        let sample: Vec<u32> = {
            let ids = self.tokenizer.encode("Hello world", false).await?.to_vec();
            let bos = self.tokenizer.info().bos_id;
            ids.into_iter().skip_while(|&i| Some(i) == bos).collect()
        };
        if sample.is_empty() {
            return Err(BackendError::Config(
                "the tokenizer encodes \"Hello world\" to no tokens".into(),
            ));
        }
        let n = sample.len();
        let mut echo = EchoSupport::TokenIds;
        let mut bos = BosBehaviour::default();
        let mut first_probe_lp: Option<Logprobs> = None;
        match self.client.post_probe(&url, &self.ll_payload(json!(sample), 1)).await? {
            (200, body) => match parse_completion(&body, &url).ok().map(|r| (r.choices[0].clone(), r.usage)) {
                Some((choice, usage)) => match choice.logprobs.filter(|l| l.token_logprobs.len() >= n) {
                    Some(lp) => {
                        let pieces = self.tokenizer.pieces();
                        let expect = |i: usize| pieces.and_then(|p| p.piece(sample[i])).map(str::to_string);
                        let m = lp.token_logprobs.len();
                        let matches_at = |off: usize| -> Option<bool> {
                            let toks = lp.tokens.as_ref()?;
                            let a = expect(0)?;
                            let b = expect(n - 1)?;
                            Some(toks.get(off) == Some(&a) && toks.get(off + n - 1) == Some(&b))
                        };
                        let one_generated = choice.finish_reason.as_deref() == Some("length");
                        bos.plain_offset = match (matches_at(0), matches_at(1)) {
                            (Some(true), _) => 0,
                            (_, Some(true)) => 1,
                            _ if m >= n + 2 => 1,
                            _ if m == n + 1 && !one_generated => 1,
                            _ => 0,
                        };
                        let prompt_tokens = usage.and_then(|u| u.prompt_tokens).map(|p| p as usize);
                        bos.server_adds_bos = if bos.plain_offset == 1 {
                            Some(true)
                        } else {
                            prompt_tokens.map(|p| p == n + 1)
                        };
                        first_probe_lp = Some(lp);
                    }
                    None => {
                        echo = EchoSupport::Unsupported {
                            reason: "the response to `echo: true, logprobs: 1` carries no log-probabilities for the \
                                     prompt tokens"
                                .into(),
                        }
                    }
                },
                None => {
                    echo = EchoSupport::Unsupported { reason: format!("unreadable completions response: {}", excerpt(&body)) }
                }
            },
            (status, body) if body.to_ascii_lowercase().contains("echo") => {
                echo = EchoSupport::Unsupported { reason: format!("HTTP {status}: {}", excerpt(&body)) };
            }
            (status @ (400 | 422), body) => {
                // Maybe token-id prompts are refused: try text.
                let text_payload = self.ll_payload(json!("Hello world"), 1);
                match self.client.post_probe(&url, &text_payload).await? {
                    (200, tb) if parse_completion(&tb, &url)
                        .ok()
                        .and_then(|r| r.choices[0].logprobs.clone())
                        .is_some_and(|l| !l.token_logprobs.is_empty() && l.text_offset.is_some()) =>
                    {
                        echo = EchoSupport::TextOnly {
                            reason: format!("token-id prompts refused with HTTP {status}: {}", excerpt(&body)),
                        };
                        warnings.push(
                            "the server refuses token-id prompts: continuations are located by text offsets, which \
                             can differ from lm-eval's token slicing when the server re-tokenizes differently"
                                .into(),
                        );
                    }
                    _ => echo = EchoSupport::Unsupported { reason: format!("HTTP {status}: {}", excerpt(&body)) },
                }
            }
            (status, body) => return Err(http_error(&url, status, &body)),
        }

        let mut max_logprobs = 1usize;
        let mut prompt_batching = false;
        if echo == EchoSupport::TokenIds {
            // BOS sent first: does the server echo it?
            if let Some(b) = self.tokenizer.info().bos_id {
                let with_bos: Vec<u32> = std::iter::once(b).chain(sample.iter().copied()).collect();
                if let (200, body) = self
                    .client
                    .post_probe(&url, &self.ll_payload(json!(with_bos), 1))
                    .await?
                {
                    if let Some(choice) = parse_completion(&body, &url)
                        .ok()
                        .map(|r| r.choices[0].clone())
                    {
                        if let Some(lp) = &choice.logprobs {
                            let m = lp.token_logprobs.len();
                            let first_piece = self
                                .tokenizer
                                .pieces()
                                .and_then(|p| p.piece(sample[0]))
                                .map(str::to_string);
                            let one_generated = choice.finish_reason.as_deref() == Some("length");
                            // [BOS] + sample is n + 1 tokens: echoed as sent → n + 1 (+1 generated) entries;
                            // BOS hidden → n (+1) entries, the first being sample[0].
                            let hidden =
                                match (lp.tokens.as_ref().and_then(|t| t.first()), first_piece) {
                                    (Some(t0), Some(p0)) if m == n + 1 => *t0 == p0,
                                    _ => m == n || (m == n + 1 && one_generated),
                                };
                            bos.bos_first_offset = if hidden { -1 } else { 0 };
                        }
                    }
                }
            }
            // logprobs cap
            for k in [100usize, 20, 5, 2] {
                if let Ok((200, body)) = self
                    .client
                    .post_probe(&url, &self.ll_payload(json!(sample), k))
                    .await
                {
                    if parse_completion(&body, &url).is_ok() {
                        max_logprobs = k;
                        break;
                    }
                }
            }
            // Batched prompts: same numbers as single?
            if let Ok((200, body)) = self
                .client
                .post_probe(&url, &self.ll_payload(json!([sample, sample]), 1))
                .await
            {
                if let Ok(r) = parse_completion(&body, &url) {
                    prompt_batching = r.choices.len() == 2
                        && r.choices.iter().all(|c| {
                            c.logprobs.as_ref().map(|l| &l.token_logprobs)
                                == first_probe_lp.as_ref().map(|l| &l.token_logprobs)
                        });
                }
            }
        }

        // Tokenizer agreement through the echo of a text prompt, when there is no /tokenize.
        if tokenizer_check.is_none() {
            tokenizer_check = Some(match (&echo, self.tokenizer.pieces()) {
                (EchoSupport::Unsupported { .. }, _) => TokenizerCheck::NotChecked {
                    reason: "the server has no /tokenize and does not echo prompts".into(),
                },
                (_, None) => TokenizerCheck::NotChecked {
                    reason: "no local piece table".into(),
                },
                (_, Some(pieces)) => {
                    let mut checked = 0;
                    for t in texts.iter().take(4) {
                        let local = self.tokenizer.encode_local(t, false)?;
                        let (status, body) = self
                            .client
                            .post_probe(&url, &self.ll_payload(json!(t), 1))
                            .await?;
                        if status != 200 {
                            break;
                        }
                        let Some(toks) = parse_completion(&body, &url)
                            .ok()
                            .and_then(|r| r.choices[0].logprobs.clone())
                            .and_then(|l| l.tokens)
                        else {
                            break;
                        };
                        let local_pieces: Vec<String> = local
                            .iter()
                            .map(|&i| pieces.piece(i).unwrap_or("").to_string())
                            .collect();
                        let off = usize::from(bos.plain_offset == 1);
                        let server: Vec<String> = toks
                            .iter()
                            .skip(off)
                            .take(local_pieces.len())
                            .cloned()
                            .collect();
                        let extra = toks.len().saturating_sub(off + local_pieces.len());
                        if server != local_pieces || extra > 1 {
                            let pos = server
                                .iter()
                                .zip(&local_pieces)
                                .position(|(a, b)| a != b)
                                .unwrap_or(server.len().min(local_pieces.len()));
                            return Err(BackendError::TokenizerMismatch {
                                local_source: self.tokenizer.info().source.clone(),
                                text: t.clone(),
                                position: pos,
                                local: local.clone(),
                                server: Vec::new(),
                            });
                        }
                        checked += 1;
                    }
                    if checked == 0 {
                        TokenizerCheck::NotChecked {
                            reason: "the echo of text prompts could not be read".into(),
                        }
                    } else {
                        TokenizerCheck::Agrees {
                            texts: checked,
                            method: "echoed pieces of text prompts".into(),
                        }
                    }
                }
            });
        }
        if let Some(TokenizerCheck::NotChecked { reason }) = &tokenizer_check {
            warnings.push(format!(
                "tokenizer agreement with the server was not checked: {reason}"
            ));
        }

        let grouped_single_token = self.opts.grouped
            && !self.opts.lm_eval_literal_slicing
            && echo == EchoSupport::TokenIds
            && self.tokenizer.pieces().is_some()
            && max_logprobs >= 2;
        Ok(ProbeReport {
            base_url: self.client.url.api.clone(),
            model_id: self.model_id.clone(),
            served_models: self.served_models.clone(),
            server_context_length: server_ctx,
            max_length,
            echo,
            bos,
            prompt_batching,
            max_logprobs,
            grouped_single_token,
            tokenizer_source: self.tokenizer.info().source.clone(),
            tokenizer: tokenizer_check.unwrap_or(TokenizerCheck::NotChecked {
                reason: "unknown".into(),
            }),
            server_tokenize,
            model_metadata: identity_fields(&self.model_entry),
            warnings,
        })
    }
}

fn logprobs_of<'a>(
    choice: &'a wire::Choice,
    url: &str,
    body: &str,
) -> Result<&'a Logprobs, BackendError> {
    choice
        .logprobs
        .as_ref()
        .ok_or_else(|| BackendError::BadResponse {
            url: url.to_string(),
            what: "the choice has no `logprobs`".into(),
            body: excerpt(body),
        })
}

impl Backend for OpenAiBackend {
    fn probe(&self) -> BoxFuture<'_, Result<ProbeReport, BackendError>> {
        Box::pin(async move { self.probe_cached().await.cloned() })
    }

    /// lm-eval's `local-completions`: no special tokens unless `add_bos_token`; requests cut to
    /// `max_length − 1` tokens; the API models store `max_length − 1` and roll windows of that length less one.
    fn request_policy(&self) -> RequestPolicy {
        let max_length = self.max_length();
        RequestPolicy {
            lm_eval_model: "local-completions".into(),
            max_length,
            add_special_tokens: self.opts.add_bos_token,
            rolling_window: max_length.saturating_sub(2).max(1),
        }
    }

    fn tokenizer(&self) -> &Arc<Tokenizer> {
        &self.tokenizer
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn model_ref(&self) -> ModelRef {
        // Stored, written to results files and printed: no credentials (userinfo is already gone from the
        // client's URL; secret-looking query values are masked here).
        ModelRef {
            name: redact_url(
                &self
                    .opts
                    .model_name
                    .clone()
                    .unwrap_or_else(|| self.model_id.clone()),
            ),
            location: redact_url(&self.client.url.api),
            fingerprint: self.fingerprint.clone(),
        }
    }

    fn loglikelihood<'a>(
        &'a self,
        context: &'a [u32],
        continuation: &'a [u32],
    ) -> BoxFuture<'a, Result<LoglikelihoodOutcome, BackendError>> {
        Box::pin(self.score_one(context, continuation, ScoringPath::Single))
    }

    fn loglikelihood_group<'a>(
        &'a self,
        context: &'a [u32],
        continuations: &'a [Vec<u32>],
    ) -> BoxFuture<'a, Result<Vec<LoglikelihoodOutcome>, BackendError>> {
        Box::pin(self.group_impl(context, continuations))
    }

    fn generate<'a>(
        &'a self,
        prompt: &'a GenPrompt,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationOutcome, BackendError>> {
        Box::pin(self.generate_impl(prompt, params))
    }
}

/// Compare a local tokenizer with a server's `/tokenize` (llama.cpp or vLLM style) on `texts` (without
/// special tokens, as lm-eval encodes). Returns how many texts agreed, or `TokenizerMismatch` naming the
/// first text that differs and both token lists.
pub async fn check_tokenizer_against_server(
    local: &Tokenizer,
    base_url: &str,
    texts: &[String],
) -> Result<usize, BackendError> {
    let url = ServerUrl::parse(base_url)?;
    let client = ApiClient::new(
        url,
        api_key_from_env(),
        4,
        Duration::from_secs(60),
        RetryPolicy::default(),
    )?;
    let server = Tokenizer::server(client, None).await?;
    for t in texts {
        let mine = local.encode_local(t, false)?;
        let theirs = server.encode(t, false).await?;
        if mine != *theirs {
            return Err(BackendError::TokenizerMismatch {
                local_source: local.info().source.clone(),
                text: t.clone(),
                position: first_difference(&mine, &theirs),
                local: mine,
                server: theirs.to_vec(),
            });
        }
    }
    Ok(texts.len())
}
