//! What a run computes, decided before a model is contacted: the options, the resolved task selection and
//! a pre-flight check of every task (YAML, data, templates, the first document rendered).

use super::EvalError;
use std::path::PathBuf;
use std::time::Instant;
use yardstick_core::OutputType;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{Limit, PreparedTask, PromptFormat, Selection, TaskConfig, TaskIndex};

/// Everything that decides what a run computes (and so its run id), plus where results go.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    pub tasks: Vec<String>,
    pub include_paths: Vec<PathBuf>,
    pub data: DataOptions,
    pub num_fewshot: Option<usize>,
    pub limit: Option<Limit>,
    pub fewshot_seed: u64,
    pub concurrency: usize,
    pub output_dir: Option<PathBuf>,
    pub bootstrap_iters: i64,
    /// The command line, stored so an interrupted run can be resumed by running it again.
    pub command_line: String,
    /// Yardstick's git revision (build time), recorded with the run.
    pub git_rev: Option<String>,
    /// `model_args` as lm-eval would show them, for the results file's `config` block.
    pub model_args: String,
    /// Plain prompts, or through a chat template; a system instruction.
    pub format: PromptFormat,
    /// How tasks that run model-written code (humaneval, mbpp) run it.
    pub code_exec: super::code_exec::CodeExecOptions,
    /// A whole run, one shard of a plan, or a plan finalised from the ledger.
    pub mode: super::sharding::RunMode,
}

/// The run's tasks, resolved and checked before a model is contacted: each task's data loaded, its
/// templates compiled and its first document rendered. Tasks are not kept prepared: each is prepared again
/// when its turn comes, so that only the tasks in flight are held in memory.
pub struct PreparedRun {
    pub selection: Selection,
    pub configs: Vec<TaskConfig>,
    pub tasks: Vec<TaskSummary>,
    pub prepare_seconds: f64,
}

/// What the pre-flight pass learned about one task.
#[derive(Clone, Debug)]
pub struct TaskSummary {
    pub name: String,
    pub output_type: OutputType,
    pub version: Option<String>,
    pub num_fewshot: usize,
    pub task_hash: String,
    pub dataset_hash: String,
    /// Documents evaluated (after `--limit`).
    pub n_docs: usize,
    /// Requests of the first document (an estimate of the task's size: `n_docs` × this).
    pub first_doc_requests: usize,
    /// The first document's prompt (for the tokenizer agreement probe).
    pub first_context: Option<String>,
    /// lm-eval's `configs` entry.
    pub config: serde_json::Value,
}

impl TaskSummary {
    /// Requests of this task, estimated from its first document.
    pub fn estimated_requests(&self) -> u64 {
        (self.n_docs * self.first_doc_requests) as u64
    }
}

impl PreparedRun {
    /// Documents to evaluate, all tasks.
    pub fn n_docs(&self) -> usize {
        self.tasks.iter().map(|t| t.n_docs).sum()
    }

    /// Requests, estimated from each task's first document (exact for tasks whose documents all have the
    /// same number of choices, as MMLU's).
    pub fn estimated_requests(&self) -> usize {
        self.tasks
            .iter()
            .map(|t| t.estimated_requests() as usize)
            .sum()
    }

    /// Sample prompt texts (first doc of each task) for the tokenizer agreement probe.
    pub fn probe_texts(&self, max: usize) -> Vec<String> {
        self.tasks
            .iter()
            .filter_map(|t| t.first_context.clone())
            .take(max)
            .collect()
    }

    /// The run id: a hash of the model fingerprint and everything that decides what the run computes, so
    /// the same command on the same model resumes the same run.
    pub fn run_id(&self, fingerprint: &str, opts: &EvalOptions) -> String {
        let tasks: Vec<_> = self
            .tasks
            .iter()
            .map(|t| serde_json::json!([t.name, t.task_hash, t.dataset_hash, t.n_docs]))
            .collect();
        let limit = opts.limit.map(|l| format!("{l:?}"));
        let ident = serde_json::json!({
            "model": fingerprint, "tasks": opts.tasks, "num_fewshot": opts.num_fewshot, "limit": limit,
            "fewshot_seed": opts.fewshot_seed, "resolved": tasks,
        });
        let mut ident = ident;
        if let Some(f) = format_ident(&opts.format) {
            ident["format"] = f;
        }
        yardstick_core::sha256_hex(ident.to_string())[..16].to_string()
    }
}

/// What of the prompt format changes prompts (none for plain prompts, so plain run ids stay as they were).
fn format_ident(format: &PromptFormat) -> Option<serde_json::Value> {
    use yardstick_tasks::ChatRenderer;
    if format.system_instruction.is_none() && format.chat.is_none() {
        return None;
    }
    let chat = format.chat.as_ref().map(|c| {
        let renderer = match &c.renderer {
            ChatRenderer::Template(t) => serde_json::json!({"template_sha256": t.sha256()}),
            ChatRenderer::Messages => serde_json::json!("messages"),
        };
        serde_json::json!({"renderer": renderer, "fewshot_as_multiturn": c.fewshot_as_multiturn})
    });
    Some(serde_json::json!({"system_instruction": format.system_instruction, "chat": chat}))
}

/// Resolve task names and check every leaf task: YAML, data, templates, the first document (fails fast on
/// unknown tasks, bad YAML, missing data).
pub fn prepare(opts: &EvalOptions) -> Result<PreparedRun, EvalError> {
    let start = Instant::now();
    let index = TaskIndex::load(&opts.include_paths)?;
    let selection = index.resolve(&opts.tasks)?;
    let configs: Vec<TaskConfig> = selection.tasks().into_iter().cloned().collect();
    let mut tasks = Vec::with_capacity(configs.len());
    for cfg in &configs {
        tasks.push(summarise(&prepare_task(cfg, opts)?)?);
    }
    Ok(PreparedRun {
        selection,
        configs,
        tasks,
        prepare_seconds: start.elapsed().as_secs_f64(),
    })
}

fn summarise(task: &PreparedTask) -> Result<TaskSummary, EvalError> {
    let first = task.docs().next().transpose()?;
    Ok(TaskSummary {
        name: task.name().to_string(),
        output_type: task.output_type(),
        version: task.config().metadata.get("version").map(|v| v.to_string()),
        num_fewshot: task.num_fewshot(),
        task_hash: task.task_hash(),
        dataset_hash: task.dataset_hash().to_string(),
        n_docs: task.n_docs(),
        first_doc_requests: first.as_ref().map_or(0, |d| d.instances.len()),
        first_context: first.map(|d| d.context),
        config: task
            .config()
            .to_lm_eval_dict(Some(task.num_fewshot() as u64)),
    })
}

/// Prepare one task under the run's options (data, few-shot, limit).
pub(crate) fn prepare_task(
    cfg: &TaskConfig,
    opts: &EvalOptions,
) -> Result<PreparedTask, EvalError> {
    Ok(PreparedTask::prepare(
        cfg,
        &opts.data,
        opts.num_fewshot,
        opts.fewshot_seed,
        opts.limit,
    )?
    .with_format(opts.format.clone()))
}
