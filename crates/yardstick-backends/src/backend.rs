//! The `Backend` interface the engine drives: log-likelihoods of continuations grouped by their shared
//! context (so a backend can score a multiple-choice question from one evaluation of its context), single
//! log-likelihoods, generation, a probe of what the model can do, and the model's identity.

use crate::error::BackendError;
use crate::probe::ProbeReport;
use crate::tokenizer::Tokenizer;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use yardstick_core::{GenerationParams, LoglikelihoodResult, ModelRef};

/// A boxed, sendable future (keeps [`Backend`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Per-call facts the engine persists beside each result.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallStats {
    /// Wall time of the HTTP call that produced the result, including retries and backoff.
    pub latency: Duration,
    /// Prompt tokens of that call (the server's `usage.prompt_tokens` when reported, else the count sent).
    pub prompt_tokens: u32,
    /// Completion tokens of that call (`usage.completion_tokens`, else the generated tokens returned).
    pub completion_tokens: u32,
    /// Retries of that call (attempts − 1).
    pub retries: u32,
    /// How many results the same HTTP call answered (1 unless grouped or batched).
    pub shared_by: u32,
}

/// How a log-likelihood was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringPath {
    /// Its own request (`prompt` = token ids).
    Single,
    /// Read from `top_logprobs` of one request shared by the question's single-token choices.
    Grouped,
    /// A grouped question's choice that was not in the top-k: its own request.
    GroupFallback,
    /// One element of a request whose `prompt` was a list of token-id lists.
    Batched,
    /// The server rejected token-id prompts: text prompt, continuation located by `text_offset`.
    TextOffsets,
    /// Computed in this process by llama.cpp (the native backend): one evaluation of the context shared by
    /// the question's choices.
    InProcess,
}

/// One log-likelihood result with what was sent and what came back.
#[derive(Clone, Debug, PartialEq)]
pub struct LoglikelihoodOutcome {
    pub result: LoglikelihoodResult,
    /// The token ids a one-request-per-choice client sends for this continuation (after lm-eval's left
    /// truncation): the request key is built from these whatever the path.
    pub sent: Arc<[u32]>,
    /// lm-eval's `ctxlen` after truncation: positions `ctxlen..sent.len()` are the continuation.
    pub ctxlen: usize,
    pub path: ScoringPath,
    pub stats: CallStats,
    /// The raw response body (shared by all results of one HTTP call).
    pub raw_response: Arc<str>,
    /// When lm-eval's literal slice `token_logprobs[ctxlen:-1]` of the same response gives a different
    /// value than the aligned reading (a server that reports a prepended BOS, hides a BOS that was sent,
    /// or generated nothing because EOS was the greedy next token), lm-eval's value is kept here, so a
    /// parity check can tell an lm-eval quirk from a Yardstick bug. (With
    /// `OpenAiOptions::lm_eval_literal_slicing` the roles swap: `result` is lm-eval's value and this field
    /// holds the aligned one.)
    pub lm_eval_slice: Option<LoglikelihoodResult>,
}

/// How requests must be built for a backend so that its scores equal those of the lm-eval model class it
/// reproduces. The engine asks the backend instead of knowing any backend's rules.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestPolicy {
    /// lm-eval's model type whose requests these are (`local-completions`): the results file's `model`.
    pub lm_eval_model: String,
    /// lm-eval's `max_length`: a log-likelihood request is left-truncated to `max_length − 1` tokens. Part of
    /// every log-likelihood request key (a different truncation is a different request).
    pub max_length: usize,
    /// Encode prompts with the tokenizer's special tokens (lm-eval's `add_bos_token`).
    pub add_special_tokens: bool,
    /// `max_seq_len` of `loglikelihood_rolling` windows (lm-eval's `get_rolling_token_windows`).
    pub rolling_window: usize,
    /// The `seed` every request carries (lm-eval's API payloads: 1234): part of generation request keys.
    pub seed: u64,
    /// What a generation prompt is sent as.
    pub prompts: PromptKind,
}

