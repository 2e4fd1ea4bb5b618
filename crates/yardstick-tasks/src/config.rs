//! Resolved task and group configurations (lm-eval `TaskConfig`, `FewshotConfig`, `GroupConfig`).
//!
//! A [`TaskConfig`] is built from a YAML mapping after includes and group overrides, with lm-eval's
//! `__post_init__` rules applied: few-shot settings inherit the task's, `generation_kwargs` get their
//! defaults, metric defaults come from the output type. Python functions are resolved to the native
//! ports of [`crate::functions`] (built-in YAMLs, or `!builtin` in user YAMLs) or refused.

use indexmap::IndexMap;
use serde_json::{Map, Value};
use yardstick_core::{GenerationParams, OutputType};

use crate::error::{Result, TaskError};
use crate::functions::{self, BuiltinFunction, FunctionKind};
use crate::yaml::{FunctionTag, RawMap, RawValue, SourcePath, YamlCache};

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
    /// The value as lm-eval would dump it in `configs`.
    pub fn to_json(&self) -> Value {
        match self {
            DocField::Text(s) => Value::String(s.clone()),
            DocField::Int(i) => Value::from(*i),
            DocField::List(l) => Value::Array(l.clone()),
            DocField::Dict(d) => Value::Object(d.clone()),
            DocField::Native(f) => Value::String(native_label(f)),
        }
    }

    pub fn template(&self) -> Option<&str> {
        match self {
            DocField::Text(s) => Some(s),
            _ => None,
        }
    }
}

fn native_label(f: &BuiltinFunction) -> String {
    format!("!builtin {}", f.name)
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

const FEWSHOT_FIELDS: &[&str] = &[
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

/// lm-eval's registered metrics: (name, aggregation, higher_is_better).
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

    /// The config as lm-eval dumps it in a results file's `configs` (`TaskConfig.to_dict()`): fields in
    /// declaration order, `None` fields dropped, `fewshot_config` with all its fields. Native functions
    /// appear as `"!builtin <name>"` (lm-eval prints the Python source). `num_fewshot` is the value the
    /// run used; `metadata` gains `config_source` as in lm-eval.
    pub fn to_lm_eval_dict(&self, num_fewshot: Option<u64>) -> Value {
        let mut out = Map::new();
        let s = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                out.insert(k.to_string(), v);
            }
        };
        put("task", Some(Value::String(self.task.clone())));
        put("task_alias", s(&self.task_alias));
        put("dataset_path", s(&self.dataset_path));
        put("dataset_name", s(&self.dataset_name));
        put(
            "dataset_kwargs",
            self.dataset_kwargs.clone().map(Value::Object),
        );
        put("training_split", s(&self.training_split));
        put("validation_split", s(&self.validation_split));
        put("test_split", s(&self.test_split));
        put("fewshot_split", s(&self.fewshot_split));
        put(
            "process_docs",
            self.process_docs.map(|f| Value::String(native_label(f))),
        );
        put(
            "doc_to_text",
            self.doc_to_text.as_ref().map(DocField::to_json),
        );
        put(
            "doc_to_target",
            self.doc_to_target.as_ref().map(DocField::to_json),
        );
        put("unsafe_code", Some(Value::Bool(self.unsafe_code)));
        put(
            "doc_to_choice",
            self.doc_to_choice.as_ref().map(DocField::to_json),
        );
        put(
            "process_results",
            self.process_results
                .map(|p| Value::String(format!("!builtin {p}"))),
        );
        put("description", Some(Value::String(self.description.clone())));
        put(
            "target_delimiter",
            Some(Value::String(self.target_delimiter.clone())),
        );
        put(
            "fewshot_delimiter",
            Some(Value::String(self.fewshot_delimiter.clone())),
        );
        put("fewshot_config", Some(self.fewshot_config.to_json()));
        put(
            "num_fewshot",
            num_fewshot.or(self.num_fewshot).map(Value::from),
        );
        put(
            "metric_list",
            self.metric_list
                .as_ref()
                .map(|l| Value::Array(l.iter().map(|m| Value::Object(m.raw.clone())).collect())),
        );
        put(
            "output_type",
            Some(Value::String(self.output_type.as_str().to_string())),
        );
        put(
            "generation_kwargs",
            self.generation_kwargs.clone().map(Value::Object),
        );
        put("repeats", Some(Value::from(self.repeats)));
        put(
            "filter_list",
            self.filter_list.as_ref().map(|l| {
                Value::Array(
                    l.iter()
                        .map(|p| {
                            let steps: Vec<Value> = p
                                .steps
                                .iter()
                                .map(|st| {
                                    let mut m = Map::new();
                                    m.insert("function".into(), Value::String(st.function.clone()));
                                    m.extend(st.kwargs.clone());
                                    Value::Object(m)
                                })
                                .collect();
                            serde_json::json!({"name": p.name, "filter": steps})
                        })
                        .collect(),
                )
            }),
        );
        put(
            "should_decontaminate",
            Some(Value::Bool(self.should_decontaminate)),
        );
        put(
            "doc_to_decontamination_query",
            s(&self.doc_to_decontamination_query),
        );
        put("gen_prefix", s(&self.gen_prefix));
        let mut metadata = self.metadata.clone();
        metadata.insert(
            "config_source".into(),
            Value::String(self.config_source.clone()),
        );
        put("metadata", Some(Value::Object(metadata)));
        Value::Object(out)
    }

    /// The `configs` dump as YAML (for `yardstick tasks show`).
    pub fn to_yaml(&self, num_fewshot: Option<u64>) -> String {
        to_yaml(&self.to_lm_eval_dict(num_fewshot))
    }

    /// sha256 of the resolved config's canonical JSON (the `configs` dump without `config_source`,
    /// without the run's `num_fewshot`): identical definitions hash identically wherever they live.
    pub fn content_hash(&self) -> String {
        let mut v = self.to_lm_eval_dict(None);
        if let Some(Value::Object(m)) = v.get_mut("metadata") {
            m.remove("config_source");
        }
        yardstick_core::sha256_hex(serde_json::to_vec(&v).unwrap_or_default())
    }
}

