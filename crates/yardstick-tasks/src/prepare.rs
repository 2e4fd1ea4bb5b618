//! A task ready to produce requests: data loaded and processed, templates compiled, few-shot pool and
//! sampler set up. [`PreparedTask::docs`] then yields, for each evaluated doc in order, its prompt, its
//! requests, its gold target and the few-shot examples used — exactly as lm-eval 0.4.13's
//! `ConfigurableTask.fewshot_context` + `construct_requests` would (plain text, no chat template).

use std::collections::HashSet;

use minijinja::value::Value as MjValue;
use serde_json::Value;
use yardstick_core::python::py_index;
use yardstick_core::{Doc, Instance, OutputType, RequestArgs, Target};

use crate::config::{DocField, FewshotSamples, FilterPipeline, ResolvedMetric, TaskConfig};
use crate::data::{self, DataOptions, DatasetSpec};
use crate::error::{Result, TaskError};
use crate::jinja::JinjaEnv;
use crate::prompt::{build_qa_turn, render_plain, Message, Role};
use crate::pyvalue;
use crate::sampler::Sampler;
use crate::yaml::SourcePath;

/// `--limit`: a count of docs, or a fraction (< 1.0) of the eval split (`ceil(len * limit)`); always the
/// first docs. A limit that comes to 0 means "all docs", as in lm-eval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    Count(usize),
    Fraction(f64),
}

impl Limit {
    /// How many docs of `total` are evaluated.
    pub fn resolve(&self, total: usize) -> usize {
        let n = match *self {
            Limit::Count(n) => n,
            Limit::Fraction(f) if f < 1.0 => (total as f64 * f).ceil() as usize,
            Limit::Fraction(f) => f as usize,
        };
        if n == 0 {
            total
        } else {
            n.min(total)
        }
    }
}

impl std::str::FromStr for Limit {
    type Err = String;
    /// Like lm-eval's `--limit` (a float): `< 1.0` is a fraction, otherwise a count (truncated).
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(n) = s.parse::<usize>() {
            return Ok(Limit::Count(n));
        }
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= 0.0 => Ok(if f < 1.0 {
                Limit::Fraction(f)
            } else {
                Limit::Count(f as usize)
            }),
            _ => Err(format!(
                "invalid limit `{s}`: expected a count or a fraction below 1.0"
            )),
        }
    }
}

/// Everything about one evaluated doc.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DocRequests {
    /// Index of the doc in the eval split.
    pub doc_id: usize,
    /// The doc after `process_docs`.
    pub doc: Doc,
    /// The rendered prompt (for multiple-input tasks, the first of [`DocRequests::contexts`]); lm-eval
    /// logs `sha256(context)` as `prompt_hash`.
    pub context: String,
    /// Multiple-input tasks (winogrande style): one context per choice. Otherwise just `context`.
    pub contexts: Vec<String>,
    /// The prompt as messages (system = description, then user/assistant turns), for chat templates.
    /// For multiple-input tasks: the shared prefix only.
    pub messages: Vec<Message>,
    /// The requests, in lm-eval's order (`idx` = choice index, then unconditional ones).
    pub instances: Vec<Instance>,
    /// The gold answer as scoring needs it (choice index or indices; `-100` when out of range, as lm-eval).
    pub target: Target,
    /// `doc_to_target(doc)` as lm-eval logs it in `target` (a JSON value: int, string or list).
    pub target_value: Value,
    /// Python `str(target)`: what lm-eval hashes into `target_hash`.
    pub target_string: String,
    /// The choices (Python `str()` of each), for multiple-choice tasks.
    pub choices: Option<Vec<String>>,
    /// Indices (into the few-shot pool after `process_docs`) of the examples in the prompt, in order.
    pub fewshot_ids: Vec<usize>,
}

impl DocRequests {
    /// lm-eval's `doc_hash`: sha256 of `json.dumps(doc, indent=2, ensure_ascii=False)`.
    pub fn doc_hash(&self) -> String {
        yardstick_core::python::json::doc_hash(&self.doc)
    }

    /// lm-eval's `prompt_hash`: sha256 of the first request's context.
    pub fn prompt_hash(&self) -> String {
        let ctx = match self.instances.first().map(|i| &i.args) {
            Some(RequestArgs::Loglikelihood { context, .. })
            | Some(RequestArgs::GenerateUntil { context, .. }) => context,
            Some(RequestArgs::LoglikelihoodRolling { text }) => text,
            None => &self.context,
        };
        yardstick_core::sha256_hex(ctx)
    }

    /// lm-eval's `target_hash`: sha256 of `str(target)`.
    pub fn target_hash(&self) -> String {
        yardstick_core::sha256_hex(&self.target_string)
    }
}

