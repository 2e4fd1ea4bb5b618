//! A chat completions endpoint (`/v1/chat/completions`) as lm-eval 0.4.13's `local-chat-completions` uses
//! it: generation only, from the message list the task rendered (lm-eval's `JsonChatStr`), with payload
//! `{messages, model, max_tokens, temperature, stop: until[:4], seed, …other generation kwargs}`. No
//! log-likelihoods: a chat endpoint returns log-probabilities only of the tokens it generates, never of a
//! supplied continuation, so `multiple_choice` / `loglikelihood` tasks cannot run on it (their generative
//! variants can).
//!
//! Reasoning models: the answer is `message.content`; `message.reasoning_content` (or `reasoning`) and
//! `usage.completion_tokens_details.reasoning_tokens` are kept apart; with a think-end token (lm-eval's
//! `think_end_token`, e.g. `</think>`) everything up to its last occurrence is dropped from the answer.

use super::wire::parse_completion;
use super::{
    add_generation_extras, identity_fields, model_ref_of, resolve_model, OpenAiOptions, Resolved,
    TokenizerChoice,
};
use crate::backend::{
    Backend, BoxFuture, CallStats, GenPrompt, GenerationOutcome, LoglikelihoodOutcome, PromptKind,
    RequestPolicy,
};
use crate::error::{excerpt, BackendError};
use crate::http::{api_key_from_env, ApiClient, RetryPolicy, ServerUrl};
use crate::probe::{EchoSupport, ProbeReport, TokenizerCheck};
use crate::tokenizer::Tokenizer;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use yardstick_core::{GenerationParams, ModelRef};

/// lm-eval's chat backend sends at most this many stop sequences (OpenAI's limit).
const MAX_STOP_SEQUENCES: usize = 4;

/// The chat completions backend. `Send + Sync`; share it with `Arc`.
#[derive(Debug)]
pub struct ChatBackend {
    client: ApiClient,
    opts: OpenAiOptions,
    model_id: String,
    served_models: Vec<String>,
    model_entry: Value,
    tokenizer: Option<Arc<Tokenizer>>,
    fingerprint: String,
    warnings: Vec<String>,
    http_calls: AtomicU64,
    retries: AtomicU64,
}