/// Serialises as lm-eval's `configs` dump ([`TaskConfig::to_lm_eval_dict`] with the YAML's
/// `num_fewshot`).
impl serde::Serialize for TaskConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_lm_eval_dict(None).serialize(s)
    }
}

impl FewshotConfig {
    pub fn to_json(&self) -> Value {
        let opt_s =
            |v: &Option<String>| v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()));
        let field = |v: &Option<DocField>| v.as_ref().map_or(Value::Null, DocField::to_json);
        let mut m = Map::new();
        m.insert(
            "sampler".into(),
            Value::String(self.sampler.as_str().into()),
        );
        m.insert("split".into(), opt_s(&self.split));
        m.insert(
            "process_docs".into(),
            self.process_docs
                .map_or(Value::Null, |f| Value::String(native_label(f))),
        );
        m.insert(
            "fewshot_indices".into(),
            self.fewshot_indices.as_ref().map_or(Value::Null, |v| {
                Value::Array(v.iter().map(|i| Value::from(*i)).collect())
            }),
        );
        m.insert(
            "samples".into(),
            match &self.samples {
                None => Value::Null,
                Some(FewshotSamples::List(l)) => {
                    Value::Array(l.iter().cloned().map(Value::Object).collect())
                }
            },
        );
        m.insert("doc_to_text".into(), field(&self.doc_to_text));
        m.insert("doc_to_choice".into(), field(&self.doc_to_choice));
        m.insert("doc_to_target".into(), field(&self.doc_to_target));
        m.insert("gen_prefix".into(), opt_s(&self.gen_prefix));
        m.insert(
            "fewshot_delimiter".into(),
            Value::String(self.fewshot_delimiter.clone()),
        );
        m.insert(
            "target_delimiter".into(),
            Value::String(self.target_delimiter.clone()),
        );
        Value::Object(m)
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

/// A JSON value as YAML text.
pub fn to_yaml(v: &Value) -> String {
    serde_norway::to_string(v).unwrap_or_else(|e| format!("# cannot render as YAML: {e}\n{v:#}\n"))
}

/// An `aggregate_metric_list` entry (v0.4.12+ defaults: `weight_by_size=True`, `filter_list=None`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AggregateMetric {
    pub metric: String,
    /// Only `mean` is built in.
    pub aggregation: String,
    /// Python truthiness of the YAML value (`truez` counts as true).
    pub weight_by_size: bool,
    /// `None`: every filter that produced the metric (auto-discovery).
    pub filter_list: Option<Vec<String>>,
}

/// A resolved group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupConfig {
    pub group: String,
    pub group_alias: Option<String>,
    /// `None`: the group is only a container (no group score).
    pub aggregate_metric_list: Option<Vec<AggregateMetric>>,
    pub metadata: Map<String, Value>,
    pub config_source: String,
}

impl GroupConfig {
    /// `metadata.version` as lm-eval reports it (`"N/A"` when absent).
    pub fn version(&self) -> Value {
        self.metadata
            .get("version")
            .cloned()
            .unwrap_or_else(|| Value::String("N/A".into()))
    }

