//! Typed errors of the analysis layer. Each says what was wrong, where (file:line, column, query text) and,
//! where there is one, what to do about it.

use std::path::PathBuf;

/// Errors from importing, querying and analysing results.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A value in an input file is missing or malformed. `line` is the 1-based line of the file (the header is
    /// line 1 in CSV files); `column` names the column or JSON key.
    #[error("{}:{line}: column '{column}': {message}", path.display())]
    Field {
        path: PathBuf,
        line: u64,
        column: String,
        message: String,
    },

    /// The file as a whole is malformed (missing column, unparseable JSON, …).
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },

    /// The format of a file could not be recognised from its content.
    #[error("{}: unknown format: {detail}. Supported: lm-eval results_*.json (+ samples_*.jsonl), Open LLM Leaderboard v1/v2 CSV, Epoch Benchmarking Hub CSV, LMArena leaderboard CSV", path.display())]
    UnknownFormat { path: PathBuf, detail: String },

    /// An import stopped on an error after committing some files (which stay imported: rerunning the
    /// import skips them by their sha256).
    #[error("{cause}\nThe import stopped there; {} file(s) had been committed before it and stay imported: {}. Fix the cause and rerun: files already imported are recognised and skipped", committed.len(), shown_list(committed))]
    ImportStopped {
        committed: Vec<String>,
        cause: Box<AnalysisError>,
    },

    /// A group query could not be parsed or names an unknown field.
    #[error("query '{query}': {message}")]
    Query { query: String, message: String },

    /// The model registry (built-in or a user file) is invalid.
    #[error("model registry {origin}: {message}")]
    Registry { origin: String, message: String },

    /// A command-line value (date, benchmark, dimension, …) is invalid.
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },

    /// A command-line choice is not valid; the message says what to choose instead.
    #[error("{0}")]
    Usage(String),

    /// The data do not support the requested analysis (e.g. no model of a group has the benchmark).
    #[error("{0}")]
    NoData(String),

    #[error("plot {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },

    #[error(transparent)]
    Store(#[from] yardstick_store::StoreError),

    /// Not a `#[source]`: the message already holds the statistics error, and a chain printer (`{:#}`)
    /// would print it twice.
    #[error("statistics: {0}")]
    Stats(yardstick_stats::StatsError),
}

impl From<yardstick_stats::StatsError> for AnalysisError {
    fn from(e: yardstick_stats::StatsError) -> Self {
        AnalysisError::Stats(e)
    }
}

pub type Result<T> = std::result::Result<T, AnalysisError>;

/// The first few of a list, then how many more.
fn shown_list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

impl AnalysisError {
    pub(crate) fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        AnalysisError::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}
