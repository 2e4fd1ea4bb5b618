//! OpenAI-compatible backend: log-likelihoods through `/v1/completions` with `echo` + `logprobs` over token
//! ids exactly as lm-evaluation-harness 0.4.13's `local-completions` computes them, the grouped
//! single-token multiple-choice fast path, generation, and a probe of the server.
//!
//! Payload of one log-likelihood request (lm-eval's key order): `{model, prompt: [ids], temperature: 0,
//! max_tokens: 1, logprobs: 1, seed, echo: true}`; the result is `Σ token_logprobs` over the continuation
//! positions, aligned by the server's echoed token list (see [`wire::score_echo`]).

pub mod chat;
mod counters;
mod group_status;
mod grouped;
pub mod pool;
mod probing;
mod server_pieces;
#[cfg(test)]
mod tests;
pub mod wire;

pub use counters::BackendCounters;
pub use group_status::GroupingOff;

use crate::backend::{
    Backend, BoxFuture, CallStats, GenPrompt, GenerationOutcome, LoglikelihoodOutcome,
    RequestPolicy, ScoringPath,
};
use crate::error::{excerpt, BackendError};
use crate::http::{api_key_from_env, http_error, ApiClient, RetryPolicy, ServerUrl};
use crate::probe::{EchoSupport, ProbeReport};
use crate::tokenizer::{Tokenizer, TokenizerSpec};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wire::{parse_completion, score_echo, truncate, usage_counts, Logprobs};
use yardstick_core::{redact_url, GenerationParams, ModelRef};

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
    /// lm-eval's `think_end_token`: a generation's text up to the last occurrence of this token (its
    /// reasoning) is dropped before filters see it; the raw text is kept.
    pub think_end_token: Option<String>,
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
            think_end_token: None,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    http_calls: AtomicU64,
    retries: AtomicU64,
    grouped_questions: AtomicU64,
    grouped_choices_read: AtomicU64,
    grouped_fallbacks: AtomicU64,
    piece_checks: AtomicU64,
    piece_checked_questions: AtomicU64,
    single_token_questions: AtomicU64,
    /// Grouped questions refused because the top-k named two tokens alike.
    ambiguous_tops: AtomicU64,
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
    /// The grouped path's switch (off, with the reason, when a check or trial turned it off).
    group_switch: group_status::GroupSwitch,
    counters: Counters,
    /// Token names asked of the server (grouped path without a local tokenizer).
    server_pieces: server_pieces::ServerPieces,
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

/// What `GET /v1/models` says of the model to use.
pub(crate) struct Resolved {
    pub model_id: String,
    pub served_models: Vec<String>,
    pub model_entry: Value,
    pub warnings: Vec<String>,
}

/// Ask the server which models it serves and pick `--model-name` (checked against the list) or the first.
pub(crate) async fn resolve_model(
    client: &ApiClient,
    opts: &OpenAiOptions,
) -> Result<Resolved, BackendError> {
    let models_url = format!("{}/models", client.url.api);
    let mut connect_warnings = Vec::new();
    let (served_models, entries) = match client.get_probe(&models_url).await? {
        (200, body) => {
            let v: Value = serde_json::from_str(&body).map_err(|e| BackendError::BadResponse {
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
    Ok(Resolved {
        model_id,
        served_models,
        model_entry,
        warnings: connect_warnings,
    })
}

/// lm-eval's `**gen_kwargs` in a generation payload: every generation parameter it does not map itself
/// (`top_p`, `seed` of a sampled repeat, …), over the defaults already in `body`.
fn add_generation_extras(body: &mut Value, params: &GenerationParams) {
    if let Value::Object(o) = body {
        for (k, v) in &params.extra {
            if !matches!(k.as_str(), "until" | "do_sample" | "max_gen_toks") {
                o.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The model as stored, written to results files and printed: no credentials (userinfo is already gone
/// from the client's URL; secret-looking query values are masked here).
fn model_ref_of(
    opts: &OpenAiOptions,
    model_id: &str,
    location: &str,
    fingerprint: &str,
) -> ModelRef {
    ModelRef {
        name: redact_url(opts.model_name.as_deref().unwrap_or(model_id)),
        location: redact_url(location),
        fingerprint: fingerprint.to_string(),
    }
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
        let Resolved {
            model_id,
            served_models,
            model_entry,
            warnings: connect_warnings,
        } = resolve_model(&client, &opts).await?;
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
            group_switch: Default::default(),
            counters: Counters::default(),
            server_pieces: Default::default(),
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
            piece_checks: c.piece_checks.load(Ordering::Relaxed),
            single_token_questions: c.single_token_questions.load(Ordering::Relaxed),
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
        if conts.len() > 1 && conts.iter().all(|c| c.len() == 1) {
            self.counters
                .single_token_questions
                .fetch_add(1, Ordering::Relaxed);
        }
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
            // lm-eval: contexts left-truncated to max_length − max_gen_toks (its max_length is already −1).
            GenPrompt::Tokens(t) => json!(self
                .request_policy()
                .generation_window(t, params.max_gen_toks)),
            GenPrompt::Text(s) => json!(s),
            GenPrompt::Messages(_) => {
                return Err(BackendError::Config(format!(
                    "{url} is a completions endpoint and takes a prompt, not a chat message list; use --api chat \
                     for /v1/chat/completions, or render the chat template locally (--apply-chat-template)"
                )))
            }
        };
        let mut body = json!({
            "prompt": prompt_value,
            "model": self.model_id,
            "max_tokens": params.max_gen_toks,
            "temperature": params.temperature,
            "stop": stop,
            "seed": self.opts.seed,
        });
        add_generation_extras(&mut body, params);
        let (text, meta) = self.post(&body).await?;
        let resp = parse_completion(&text, &url)?;
        let choice = &resp.choices[0];
        let sent = match prompt {
            GenPrompt::Tokens(t) => t.len(),
            GenPrompt::Text(_) | GenPrompt::Messages(_) => 0,
        };
        let (pt, ct) = usage_counts(&resp, sent, 0);
        let generated = choice.text.clone().unwrap_or_default();
        let answer = chat::strip_thinking(&generated, self.opts.think_end_token.as_deref());
        Ok(GenerationOutcome {
            raw_text: (answer != generated).then_some(generated),
            text: answer,
            finish_reason: choice.finish_reason.clone(),
            reasoning: None,
            reasoning_tokens: resp
                .usage
                .as_ref()
                .and_then(|u| u.completion_tokens_details.as_ref())
                .and_then(|d| d.reasoning_tokens),
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
        RequestPolicy::local_completions(self.max_length(), self.opts.add_bos_token, self.opts.seed)
    }

    fn tokenizer(&self) -> Option<&Arc<Tokenizer>> {
        Some(&self.tokenizer)
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn model_ref(&self) -> ModelRef {
        model_ref_of(
            &self.opts,
            &self.model_id,
            &self.client.url.api,
            &self.fingerprint,
        )
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