    pub fn has_aggregation(&self) -> bool {
        self.aggregate_metric_list
            .as_ref()
            .is_some_and(|l| !l.is_empty())
    }

    /// As lm-eval dumps a `GroupConfig`.
    pub fn to_lm_eval_dict(&self, children: &[String]) -> Value {
        serde_json::json!({
            "group": self.group,
            "group_alias": self.group_alias,
            "task": children,
            "aggregate_metric_list": self.aggregate_metric_list,
            "metadata": self.metadata,
        })
    }
}

/// The keys of a group YAML that describe the group itself; every other key overrides children.
pub const GROUP_FIELDS: &[&str] = &[
    "group",
    "group_alias",
    "task",
    "aggregate_metric_list",
    "metadata",
];

// ---------------------------------------------------------------------------------------------------
// Building a TaskConfig from a raw mapping.

/// A raw mapping with the file each key came from.
#[derive(Clone, Debug, Default)]
pub struct RawConfig {
    pub map: RawMap,
    pub origin: IndexMap<String, SourcePath>,
}

impl RawConfig {
    /// Apply overrides (`{**cfg, **overrides}`).
    pub fn apply(&mut self, overrides: &RawConfig) {
        for (k, v) in &overrides.map {
            self.map.insert(k.clone(), v.clone());
            if let Some(o) = overrides.origin.get(k) {
                self.origin.insert(k.clone(), o.clone());
            }
        }
    }
}

pub(crate) struct Builder<'a> {
    pub cache: &'a YamlCache,
    pub raw: &'a RawConfig,
    /// The file of the task itself (for keys without an origin).
    pub source: SourcePath,
}

