//! A task ready to produce requests: data loaded and processed, templates compiled, few-shot pool and
//! sampler set up. [`PreparedTask::docs`] then yields, for each evaluated doc in order, its prompt, its
//! requests, its gold target and the few-shot examples used — exactly as lm-eval 0.4.13's
//! `ConfigurableTask.fewshot_context` + `construct_requests` would (plain text, no chat template).
//!
//! Along lm-eval's own seams: `render` evaluates the `doc_to_*` fields; `fewshot` draws and renders
//! the few-shot turns (`ContextSampler`); `context` assembles the contexts (`fewshot_context`);
//! `requests` builds the instances and gold target (`construct_requests`); `limit` parses `--limit`.

mod context;
mod fewshot;
mod limit;
mod render;
mod requests;

use std::collections::HashSet;

use minijinja::value::Value as MjValue;
use serde_json::Value;
use yardstick_core::{Doc, Instance, OutputType, RequestArgs, Target};

use crate::config::{FewshotSamples, FilterPipeline, ResolvedMetric, TaskConfig};
use crate::data::{self, DataOptions, DatasetSpec};
use crate::error::{Result, TaskError};
use crate::jinja::JinjaEnv;
use crate::prompt::Message;
use crate::pyvalue;
use crate::sampler::Sampler;
use crate::yaml::SourcePath;
pub use limit::{Limit, LimitError};
use render::{compile_templates, is_int, Renderer};
use requests::DocParts;

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

/// How prompts are rendered: plain text (lm-eval's default) or through the model's chat template
/// (`--apply_chat_template`), with an optional system instruction before the task's description.
#[derive(Clone, Debug, Default)]
pub struct PromptFormat {
    /// lm-eval's `--system_instruction`: joined to the description with the few-shot delimiter into the
    /// system message.
    pub system_instruction: Option<String>,
    pub chat: Option<ChatFormat>,
}

/// How chat messages become the prompt.
#[derive(Clone, Debug)]
pub enum ChatRenderer {
    /// Through the model's chat template, rendered here (a completions endpoint gets the text).
    Template(std::sync::Arc<crate::chat_template::ChatTemplate>),
    /// As the message list itself, JSON-encoded like lm-eval's `JsonChatStr`
    /// (`json.dumps(messages, ensure_ascii=False)`), for a chat completions endpoint.
    Messages,
}

/// A chat rendering and how few-shot examples go through it.
#[derive(Clone, Debug)]
pub struct ChatFormat {
    pub renderer: ChatRenderer,
    /// Few-shot examples as separate user/assistant turns (lm-eval's default with a chat template);
    /// otherwise everything but the system message is collapsed into one user message.
    pub fewshot_as_multiturn: bool,
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
    format: PromptFormat,
}

/// Few-shot docs supplied directly (tests, materialised data).
#[derive(Clone, Debug, Default)]
pub struct InMemoryData {
    pub eval_docs: Vec<Doc>,
    /// The few-shot pool after processing (`None`: lm-eval's fallback order cannot be followed, so
    /// few-shot prompts are refused).
    pub fewshot_docs: Option<Vec<Doc>>,
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
            } else if let Some(samples) = &fs.samples {
                let samples = match samples {
                    FewshotSamples::List(list) => list.clone(),
                    FewshotSamples::Native(f) => {
                        f.fewshot_samples().map_err(|message| TaskError::Task {
                            task: config.task.clone(),
                            message: format!("fewshot_config.samples (`{}`): {message}", f.name),
                        })?
                    }
                };
                hash_input.push_str(&format!(
                    "samples\t{}\n",
                    yardstick_core::sha256_hex(serde_json::to_vec(&samples).unwrap_or_default())
                ));
                samples
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
        crate::functions::warn_metrics_not_computed(config);
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
            format: PromptFormat::default(),
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

    /// Render prompts under `format` (a chat template, a system instruction) instead of plain text.
    pub fn with_format(mut self, format: PromptFormat) -> Self {
        self.format = format;
        self
    }

    /// The prompt format this task renders with.
    pub fn format(&self) -> &PromptFormat {
        &self.format
    }

    /// Everything about doc `doc_id`: its few-shot turns, contexts, requests and gold target.
    fn build_doc(&self, doc_id: usize, doc: &Doc, sampler: &mut Sampler) -> Result<DocRequests> {
        let cfg = &self.config;
        let r = self.renderer();
        let ctx = MjValue::from_serialize(doc);
        let mut messages = self.description_turn(&r, doc, &ctx, doc_id)?;
        let fewshot_ids = self.fewshot_turns(doc_id, doc, sampler, &mut messages)?;

        let text = r.doc_to_text(doc, &ctx, cfg.doc_to_text.as_ref(), "doc_to_text", doc_id)?;
        let choices = match cfg.doc_to_choice {
            Some(_) => Some(r.doc_to_choice(
                doc,
                &ctx,
                cfg.doc_to_choice.as_ref(),
                "doc_to_choice",
                doc_id,
            )?),
            None => None,
        };
        let gen_prefix = r.doc_to_prefix(doc, &ctx, doc_id)?;
        let contexts = self.contexts(
            doc_id,
            &mut messages,
            &text,
            choices.as_deref(),
            gen_prefix.as_deref(),
        )?;
        let context = contexts.first().cloned().unwrap_or_default();

        let target_value = r.doc_to_target(
            doc,
            &ctx,
            cfg.doc_to_target.as_ref(),
            "doc_to_target",
            doc_id,
        )?;
        let target_string = pyvalue::to_str(&target_value);
        let choice_strings: Option<Vec<String>> = choices
            .as_ref()
            .map(|c| c.iter().map(pyvalue::to_str).collect());
        let (args, target) = self.requests(&DocParts {
            doc_id,
            context: &context,
            contexts: &contexts,
            text: &text,
            choices: choices.as_deref(),
            choice_strings: choice_strings.as_deref(),
            target_value: &target_value,
            target_string: &target_string,
        })?;
        let instances = args
            .into_iter()
            .enumerate()
            .map(|(idx, args)| Instance {
                doc_id,
                idx,
                args,
                repeats: cfg.repeats,
            })
            .collect();
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
                choice_strings
            } else {
                None
            },
            fewshot_ids,
        })
    }

    /// An error about a field of doc `doc_id`.
    pub(super) fn doc_error(&self, doc_id: usize, field: &str, message: String) -> TaskError {
        TaskError::Doc {
            task: self.config.task.clone(),
            doc_id,
            field: field.to_string(),
            message,
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
