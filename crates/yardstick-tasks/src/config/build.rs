//! Building a [`TaskConfig`] from a raw mapping (lm-eval `TaskConfig(**cfg)` plus `__post_init__`).

use serde_json::{Map, Value};
use yardstick_core::OutputType;

use super::fields::Builder;
use super::types::*;
use crate::error::Result;
use crate::functions::FunctionKind;
use crate::yaml::{RawMap, RawValue};

/// Fields lm-eval accepts that Yardstick refuses, with what to do instead.
const UNSUPPORTED_FIELDS: &[(&str, &str)] = &[
    ("custom_dataset", "custom dataset functions are not supported; use dataset_path / dataset_kwargs.data_files"),
    ("use_prompt", "promptsource templates are not supported; write doc_to_text / doc_to_target / doc_to_choice"),
    ("doc_to_image", "multimodal tasks are not supported"),
    ("doc_to_audio", "multimodal tasks are not supported"),
];

impl Builder<'_> {
    /// Build the task config (lm-eval `TaskConfig(**cfg)` plus `__post_init__`).
    pub(crate) fn build(&self, config_source: String) -> Result<TaskConfig> {
        self.check_fields()?;
        let task = match self.get("task") {
            Some(v) => self.string("task", v, "the task name (a string)")?,
            None => return Err(self.err("task", "missing `task` (the task's name)")),
        };
        let output_type = self
            .opt("output_type", |v| {
                self.string("output_type", v, "a string")?
                    .parse::<OutputType>()
                    .map_err(|e| self.err("output_type", e))
            })?
            .unwrap_or(OutputType::GenerateUntil);
        let description = self
            .opt("description", |v| {
                self.string("description", v, "a string (a Jinja template)")
            })?
            .unwrap_or_default();
        let delimiter = |key: &str, default: &str| -> Result<String> {
            match self.get(key) {
                None => Ok(default.to_string()),
                Some(v) => self.string(key, v, "a string"),
            }
        };
        let target_delimiter = delimiter("target_delimiter", " ")?;
        let fewshot_delimiter = delimiter("fewshot_delimiter", "\n\n")?;
        let num_fewshot = self.opt("num_fewshot", |v| {
            self.int_at_least("num_fewshot", v, 0, "a non-negative integer")
        })?;
        let repeats = self
            .opt("repeats", |v| {
                self.int_at_least("repeats", v, 1, "a positive integer")
            })?
            .unwrap_or(1);
        let process_docs = self.process_docs_fn("process_docs", self.get("process_docs"))?;
        let doc_to_text = self.opt_doc_field("doc_to_text")?;
        let doc_to_target = self.opt_doc_field("doc_to_target")?;
        let doc_to_choice = self.opt_doc_field("doc_to_choice")?;
        let process_results = self.process_results_fn()?;
        let gen_prefix = self.opt_str("gen_prefix")?;
        let fewshot_split = self.opt_str("fewshot_split")?;
        let metric_list = self.metric_list()?;
        let filter_list = self.filter_list()?;
        let generation_kwargs = self.generation_kwargs(output_type, &fewshot_delimiter)?;
        let metadata = self.task_metadata()?;
        // FewshotConfig.from_dict(cfg, inherited task fields).
        let fewshot_config = self.fewshot_config(FewshotConfig {
            sampler: SamplerKind::Default,
            split: fewshot_split.clone(),
            process_docs,
            fewshot_indices: None,
            samples: None,
            doc_to_text: doc_to_text.clone(),
            doc_to_choice: doc_to_choice.clone(),
            doc_to_target: doc_to_target.clone(),
            gen_prefix: gen_prefix.clone(),
            fewshot_delimiter: fewshot_delimiter.clone(),
            target_delimiter: target_delimiter.clone(),
        })?;

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
            num_fewshot: num_fewshot.map(|n| n as u64),
            metric_list,
            output_type,
            generation_kwargs,
            repeats: repeats as u32,
            filter_list,
            should_decontaminate: self.opt_bool("should_decontaminate", false)?,
            doc_to_decontamination_query: self.opt_str("doc_to_decontamination_query")?,
            gen_prefix,
            metadata,
            config_source,
            field_origins: self.raw.origin.clone(),
        })
    }

    /// Refuse Python task classes, the fields Yardstick does not implement, and unknown fields.
    fn check_fields(&self) -> Result<()> {
        if self.get("class").is_some() {
            return Err(self.unsupported(
                "class",
                "Python task classes are not supported; only YAML + Jinja tasks",
            ));
        }
        for (field, msg) in UNSUPPORTED_FIELDS {
            if self.get(field).is_some_and(|v| *v != RawValue::Null) {
                return Err(self.unsupported(field, msg));
            }
        }
        for key in self.raw.map.keys() {
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
            return Err(self.err(
                key,
                format!("unknown task field{hint} (lm-eval would refuse it too)"),
            ));
        }
        Ok(())
    }

    /// `metric_list`: one [`MetricConfig`] per entry.
    fn metric_list(&self) -> Result<Option<Vec<MetricConfig>>> {
        self.opt("metric_list", |v| {
            self.seq("metric_list", v, "a list")?
                .iter()
                .enumerate()
                .map(|(i, item)| self.metric_entry(&format!("metric_list[{i}]"), item))
                .collect()
        })
    }

    fn metric_entry(&self, field: &str, item: &RawValue) -> Result<MetricConfig> {
        let m = self.mapping(field, item, "a mapping with `metric`")?;
        let (metric, function) = match m.get("metric") {
            Some(RawValue::Str(s)) => (s.clone(), None),
            Some(RawValue::Function(tag)) => {
                let f = self.native(&format!("{field}.metric"), tag)?;
                let FunctionKind::Metric(mf) = f.kind else {
                    return Err(self.err(
                        field,
                        format!("native function `{}` is not a metric", f.name),
                    ));
                };
                (mf.python_name().to_string(), Some((mf, f.name)))
            }
            Some(other) => {
                return Err(self.err(
                    field,
                    format!("`metric` must be a name, found {}", other.type_name()),
                ))
            }
            None => {
                return Err(self.err(
                    field,
                    "'metric' key not provided for an entry in 'metric_list'",
                ))
            }
        };
        let mut native_aggregation = None;
        let aggregation = match m.get("aggregation") {
            None => None,
            Some(RawValue::Str(s)) => Some(s.clone()),
            Some(RawValue::Function(tag)) => {
                let key = format!("{field}.aggregation");
                let f = self.native(&key, tag)?;
                let FunctionKind::Aggregation(name) = f.kind else {
                    return Err(self.err(
                        &key,
                        format!(
                            "native function `{}` is not an aggregation function",
                            f.name
                        ),
                    ));
                };
                native_aggregation = Some(f.name);
                Some(name.to_string())
            }
            Some(other) => {
                return Err(self.err(
                    field,
                    format!("`aggregation` must be a name, found {}", other.type_name()),
                ))
            }
        };
        let higher_is_better = m.get("higher_is_better").map(RawValue::truthy);
        let hf_evaluate = m.get("hf_evaluate") == Some(&RawValue::Bool(true));
        // The dump shows a native metric function or aggregation as `!builtin <name>` (lm-eval's shows the
        // Python source); no other key may hold a function.
        let mut entry = m.clone();
        if let Some(name) = native_aggregation {
            entry.insert(
                "aggregation".to_string(),
                RawValue::Str(format!("!builtin {name}")),
            );
        }
        if let Some((_, name)) = function {
            entry.insert(
                "metric".to_string(),
                RawValue::Str(format!("!builtin {name}")),
            );
        }
        let raw = self.json_object(field, &RawValue::Map(entry))?;
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
        Ok(MetricConfig {
            metric,
            function: function.map(|(f, _)| f),
            aggregation,
            higher_is_better,
            hf_evaluate,
            kwargs,
            raw,
        })
    }

    /// `filter_list`: named pipelines of filter steps.
    fn filter_list(&self) -> Result<Option<Vec<FilterPipeline>>> {
        self.opt("filter_list", |v| {
            self.seq("filter_list", v, "a list")?
                .iter()
                .enumerate()
                .map(|(i, item)| self.filter_pipeline(&format!("filter_list[{i}]"), item))
                .collect()
        })
    }

    fn filter_pipeline(&self, field: &str, item: &RawValue) -> Result<FilterPipeline> {
        let RawValue::Map(m) = item else {
            return Err(self.err(field, "expected a mapping with `name` and `filter`"));
        };
        let name = match m.get("name") {
            Some(RawValue::Str(s)) => s.clone(),
            _ => return Err(self.err(field, "missing `name`")),
        };
        let Some(RawValue::Seq(steps_raw)) = m.get("filter") else {
            return Err(self.err(field, "missing `filter` (a list of steps)"));
        };
        let mut steps = Vec::new();
        for (j, st) in steps_raw.iter().enumerate() {
            let sfield = format!("{field}.filter[{j}]");
            // `function: !function utils.X` (a Python filter class): its native port, by name.
            let mut native = None;
            let mut st = st.clone();
            if let RawValue::Map(sm) = &mut st {
                // `function: custom` with `filter_fn: !function utils.X`: lm-eval's CustomFilter calling
                // a Python function; its native port takes the step's place.
                if let (Some(RawValue::Str(c)), Some(RawValue::Function(tag))) =
                    (sm.get("function"), sm.get("filter_fn"))
                {
                    if c == "custom" {
                        let tag = tag.clone();
                        sm.shift_remove("filter_fn");
                        sm.insert("function".into(), RawValue::Function(tag));
                    }
                }
                if let Some(RawValue::Function(tag)) = sm.get("function") {
                    let f = self.native(&format!("{sfield}.function"), tag)?;
                    if !matches!(f.kind, FunctionKind::Filter(_)) {
                        return Err(self.err(
                            &sfield,
                            format!("native function `{}` is not a filter", f.name),
                        ));
                    }
                    native = Some(f.name.to_string());
                    sm.shift_remove("function");
                }
            }
            let Value::Object(mut sm) = self.json(&sfield, &st)? else {
                return Err(self.err(&sfield, "expected a mapping with `function`"));
            };
            let function = match native
                .map(Value::String)
                .or_else(|| sm.shift_remove("function"))
            {
                Some(Value::String(s)) => s,
                _ => return Err(self.err(&sfield, "missing `function`")),
            };
            steps.push(FilterStep {
                function,
                kwargs: sm,
            });
        }
        Ok(FilterPipeline { name, steps })
    }

    /// `generation_kwargs` with lm-eval's defaults: `until` = `[fewshot_delimiter]` when missing; the
    /// greedy default for `generate_until` tasks without any.
    fn generation_kwargs(
        &self,
        output_type: OutputType,
        fewshot_delimiter: &str,
    ) -> Result<Option<Map<String, Value>>> {
        let until = || Value::Array(vec![Value::String(fewshot_delimiter.to_string())]);
        Ok(match self.opt_map("generation_kwargs")? {
            Some(mut kw) => {
                if let Some(t) = kw.get("temperature").and_then(Value::as_f64) {
                    kw.insert(
                        "temperature".into(),
                        serde_json::Number::from_f64(t).map_or(Value::Null, Value::Number),
                    );
                }
                if !kw.contains_key("until") {
                    kw.insert("until".into(), until());
                }
                Some(kw)
            }
            None if output_type == OutputType::GenerateUntil => {
                let mut kw = Map::new();
                kw.insert("temperature".into(), Value::from(0.0));
                kw.insert("do_sample".into(), Value::Bool(false));
                kw.insert("max_gen_toks".into(), Value::from(256));
                kw.insert("until".into(), until());
                Some(kw)
            }
            None => None,
        })
    }

    /// A task's `metadata`: a mapping, or any other value kept under `_metadata`.
    fn task_metadata(&self) -> Result<Map<String, Value>> {
        let metadata = self.opt("metadata", |v| match v {
            RawValue::Map(_) => self.json_object("metadata", v),
            other => {
                let mut m = Map::new();
                m.insert("_metadata".into(), self.json("metadata", other)?);
                Ok(m)
            }
        })?;
        Ok(metadata.unwrap_or_default())
    }

    /// `fewshot_config` (lm-eval `FewshotConfig.from_dict`): each field set here replaces the value
    /// inherited from the task.
    fn fewshot_config(&self, inherited: FewshotConfig) -> Result<FewshotConfig> {
        let fs_raw = self
            .opt("fewshot_config", |v| {
                self.mapping("fewshot_config", v, "a mapping").cloned()
            })?
            .unwrap_or_default();
        self.check_fewshot_fields(&fs_raw)?;
        let name = |k: &str| format!("fewshot_config.{k}");
        let fs_str = |k: &str, inherited: Option<String>| -> Result<Option<String>> {
            match fs_raw.get(k) {
                None => Ok(inherited),
                Some(RawValue::Null) => Ok(None),
                Some(v) => self.string(&name(k), v, "a string").map(Some),
            }
        };
        let fs_field = |k: &str, inherited: Option<DocField>| -> Result<Option<DocField>> {
            match fs_raw.get(k) {
                None => Ok(inherited),
                Some(RawValue::Null) => Ok(None),
                Some(v) => self
                    .doc_field(&name(k), v, |k| matches!(k, FunctionKind::DocTo(_)))
                    .map(Some),
            }
        };
        let fs_delim = |k: &str, inherited: String| -> Result<String> {
            match fs_raw.get(k) {
                None => Ok(inherited),
                Some(v) => self.string(&name(k), v, "a string"),
            }
        };
        let sampler = self.fewshot_sampler(fs_raw.get("sampler"))?;
        let fewshot_indices = self.fewshot_indices(fs_raw.get("fewshot_indices"))?;
        let samples = self.fewshot_samples(fs_raw.get("samples"))?;
        let process_docs = match fs_raw.get("process_docs") {
            None => inherited.process_docs,
            Some(v) => self.process_docs_fn("fewshot_config.process_docs", Some(v))?,
        };
        Ok(FewshotConfig {
            sampler,
            split: fs_str("split", inherited.split)?,
            process_docs,
            fewshot_indices,
            samples,
            doc_to_text: fs_field("doc_to_text", inherited.doc_to_text)?,
            doc_to_choice: fs_field("doc_to_choice", inherited.doc_to_choice)?,
            doc_to_target: fs_field("doc_to_target", inherited.doc_to_target)?,
            gen_prefix: fs_str("gen_prefix", inherited.gen_prefix)?,
            fewshot_delimiter: fs_delim("fewshot_delimiter", inherited.fewshot_delimiter)?,
            target_delimiter: fs_delim("target_delimiter", inherited.target_delimiter)?,
        })
    }

    fn check_fewshot_fields(&self, fs_raw: &RawMap) -> Result<()> {
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
        Ok(())
    }

    fn fewshot_sampler(&self, v: Option<&RawValue>) -> Result<SamplerKind> {
        match v {
            None | Some(RawValue::Null) => Ok(SamplerKind::Default),
            Some(RawValue::Str(s)) if s == "default" => Ok(SamplerKind::Default),
            Some(RawValue::Str(s)) if s == "first_n" => Ok(SamplerKind::FirstN),
            Some(other) => Err(self.err(
                "fewshot_config.sampler",
                format!(
                    "unknown sampler {} (supported: default, first_n)",
                    crate::pyvalue::repr(&other.to_json())
                ),
            )),
        }
    }

    fn fewshot_indices(&self, v: Option<&RawValue>) -> Result<Option<Vec<usize>>> {
        const KEY: &str = "fewshot_config.fewshot_indices";
        const WHAT: &str = "expected a list of non-negative integers";
        match v {
            None | Some(RawValue::Null) => Ok(None),
            Some(RawValue::Seq(items)) => items
                .iter()
                .map(|i| match i {
                    RawValue::Int(n) if *n >= 0 => Ok(*n as usize),
                    _ => Err(self.err(KEY, WHAT)),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(self.err(KEY, WHAT)),
        }
    }

    fn fewshot_samples(&self, v: Option<&RawValue>) -> Result<Option<FewshotSamples>> {
        const KEY: &str = "fewshot_config.samples";
        match v {
            None | Some(RawValue::Null) => Ok(None),
            Some(RawValue::Function(tag)) => {
                let f = self.native(KEY, tag)?;
                match f.kind {
                    FunctionKind::FewshotSamples(_) => Ok(Some(FewshotSamples::Native(f))),
                    _ => Err(self.err(
                        KEY,
                        format!(
                            "native function `{}` does not return few-shot samples",
                            f.name
                        ),
                    )),
                }
            }
            Some(v @ RawValue::Seq(_)) => match self.json(KEY, v)? {
                Value::Array(items) => Ok(Some(FewshotSamples::List(
                    items
                        .into_iter()
                        .map(|i| match i {
                            Value::Object(m) => Ok(m),
                            _ => Err(self.err(KEY, "expected a list of mappings (docs)")),
                        })
                        .collect::<Result<_>>()?,
                ))),
                _ => Ok(None),
            },
            Some(other) => Err(self.expected(KEY, "a list of docs", other)),
        }
    }
}