impl Builder<'_> {
    fn origin(&self, key: &str) -> &SourcePath {
        let top = key.split(['.', '[']).next().unwrap_or(key);
        self.raw.origin.get(top).unwrap_or(&self.source)
    }

    pub(crate) fn err(&self, field: &str, message: impl Into<String>) -> TaskError {
        self.cache
            .field_error(self.origin(field), field, message.into())
    }

    fn get(&self, key: &str) -> Option<&RawValue> {
        self.raw.map.get(key)
    }

    fn opt_str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(None),
            Some(RawValue::Str(s)) => Ok(Some(s.clone())),
            Some(RawValue::Int(i)) if key.ends_with("_split") || key == "dataset_name" => {
                Ok(Some(i.to_string()))
            }
            Some(RawValue::Function(f)) => Err(self.function_error(key, f)),
            Some(other) => Err(self.err(
                key,
                format!("expected a string, found {}", other.type_name()),
            )),
        }
    }

    fn opt_bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(default),
            Some(RawValue::Bool(b)) => Ok(*b),
            Some(RawValue::Int(i)) => Ok(*i != 0),
            Some(RawValue::Str(s))
                if matches!(s.as_str(), "yes" | "Yes" | "YES" | "on" | "On" | "ON") =>
            {
                Ok(true)
            }
            Some(RawValue::Str(s))
                if matches!(s.as_str(), "no" | "No" | "NO" | "off" | "Off" | "OFF") =>
            {
                Ok(false)
            }
            Some(other) => Err(self.err(
                key,
                format!("expected true or false, found {}", other.type_name()),
            )),
        }
    }

    fn json(&self, key: &str, v: &RawValue) -> Result<Value> {
        if let Some(f) = v.find_function() {
            return Err(self.function_error(key, f));
        }
        Ok(v.to_json())
    }

    fn opt_map(&self, key: &str) -> Result<Option<Map<String, Value>>> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(None),
            Some(v @ RawValue::Map(_)) => match self.json(key, v)? {
                Value::Object(m) => Ok(Some(m)),
                _ => Ok(None),
            },
            Some(other) => Err(self.err(
                key,
                format!("expected a mapping, found {}", other.type_name()),
            )),
        }
    }

    /// Resolve a function tag to a native port, or explain why it cannot be used.
    pub(crate) fn native(
        &self,
        field: &str,
        tag: &FunctionTag,
    ) -> Result<&'static BuiltinFunction> {
        if tag.explicit_builtin {
            return functions::lookup(&tag.name).ok_or_else(|| {
                let names: Vec<&str> = functions::BUILTIN_FUNCTIONS
                    .iter()
                    .map(|f| f.name)
                    .collect();
                let suggestions = crate::suggest::closest(&tag.name, names.iter().copied(), 3);
                self.err(
                    field,
                    format!(
                        "unknown native function `{}`{}; available: {}",
                        tag.name,
                        if suggestions.is_empty() {
                            String::new()
                        } else {
                            format!(" (did you mean `{}`?)", suggestions.join("`, `"))
                        },
                        names.join(", ")
                    ),
                )
            });
        }
        if let SourcePath::Builtin(_) = tag.source {
            if let Some(f) = functions::lookup_builtin_reference(&tag.source.dir(), &tag.name) {
                return Ok(f);
            }
        }
        Err(self.function_error(field, tag))
    }

    pub(crate) fn function_error(&self, field: &str, tag: &FunctionTag) -> TaskError {
        let task = self.get("task").and_then(RawValue::as_str);
        let dir_name = match &tag.source {
            SourcePath::File(p) => p
                .parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().to_string()),
            SourcePath::Builtin(p) => p.split('/').next().map(str::to_string),
        };
        let suggestion = match functions::guess_for_user_reference(&tag.name, task, dir_name.as_deref()) {
            Some(f) => format!(
                "use the built-in task `{}` (native port), or reference the native function as `{field}: !builtin {}`, \
                 or materialise the processed docs (e.g. to JSONL) and point `dataset_path`/`dataset_kwargs.data_files` at them",
                f.used_by, f.name
            ),
            None => "materialise what the function computes (e.g. write the processed docs to JSONL and point \
                     `dataset_path`/`dataset_kwargs.data_files` at them), or use a built-in task; native functions \
                     available with `!builtin`: "
                .to_string()
                + &functions::BUILTIN_FUNCTIONS.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
        };
        TaskError::PythonFunction {
            path: tag.source.display(),
            line: self.cache.function_line(tag, field),
            field: field.to_string(),
            function: tag.name.clone(),
            suggestion,
        }
    }

    fn doc_field(
        &self,
        key: &str,
        v: &RawValue,
        kind_ok: fn(FunctionKind) -> bool,
    ) -> Result<DocField> {
        Ok(match v {
            RawValue::Str(s) => DocField::Text(s.clone()),
            RawValue::Int(i) => DocField::Int(*i),
            RawValue::Bool(b) => DocField::Int(*b as i64),
            RawValue::Seq(_) => match self.json(key, v)? {
                Value::Array(a) => DocField::List(a),
                _ => unreachable_list(),
            },
            RawValue::Map(_) => match self.json(key, v)? {
                Value::Object(m) => DocField::Dict(m),
                _ => DocField::Dict(Map::new()),
            },
            RawValue::Function(tag) => {
                let f = self.native(key, tag)?;
                if !kind_ok(f.kind) {
                    return Err(self.err(
                        key,
                        format!("native function `{}` cannot be used here", f.name),
                    ));
                }
                DocField::Native(f)
            }
            other => {
                return Err(self.err(
                    key,
                    format!(
                        "expected a column name, template, int or list, found {}",
                        other.type_name()
                    ),
                ))
            }
        })
    }

    fn opt_doc_field(&self, key: &str) -> Result<Option<DocField>> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(None),
            Some(v) => self
                .doc_field(key, v, |k| matches!(k, FunctionKind::DocTo(_)))
                .map(Some),
        }
    }

    fn process_docs_fn(
        &self,
        key: &str,
        v: Option<&RawValue>,
    ) -> Result<Option<&'static BuiltinFunction>> {
        match v {
            None | Some(RawValue::Null) => Ok(None),
            Some(RawValue::Function(tag)) => {
                let f = self.native(key, tag)?;
                match f.kind {
                    FunctionKind::ProcessDocs(_) => Ok(Some(f)),
                    _ => Err(self.err(
                        key,
                        format!(
                            "native function `{}` is not a process_docs function",
                            f.name
                        ),
                    )),
                }
            }
            Some(other) => Err(self.err(
                key,
                format!(
                    "expected `!function` (a Python function), found {}",
                    other.type_name()
                ),
            )),
        }
    }

    fn unsupported(&self, field: &str, message: &str) -> TaskError {
        let origin = self.origin(field);
        let line = self
            .cache
            .text(origin)
            .map(|t| crate::yaml::locate_key(&t, field).0)
            .unwrap_or(1);
        TaskError::Unsupported {
            path: origin.display(),
            line,
            field: field.to_string(),
            message: message.to_string(),
        }
    }

    /// Build the task config (lm-eval `TaskConfig(**cfg)` plus `__post_init__`).
    pub(crate) fn build(&self, config_source: String) -> Result<TaskConfig> {
        if self.get("class").is_some() {
            return Err(self.unsupported(
                "class",
                "Python task classes are not supported; only YAML + Jinja tasks",
            ));
        }
        for (field, msg) in [
            ("custom_dataset", "custom dataset functions are not supported; use dataset_path / dataset_kwargs.data_files"),
            ("use_prompt", "promptsource templates are not supported; write doc_to_text / doc_to_target / doc_to_choice"),
            ("doc_to_image", "multimodal tasks are not supported"),
            ("doc_to_audio", "multimodal tasks are not supported"),
        ] {
            if self.get(field).is_some_and(|v| *v != RawValue::Null) {
                return Err(self.unsupported(field, msg));
            }
        }
        for (key, v) in &self.raw.map {
            if TASK_FIELDS.contains(&key.as_str())
                || matches!(key.as_str(), "tag" | "group" | "task_list" | "include")
            {
                continue;
            }
            let suggestions = crate::suggest::closest(key, TASK_FIELDS.iter().copied(), 1);
            let hint = match suggestions.first() {
                Some(s) => format!("; did you mean `{s}`?"),
                None => String::new(),
            };
            let _ = v;
            return Err(self.err(
                key,
                format!("unknown task field{hint} (lm-eval would refuse it too)"),
            ));
        }
        let task = match self.get("task") {
            Some(RawValue::Str(s)) => s.clone(),
            Some(other) => {
                return Err(self.err(
                    "task",
                    format!(
                        "expected the task name (a string), found {}",
                        other.type_name()
                    ),
                ))
            }
            None => return Err(self.err("task", "missing `task` (the task's name)")),
        };
        let output_type = match self.get("output_type") {
            None | Some(RawValue::Null) => OutputType::GenerateUntil,
            Some(RawValue::Str(s)) => s
                .parse::<OutputType>()
                .map_err(|e| self.err("output_type", e))?,
            Some(other) => {
                return Err(self.err(
                    "output_type",
                    format!("expected a string, found {}", other.type_name()),
                ))
            }
        };
        let description = match self.get("description") {
            None | Some(RawValue::Null) => String::new(),
            Some(RawValue::Str(s)) => s.clone(),
            Some(other) => {
                return Err(self.err(
                    "description",
                    format!(
                        "expected a string (a Jinja template), found {}",
                        other.type_name()
                    ),
                ))
            }
        };
        let delim = |key: &str, default: &str| -> Result<String> {
            match self.get(key) {
                None => Ok(default.to_string()),
                Some(RawValue::Str(s)) => Ok(s.clone()),
                Some(other) => Err(self.err(
                    key,
                    format!("expected a string, found {}", other.type_name()),
                )),
            }
        };
        let target_delimiter = delim("target_delimiter", " ")?;
        let fewshot_delimiter = delim("fewshot_delimiter", "\n\n")?;
        let num_fewshot = match self.get("num_fewshot") {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Int(i)) if *i >= 0 => Some(*i as u64),
            Some(other) => {
                return Err(self.err(
                    "num_fewshot",
                    format!(
                        "expected a non-negative integer, found {}",
                        other.type_name()
                    ),
                ))
            }
        };
        let repeats = match self.get("repeats") {
            None | Some(RawValue::Null) => 1,
            Some(RawValue::Int(i)) if *i >= 1 => *i as u32,
            Some(other) => {
                return Err(self.err(
                    "repeats",
                    format!("expected a positive integer, found {}", other.type_name()),
                ))
            }
        };
        let process_docs = self.process_docs_fn("process_docs", self.get("process_docs"))?;
        let doc_to_text = self.opt_doc_field("doc_to_text")?;
        let doc_to_target = self.opt_doc_field("doc_to_target")?;
        let doc_to_choice = self.opt_doc_field("doc_to_choice")?;
        let process_results = match self.get("process_results") {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Function(tag)) => {
                let f = self.native("process_results", tag)?;
                match f.kind {
                    FunctionKind::ProcessResults(name) => Some(name),
                    _ => {
                        return Err(self.err(
                            "process_results",
                            format!(
                                "native function `{}` is not a process_results function",
                                f.name
                            ),
                        ))
                    }
                }
            }
            Some(other) => {
                return Err(self.err(
                    "process_results",
                    format!("expected `!function`, found {}", other.type_name()),
                ))
            }
        };
        let gen_prefix = self.opt_str("gen_prefix")?;
        let fewshot_split = self.opt_str("fewshot_split")?;

        let metric_list = match self.get("metric_list") {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Seq(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let field = format!("metric_list[{i}]");
                    let RawValue::Map(m) = item else {
                        return Err(self.err(
                            &field,
                            format!(
                                "expected a mapping with `metric`, found {}",
                                item.type_name()
                            ),
                        ));
                    };
                    let metric = match m.get("metric") {
                        Some(RawValue::Str(s)) => s.clone(),
                        Some(RawValue::Function(tag)) => {
                            return Err(self.function_error(&format!("{field}.metric"), tag))
                        }
                        Some(other) => {
                            return Err(self.err(
                                &field,
                                format!("`metric` must be a name, found {}", other.type_name()),
                            ))
                        }
                        None => {
                            return Err(self.err(
                                &field,
                                "'metric' key not provided for an entry in 'metric_list'",
                            ))
                        }
                    };
                    let aggregation = match m.get("aggregation") {
                        None => None,
                        Some(RawValue::Str(s)) => Some(s.clone()),
                        Some(RawValue::Function(tag)) => {
                            return Err(self.function_error(&format!("{field}.aggregation"), tag))
                        }
                        Some(other) => {
                            return Err(self.err(
                                &field,
                                format!(
                                    "`aggregation` must be a name, found {}",
                                    other.type_name()
                                ),
                            ))
                        }
                    };
                    let higher_is_better = m.get("higher_is_better").map(RawValue::truthy);
                    let hf_evaluate = m.get("hf_evaluate") == Some(&RawValue::Bool(true));
                    let raw = match self.json(&field, item)? {
                        Value::Object(o) => o,
                        _ => Map::new(),
                    };
                    let kwargs = raw
                        .iter()
                        .filter(|(k, _)| {
                            !matches!(
                                k.as_str(),
                                "metric" | "aggregation" | "higher_is_better" | "hf_evaluate"
                            )
                        })
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    out.push(MetricConfig {
                        metric,
                        aggregation,
                        higher_is_better,
                        hf_evaluate,
                        kwargs,
                        raw,
                    });
                }
                Some(out)
            }
            Some(other) => {
                return Err(self.err(
                    "metric_list",
                    format!("expected a list, found {}", other.type_name()),
                ))
            }
        };

        let filter_list = match self.get("filter_list") {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Seq(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let field = format!("filter_list[{i}]");
                    let RawValue::Map(m) = item else {
                        return Err(self.err(&field, "expected a mapping with `name` and `filter`"));
                    };
                    let name = match m.get("name") {
                        Some(RawValue::Str(s)) => s.clone(),
                        _ => return Err(self.err(&field, "missing `name`")),
                    };
                    let Some(RawValue::Seq(steps_raw)) = m.get("filter") else {
                        return Err(self.err(&field, "missing `filter` (a list of steps)"));
                    };
                    let mut steps = Vec::new();
                    for (j, st) in steps_raw.iter().enumerate() {
                        let sfield = format!("{field}.filter[{j}]");
                        let Value::Object(mut sm) = self.json(&sfield, st)? else {
                            return Err(self.err(&sfield, "expected a mapping with `function`"));
                        };
                        let function = match sm.shift_remove("function") {
                            Some(Value::String(s)) => s,
                            _ => return Err(self.err(&sfield, "missing `function`")),
                        };
                        steps.push(FilterStep {
                            function,
                            kwargs: sm,
                        });
                    }
                    out.push(FilterPipeline { name, steps });
                }
                Some(out)
            }
            Some(other) => {
                return Err(self.err(
                    "filter_list",
                    format!("expected a list, found {}", other.type_name()),
                ))
            }
        };

        let mut generation_kwargs = self.opt_map("generation_kwargs")?;
        match generation_kwargs.as_mut() {
            Some(kw) => {
                if let Some(t) = kw.get("temperature").and_then(Value::as_f64) {
                    kw.insert(
                        "temperature".into(),
                        serde_json::Number::from_f64(t).map_or(Value::Null, Value::Number),
                    );
                }
                if !kw.contains_key("until") {
                    kw.insert(
                        "until".into(),
                        Value::Array(vec![Value::String(fewshot_delimiter.clone())]),
                    );
                }
            }
            None if output_type == OutputType::GenerateUntil => {
                let mut kw = Map::new();
                kw.insert("temperature".into(), Value::from(0.0));
                kw.insert("do_sample".into(), Value::Bool(false));
                kw.insert("max_gen_toks".into(), Value::from(256));
                kw.insert(
                    "until".into(),
                    Value::Array(vec![Value::String(fewshot_delimiter.clone())]),
                );
                generation_kwargs = Some(kw);
            }
            None => {}
        }

        let metadata = match self.get("metadata") {
            None | Some(RawValue::Null) => Map::new(),
            Some(v @ RawValue::Map(_)) => match self.json("metadata", v)? {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            Some(other) => {
                let mut m = Map::new();
                m.insert("_metadata".into(), self.json("metadata", other)?);
                m
            }
        };

        // fewshot_config: FewshotConfig.from_dict(cfg, inherited task fields).
        let fs_raw = match self.get("fewshot_config") {
            None | Some(RawValue::Null) => RawMap::new(),
            Some(RawValue::Map(m)) => m.clone(),
            Some(other) => {
                return Err(self.err(
                    "fewshot_config",
                    format!("expected a mapping, found {}", other.type_name()),
                ))
            }
        };
        for key in fs_raw.keys() {
            if !FEWSHOT_FIELDS.contains(&key.as_str()) {
                let s = crate::suggest::closest(key, FEWSHOT_FIELDS.iter().copied(), 1);
                return Err(self.err(
                    &format!("fewshot_config.{key}"),
                    format!(
                        "unknown few-shot field{}",
                        s.first()
                            .map(|x| format!("; did you mean `{x}`?"))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        let fs_get = |k: &str| fs_raw.get(k);
        let fs_str = |k: &str, inherited: Option<String>| -> Result<Option<String>> {
            match fs_get(k) {
                None => Ok(inherited),
                Some(RawValue::Null) => Ok(None),
                Some(RawValue::Str(s)) => Ok(Some(s.clone())),
                Some(other) => Err(self.err(
                    &format!("fewshot_config.{k}"),
                    format!("expected a string, found {}", other.type_name()),
                )),
            }
        };
        let sampler = match fs_get("sampler") {
            None | Some(RawValue::Null) => SamplerKind::Default,
            Some(RawValue::Str(s)) if s == "default" => SamplerKind::Default,
            Some(RawValue::Str(s)) if s == "first_n" => SamplerKind::FirstN,
            Some(other) => {
                return Err(self.err(
                    "fewshot_config.sampler",
                    format!(
                        "unknown sampler {} (supported: default, first_n)",
                        crate::pyvalue::repr(&other.to_json())
                    ),
                ))
            }
        };
        let fs_field = |k: &str, inherited: &Option<DocField>| -> Result<Option<DocField>> {
            match fs_get(k) {
                None => Ok(inherited.clone()),
                Some(RawValue::Null) => Ok(None),
                Some(v) => self
                    .doc_field(&format!("fewshot_config.{k}"), v, |k| {
                        matches!(k, FunctionKind::DocTo(_))
                    })
                    .map(Some),
            }
        };
        let fewshot_indices = match fs_get("fewshot_indices") {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Seq(items)) => Some(
                items
                    .iter()
                    .map(|i| match i {
                        RawValue::Int(n) if *n >= 0 => Ok(*n as usize),
                        _ => Err(self.err(
                            "fewshot_config.fewshot_indices",
                            "expected a list of non-negative integers",
                        )),
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(_) => {
                return Err(self.err(
                    "fewshot_config.fewshot_indices",
                    "expected a list of non-negative integers",
                ))
            }
        };
        let samples = match fs_get("samples") {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Function(tag)) => {
                return Err(self.function_error("fewshot_config.samples", tag))
            }
            Some(v @ RawValue::Seq(_)) => match self.json("fewshot_config.samples", v)? {
                Value::Array(items) => Some(FewshotSamples::List(
                    items
                        .into_iter()
                        .map(|i| match i {
                            Value::Object(m) => Ok(m),
                            _ => Err(self.err(
                                "fewshot_config.samples",
                                "expected a list of mappings (docs)",
                            )),
                        })
                        .collect::<Result<_>>()?,
                )),
                _ => None,
            },
            Some(other) => {
                return Err(self.err(
                    "fewshot_config.samples",
                    format!("expected a list of docs, found {}", other.type_name()),
                ))
            }
        };
        let fs_process_docs = match fs_get("process_docs") {
            None => process_docs,
            Some(v) => self.process_docs_fn("fewshot_config.process_docs", Some(v))?,
        };
        let fs_delim = |k: &str, inherited: &str| -> Result<String> {
            match fs_get(k) {
                None => Ok(inherited.to_string()),
                Some(RawValue::Str(s)) => Ok(s.clone()),
                Some(other) => Err(self.err(
                    &format!("fewshot_config.{k}"),
                    format!("expected a string, found {}", other.type_name()),
                )),
            }
        };
        let fewshot_config = FewshotConfig {
            sampler,
            split: fs_str("split", fewshot_split.clone())?,
            process_docs: fs_process_docs,
            fewshot_indices,
            samples,
            doc_to_text: fs_field("doc_to_text", &doc_to_text)?,
            doc_to_choice: fs_field("doc_to_choice", &doc_to_choice)?,
            doc_to_target: fs_field("doc_to_target", &doc_to_target)?,
            gen_prefix: fs_str("gen_prefix", gen_prefix.clone())?,
            fewshot_delimiter: fs_delim("fewshot_delimiter", &fewshot_delimiter)?,
            target_delimiter: fs_delim("target_delimiter", &target_delimiter)?,
        };

        Ok(TaskConfig {
            task,
            task_alias: self.opt_str("task_alias")?,
            dataset_path: self.opt_str("dataset_path")?,
            dataset_name: self.opt_str("dataset_name")?,
            dataset_kwargs: self.opt_map("dataset_kwargs")?,
            training_split: self.opt_str("training_split")?,
            validation_split: self.opt_str("validation_split")?,
            test_split: self.opt_str("test_split")?,
            fewshot_split,
            process_docs,
            doc_to_text,
            doc_to_target,
            doc_to_choice,
            unsafe_code: self.opt_bool("unsafe_code", false)?,
            process_results,
            description,
            target_delimiter,
            fewshot_delimiter,
            fewshot_config,
            num_fewshot,
            metric_list,
            output_type,
            generation_kwargs,
            repeats,
            filter_list,
            should_decontaminate: self.opt_bool("should_decontaminate", false)?,
            doc_to_decontamination_query: self.opt_str("doc_to_decontamination_query")?,
            gen_prefix,
            metadata,
            config_source,
            field_origins: self.raw.origin.clone(),
        })
    }
}

fn unreachable_list() -> DocField {
    DocField::List(Vec::new())
}

/// Build a [`GroupConfig`] from a group's own keys.
pub(crate) fn build_group_config(
    b: &Builder<'_>,
    name: &str,
    config_source: String,
) -> Result<GroupConfig> {
    let group_alias = b.opt_str("group_alias")?;
    let aggregate_metric_list = match b.get("aggregate_metric_list") {
        None | Some(RawValue::Null) => None,
        Some(v) => {
            let items: Vec<&RawValue> = match v {
                RawValue::Seq(items) => items.iter().collect(),
                RawValue::Map(_) => vec![v],
                other => {
                    return Err(b.err(
                        "aggregate_metric_list",
                        format!("expected a list of mappings, found {}", other.type_name()),
                    ))
                }
            };
            let mut out = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                let field = format!("aggregate_metric_list[{i}]");
                let RawValue::Map(m) = item else {
                    return Err(b.err(&field, "expected a mapping with `metric`"));
                };
                for key in m.keys() {
                    if !matches!(
                        key.as_str(),
                        "metric" | "aggregation" | "weight_by_size" | "filter_list"
                    ) {
                        return Err(b.err(&field, format!("unknown key `{key}` (expected metric, aggregation, weight_by_size, filter_list)")));
                    }
                }
                let metric = match m.get("metric") {
                    Some(RawValue::Str(s)) => s.clone(),
                    _ => return Err(b.err(&field, "missing `metric`")),
                };
                let aggregation = match m.get("aggregation") {
                    None => "mean".to_string(),
                    Some(RawValue::Str(s)) if s == "mean" => s.clone(),
                    Some(RawValue::Function(tag)) => {
                        return Err(b.function_error(&format!("{field}.aggregation"), tag))
                    }
                    Some(other) => {
                        return Err(b.err(
                            &field,
                            format!(
                                "Currently, 'mean' is the only pre-defined aggregation. Got {}",
                                crate::pyvalue::repr(&other.to_json())
                            ),
                        ))
                    }
                };
                let weight_by_size = m.get("weight_by_size").is_none_or(RawValue::truthy);
                let filter_list = match m.get("filter_list") {
                    None | Some(RawValue::Null) => None,
                    Some(RawValue::Str(s)) => Some(vec![s.clone()]),
                    Some(RawValue::Seq(items)) => Some(
                        items
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .ok_or_else(|| b.err(&field, "filter_list must name filters"))
                            })
                            .collect::<Result<_>>()?,
                    ),
                    Some(other) => {
                        return Err(b.err(
                            &field,
                            format!(
                                "filter_list: expected a name or list, found {}",
                                other.type_name()
                            ),
                        ))
                    }
                };
                out.push(AggregateMetric {
                    metric,
                    aggregation,
                    weight_by_size,
                    filter_list,
                });
            }
            Some(out)
        }
    };
    let metadata = match b.get("metadata") {
        None | Some(RawValue::Null) => Map::new(),
        Some(v @ RawValue::Map(_)) => match b.json("metadata", v)? {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        Some(other) => {
            return Err(b.err(
                "metadata",
                format!("expected a mapping, found {}", other.type_name()),
            ))
        }
    };
    Ok(GroupConfig {
        group: name.to_string(),
        group_alias,
        aggregate_metric_list,
        metadata,
        config_source,
    })
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
