//! `yardstick-analysis`: the gap between groups of models, on real data.
//!
//! - [`registry`]: organizations (country, aliases, Hugging Face ids) and models (release date, size, open
//!   weights, licence, base model), built in and extendable with a user TOML file.
//! - [`import`]: lm-eval results/samples, Open LLM Leaderboard v1/v2, Epoch Benchmarking Hub and LMArena
//!   files, recognised by content and stored with provenance.
//! - [`catalog`]: benchmarks → dimensions (versioned), random baselines, item counts.
//! - [`query`]: group queries such as `country=CN & open_weights & params<40`.
//! - [`gap`], [`trend`], [`rate`]: the analyses; [`plot`]: their charts.

pub mod attribution;
pub mod catalog;
pub mod country;
pub mod dataset;
pub mod error;
pub mod gap;
pub mod groups;
pub mod import;
pub mod items;
pub mod plot;
pub mod query;
pub mod rate;
pub mod registry;
pub mod trend;

pub use attribution::AttributionMode;
pub use error::{AnalysisError, Result};
pub use registry::Registry;
