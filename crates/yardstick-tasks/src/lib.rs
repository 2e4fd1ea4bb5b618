//! Tasks in lm-evaluation-harness 0.4.13's format, rendered byte for byte as lm-eval renders them.
//!
//! - [`TaskIndex`]: every task, group and tag from the built-in YAMLs (`mmlu`, `cmmlu`, `ceval-valid`,
//!   `truthfulqa_mc1/2`, `arc_easy/challenge`, `hellaswag`, `mmlu_pro`) and `--include-path`
//!   directories; [`TaskIndex::resolve`] turns requested names into a [`Selection`] of groups and
//!   tasks with group overrides applied.
//! - [`TaskConfig`] / [`GroupConfig`]: resolved configurations (dumpable in lm-eval's `configs` form).
//! - [`PreparedTask`]: a task with its data loaded; [`PreparedTask::docs`] yields each doc's prompt,
//!   requests ([`yardstick_core::Instance`]), gold target and few-shot ids.
//!
//! The Python behaviours prompts depend on are reproduced natively: Jinja with Python `str()` output
//! and string methods ([`jinja`]) and the Python functions of the built-in tasks ([`functions`]);
//! `random.Random.sample`, `str` methods, `repr`/`ast.literal_eval` of values and `json.dumps` come
//! from [`yardstick_core::python`].
//!
//! ```no_run
//! use yardstick_tasks::{TaskIndex, PreparedTask, data::DataOptions};
//! let index = TaskIndex::load(&[])?;
//! let selection = index.resolve(&["mmlu_anatomy"])?;
//! let opts = DataOptions { data_dir: Some("../shared/data/benchmarks".into()), ..Default::default() };
//! for task in selection.tasks() {
//!     let prepared = PreparedTask::prepare(task, &opts, Some(5), 1234, None)?;
//!     for doc in prepared.docs() {
//!         let doc = doc?;
//!         println!("{}", doc.context);
//!     }
//! }
//! # Ok::<(), yardstick_tasks::TaskError>(())
//! ```

pub mod builtin;
pub mod chat_template;
pub mod config;
pub mod data;
pub mod error;
pub mod functions;
pub mod ifeval;
pub mod index;
pub mod jinja;
pub mod math_answer;
pub mod native_filters;
pub mod prepare;
pub mod prompt;
pub mod sampler;
mod suggest;
pub mod yaml;

/// Python `repr`/`str` of values and `ast.literal_eval`: moved to [`yardstick_core::python::value`],
/// re-exported under its old name.
pub use yardstick_core::python::value as pyvalue;

pub use config::{
    AggregateMetric, DocField, FewshotConfig, FilterPipeline, FilterStep, GroupConfig,
    MetricConfig, ResolvedMetric, SamplerKind, TaskConfig,
};
pub use error::TaskError;
pub use functions::{MetricFn, ResultsProcessor};
pub use index::{Entry, EntryKind, Selection, SelectionNode, TaskIndex};
pub use prepare::{
    ChatFormat, ChatRenderer, DocRequests, InMemoryData, Limit, LimitError, PreparedTask,
    PromptFormat,
};
pub use prompt::{ChatMessage, Message, Role};

/// lm-eval's default few-shot seed (`fewshot_random_seed`).
pub const DEFAULT_FEWSHOT_SEED: u64 = 1234;
