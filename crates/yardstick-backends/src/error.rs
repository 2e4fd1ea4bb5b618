//! Typed errors of the backends. Every message says what went wrong, where (URL, HTTP status and a body
//! excerpt, file path) and what to do.

use std::path::PathBuf;
use std::time::Duration;

/// How many characters of a response body an error quotes.
pub const BODY_EXCERPT_CHARS: usize = 300;

/// The first [`BODY_EXCERPT_CHARS`] characters of a body, on one line, safe to print: secrets redacted and
/// terminal escape/control characters made visible ([`yardstick_core::safe_to_print`]).
pub fn excerpt(body: &str) -> String {
    let mut s: String = body.chars().take(BODY_EXCERPT_CHARS).collect();
    let cut = s.len() < body.len();
    s = yardstick_core::safe_to_print(&s.replace(['\n', '\r', '\t'], " "));
    if cut {
        s.push('…');
    }
    s
}

/// Errors of tokenizers (loading and encoding).
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("cannot read tokenizer {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error(
        "tokenizer '{repo}' was not found in the local Hugging Face cache (looked for {looked}); download it \
         with `huggingface-cli download {repo} tokenizer.json tokenizer_config.json` on a machine with network \
         access, pass a tokenizer.json path, or use `--tokenizer server`"
    )]
    NotInHubCache { repo: String, looked: String },
    #[error("tokenizing failed: {0}")]
    Encode(String),
    #[error("decoding failed: {0}")]
    Decode(String),
    #[error("the server tokenizer at {url} failed: {message}")]
    Server { url: String, message: String },
    #[error(
        "the server at {url} has no usable /tokenize endpoint (tried llama.cpp style {{\"content\"}} and vLLM \
         style {{\"prompt\"}}: {detail}); pass a local tokenizer with --tokenizer PATH|REPO instead"
    )]
    NoServerTokenizer { url: String, detail: String },
    #[error(
        "a context/continuation pair cannot be encoded: {0} (lm-evaluation-harness fails on this input too)"
    )]
    Pair(String),
}

/// Errors of a backend call or probe.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(
        "cannot reach the model server at {url}: {cause}. Is the server running? Start it (for example, from \
         the repository root, `scripts/serve-ref MODEL.gguf 8080` (the reference server), `llama-server -m \
         MODEL.gguf --port 8080` or `vllm serve MODEL`) and pass its base URL, e.g. --model \
         http://127.0.0.1:8080/v1"
    )]
    Unreachable { url: String, cause: String },
    #[error("{url} answered HTTP {status}: {body}. {hint}")]
    Http {
        url: String,
        status: u16,
        body: String,
        hint: String,
    },
    #[error("{url} did not answer within {timeout:?} ({attempts} attempts); raise --timeout or lower --concurrency")]
    Timeout {
        url: String,
        timeout: Duration,
        attempts: u32,
    },
    #[error("{url}: gave up after {attempts} attempts; last error: {last}")]
    RetriesExhausted {
        url: String,
        attempts: u32,
        last: Box<BackendError>,
    },
    #[error("{url} returned a response Yardstick cannot use: {what}. Response begins: {body}")]
    BadResponse {
        url: String,
        what: String,
        body: String,
    },
    #[error(
        "the server at {url} cannot score log-likelihoods: {detail}. Log-likelihood and multiple-choice tasks \
         need /v1/completions with `echo: true` and prompt `logprobs` (vLLM, SGLang, llama-cpp-python's server, \
         Yardstick's reference server do this; llama.cpp's own llama-server does not). Generation tasks still work."
    )]
    EchoUnsupported { url: String, detail: String },
    #[error(
        "the local tokenizer ({local_source}) does not agree with the server's tokenization on {text:?}: local \
         {local:?} vs server {server:?} (first difference at position {position}). Log-likelihoods would be \
         sliced at the wrong token, so the run stops. Use the model's own tokenizer (--tokenizer PATH|REPO, or \
         `yardstick tokenizer export MODEL.gguf -o DIR` for a GGUF), or `--tokenizer server`."
    )]
    TokenizerMismatch {
        local_source: String,
        text: String,
        local: Vec<u32>,
        server: Vec<u32>,
        position: usize,
    },
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(
        "{url} redirected to another host ({location}); Yardstick does not follow redirects across hosts (the \
         API key would go with them). If that host is the right server, pass it with --model"
    )]
    CrossHostRedirect { url: String, location: String },
    #[error(
        "{url} sent a response body of {size}, over Yardstick's limit of {limit} bytes; check that --model points \
         at an OpenAI-compatible API (not a file server or a proxy's error page)"
    )]
    BodyTooLarge {
        url: String,
        size: String,
        limit: u64,
    },
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("backend configuration: {0}")]
    Config(String),
    /// The in-process llama.cpp backend failed (loading, a context, a decode).
    #[error("llama.cpp (in process): {0}")]
    Native(String),
    /// A model file refused before loading (not GGUF, truncated, too large for memory).
    #[error(transparent)]
    Preflight(Box<crate::native::PreflightError>),
}

impl From<crate::native::PreflightError> for BackendError {
    fn from(e: crate::native::PreflightError) -> Self {
        BackendError::Preflight(Box::new(e))
    }
}

impl BackendError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            BackendError::Http { status, .. } => Some(*status),
            BackendError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }
}
