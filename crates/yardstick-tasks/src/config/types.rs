//! The resolved configuration types (lm-eval `TaskConfig`, `FewshotConfig`, metric and filter
//! entries) and what they answer about a task once built.

use indexmap::IndexMap;
use serde_json::{Map, Value};
use yardstick_core::{GenerationParams, OutputType};

use crate::functions::BuiltinFunction;
use crate::yaml::SourcePath;

/// How a `doc_to_text` / `doc_to_target` / `doc_to_choice` value is interpreted (reference §1.3).
#[derive(Clone, Debug, PartialEq)]
pub enum DocField {
    /// A dataset column name (checked first) or else a Jinja template.
    Text(String),
    /// A constant integer (`doc_to_target: 0`).
    Int(i64),
    /// A constant list (`doc_to_choice: ["A", "B"]`).
    List(Vec<Value>),
    /// A constant dict: its values are the choices.
    Dict(Map<String, Value>),
    /// A native port of a Python function.
    Native(&'static BuiltinFunction),
}

impl DocField {
    pub fn template(&self) -> Option<&str> {
        match self {
            DocField::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// The few-shot sampler (`fewshot_config.sampler`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplerKind {
    /// `default`: `random.Random(seed).sample` per doc, one RNG per task.
    Default,
    /// `first_n`: the first n pool items, in order.
    FirstN,
}

impl SamplerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SamplerKind::Default => "default",
            SamplerKind::FirstN => "first_n",
        }
    }
}

/// Few-shot examples given in the YAML.
#[derive(Clone, Debug, PartialEq)]
pub enum FewshotSamples {
    List(Vec<yardstick_core::Doc>),
    /// A native port of a `samples: !function ...` (e.g. minerva_math's `list_fewshot_samples`).
    Native(&'static BuiltinFunction),
}

/// `fewshot_config` after `FewshotConfig.from_dict`: every formatting field inherits the task's value
/// unless set here.
#[derive(Clone, Debug, PartialEq)]
pub struct FewshotConfig {
    pub sampler: SamplerKind,
    pub split: Option<String>,
    pub process_docs: Option<&'static BuiltinFunction>,
    pub fewshot_indices: Option<Vec<usize>>,
    pub samples: Option<FewshotSamples>,
    pub doc_to_text: Option<DocField>,
    pub doc_to_choice: Option<DocField>,
    pub doc_to_target: Option<DocField>,
    pub gen_prefix: Option<String>,
    pub fewshot_delimiter: String,
    pub target_delimiter: String,
}

/// One `metric_list` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricConfig {
    pub metric: String,
    /// The native metric function when the entry names one (`metric: !function utils.pass_at_k`);
    /// `metric` is then the Python function's name.
    pub function: Option<crate::functions::MetricFn>,
    pub aggregation: Option<String>,
    pub higher_is_better: Option<bool>,
    pub hf_evaluate: bool,
    /// Every other key: keyword arguments of the metric (`ignore_case`, `regexes_to_ignore`, …).
    pub kwargs: Map<String, Value>,
    /// The entry as written, for the `configs` dump.
    pub raw: Map<String, Value>,
}

/// A metric with lm-eval's defaults filled in.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ResolvedMetric {
    pub name: String,
    /// The native metric function computing it, if the entry named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<crate::functions::MetricFn>,
    /// `mean`, `perplexity`, `weighted_perplexity`, `bits_per_byte`, `f1`, `matthews_corrcoef`, …;
    /// `None` for a metric lm-eval does not register (it would use HF `evaluate`).
    pub aggregation: Option<String>,
    pub higher_is_better: Option<bool>,
    pub kwargs: Map<String, Value>,
}

/// One filter step (`{function: regex, regex_pattern: …}`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FilterStep {
    pub function: String,
    pub kwargs: Map<String, Value>,
}

/// A named filter pipeline (`filter_list` entry).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FilterPipeline {
    pub name: String,
    pub steps: Vec<FilterStep>,
}

/// A resolved task: every field of lm-eval's `TaskConfig` that Yardstick implements.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskConfig {
    pub task: String,
    pub task_alias: Option<String>,
    pub dataset_path: Option<String>,
    pub dataset_name: Option<String>,
    pub dataset_kwargs: Option<Map<String, Value>>,
    pub training_split: Option<String>,
    pub validation_split: Option<String>,
    pub test_split: Option<String>,
    pub fewshot_split: Option<String>,
    pub process_docs: Option<&'static BuiltinFunction>,
    pub doc_to_text: Option<DocField>,
    pub doc_to_target: Option<DocField>,
    pub doc_to_choice: Option<DocField>,
    pub unsafe_code: bool,
    /// A native `process_results`: the name of the scoring routine (`truthfulqa_mc2`) the engine runs
    /// instead of the output type's default scoring. `metric_list` then only names the metrics.
    pub process_results: Option<&'static str>,
    pub description: String,
    pub target_delimiter: String,
    pub fewshot_delimiter: String,
    pub fewshot_config: FewshotConfig,
    /// `None` when the YAML does not set it (lm-eval then uses 0, or the CLI value).
    pub num_fewshot: Option<u64>,
    pub metric_list: Option<Vec<MetricConfig>>,
    pub output_type: OutputType,
    /// After lm-eval's defaults (`until` = `[fewshot_delimiter]` when missing; the greedy default for
    /// `generate_until` tasks without any).
    pub generation_kwargs: Option<Map<String, Value>>,
    pub repeats: u32,
    pub filter_list: Option<Vec<FilterPipeline>>,
    pub should_decontaminate: bool,
    pub doc_to_decontamination_query: Option<String>,
    pub gen_prefix: Option<String>,
    pub metadata: Map<String, Value>,
    /// The YAML file the task came from (`inline` for a task defined inside a group).
    pub config_source: String,
    /// For messages: the file each field came from.
    pub field_origins: IndexMap<String, SourcePath>,
}

