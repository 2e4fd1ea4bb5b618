//! yardstick-backends: the model side of an evaluation.
//!
//! * [`tokenizer`]: Hugging Face `tokenizer.json` (local file or hub cache) or a server's `/tokenize`;
//!   lm-evaluation-harness's context/continuation pair encoding; a per-string cache; parallel batches.
//! * [`gguf`]: GGUF metadata reader and the exporter of a GGUF's vocabulary to a `tokenizer.json` that
//!   tokenizes as llama.cpp does.
//! * [`openai`]: the OpenAI-compatible backend (log-likelihoods over `/v1/completions` with `echo` +
//!   `logprobs`, the grouped single-token multiple-choice path, generation, the server probe).
//! * [`http`]: pooled client, adaptive concurrency (AIMD, `Retry-After`), retries with jittered backoff.
//! * [`backend`]: the [`Backend`] trait the engine drives, with per-call statistics and the request policy
//!   (how requests must be built so scores equal the lm-eval model class the backend reproduces).
//! * [`probe`]: what a backend found out about its model (capabilities, context length, tokenizer
//!   agreement), backend-neutral so the engine reads it the same way for every backend.

pub mod backend;
pub mod error;
pub mod gguf;
pub mod http;
pub mod native;
pub mod openai;
pub mod probe;
pub mod tokenizer;

pub use backend::{
    Backend, BoxFuture, CallStats, GenPrompt, GenerationOutcome, LoglikelihoodOutcome, PromptKind,
    RequestPolicy, ScoringPath,
};
pub use error::{BackendError, TokenizerError};
pub use openai::chat::ChatBackend;
pub use openai::pool::{EndpointPool, EndpointStats};
pub use openai::{
    check_tokenizer_against_server, BackendCounters, GroupingOff, OpenAiBackend, OpenAiOptions,
    TokenizerChoice,
};
pub use probe::{BosBehaviour, EchoSupport, ProbeReport, TokenizerCheck};
pub use tokenizer::{EncodedPair, Tokenizer, TokenizerInfo, TokenizerSpec};
