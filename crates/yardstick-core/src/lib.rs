//! Domain types shared by every Yardstick crate: documents, requests, responses, samples, model references
//! and the content hashing that keys the ledger. No IO lives here (only [`hf_cache`] reads environment
//! variables).

pub mod hash;
pub mod hf_cache;
pub mod printable;
pub mod python;
pub mod redact;
pub mod request;

pub use hash::{sha256_hex, RequestKey};
pub use printable::safe_to_print;
pub use redact::{redact_command_line, redact_url};
pub use request::{
    GenerationParams, Instance, LoglikelihoodResult, OutputType, RequestArgs, RequestKind,
    ResponseValue, Target,
};

/// The lm-evaluation-harness release whose semantics Yardstick reproduces (prompt assembly, BOS policy,
/// group aggregation defaults, few-shot RNG). Recorded in every run and results file.
pub const LM_EVAL_COMPAT_VERSION: &str = "0.4.13";

/// Yardstick's own version, recorded in every run.
pub const YARDSTICK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One dataset row after `process_docs`, with its column order preserved (the order matters for
/// lm-eval's `doc_hash`, which hashes `json.dumps(doc, indent=2, ensure_ascii=False)`).
pub type Doc = serde_json::Map<String, serde_json::Value>;

/// Identity of the model that answered: everything that must change the request key when it changes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelRef {
    /// Human name (`--model-name`, or the server's model id).
    pub name: String,
    /// Where it was reached (base URL or GGUF path); informational, not part of the fingerprint.
    pub location: String,
    /// Stable fingerprint: hash of the model id, server-reported metadata that identifies the weights
    /// (when available) and the tokenizer content hash.
    pub fingerprint: String,
}

/// A model's name for people: a model file's path (`/root/models/SmolLM2-135M-Instruct.Q4_1.gguf`,
/// `./x.gguf`, `C:\m\x.gguf`) is shown as its file name without `.gguf`; anything else (a served id, a
/// hub id such as `Qwen/Qwen2.5-7B-Instruct`) as it is. Records keep the full id.
pub fn short_model_name(id: &str) -> &str {
    let looks_like_path = id.starts_with(['/', '.', '~'])
        || id.contains('\\')
        || id.matches('/').count() > 1
        || id.to_ascii_lowercase().ends_with(".gguf");
    if !looks_like_path {
        return id;
    }
    let file = id.rsplit(['/', '\\']).next().unwrap_or(id);
    let stem = file
        .len()
        .checked_sub(5)
        .filter(|&n| file.is_char_boundary(n) && file[n..].eq_ignore_ascii_case(".gguf"))
        .map_or(file, |n| &file[..n]);
    if stem.is_empty() {
        id
    } else {
        stem
    }
}

#[cfg(test)]
mod short_name_tests {
    use super::short_model_name;

    #[test]
    fn paths_become_file_names_and_ids_stay() {
        assert_eq!(
            short_model_name("/root/.cache/yardstick/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
            "SmolLM2-135M-Instruct.Q4_1"
        );
        assert_eq!(short_model_name("./qwen.GGUF"), "qwen");
        assert_eq!(short_model_name("models\\phi.gguf"), "phi");
        assert_eq!(
            short_model_name("Qwen/Qwen2.5-7B-Instruct"),
            "Qwen/Qwen2.5-7B-Instruct"
        );
        assert_eq!(short_model_name("gpt-4o-mini"), "gpt-4o-mini");
        assert_eq!(short_model_name("/"), "/");
        assert_eq!(short_model_name(".gguf"), ".gguf");
    }
}