impl ChatBackend {
    /// Connect: `GET /v1/models` picks the model; a tokenizer is loaded only when one is named
    /// (`--tokenizer`) or found for the model id in the local Hugging Face cache — a chat endpoint needs
    /// none (lm-eval's chat backend has none, so it adds no EOS stop sequence either).
    pub async fn connect(base_url: &str, opts: OpenAiOptions) -> Result<ChatBackend, BackendError> {
        let url = ServerUrl::parse(base_url)?;
        let api_key = opts.api_key.clone().or_else(api_key_from_env);
        let retry = RetryPolicy {
            max_retries: opts.max_retries,
            ..RetryPolicy::default()
        };
        let client = ApiClient::new(url, api_key, opts.concurrency, opts.timeout, retry)?;
        let Resolved {
            model_id,
            served_models,
            model_entry,
            warnings,
        } = resolve_model(&client, &opts).await?;
        let tokenizer = match &opts.tokenizer {
            TokenizerChoice::Loaded(t) => Some(Arc::clone(t)),
            TokenizerChoice::Spec(spec) => Some(Arc::new(
                Tokenizer::load(spec, Some(&client), Some(&model_id)).await?,
            )),
            TokenizerChoice::Auto => (model_id.split('/').count() == 2)
                .then(|| Tokenizer::from_hub_cache(&model_id).ok())
                .flatten()
                .map(Arc::new),
        };
        let fingerprint = yardstick_core::sha256_hex(
            serde_json::to_vec(&json!({
                "model_id": model_id,
                "server_model": identity_fields(&model_entry),
                "api": "chat",
                "tokenizer": tokenizer.as_ref().map(|t| t.info().content_hash.clone()),
            }))
            .unwrap_or_default(),
        );
        Ok(ChatBackend {
            client,
            opts,
            model_id,
            served_models,
            model_entry,
            tokenizer,
            fingerprint,
            warnings,
            http_calls: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// HTTP calls that returned a result, and retries.
    pub fn calls(&self) -> (u64, u64) {
        (
            self.http_calls.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
        )
    }

    fn url(&self) -> String {
        format!("{}/chat/completions", self.client.url.api)
    }

    /// The EOS text lm-eval appends to the stop sequences (only with a tokenizer).
    fn eos_string(&self) -> Option<String> {
        let t = self.tokenizer.as_ref()?;
        let id = t.info().eos_id?;
        t.hf()?.id_to_token(id)
    }

    fn payload(&self, messages: Value, params: &GenerationParams) -> Value {
        let mut stop = params.until.clone();
        if let Some(eos) = self.eos_string() {
            if !stop.contains(&eos) {
                stop.push(eos);
            }
        }
        stop.truncate(MAX_STOP_SEQUENCES);
        let mut body = json!({
            "messages": messages,
            "model": self.model_id,
            "max_tokens": params.max_gen_toks,
            "temperature": params.temperature,
            "stop": stop,
            "seed": self.opts.seed,
        });
        add_generation_extras(&mut body, params);
        body
    }

    async fn generate_impl(
        &self,
        prompt: &GenPrompt,
        params: &GenerationParams,
    ) -> Result<GenerationOutcome, BackendError> {
        let url = self.url();
        let messages = match prompt {
            GenPrompt::Messages(json_text) => serde_json::from_str::<Value>(json_text)
                .ok()
                .filter(Value::is_array)
                .ok_or_else(|| {
                    BackendError::Config(format!(
                        "a chat request needs a JSON message list, got {}",
                        excerpt(json_text)
                    ))
                })?,
            GenPrompt::Text(_) | GenPrompt::Tokens(_) => {
                return Err(BackendError::Config(format!(
                    "{url} is a chat endpoint and takes a message list; prompts must be rendered as chat messages \
                     (yardstick run --api chat does this)"
                )))
            }
        };
        let body = self.payload(messages, params);
        let (text, meta) = self.client.post_json(&url, &body).await?;
        self.http_calls.fetch_add(1, Ordering::Relaxed);
        self.retries
            .fetch_add(meta.retries() as u64, Ordering::Relaxed);
        let resp = parse_completion(&text, &url)?;
        let choice = resp
            .choices
            .first()
            .ok_or_else(|| BackendError::BadResponse {
                url: url.clone(),
                what: "the response has no choices".into(),
                body: excerpt(&text),
            })?;
        let message = choice.message.clone().unwrap_or_default();
        // lm-eval: a null content becomes its placeholder (""), reported by the finish reason.
        let content = message.content.unwrap_or_default();
        let answer = strip_thinking(&content, self.opts.think_end_token.as_deref());
        let usage = resp.usage.clone().unwrap_or_default();
        Ok(GenerationOutcome {
            raw_text: (answer != content).then_some(content.clone()),
            text: answer,
            finish_reason: choice.finish_reason.clone(),
            reasoning: message.reasoning_content,
            reasoning_tokens: usage
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens),
            stats: CallStats {
                latency: meta.latency,
                prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                completion_tokens: usage.completion_tokens.unwrap_or(0),
                retries: meta.retries(),
                shared_by: 1,
            },
            raw_response: Arc::from(text),
        })
    }

    async fn probe_impl(&self) -> Result<ProbeReport, BackendError> {
        let reason = "a chat completions endpoint returns no prompt log-probabilities".to_string();
        Ok(ProbeReport {
            base_url: self.url(),
            model_id: self.model_id.clone(),
            served_models: self.served_models.clone(),
            server_context_length: None,
            max_length: self.request_policy().max_length,
            echo: EchoSupport::Unsupported { reason },
            bos: Default::default(),
            prompt_batching: false,
            max_logprobs: 0,
            grouped_single_token: false,
            tokenizer_source: self.tokenizer.as_ref().map_or_else(
                || "none (chat messages)".to_string(),
                |t| t.info().source.clone(),
            ),
            tokenizer: TokenizerCheck::NotChecked {
                reason: "chat requests send messages, not token ids".into(),
            },
            server_tokenize: false,
            model_metadata: identity_fields(&self.model_entry),
            warnings: self.warnings.clone(),
        })
    }
}

/// lm-eval's `think_end_token` handling: the text after the last `token`, leading whitespace removed.
pub fn strip_thinking(text: &str, token: Option<&str>) -> String {
    match token.filter(|t| !t.is_empty()) {
        Some(t) => text
            .rsplit(t)
            .next()
            .unwrap_or(text)
            .trim_start()
            .to_string(),
        None => text.to_string(),
    }
}

impl Backend for ChatBackend {
    fn probe(&self) -> BoxFuture<'_, Result<ProbeReport, BackendError>> {
        Box::pin(self.probe_impl())
    }

    fn request_policy(&self) -> RequestPolicy {
        let max_length = self
            .opts
            .max_length
            .unwrap_or(super::LM_EVAL_DEFAULT_MAX_LENGTH);
        RequestPolicy {
            lm_eval_model: "local-chat-completions".into(),
            max_length,
            add_special_tokens: self.opts.add_bos_token,
            rolling_window: max_length.saturating_sub(2).max(1),
            seed: self.opts.seed,
            prompts: PromptKind::Messages,
        }
    }

    fn tokenizer(&self) -> Option<&Arc<Tokenizer>> {
        self.tokenizer.as_ref()
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn model_ref(&self) -> ModelRef {
        model_ref_of(&self.opts, &self.model_id, &self.url(), &self.fingerprint)
    }

    fn loglikelihood<'a>(
        &'a self,
        _context: &'a [u32],
        _continuation: &'a [u32],
    ) -> BoxFuture<'a, Result<LoglikelihoodOutcome, BackendError>> {
        Box::pin(async move { Err(self.no_loglikelihood()) })
    }

    fn loglikelihood_group<'a>(
        &'a self,
        _context: &'a [u32],
        _continuations: &'a [Vec<u32>],
    ) -> BoxFuture<'a, Result<Vec<LoglikelihoodOutcome>, BackendError>> {
        Box::pin(async move { Err(self.no_loglikelihood()) })
    }

    fn generate<'a>(
        &'a self,
        prompt: &'a GenPrompt,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationOutcome, BackendError>> {
        Box::pin(self.generate_impl(prompt, params))
    }
}

impl ChatBackend {
    fn no_loglikelihood(&self) -> BackendError {
        BackendError::Config(format!(
            "{} is a chat endpoint: it cannot score log-likelihoods (multiple_choice, loglikelihood and \
             loglikelihood_rolling tasks); use a generative variant of the task, or a /v1/completions endpoint",
            self.url()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::strip_thinking;

    #[test]
    fn thinking_is_stripped_after_the_last_end_token() {
        let t = "<think>a</think> b </think>\n The answer is 4.";
        assert_eq!(strip_thinking(t, Some("</think>")), "The answer is 4.");
        assert_eq!(strip_thinking("no think", Some("</think>")), "no think");
        assert_eq!(strip_thinking(" x", None), " x");
        assert_eq!(strip_thinking(" x", Some("")), " x");
    }
}