/// A task with its data, ready to render.
#[derive(Debug)]
pub struct PreparedTask {
    config: TaskConfig,
    num_fewshot: usize,
    fewshot_seed: u64,
    eval_split: String,
    eval_docs: Vec<Doc>,
    n_docs: usize,
    fewshot_split: Option<String>,
    fewshot_pool: Vec<Doc>,
    env: JinjaEnv,
    features: HashSet<String>,
    multiple_input: Option<usize>,
    multiple_target: bool,
    data_sources: Vec<String>,
    dataset_hash: String,
    sampler: Sampler,
}

/// Few-shot docs supplied directly (tests, materialised data).
#[derive(Clone, Debug, Default)]
pub struct InMemoryData {
    pub eval_docs: Vec<Doc>,
    /// The few-shot pool after processing (`None`: lm-eval's fallback order cannot be followed, so
    /// few-shot prompts are refused).
    pub fewshot_docs: Option<Vec<Doc>>,
}

fn truthy_field(f: &Option<DocField>) -> bool {
    match f {
        None => false,
        Some(DocField::Text(s)) => !s.is_empty(),
        Some(DocField::Int(i)) => *i != 0,
        Some(DocField::List(l)) => !l.is_empty(),
        Some(DocField::Dict(d)) => !d.is_empty(),
        Some(DocField::Native(_)) => true,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

fn is_int(v: &Value) -> bool {
    matches!(v, Value::Bool(_)) || matches!(v, Value::Number(n) if n.is_i64() || n.is_u64())
}

impl PreparedTask {
    /// Load the task's data through [`crate::data`] and prepare it.
    ///
    /// `num_fewshot` is the CLI `--num_fewshot` (it overrides the YAML unless the YAML says 0);
    /// `fewshot_seed` is lm-eval's `fewshot_random_seed` (1234 by default).
    pub fn prepare(
        config: &TaskConfig,
        data: &DataOptions,
        num_fewshot: Option<usize>,
        fewshot_seed: u64,
        limit: Option<Limit>,
    ) -> Result<PreparedTask> {
        let n_shot = config.effective_num_fewshot(num_fewshot.map(|n| n as u64)) as usize;
        let spec = dataset_spec(config)?;
        let eval_split = config
            .eval_split()
            .ok_or_else(|| TaskError::Task {
                task: config.task.clone(),
                message: "has neither test_split nor validation_split".into(),
            })?
            .to_string();
        let load = |split: &str| -> Result<std::sync::Arc<data::LoadedSplit>> {
            data::load_split_shared(&spec, split, data).map_err(|source| TaskError::Data {
                task: config.task.clone(),
                split: split.to_string(),
                source: Box::new(source),
            })
        };
        let process = |docs: &[Doc],
                       f: Option<&'static crate::functions::BuiltinFunction>,
                       field: &str|
         -> Result<Vec<Doc>> {
            match f {
                None => Ok(docs.to_vec()),
                Some(f) => f.process_docs(docs).map_err(|message| TaskError::Task {
                    task: config.task.clone(),
                    message: format!("{field} (`{}`): {message}", f.name),
                }),
            }
        };
        let eval_loaded = load(&eval_split)?;
        let eval_docs = process(&eval_loaded.docs, config.process_docs, "process_docs")?;
        let mut sources = vec![format!("{eval_split}: {}", eval_loaded.source)];
        let mut hash_input = format!("{eval_split}\t{}\n", eval_loaded.content_hash);

        let mut fewshot_split = None;
        let fewshot_docs = if n_shot == 0 {
            Vec::new()
        } else {
            let fs = &config.fewshot_config;
            if let Some(split) = &fs.split {
                let l = load(split)?;
                sources.push(format!("{split}: {}", l.source));
                hash_input.push_str(&format!("{split}\t{}\n", l.content_hash));
                fewshot_split = Some(split.clone());
                process(&l.docs, fs.process_docs, "fewshot_config.process_docs")?
            } else if let Some(FewshotSamples::List(samples)) = &fs.samples {
                hash_input.push_str(&format!(
                    "samples\t{}\n",
                    yardstick_core::sha256_hex(serde_json::to_vec(samples).unwrap_or_default())
                ));
                samples.clone()
            } else {
                // lm-eval fallback: training, then validation, then test split.
                let split = config
                    .training_split
                    .as_ref()
                    .or(config.validation_split.as_ref())
                    .or(config.test_split.as_ref())
                    .cloned()
                    .ok_or_else(|| TaskError::Task {
                        task: config.task.clone(),
                        message: "no split to draw few-shot examples from".into(),
                    })?;
                let l = load(&split)?;
                if split != eval_split {
                    sources.push(format!("{split}: {}", l.source));
                }
                hash_input.push_str(&format!("{split}\t{}\n", l.content_hash));
                fewshot_split = Some(split);
                process(&l.docs, config.process_docs, "process_docs")?
            }
        };
        let mut p = Self::build(
            config,
            eval_docs,
            fewshot_docs,
            n_shot,
            fewshot_seed,
            limit,
            eval_split,
        )?;
        p.fewshot_split = fewshot_split;
        p.data_sources = sources;
        p.dataset_hash = yardstick_core::sha256_hex(hash_input);
        Ok(p)
    }

    /// Prepare from docs already in memory (already processed): the eval split and the few-shot pool.
    pub fn from_docs(
        config: &TaskConfig,
        data: InMemoryData,
        num_fewshot: Option<usize>,
        fewshot_seed: u64,
        limit: Option<Limit>,
    ) -> Result<PreparedTask> {
        let n_shot = config.effective_num_fewshot(num_fewshot.map(|n| n as u64)) as usize;
        if n_shot > 0 && data.fewshot_docs.is_none() {
            return Err(TaskError::Task {
                task: config.task.clone(),
                message: "few-shot examples requested but no few-shot docs given".into(),
            });
        }
        let hash = yardstick_core::sha256_hex(
            serde_json::to_vec(&(&data.eval_docs, &data.fewshot_docs)).unwrap_or_default(),
        );
        let split = config.eval_split().unwrap_or("test").to_string();
        let mut p = Self::build(
            config,
            data.eval_docs,
            data.fewshot_docs.unwrap_or_default(),
            n_shot,
            fewshot_seed,
            limit,
            split,
        )?;
        p.data_sources = vec!["in-memory docs".into()];
        p.dataset_hash = hash;
        Ok(p)
    }

    fn build(
        config: &TaskConfig,
        eval_docs: Vec<Doc>,
        fewshot_pool: Vec<Doc>,
        num_fewshot: usize,
        fewshot_seed: u64,
        limit: Option<Limit>,
        eval_split: String,
    ) -> Result<PreparedTask> {
        let first = eval_docs.first().ok_or_else(|| TaskError::Task {
            task: config.task.clone(),
            message: format!("the eval split `{eval_split}` has no docs"),
        })?;
        let features: HashSet<String> = first.keys().cloned().collect();
        let mut env = JinjaEnv::new();
        compile_templates(config, &mut env, &features)?;
        let n_docs = limit.map_or(eval_docs.len(), |l| l.resolve(eval_docs.len()));
        let sampler = Sampler::new(
            config.fewshot_config.sampler,
            fewshot_seed,
            config.fewshot_config.fewshot_indices.clone(),
        );
        let mut p = PreparedTask {
            config: config.clone(),
            num_fewshot,
            fewshot_seed,
            eval_split,
            eval_docs,
            n_docs,
            fewshot_split: None,
            fewshot_pool,
            env,
            features,
            multiple_input: None,
            multiple_target: false,
            data_sources: Vec::new(),
            dataset_hash: String::new(),
            sampler,
        };
        // lm-eval probes the first eval doc: an int from doc_to_text means multiple inputs, a list
        // from doc_to_target means multiple targets.
        let first = p.eval_docs[0].clone();
        let ctx = MjValue::from_serialize(&first);
        let r = p.renderer();
        let text = r.doc_to_text(&first, &ctx, config.doc_to_text.as_ref(), "doc_to_text", 0)?;
        let target = r.doc_to_target(
            &first,
            &ctx,
            config.doc_to_target.as_ref(),
            "doc_to_target",
            0,
        )?;
        if config.doc_to_choice.is_some() && is_int(&text) {
            let choices = r.doc_to_choice(
                &first,
                &ctx,
                config.doc_to_choice.as_ref(),
                "doc_to_choice",
                0,
            )?;
            p.multiple_input = Some(choices.len());
        }
        p.multiple_target = target.is_array();
        Ok(p)
    }

    fn renderer(&self) -> Renderer<'_> {
        Renderer {
            cfg: &self.config,
            env: &self.env,
            features: &self.features,
        }
    }

    /// The requests of every evaluated doc, in order (few-shot RNG consumed in this order).
    pub fn docs(&self) -> DocIter<'_> {
        DocIter {
            task: self,
            next: 0,
            sampler: self.sampler.clone(),
        }
    }

    /// All docs at once.
    pub fn all_docs(&self) -> Result<Vec<DocRequests>> {
        self.docs().collect()
    }

    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    pub fn name(&self) -> &str {
        &self.config.task
    }

    /// The number of few-shot examples used (after the CLI / YAML rule).
    pub fn num_fewshot(&self) -> usize {
        self.num_fewshot
    }

    pub fn fewshot_seed(&self) -> u64 {
        self.fewshot_seed
    }

    pub fn output_type(&self) -> OutputType {
        self.config.output_type
    }

    /// Metrics with their aggregation and direction.
    pub fn metrics(&self) -> Vec<ResolvedMetric> {
        self.config.metrics()
    }

    /// Filter pipelines (default `none` = `take_first`).
    pub fn filters(&self) -> Vec<FilterPipeline> {
        self.config.filters()
    }

    /// A native `process_results` to score with instead of the default (e.g. `truthfulqa_mc2`).
    pub fn process_results(&self) -> Option<&'static str> {
        self.config.process_results
    }

    /// Number of choices when the task is multiple-input (winogrande style).
    pub fn multiple_input(&self) -> Option<usize> {
        self.multiple_input
    }

    /// Whether `doc_to_target` returns a list (any of several golds is correct).
    pub fn multiple_target(&self) -> bool {
        self.multiple_target
    }

    /// Docs in the eval split (lm-eval `n-samples.original`).
    pub fn n_docs_total(&self) -> usize {
        self.eval_docs.len()
    }

    /// Docs evaluated after `--limit` (lm-eval `n-samples.effective`).
    pub fn n_docs(&self) -> usize {
        self.n_docs
    }

    pub fn eval_split(&self) -> &str {
        &self.eval_split
    }

    pub fn fewshot_split(&self) -> Option<&str> {
        self.fewshot_split.as_deref()
    }

    /// The processed eval docs (all of them, before the limit).
    pub fn eval_docs(&self) -> &[Doc] {
        &self.eval_docs
    }

    /// The few-shot pool (`fewshot_ids` index into it).
    pub fn fewshot_pool(&self) -> &[Doc] {
        &self.fewshot_pool
    }

    /// Where the data came from (one line per split).
    pub fn data_sources(&self) -> &[String] {
        &self.data_sources
    }

    /// sha256 over the content hashes of the splits used (eval, few-shot).
    pub fn dataset_hash(&self) -> &str {
        &self.dataset_hash
    }

    /// sha256 of the resolved config as run: the `configs` dump with the effective `num_fewshot` (without
    /// `config_source`), plus the few-shot seed.
    pub fn task_hash(&self) -> String {
        let mut v = self.config.to_lm_eval_dict(Some(self.num_fewshot as u64));
        if let Some(Value::Object(m)) = v.get_mut("metadata") {
            m.remove("config_source");
        }
        let payload = serde_json::json!({"config": v, "fewshot_seed": self.fewshot_seed});
        yardstick_core::sha256_hex(serde_json::to_vec(&payload).unwrap_or_default())
    }

    fn build_doc(&self, doc_id: usize, doc: &Doc, sampler: &mut Sampler) -> Result<DocRequests> {
        let cfg = &self.config;
        let fs = &cfg.fewshot_config;
        let r = self.renderer();
        let ctx = MjValue::from_serialize(doc);
        let doc_err = |field: &str, message: String| TaskError::Doc {
            task: cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message,
        };

        let mut messages: Vec<Message> = Vec::new();
        let description =
            r.resolve_field_in_doc(doc, &ctx, Some(&cfg.description), "description", doc_id)?;
        if let Some(d) = description.filter(|d| !d.is_empty()) {
            messages.push(Message::new(Role::System, d, ""));
        }

        let mut fewshot_ids = Vec::new();
        if self.num_fewshot > 0 {
            let eval_doc = if fs.split == cfg.test_split {
                Some(doc)
            } else {
                None
            };
            fewshot_ids = sampler
                .sample(self.num_fewshot, &self.fewshot_pool, eval_doc)
                .map_err(|e| TaskError::Task {
                    task: cfg.task.clone(),
                    message: format!("few-shot sampling for doc {doc_id}: {e}"),
                })?;
            for &i in &fewshot_ids {
                let shot = &self.fewshot_pool[i];
                let sctx = MjValue::from_serialize(shot);
                let shot_err = |field: &str, message: String| {
                    doc_err(field, format!("few-shot example {i}: {message}"))
                };
                let q = r.doc_to_text(
                    shot,
                    &sctx,
                    fs.doc_to_text.as_ref(),
                    "fewshot_config.doc_to_text",
                    doc_id,
                )?;
                let mut c = if truthy_field(&fs.doc_to_choice) {
                    Some(r.doc_to_choice(
                        shot,
                        &sctx,
                        fs.doc_to_choice.as_ref(),
                        "fewshot_config.doc_to_choice",
                        doc_id,
                    )?)
                } else {
                    None
                };
                let a = r.doc_to_target(
                    shot,
                    &sctx,
                    fs.doc_to_target.as_ref(),
                    "fewshot_config.doc_to_target",
                    doc_id,
                )?;
                let gen_prefix = r.resolve_field_in_doc(
                    shot,
                    &sctx,
                    fs.gen_prefix.as_ref(),
                    "fewshot_config.gen_prefix",
                    doc_id,
                )?;
                let q: String = if self.multiple_input.is_some() {
                    let choices = c.take().ok_or_else(|| {
                        shot_err("doc_to_choice", "multiple inputs require choices".into())
                    })?;
                    let idx = as_int(&q).ok_or_else(|| {
                        shot_err(
                            "doc_to_text",
                            format!("expected a choice index, got {}", pyvalue::repr(&q)),
                        )
                    })?;
                    match py_index(&choices, idx) {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => {
                            return Err(shot_err(
                                "doc_to_choice",
                                format!("choice is not a string: {}", pyvalue::repr(other)),
                            ))
                        }
                        None => {
                            return Err(shot_err(
                                "doc_to_text",
                                format!("choice index {idx} out of range"),
                            ))
                        }
                    }
                } else {
                    match q {
                        Value::String(s) => s,
                        other => {
                            return Err(shot_err(
                                "doc_to_text",
                                format!("Context is not a string! : {}", pyvalue::repr(&other)),
                            ))
                        }
                    }
                };
                let has_answer = !a.is_null() && a != Value::String(String::new());
                let answer = if has_answer {
                    let text = match (&c, &a) {
                        (Some(choices), a) if !choices.is_empty() && is_int(a) => {
                            let idx = as_int(a).unwrap_or_default();
                            py_index(choices, idx).cloned().ok_or_else(|| {
                                shot_err(
                                    "doc_to_target",
                                    format!(
                                        "gold index {idx} out of range for {} choices",
                                        choices.len()
                                    ),
                                )
                            })?
                        }
                        (_, Value::Array(items)) => items.first().cloned().ok_or_else(|| {
                            shot_err("doc_to_target", "empty list of targets".into())
                        })?,
                        (_, a) => a.clone(),
                    };
                    match text {
                        Value::String(s) => Some(s),
                        other => {
                            return Err(shot_err(
                                "doc_to_target",
                                format!("Answer is not a string! : {}", pyvalue::repr(&other)),
                            ))
                        }
                    }
                } else {
                    None
                };
                messages.extend(build_qa_turn(
                    &q,
                    answer.as_deref(),
                    gen_prefix.as_deref(),
                    &fs.target_delimiter,
                    &fs.fewshot_delimiter,
                ));
            }
        }

        let q = r.doc_to_text(doc, &ctx, cfg.doc_to_text.as_ref(), "doc_to_text", doc_id)?;
        let choices_raw = if cfg.doc_to_choice.is_some() {
            Some(r.doc_to_choice(
                doc,
                &ctx,
                cfg.doc_to_choice.as_ref(),
                "doc_to_choice",
                doc_id,
            )?)
        } else {
            None
        };
        let gen_prefix = r.doc_to_prefix(doc, &ctx, doc_id)?;
        let contexts: Vec<String> = if self.multiple_input.is_some() {
            let choices = choices_raw.as_ref().ok_or_else(|| {
                doc_err("doc_to_choice", "multiple inputs require choices".into())
            })?;
            choices
                .iter()
                .map(|c| {
                    let c = match c {
                        Value::String(s) => s.clone(),
                        other => {
                            return Err(doc_err(
                                "doc_to_choice",
                                format!("Context is not a string! : {}", pyvalue::repr(other)),
                            ))
                        }
                    };
                    let mut m = messages.clone();
                    m.extend(build_qa_turn(&c, None, gen_prefix.as_deref(), "", ""));
                    Ok(render_plain(&m))
                })
                .collect::<Result<_>>()?
        } else {
            let q = match &q {
                Value::String(s) => s.clone(),
                other => {
                    return Err(doc_err(
                        "doc_to_text",
                        format!("Context is not a string! : {}", pyvalue::repr(other)),
                    ))
                }
            };
            messages.extend(build_qa_turn(
                &q,
                None,
                gen_prefix.as_deref(),
                &cfg.target_delimiter,
                "",
            ));
            vec![render_plain(&messages)]
        };
        let context = contexts.first().cloned().unwrap_or_default();

        let target_value = r.doc_to_target(
            doc,
            &ctx,
            cfg.doc_to_target.as_ref(),
            "doc_to_target",
            doc_id,
        )?;
        let target_string = pyvalue::to_str(&target_value);
        let td = &cfg.target_delimiter;
        let repeats = cfg.repeats;
        let mut instances = Vec::new();
        let mut push = |args: RequestArgs| {
            let idx = instances.len();
            instances.push(Instance {
                doc_id,
                idx,
                args,
                repeats,
            });
        };
        let choices_str: Option<Vec<String>> = choices_raw
            .as_ref()
            .map(|c| c.iter().map(pyvalue::to_str).collect());
        let target = match cfg.output_type {
            OutputType::MultipleChoice => {
                let choices = choices_str.clone().ok_or_else(|| {
                    doc_err(
                        "doc_to_choice",
                        "multiple_choice tasks need doc_to_choice".into(),
                    )
                })?;
                if self.multiple_input.is_some() {
                    for c in &contexts {
                        push(RequestArgs::Loglikelihood {
                            context: c.clone(),
                            continuation: format!("{td}{target_string}"),
                        });
                    }
                } else {
                    for c in &choices {
                        push(RequestArgs::Loglikelihood {
                            context: context.clone(),
                            continuation: format!("{td}{c}"),
                        });
                    }
                }
                if cfg.uses_mutual_info() {
                    for c in &choices {
                        push(RequestArgs::Loglikelihood {
                            context: String::new(),
                            continuation: format!("{td}{c}"),
                        });
                    }
                }
                let gold = if self.multiple_input.is_some() {
                    q.clone()
                } else {
                    target_value.clone()
                };
                mc_gold(&gold, choices_raw.as_deref().unwrap_or_default())
                    .map_err(|m| doc_err("doc_to_target", m))?
            }
            OutputType::Loglikelihood => {
                let cont = match &target_value {
                    Value::String(s) => s.clone(),
                    other => {
                        return Err(doc_err(
                            "doc_to_target",
                            format!(
                                "the continuation must be a string, got {}",
                                pyvalue::repr(other)
                            ),
                        ))
                    }
                };
                push(RequestArgs::Loglikelihood {
                    context: context.clone(),
                    continuation: cont.clone(),
                });
                Target::Text(cont)
            }
            OutputType::LoglikelihoodRolling => {
                let text = match &target_value {
                    Value::String(s) => s.clone(),
                    other => {
                        return Err(doc_err(
                            "doc_to_target",
                            format!("the text must be a string, got {}", pyvalue::repr(other)),
                        ))
                    }
                };
                push(RequestArgs::LoglikelihoodRolling { text: text.clone() });
                Target::Text(text)
            }
            OutputType::GenerateUntil => {
                let params = cfg
                    .generation_params()
                    .unwrap_or_else(|| crate::config::normalize_gen_kwargs(&Default::default()));
                push(RequestArgs::GenerateUntil {
                    context: context.clone(),
                    params,
                });
                if let Some(choices) = &choices_raw {
                    let idx = as_int(&target_value).ok_or_else(|| {
                        doc_err(
                            "doc_to_target",
                            "with doc_to_choice, doc_to_target must be a choice index".into(),
                        )
                    })?;
                    let gold = py_index(choices, idx).ok_or_else(|| {
                        doc_err("doc_to_target", format!("gold index {idx} out of range"))
                    })?;
                    Target::Text(pyvalue::to_str(gold))
                } else if self.multiple_target {
                    match &target_value {
                        Value::Array(items) => {
                            Target::Texts(items.iter().map(pyvalue::to_str).collect())
                        }
                        other => Target::Texts(vec![pyvalue::to_str(other)]),
                    }
                } else {
                    Target::Text(target_string.clone())
                }
            }
        };
        Ok(DocRequests {
            doc_id,
            doc: doc.clone(),
            context,
            contexts,
            messages,
            instances,
            target,
            target_value,
            target_string,
            choices: if cfg.output_type == OutputType::MultipleChoice {
                choices_str
            } else {
                None
            },
            fewshot_ids,
        })
    }
}

