//! Requests a task makes of a model and the responses it gets back, in lm-evaluation-harness terms.

use serde::{Deserialize, Serialize};

/// How a task asks the model (lm-eval `output_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    Loglikelihood,
    LoglikelihoodRolling,
    MultipleChoice,
    GenerateUntil,
}

impl OutputType {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputType::Loglikelihood => "loglikelihood",
            OutputType::LoglikelihoodRolling => "loglikelihood_rolling",
            OutputType::MultipleChoice => "multiple_choice",
            OutputType::GenerateUntil => "generate_until",
        }
    }

    /// The request kind a task of this output type sends.
    pub fn request_kind(self) -> RequestKind {
        match self {
            OutputType::Loglikelihood | OutputType::MultipleChoice => RequestKind::Loglikelihood,
            OutputType::LoglikelihoodRolling => RequestKind::LoglikelihoodRolling,
            OutputType::GenerateUntil => RequestKind::GenerateUntil,
        }
    }
}

impl std::str::FromStr for OutputType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "loglikelihood" => OutputType::Loglikelihood,
            "loglikelihood_rolling" => OutputType::LoglikelihoodRolling,
            "multiple_choice" => OutputType::MultipleChoice,
            "generate_until" => OutputType::GenerateUntil,
            other => {
                return Err(format!(
                "unknown output_type '{other}' (expected one of: multiple_choice, loglikelihood, \
                     loglikelihood_rolling, generate_until)"
            ))
            }
        })
    }
}

/// What a model is asked to compute (lm-eval's request types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Loglikelihood,
    LoglikelihoodRolling,
    GenerateUntil,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Loglikelihood => "loglikelihood",
            RequestKind::LoglikelihoodRolling => "loglikelihood_rolling",
            RequestKind::GenerateUntil => "generate_until",
        }
    }
}

/// Generation settings after lm-eval's normalisation (`until` a list, `max_gen_toks` resolved from its
/// aliases, `do_sample=false` forcing temperature 0). Unknown keys are passed through to the backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerationParams {
    pub until: Vec<String>,
    pub max_gen_toks: u32,
    pub temperature: f64,
    pub do_sample: bool,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The arguments of one request, exactly as lm-eval logs them (`arg_0`, `arg_1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestArgs {
    /// Score `continuation` given `context` (multiple-choice choices are sent as one of these each,
    /// with the target delimiter already prepended to the continuation).
    Loglikelihood {
        context: String,
        continuation: String,
    },
    /// Score the whole of `text` (perplexity tasks).
    LoglikelihoodRolling { text: String },
    /// Generate from `context` until a stop sequence.
    GenerateUntil {
        context: String,
        params: GenerationParams,
    },
}

impl RequestArgs {
    pub fn kind(&self) -> RequestKind {
        match self {
            RequestArgs::Loglikelihood { .. } => RequestKind::Loglikelihood,
            RequestArgs::LoglikelihoodRolling { .. } => RequestKind::LoglikelihoodRolling,
            RequestArgs::GenerateUntil { .. } => RequestKind::GenerateUntil,
        }
    }
}

/// One request belonging to one document (lm-eval `Instance`): `idx` orders the requests of a doc
/// (the choice index for multiple choice).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub doc_id: usize,
    pub idx: usize,
    pub args: RequestArgs,
    pub repeats: u32,
}

/// The result of a log-likelihood request: Σ ln p(continuation tokens | context) and whether greedy
/// decoding would have produced every continuation token.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoglikelihoodResult {
    pub logprob: f64,
    pub is_greedy: bool,
}

/// What came back for one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResponseValue {
    Loglikelihood(LoglikelihoodResult),
    /// Sum of log-probabilities over all rolling windows of the text.
    Rolling {
        logprob: f64,
    },
    /// One generated text per repeat.
    Generation {
        texts: Vec<String>,
    },
}

/// The gold answer of a document, as lm-eval's `doc_to_target` yields it: a choice index (multiple
/// choice), several acceptable indices, a string, or several acceptable strings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    Index(i64),
    Indices(Vec<i64>),
    Text(String),
    Texts(Vec<String>),
}