/// The fields of lm-eval's `TaskConfig`, in its declaration order (the `configs` dump order).
pub const TASK_FIELDS: &[&str] = &[
    "task",
    "task_alias",
    "tag",
    "custom_dataset",
    "dataset_path",
    "dataset_name",
    "dataset_kwargs",
    "training_split",
    "validation_split",
    "test_split",
    "fewshot_split",
    "process_docs",
    "doc_to_text",
    "doc_to_target",
    "doc_to_image",
    "doc_to_audio",
    "unsafe_code",
    "doc_to_choice",
    "process_results",
    "use_prompt",
    "description",
    "target_delimiter",
    "fewshot_delimiter",
    "fewshot_config",
    "num_fewshot",
    "metric_list",
    "output_type",
    "generation_kwargs",
    "repeats",
    "filter_list",
    "should_decontaminate",
    "doc_to_decontamination_query",
    "gen_prefix",
    "metadata",
];

pub(crate) const FEWSHOT_FIELDS: &[&str] = &[
    "sampler",
    "split",
    "process_docs",
    "fewshot_indices",
    "samples",
    "doc_to_text",
    "doc_to_choice",
    "doc_to_target",
    "gen_prefix",
    "fewshot_delimiter",
    "target_delimiter",
];

pub const METRIC_REGISTRY: &[(&str, &str, bool)] = &[
    ("acc", "mean", true),
    ("acc_norm", "mean", true),
    ("acc_mutual_info", "mean", true),
    ("acc_bytes", "mean", true),
    ("acc_all", "mean", true),
    ("exact_match", "mean", true),
    ("likelihood", "mean", true),
    ("perplexity", "perplexity", false),
    ("word_perplexity", "weighted_perplexity", false),
    ("byte_perplexity", "weighted_perplexity", false),
    ("bits_per_byte", "bits_per_byte", false),
    ("brier_score", "brier_score", false),
    ("bypass", "bypass", true),
    ("mcc", "matthews_corrcoef", true),
    ("f1", "f1", true),
    ("bleu", "bleu", true),
    ("chrf", "chrf", true),
    ("ter", "ter", true),
];

/// The metrics used when a task has no `metric_list`.
pub fn default_metrics(output_type: OutputType) -> &'static [&'static str] {
    match output_type {
        OutputType::Loglikelihood => &["perplexity", "acc"],
        OutputType::LoglikelihoodRolling => {
            &["word_perplexity", "byte_perplexity", "bits_per_byte"]
        }
        OutputType::MultipleChoice => &["acc", "acc_norm"],
        OutputType::GenerateUntil => &["exact_match"],
    }
}

fn registry(metric: &str) -> Option<(&'static str, bool)> {
    METRIC_REGISTRY
        .iter()
        .find(|(m, _, _)| *m == metric)
        .map(|(_, a, h)| (*a, *h))
}

impl TaskConfig {
    /// The number of few-shot examples lm-eval uses for this task given the CLI `--num_fewshot`: the CLI
    /// value overrides the YAML's unless the YAML (or a group override) sets `num_fewshot: 0`; without a
    /// CLI value the YAML's value, else 0.
    pub fn effective_num_fewshot(&self, cli: Option<u64>) -> u64 {
        match (cli, self.num_fewshot) {
            (Some(_), Some(0)) => 0,
            (Some(k), _) => k,
            (None, Some(k)) => k,
            (None, None) => 0,
        }
    }

    /// The eval split: `test_split`, else `validation_split`.
    pub fn eval_split(&self) -> Option<&str> {
        self.test_split
            .as_deref()
            .or(self.validation_split.as_deref())
    }

    /// `metadata.version` (lm-eval's `versions` entry), or `None`.
    pub fn version(&self) -> Option<&Value> {
        self.metadata.get("version")
    }

    /// The display name (`task_alias` or the name).
    pub fn alias(&self) -> &str {
        self.task_alias.as_deref().unwrap_or(&self.task)
    }