impl RequestPolicy {
    /// lm-eval's `local-completions` over token ids: requests cut to `max_length − 1` tokens; rolling windows
    /// of that length less one.
    pub fn local_completions(
        max_length: usize,
        add_special_tokens: bool,
        seed: u64,
    ) -> RequestPolicy {
        RequestPolicy {
            lm_eval_model: "local-completions".into(),
            max_length,
            add_special_tokens,
            rolling_window: max_length.saturating_sub(2).max(1),
            seed,
            prompts: PromptKind::Tokens,
        }
    }

    /// lm-eval's left truncation of a token-id generation prompt: the last `max_length − 1 − max_gen_toks`
    /// tokens (at least one).
    pub fn generation_window<'t>(&self, tokens: &'t [u32], max_gen_toks: u32) -> &'t [u32] {
        let keep = self
            .max_length
            .saturating_sub(1)
            .saturating_sub(max_gen_toks as usize)
            .max(1);
        &tokens[tokens.len().saturating_sub(keep)..]
    }
}

/// What a backend takes as a generation prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// Token ids of the rendered prompt (lm-eval's `tokenized_requests`, the completions default).
    Tokens,
    /// The rendered prompt as text.
    Text,
    /// A chat message list (a chat completions endpoint): the prompt is its JSON text, as lm-eval's
    /// `JsonChatStr` holds it.
    Messages,
}

/// A generation prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GenPrompt {
    Tokens(Vec<u32>),
    Text(String),
    /// The JSON text of a chat message list (`[{"role": …, "content": …}, …]`).
    Messages(String),
}

/// One generation.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerationOutcome {
    /// The answer: the generated text, after the reasoning is removed (`think_end_token`).
    pub text: String,
    /// The generated text as the server sent it, when the reasoning was removed from it.
    pub raw_text: Option<String>,
    pub finish_reason: Option<String>,
    /// Reasoning the server reported apart from the answer (`reasoning_content`).
    pub reasoning: Option<String>,
    /// Reasoning tokens the server counted (`usage.completion_tokens_details.reasoning_tokens`).
    pub reasoning_tokens: Option<u32>,
    pub stats: CallStats,
    pub raw_response: Arc<str>,
}

/// A model backend. The OpenAI-compatible client implements it; a native in-process GGUF backend can slot
/// in behind the same grouped interface (one evaluated context for all continuations of a question).
pub trait Backend: Send + Sync {
    /// Probe the model once (cached): capabilities, context length, tokenizer agreement.
    fn probe(&self) -> BoxFuture<'_, Result<ProbeReport, BackendError>>;
    /// How the engine must build requests for this backend (encoding, truncation, rolling windows).
    fn request_policy(&self) -> RequestPolicy;
    /// The tokenizer whose ids the backend expects (none for a chat endpoint without one).
    fn tokenizer(&self) -> Option<&Arc<Tokenizer>>;
    /// Stable identity of model + tokenizer (hex sha256), part of every request key.
    fn fingerprint(&self) -> String;
    fn model_ref(&self) -> ModelRef;
    /// Σ log p(continuation | context) and greedy-ness, as lm-eval's completions backend computes it.
    fn loglikelihood<'a>(
        &'a self,
        context: &'a [u32],
        continuation: &'a [u32],
    ) -> BoxFuture<'a, Result<LoglikelihoodOutcome, BackendError>>;
    /// All continuations of one shared context (a multiple-choice question); results in input order,
    /// identical to calling [`Backend::loglikelihood`] for each.
    fn loglikelihood_group<'a>(
        &'a self,
        context: &'a [u32],
        continuations: &'a [Vec<u32>],
    ) -> BoxFuture<'a, Result<Vec<LoglikelihoodOutcome>, BackendError>>;
    /// Greedy (or sampled, per `params`) generation until a stop sequence.
    fn generate<'a>(
        &'a self,
        prompt: &'a GenPrompt,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationOutcome, BackendError>>;
}