/// lm-eval's multiple-choice gold: an int (out of range → -100), a str looked up in the choices
/// (missing → -100), or a list of ints (multiple targets).
fn mc_gold(gold: &Value, choices: &[Value]) -> std::result::Result<Target, String> {
    let n = choices.len() as i64;
    match gold {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                as_int(i)
                    .map(|i| if i < n { i } else { -100 })
                    .ok_or_else(|| format!("gold list item {} is not an index", pyvalue::repr(i)))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Target::Indices),
        Value::String(s) => Ok(Target::Index(
            choices
                .iter()
                .position(|c| c.as_str() == Some(s))
                .map_or(-100, |p| p as i64),
        )),
        other => match as_int(other) {
            Some(i) => Ok(Target::Index(if i < n { i } else { -100 })),
            None => Err(format!(
                "gold {} is neither an index, a choice nor a list",
                pyvalue::repr(other)
            )),
        },
    }
}

fn compile_templates(
    cfg: &TaskConfig,
    env: &mut JinjaEnv,
    features: &HashSet<String>,
) -> Result<()> {
    let fs = &cfg.fewshot_config;
    let mut fields: Vec<(&str, &str)> = vec![("description", cfg.description.as_str())];
    for (name, f) in [
        ("doc_to_text", &cfg.doc_to_text),
        ("doc_to_target", &cfg.doc_to_target),
        ("doc_to_choice", &cfg.doc_to_choice),
        ("fewshot_config.doc_to_text", &fs.doc_to_text),
        ("fewshot_config.doc_to_target", &fs.doc_to_target),
        ("fewshot_config.doc_to_choice", &fs.doc_to_choice),
    ] {
        if let Some(DocField::Text(t)) = f {
            fields.push((name, t));
        }
    }
    if let Some(g) = &cfg.gen_prefix {
        fields.push(("gen_prefix", g));
    }
    if let Some(g) = &fs.gen_prefix {
        fields.push(("fewshot_config.gen_prefix", g));
    }
    for (field, template) in fields {
        if features.contains(template) {
            continue;
        }
        env.compile(template)
            .map_err(|e| template_error(cfg, field, template, None, &e))?;
    }
    Ok(())
}

