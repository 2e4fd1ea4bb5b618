//! Scoring: per-document metrics, per-task aggregation with standard errors, and group aggregation,
//! each reproducing lm-evaluation-harness 0.4.13 bit for bit on the same per-sample results.
//!
//! The inputs are plain types (choices, gold, log-likelihoods, texts) so that this module does not
//! depend on how tasks are specified. The numeric environment the reference harness ran in matters
//! for the last bits of some numbers; [`NumericEnv`] names it:
//!
//! * [`PySum`]: CPython ≥ 3.12 sums floats with compensation, older versions do not;
//! * [`NumpyExp`]: numpy's `exp` on an AVX-512 x86-64 machine is Intel SVML, elsewhere the C library.

pub mod aggregate;
pub mod exact_match;
pub mod filters;
pub mod generation;
pub mod groups;
pub mod numpy;
pub mod process;
pub mod pyfloat;
pub mod pyre;

pub use aggregate::{
    aggregate_metric, aggregate_task, Aggregation, MetricAggregate, StderrValue, TaskAggregate,
};
pub use exact_match::{ExactMatch, ExactMatchOptions};
pub use filters::{FilterChain, Filtered};
pub use generation::GenerationScorer;
pub use groups::{aggregate_groups, GroupAggMetric, GroupNode, GroupResult, TaskResultEntry};
pub use numpy::NumpyExp;
pub use process::{
    loglikelihood, loglikelihood_rolling, multiple_choice, probability_mass_of_true,
    MultipleChoiceInput, RollingInput,
};
pub use pyfloat::PySum;
pub use yardstick_core::python::random::PyRandom;

/// The numeric behaviour of the Python environment whose numbers are reproduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NumericEnv {
    pub py_sum: PySum,
    pub numpy_exp: NumpyExp,
}

impl NumericEnv {
    /// The environment of a CPython `major.minor` on this machine's numpy.
    pub fn for_python(major: u32, minor: u32) -> Self {
        NumericEnv {
            py_sum: PySum::for_python_version(major, minor),
            numpy_exp: NumpyExp::detect(),
        }
    }

    /// [`NumericEnv::default`], unless `YARDSTICK_PYTHON_VERSION` (e.g. `3.11`) names the CPython whose
    /// `sum()` to reproduce (for parity with an lm-eval installed on that Python).
    pub fn from_env_or_default() -> Self {
        std::env::var("YARDSTICK_PYTHON_VERSION")
            .ok()
            .and_then(|v| {
                let mut it = v.trim().split('.');
                let major = it.next()?.parse().ok()?;
                let minor = it.next()?.parse().ok()?;
                Some(NumericEnv::for_python(major, minor))
            })
            .unwrap_or_default()
    }
}

impl Default for NumericEnv {
    /// CPython ≥ 3.12 and the `np.exp` numpy would use on this machine.
    fn default() -> Self {
        NumericEnv {
            py_sum: PySum::default(),
            numpy_exp: NumpyExp::detect(),
        }
    }
}

/// Errors from scoring. Each says which metric or input was wrong.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScoringError {
    #[error("{metric}: expected {expected} log-likelihood results, got {got}")]
    ResultCount {
        metric: String,
        expected: usize,
        got: usize,
    },
    #[error("multiple_choice: a document has no choices")]
    NoChoices,
    #[error("{metric}: gold {gold} is not usable here: {why}")]
    BadGold {
        metric: String,
        gold: String,
        why: String,
    },
    #[error("metric '{metric}' has no values to aggregate")]
    Empty { metric: String },
    #[error("metric '{metric}': value {value} cannot be aggregated with '{aggregation}'")]
    WrongValueKind {
        metric: String,
        value: String,
        aggregation: String,
    },
    #[error("aggregation '{aggregation}' of metric '{metric}': {why}")]
    Aggregation {
        metric: String,
        aggregation: String,
        why: String,
    },
    #[error("unknown aggregation '{0}' (known: mean, median, perplexity, weighted_perplexity, bits_per_byte, f1, matthews_corrcoef, brier_score, nanmean)")]
    UnknownAggregation(String),
    #[error("exact_match: regexes_to_ignore pattern {pattern:?} does not compile: {why}")]
    BadRegex { pattern: String, why: String },
    #[error("probability mass of the true answers (mc2): {0}")]
    Mc2(String),
    #[error("filter '{filter}' of task {task}, step {step}: {why}")]
    Filter {
        task: String,
        filter: String,
        step: String,
        why: String,
    },
    #[error("metric '{metric}' of task {task}: {why}")]
    Generation {
        task: String,
        metric: String,
        why: String,
    },
}

