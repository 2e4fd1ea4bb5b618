//! Building a [`TaskConfig`] from a raw mapping (lm-eval `TaskConfig(**cfg)` plus `__post_init__`).

use serde_json::{Map, Value};
use yardstick_core::OutputType;

use super::fields::Builder;
use super::types::*;
use crate::error::Result;
use crate::functions::FunctionKind;
use crate::yaml::{RawMap, RawValue};

impl Builder<'_> {
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
