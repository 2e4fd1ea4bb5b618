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
    /// Share a question's context among its choices and keep the prefix common to consecutive questions
    /// (default). Off: every (context, continuation) is evaluated from an empty cache, as a server does.
    pub prefix_sharing: bool,
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
            prefix_sharing: true,
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
        self.batch_size.unwrap_or(512).max(1)
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
