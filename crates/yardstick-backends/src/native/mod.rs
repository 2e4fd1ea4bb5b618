//! The native backend: a GGUF model evaluated in this process by llama.cpp (through the `llama-cpp-2`
//! bindings, Cargo feature `llama-cpp`), with no server.
//!
//! * [`preflight`] (always compiled): what is checked before llama.cpp sees the file — a GGUF at all, its
//!   tensor data complete (not a cut download), and the context's KV cache within the memory there is.
//! * `backend` (feature `llama-cpp`): [`NativeBackend`], the [`crate::Backend`] on one llama.cpp context
//!   owned by a worker thread. Log-likelihoods take the log-softmax only at continuation positions; a
//!   question's context is evaluated once and shared by all its choices (each choice is its own KV-cache
//!   sequence over the same context cells), and the context prefix a question shares with the previous one
//!   (a task's few-shot examples) stays in the cache instead of being evaluated again.
//!
//! Requests are built exactly as for lm-eval's `local-completions` through a llama.cpp server (the same
//! truncation to `max_length − 1`, the same token ids, BOS added by the model's own rule), so a run in
//! process and a run through the reference server score the same requests.

pub mod hub;
pub mod preflight;

#[cfg(feature = "llama-cpp")]
mod backend;
#[cfg(feature = "llama-cpp")]
mod generate;
#[cfg(feature = "llama-cpp")]
mod logs;
#[cfg(feature = "llama-cpp")]
mod worker;

#[cfg(feature = "llama-cpp")]
pub use backend::NativeBackend;
pub use preflight::{KvEstimate, PreflightError};
#[cfg(feature = "llama-cpp")]
pub use worker::Scored;

/// How a log-likelihood request's tokens are laid out in llama.cpp's batches.
///
/// On quantised weights llama.cpp's result for a token depends a little on the batch it was decoded in
/// (measured on SmolLM2 Q4_1: up to tenths of a nat between splits of the same tokens), so "from scratch"
/// has no single value: [`Layout::Whole`] reproduces what a server computes, [`Layout::Split`] what
/// [`Layout::Shared`] computes without sharing anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// A question's context is evaluated once and each choice continues from a copy of its cache; the
    /// context prefix common to consecutive questions (a task's few-shot examples) stays in the cache.
    #[default]
    Shared,
    /// Each (context, continuation) from an empty cache, split as [`Layout::Shared`] splits it (the
    /// context but its last token in one decode, then the choice): equal to `Shared` exactly, so it tests
    /// the sharing itself.
    Split,
    /// Each (context, continuation) from an empty cache as one prompt, in batches of the batch size, with
    /// logits at every position: what llama-cpp-python's `Llama.eval` (`logits_all=True`), and so the
    /// reference server, computes. On the same llama.cpp build it gives the server's numbers exactly.
    Whole,
}

impl Layout {
    /// Its name in the run's recorded settings.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Shared => "shared",
            Layout::Split => "split",
            Layout::Whole => "whole",
        }
    }

    /// A phrase for the backend's one-line description.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Shared => "contexts shared among choices and questions",
            Layout::Split => {
                "each pair from an empty cache, context and continuation decoded apart"
            }
            Layout::Whole => {
                "each pair from an empty cache as one prompt, as a server evaluates it"
            }
        }
    }
}

/// llama.cpp's own default batch size.
pub const DEFAULT_BATCH: usize = 512;

/// Options of the native backend.
#[derive(Clone, Debug)]
pub struct NativeOptions {
    /// CPU threads for prompt processing and generation (default: all the CPUs this process may use).
    pub threads: Option<usize>,
    /// Tokens per llama.cpp batch (default 512, llama.cpp's own default).
    pub batch_size: Option<usize>,
    /// Layers offloaded to the GPU (needs the `cuda` feature; 0 = CPU only).
    pub gpu_layers: u32,
    /// lm-eval's `max_length` (requests are left-truncated to `max_length − 1` tokens); default 2048.
    pub max_length: Option<usize>,
    /// How log-likelihood requests are laid out in llama.cpp's batches (default: shared).
    pub layout: Layout,
    /// The `seed` of generation requests (lm-eval's API default 1234).
    pub seed: u64,
    /// Reasoning models: drop generated text up to the last occurrence of this token.
    pub think_end_token: Option<String>,
}

impl Default for NativeOptions {
    fn default() -> Self {
        NativeOptions {
            threads: None,
            batch_size: None,
            gpu_layers: 0,
            max_length: None,
            layout: Layout::Shared,
            seed: crate::openai::LM_EVAL_DEFAULT_SEED,
            think_end_token: None,
        }
    }
}

impl NativeOptions {
    /// Threads to use: the option, else the CPUs available to this process.
    pub fn threads_or_default(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// Batch size to use.
    pub fn batch_or_default(&self) -> usize {
        self.batch_size.unwrap_or(DEFAULT_BATCH).max(1)
    }

    /// lm-eval's `max_length`.
    pub fn max_length_or_default(&self) -> usize {
        self.max_length
            .unwrap_or(crate::openai::LM_EVAL_DEFAULT_MAX_LENGTH)
            .max(2)
    }

    /// KV-cache cells of the context: a question's context plus room for its choices (choices that do not
    /// fit beside the context are scored in several rounds).
    pub fn context_cells(&self) -> usize {
        2 * self.max_length_or_default()
    }
}

/// Whether `model` names a local GGUF file (rather than a server URL).
pub fn is_gguf_path(model: &str) -> bool {
    let lower = model.to_ascii_lowercase();
    !lower.starts_with("http://")
        && !lower.starts_with("https://")
        && (lower.ends_with(".gguf") || std::path::Path::new(model).is_file())
}
