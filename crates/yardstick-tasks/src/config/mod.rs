//! Resolved task and group configurations (lm-eval `TaskConfig`, `FewshotConfig`, `GroupConfig`).
//!
//! A [`TaskConfig`] is built from a YAML mapping after includes and group overrides, with lm-eval's
//! `__post_init__` rules applied: few-shot settings inherit the task's, `generation_kwargs` get their
//! defaults, metric defaults come from the output type. Python functions are resolved to the native
//! ports of [`crate::functions`] (built-in YAMLs, or `!builtin` in user YAMLs) or refused.
//!
//! Along lm-eval's own seams:
//! - `types`: the resolved types and what they answer (`TaskConfig`, `FewshotConfig`, metrics,
//!   filters, `normalize_gen_kwargs`);
//! - `fields`: reading a raw mapping — typed reads with "expected …, found …" errors at file:line:field,
//!   `!function` tags resolved to native ports;
//! - `build`: `TaskConfig(**cfg)` + `__post_init__` (metric and filter lists, generation defaults,
//!   `FewshotConfig.from_dict`);
//! - `dump`: `TaskConfig.to_dict()` as a results file's `configs` shows it;
//! - `groups`: `GroupConfig` / `AggMetricConfig`.

mod build;
mod dump;
mod fields;
mod groups;
mod types;

pub use dump::to_yaml;
pub(crate) use fields::Builder;
pub use fields::RawConfig;
pub(crate) use groups::build_group_config;
pub use groups::{AggregateMetric, GroupConfig, GROUP_FIELDS};
pub use types::{
    default_metrics, normalize_gen_kwargs, DocField, FewshotConfig, FewshotSamples, FilterPipeline,
    FilterStep, MetricConfig, ResolvedMetric, SamplerKind, TaskConfig, METRIC_REGISTRY,
    TASK_FIELDS,
};