fn template_error(
    cfg: &TaskConfig,
    field: &str,
    template: &str,
    doc_id: Option<usize>,
    e: &minijinja::Error,
) -> TaskError {
    let top = field.split('.').next().unwrap_or(field);
    let path = cfg
        .field_origins
        .get(top)
        .map(SourcePath::display)
        .unwrap_or_else(|| cfg.config_source.clone());
    let mut message = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        message.push_str(&format!(": {s}"));
        src = s.source();
    }
    TaskError::Template {
        path,
        field: field.to_string(),
        template: template.to_string(),
        doc_id,
        message,
    }
}

/// Evaluates the `doc_to_*` fields of one task (reference §1.3).
struct Renderer<'a> {
    cfg: &'a TaskConfig,
    env: &'a JinjaEnv,
    /// The eval split's columns (lm-eval `self.features`).
    features: &'a HashSet<String>,
}

impl Renderer<'_> {
    fn render(&self, field: &str, template: &str, ctx: &MjValue, doc_id: usize) -> Result<String> {
        self.env
            .render_compiled(template, ctx)
            .map_err(|e| template_error(self.cfg, field, template, Some(doc_id), &e))
    }

    fn column(&self, doc: &Doc, field: &str, name: &str, doc_id: usize) -> Result<Value> {
        doc.get(name).cloned().ok_or_else(|| TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("the doc has no column `{name}`"),
        })
    }

    fn native(
        &self,
        doc: &Doc,
        f: &crate::functions::BuiltinFunction,
        field: &str,
        doc_id: usize,
    ) -> Result<Value> {
        f.doc_to(doc).map_err(|m| TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("`{}`: {m}", f.name),
        })
    }

    fn literal(&self, field: &str, rendered: &str, doc_id: usize) -> Result<Value> {
        pyvalue::literal_eval(rendered).map_err(|e| TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("ast.literal_eval of the rendered template failed: {e}"),
        })
    }

    fn unsupported(&self, field: &str, doc_id: usize, what: &str) -> TaskError {
        TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("{what} is not supported here"),
        }
    }

    fn doc_to_text(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        f: Option<&DocField>,
        field: &str,
        doc_id: usize,
    ) -> Result<Value> {
        match f {
            None => Err(self.unsupported(field, doc_id, "a missing doc_to_text")),
            Some(DocField::Int(i)) => Ok(Value::from(*i)),
            Some(DocField::Text(t)) if self.features.contains(t) => {
                self.column(doc, field, t, doc_id)
            }
            Some(DocField::Text(t)) => {
                let s = self.render(field, t, ctx, doc_id)?;
                if yardstick_core::python::text::isdigit(&s) && self.cfg.doc_to_choice.is_some() {
                    self.literal(field, &s, doc_id)
                } else {
                    Ok(Value::String(s))
                }
            }
            Some(DocField::Native(n)) => self.native(doc, n, field, doc_id),
            Some(DocField::List(_)) | Some(DocField::Dict(_)) => {
                Err(self.unsupported(field, doc_id, "a list or dict doc_to_text"))
            }
        }
    }

    fn doc_to_target(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        f: Option<&DocField>,
        field: &str,
        doc_id: usize,
    ) -> Result<Value> {
        match f {
            None => Err(self.unsupported(field, doc_id, "a missing doc_to_target")),
            Some(DocField::Int(i)) => Ok(Value::from(*i)),
            Some(DocField::Text(t)) if self.features.contains(t) => {
                self.column(doc, field, t, doc_id)
            }
            Some(DocField::Text(t)) => {
                let s = self.render(field, t, ctx, doc_id)?;
                if yardstick_core::python::text::isdigit(&s) && self.cfg.doc_to_choice.is_some() {
                    self.literal(field, &s, doc_id)
                } else if s.chars().count() >= 2 && s.starts_with('[') && s.ends_with(']') {
                    Ok(pyvalue::literal_eval(&s).unwrap_or(Value::String(s)))
                } else {
                    Ok(Value::String(s))
                }
            }
            Some(DocField::List(l)) => Ok(Value::Array(l.clone())),
            Some(DocField::Native(n)) => self.native(doc, n, field, doc_id),
            Some(DocField::Dict(_)) => Err(self.unsupported(field, doc_id, "a dict doc_to_target")),
        }
    }

    fn doc_to_choice(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        f: Option<&DocField>,
        field: &str,
        doc_id: usize,
    ) -> Result<Vec<Value>> {
        let v = match f {
            None => return Err(self.unsupported(field, doc_id, "a missing doc_to_choice")),
            Some(DocField::Text(t)) if self.features.contains(t) => {
                self.column(doc, field, t, doc_id)?
            }
            Some(DocField::Text(t)) => {
                let s = self.render(field, t, ctx, doc_id)?;
                self.literal(field, &s, doc_id)?
            }
            Some(DocField::List(l)) => Value::Array(l.clone()),
            Some(DocField::Dict(d)) => Value::Array(d.values().cloned().collect()),
            Some(DocField::Native(n)) => self.native(doc, n, field, doc_id)?,
            Some(DocField::Int(_)) => {
                return Err(self.unsupported(field, doc_id, "an int doc_to_choice"))
            }
        };
        match v {
            Value::Array(items) => Ok(items),
            other => Err(TaskError::Doc {
                task: self.cfg.task.clone(),
                doc_id,
                field: field.to_string(),
                message: format!(
                    "doc_to_choice must return a list, got {}",
                    pyvalue::repr(&other)
                ),
            }),
        }
    }

    /// lm-eval `resolve_field`: nothing for an empty field, the doc's value if the field names one of
    /// this doc's keys, else the rendered template.
    fn resolve_field_in_doc(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        field_value: Option<&String>,
        field: &str,
        doc_id: usize,
    ) -> Result<Option<String>> {
        match field_value {
            None => Ok(None),
            Some(f) if f.is_empty() => Ok(None),
            Some(f) => match doc.get(f) {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Ok(Some(pyvalue::to_str(other))),
                None => self.render(field, f, ctx, doc_id).map(Some),
            },
        }
    }

    /// lm-eval `doc_to_prefix`: the gen_prefix column (by the eval features) or rendered template.
    fn doc_to_prefix(&self, doc: &Doc, ctx: &MjValue, doc_id: usize) -> Result<Option<String>> {
        match &self.cfg.gen_prefix {
            None => Ok(None),
            Some(g) if self.features.contains(g) => Ok(Some(pyvalue::to_str(&self.column(
                doc,
                "gen_prefix",
                g,
                doc_id,
            )?))),
            Some(g) if g.is_empty() => Ok(Some(String::new())),
            Some(g) => self.render("gen_prefix", g, ctx, doc_id).map(Some),
        }
    }
}

