//! `yardstick-analysis`: the gap between groups of models, on real data.
//!
//! - [`registry`]: organizations (country, aliases, Hugging Face ids) and models (release date, size, open
//!   weights, licence, base model), built in and extendable with a user TOML file.
//! - [`import`]: lm-eval results/samples, Open LLM Leaderboard v1/v2, Epoch Benchmarking Hub and LMArena
//!   files, recognised by content and stored with provenance.
//! - [`catalog`]: benchmarks → dimensions (versioned), random baselines, item counts.
//! - [`query`]: group queries such as `country=CN & open_weights & params<40`.
//! - [`gap`], [`trend`], [`rate`]: the analyses; [`plot`]: their charts.
//! - [`report`]: every command's result as a [`Report`] (JSON, text, plot): the analyses above, and
//!   [`models`], [`leaderboard`] (`runs`, `results`), [`import_summary`].

pub mod attribution;
pub mod catalog;
pub mod country;
pub mod dataset;
pub mod efficiency;
pub mod error;
pub mod export;
pub mod gap;
pub mod groups;
pub mod import;
pub mod import_summary;
pub mod items;
pub mod leaderboard;
pub mod models;
pub mod plot;
pub mod query;
pub mod rate;
pub mod registry;
pub mod report;
pub mod samples_parquet;
pub mod trend;

pub use attribution::AttributionMode;
pub use error::{AnalysisError, Result};
pub use registry::Registry;
pub use report::Report;

/// Most bootstrap replicates any analysis accepts (each costs memory and time; 10,000 is plenty for a
/// 95% interval).
pub const MAX_REPLICATES: usize = 1_000_000;
