//! Dumping a resolved config as lm-eval does (`TaskConfig.to_dict()` in a results file's `configs`).

use serde_json::{Map, Value};

use super::types::{DocField, FewshotConfig, FewshotSamples, TaskConfig};
use crate::functions::BuiltinFunction;

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
}

fn native_label(f: &BuiltinFunction) -> String {
    format!("!builtin {}", f.name)
}

impl TaskConfig {
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
                                    // A native filter class shows as `!builtin <name>`, like native
                                    // functions; a `custom` step's native `filter_fn` stays a custom step.
                                    match crate::functions::native_filter(&st.function) {
                                        Some(k) if k.is_custom_filter_fn() => {
                                            m.insert("function".into(), "custom".into());
                                            m.insert(
                                                "filter_fn".into(),
                                                format!("!builtin {}", st.function).into(),
                                            );
                                        }
                                        Some(_) => {
                                            m.insert(
                                                "function".into(),
                                                format!("!builtin {}", st.function).into(),
                                            );
                                        }
                                        None => {
                                            m.insert("function".into(), st.function.clone().into());
                                        }
                                    }
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
                Some(FewshotSamples::Native(f)) => Value::String(native_label(f)),
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

/// A JSON value as YAML text.
pub fn to_yaml(v: &Value) -> String {
    serde_norway::to_string(v).unwrap_or_else(|e| format!("# cannot render as YAML: {e}\n{v:#}\n"))
}
