//! Errors of the dataset loaders. Every variant says what was wrong, where (file:line[:column], URL, the
//! list of paths tried) and, where there is one, what to do about it.

use std::path::PathBuf;

/// Why a dataset split could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The dataset (or the requested config/split of it) exists nowhere we looked.
    #[error("{}", format_not_found(.dataset, .config.as_deref(), .split, .looked_in, .hint))]
    NotFound {
        /// Dataset id (`cais/mmlu`) or loader name (`json`).
        dataset: String,
        /// Config (`dataset_name`), when one was asked for.
        config: Option<String>,
        /// The split that was asked for.
        split: String,
        /// Every path (or URL) that was tried, in the order tried.
        looked_in: Vec<String>,
        /// What the user can do about it.
        hint: String,
    },

    /// The dataset was found but has no such split.
    #[error(
        "dataset {dataset}{} has no split '{split}' (available: {}) in {source_desc}",
        config_suffix(.config.as_deref()),
        if .available.is_empty() { "none".to_string() } else { .available.join(", ") }
    )]
    SplitNotFound {
        dataset: String,
        config: Option<String>,
        split: String,
        available: Vec<String>,
        /// Where the dataset was found.
        source_desc: String,
    },

    /// A file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A CSV file is malformed, or a row does not have the shape its layout requires.
    #[error("{}:{line}: {message}", .path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// A JSON / JSON Lines file does not parse, or a record does not have the shape its layout requires.
    #[error("{}:{line}:{column}: {message}", .path.display())]
    Json {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },

    /// A Parquet file could not be decoded.
    #[error("{}: parquet: {message}", .path.display())]
    Parquet { path: PathBuf, message: String },

    /// A record of an original-release file does not fit the mapping to the HF schema.
    #[error("{}:{location}: {message}", .path.display())]
    Schema {
        path: PathBuf,
        location: String,
        message: String,
    },

    /// The dataset card (`README.md` YAML front matter) could not be understood.
    #[error("{}: dataset card: {message}", .path.display())]
    Card { path: PathBuf, message: String },

    /// Downloading from the hub failed.
    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },

    /// The request itself is invalid (bad `data_files` shape, missing config, ...).
    #[error("{0}")]
    InvalidSpec(String),

    /// A file format or dataset kind that this loader does not read.
    #[error("{0}")]
    Unsupported(String),
}

fn config_suffix(config: Option<&str>) -> String {
    match config {
        Some(c) => format!(" (config '{c}')"),
        None => String::new(),
    }
}

fn format_not_found(
    dataset: &str,
    config: Option<&str>,
    split: &str,
    looked_in: &[String],
    hint: &str,
) -> String {
    let mut s = format!(
        "dataset {dataset}{}, split '{split}', not found",
        config_suffix(config)
    );
    if looked_in.is_empty() {
        s.push_str(" (nothing to look in)");
    } else {
        s.push_str("; looked for:");
        for p in looked_in {
            s.push_str("\n  - ");
            s.push_str(p);
        }
    }
    if !hint.is_empty() {
        s.push('\n');
        s.push_str(hint);
    }
    s
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