/// The gold of a multiple-choice document after lm-eval's normalisation: an index (−100 when it was
/// out of range or not among the choices) or, for `multiple_target` tasks, a list of them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Gold {
    Index(i64),
    Indices(Vec<i64>),
}

impl std::fmt::Display for Gold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gold::Index(i) => write!(f, "{i}"),
            Gold::Indices(v) => {
                write!(f, "[")?;
                for (k, i) in v.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{i}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// One document's value of one metric, shaped as lm-eval's `process_results` returns it (and so as it
/// appears in `samples_*.jsonl`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricValue {
    /// A Python float (`acc: 1.0`, `perplexity: -12.3`, mc2 `acc`, generation `exact_match`).
    Float { value: f64 },
    /// A Python int (multiple-choice `exact_match`, loglikelihood `acc`).
    Int { value: i64 },
    /// `(loglikelihood, count)` of rolling perplexity metrics (words or UTF-8 bytes).
    LoglikelihoodCount { loglikelihood: f64, count: i64 },
    /// `(gold, pred)` of `f1` / `mcc`.
    GoldPred { gold: Gold, pred: i64 },
    /// `(gold, softmax(lls))` of `brier_score`.
    GoldProbs { gold: Gold, probs: Vec<f64> },
    /// `(gold, lls)` of `likelihood`.
    GoldLoglikelihoods {
        gold: Gold,
        loglikelihoods: Vec<f64>,
    },
    /// A Python bool (IFEval's `prompt_level_*_acc`); `mean` counts it as 0/1.
    Bool { value: bool },
    /// A list of Python bools (IFEval's `inst_level_*_acc`, one per instruction), aggregated by
    /// `agg_inst_level_acc`.
    BoolList { values: Vec<bool> },
}

impl MetricValue {
    pub fn float(value: f64) -> Self {
        MetricValue::Float { value }
    }

    pub fn int(value: i64) -> Self {
        MetricValue::Int { value }
    }

    /// The value as a number for `mean`-like aggregations (`None` for tuple-shaped values).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            MetricValue::Float { value } => Some(*value),
            MetricValue::Int { value } => Some(*value as f64),
            MetricValue::Bool { value } => Some(if *value { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            MetricValue::Float { value } => yardstick_core::python::py_float_repr(*value),
            MetricValue::Int { value } => value.to_string(),
            MetricValue::LoglikelihoodCount {
                loglikelihood,
                count,
            } => {
                format!(
                    "({}, {count})",
                    yardstick_core::python::py_float_repr(*loglikelihood)
                )
            }
            MetricValue::GoldPred { gold, pred } => format!("({gold}, {pred})"),
            MetricValue::GoldProbs { gold, .. } => format!("({gold}, <probabilities>)"),
            MetricValue::GoldLoglikelihoods { gold, .. } => format!("({gold}, <loglikelihoods>)"),
            MetricValue::Bool { value } => if *value { "True" } else { "False" }.to_string(),
            MetricValue::BoolList { values } => format!("<list of {} bools>", values.len()),
        }
    }
}

/// The metrics of one document, in the order lm-eval's `process_results` inserts them (that order
/// decides the key order of the results file).
pub type DocMetrics = Vec<(String, MetricValue)>;