/// Iterator over a prepared task's docs; owns the few-shot RNG state.
pub struct DocIter<'a> {
    task: &'a PreparedTask,
    next: usize,
    sampler: Sampler,
}

impl Iterator for DocIter<'_> {
    type Item = Result<DocRequests>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.task.n_docs {
            return None;
        }
        let id = self.next;
        self.next += 1;
        Some(
            self.task
                .build_doc(id, &self.task.eval_docs[id], &mut self.sampler),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.task.n_docs - self.next;
        (left, Some(left))
    }
}

/// The dataset spec lm-eval would pass to `datasets.load_dataset`.
pub fn dataset_spec(cfg: &TaskConfig) -> Result<DatasetSpec> {
    let path = cfg.dataset_path.clone().ok_or_else(|| TaskError::Task {
        task: cfg.task.clone(),
        message: "no dataset_path".into(),
    })?;
    let kw = cfg.dataset_kwargs.clone().unwrap_or_default();
    let str_kw = |k: &str| kw.get(k).and_then(Value::as_str).map(str::to_string);
    let base_dir = cfg
        .field_origins
        .get("dataset_kwargs")
        .or_else(|| cfg.field_origins.get("dataset_path"))
        .and_then(SourcePath::base_dir);
    Ok(DatasetSpec {
        path,
        name: cfg.dataset_name.clone(),
        data_files: kw.get("data_files").cloned(),
        data_dir: str_kw("data_dir"),
        revision: str_kw("revision"),
        base_dir,
    })
}