    /// The metrics with lm-eval's defaults for aggregation and direction.
    pub fn metrics(&self) -> Vec<ResolvedMetric> {
        match &self.metric_list {
            None => default_metrics(self.output_type)
                .iter()
                .map(|m| {
                    let (agg, hib) =
                        registry(m).map_or((None, None), |(a, h)| (Some(a.to_string()), Some(h)));
                    ResolvedMetric {
                        name: m.to_string(),
                        function: None,
                        aggregation: agg,
                        higher_is_better: hib,
                        kwargs: Map::new(),
                    }
                })
                .collect(),
            Some(list) => list
                .iter()
                .map(|m| {
                    let reg = registry(&m.metric);
                    ResolvedMetric {
                        name: m.metric.clone(),
                        function: m.function,
                        aggregation: m
                            .aggregation
                            .clone()
                            .or_else(|| reg.map(|(a, _)| a.to_string())),
                        higher_is_better: m.higher_is_better.or(reg.map(|(_, h)| h)),
                        kwargs: if self.process_results.is_some() {
                            Map::new()
                        } else {
                            m.kwargs.clone()
                        },
                    }
                })
                .collect(),
        }
    }

    /// The filter pipelines (lm-eval's default: one pipeline `none` = `take_first`).
    pub fn filters(&self) -> Vec<FilterPipeline> {
        match &self.filter_list {
            Some(f) => f.clone(),
            None => vec![FilterPipeline {
                name: "none".into(),
                steps: vec![FilterStep {
                    function: "take_first".into(),
                    kwargs: Map::new(),
                }],
            }],
        }
    }

    /// Whether the unconditional requests of `acc_mutual_info` are needed.
    pub fn uses_mutual_info(&self) -> bool {
        self.output_type == OutputType::MultipleChoice
            && self.metrics().iter().any(|m| m.name == "acc_mutual_info")
    }

    /// The normalised generation parameters of a `generate_until` task (reference §3.5).
    pub fn generation_params(&self) -> Option<GenerationParams> {
        self.generation_kwargs.as_ref().map(normalize_gen_kwargs)
    }

    /// Merge `--gen_kwargs` into `generation_kwargs` (lm-eval: `dict.update` on generate_until tasks).
    pub fn merge_gen_kwargs(&mut self, extra: &Map<String, Value>) {
        if self.output_type != OutputType::GenerateUntil {
            return;
        }
        let kw = self.generation_kwargs.get_or_insert_with(Map::new);
        for (k, v) in extra {
            kw.insert(k.clone(), v.clone());
        }
    }
}

/// lm-eval `normalize_gen_kwargs`: `until` as a list, `max_gen_toks` from its aliases (priority
/// `max_gen_toks > max_new_tokens > max_tokens > max_completion_tokens`, default 256), `do_sample`
/// false forcing temperature 0, `do_sample` unset meaning `temperature > 0`.
pub fn normalize_gen_kwargs(kw: &Map<String, Value>) -> GenerationParams {
    let mut extra = kw.clone();
    let until = match extra.remove("until") {
        Some(Value::Array(items)) => items.iter().map(crate::pyvalue::to_str).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![crate::pyvalue::to_str(&other)],
    };
    let mut max_gen_toks: Option<u32> = None;
    for alias in [
        "max_gen_toks",
        "max_new_tokens",
        "max_tokens",
        "max_completion_tokens",
    ] {
        if let Some(v) = extra.remove(alias) {
            if max_gen_toks.is_none() && !v.is_null() {
                max_gen_toks = v
                    .as_u64()
                    .map(|x| x as u32)
                    .or_else(|| v.as_f64().map(|f| f as u32));
            }
        }
    }
    let temperature = extra
        .remove("temperature")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let do_sample_raw = extra.remove("do_sample");
    let (do_sample, temperature) = match do_sample_raw.as_ref().and_then(Value::as_bool) {
        None => (temperature > 0.0, temperature),
        Some(false) => (false, 0.0),
        Some(true) => (true, temperature),
    };
    GenerationParams {
        until,
        max_gen_toks: max_gen_toks.unwrap_or(256),
        temperature,
        do_sample,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gen_kwargs_normalisation() {
        let kw = json!({"until": "Q:", "max_new_tokens": 10, "max_tokens": 5, "temperature": 0.7, "top_p": 0.9});
        let p = normalize_gen_kwargs(kw.as_object().unwrap());
        assert_eq!(p.until, vec!["Q:"]);
        assert_eq!(p.max_gen_toks, 10);
        assert!(p.do_sample);
        assert_eq!(p.temperature, 0.7);
        assert_eq!(p.extra, *json!({"top_p": 0.9}).as_object().unwrap());
        let p = normalize_gen_kwargs(
            json!({"do_sample": false, "temperature": 0.5})
                .as_object()
                .unwrap(),
        );
        assert_eq!(
            (p.do_sample, p.temperature, p.max_gen_toks),
            (false, 0.0, 256)
        );
        assert!(p.until.is_empty());
        let p = normalize_gen_kwargs(
            json!({"max_gen_toks": 7, "max_new_tokens": 9})
                .as_object()
                .unwrap(),
        );
        assert_eq!(p.max_gen_toks, 7);
    }
}
