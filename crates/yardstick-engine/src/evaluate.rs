//! One evaluation, end to end: resolve and prepare the tasks, tokenise every request, look each one up in
//! the ledger by its request key, send only what is missing (requests sharing a context as one unit),
//! persist each response as it arrives, then score, aggregate, store and write lm-eval-compatible output.

use crate::ledger_writer::LedgerWriter;
use crate::output::{self, PyJson, Resp};
use crate::schedule::{self, Dispatcher, Progress, Scored, Unit, UnitMember};
use crate::scoring::{
    self, aggregate::RawMetric, groups::GroupChild, Aggregation, GroupAggMetric, GroupNode,
    MultipleChoiceInput, NumericEnv, RollingInput,
};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use yardstick_backends::{Backend, ProbeReport};
use yardstick_core::{LoglikelihoodResult, OutputType, RequestArgs, RequestKey, Target};
use yardstick_store::ledger::{
    AggregateRecord, RunRecord, RunTaskRecord, SampleRecord as StoredSample,
};
use yardstick_store::Store;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{
    DocRequests, Limit, PreparedTask, Selection, SelectionNode, TaskConfig, TaskIndex,
};

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
    pub store_path: PathBuf,
    pub output_dir: Option<PathBuf>,
    pub bootstrap_iters: i64,
    /// The command line, stored so an interrupted run can be resumed by running it again.
    pub command_line: String,
    /// Yardstick's git revision (build time), recorded with the run.
    pub git_rev: Option<String>,
    /// `model_args` as lm-eval would show them, for the results file's `config` block.
    pub model_args: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Task(#[from] yardstick_tasks::TaskError),
    #[error(transparent)]
    Store(#[from] yardstick_store::StoreError),
    #[error(transparent)]
    Backend(#[from] yardstick_backends::BackendError),
    #[error(transparent)]
    Tokenizer(#[from] yardstick_backends::TokenizerError),
    #[error(transparent)]
    Exec(#[from] schedule::ExecError),
    #[error("scoring task {task}: {source}")]
    Scoring {
        task: String,
        source: scoring::ScoringError,
    },
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error("{0}")]
    Unsupported(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The run's tasks, resolved and checked before a model is contacted: each task's data loaded, its
/// templates compiled and its first document rendered. Tasks are not kept prepared: each is prepared again
/// when its turn comes in [`evaluate`], so that only the tasks in flight are held in memory.
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
            .map(|t| t.n_docs * t.first_doc_requests)
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
        if cfg.output_type == OutputType::GenerateUntil {
            return Err(EvalError::Unsupported(format!(
                "task {} is a generate_until task: generation tasks are not supported by `yardstick run` yet \
                 (multiple_choice, loglikelihood and loglikelihood_rolling are)",
                cfg.task
            )));
        }
        let task = prepare_task(cfg, opts)?;
        let first = task.docs().next().transpose()?;
        tasks.push(TaskSummary {
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
        });
    }
    Ok(PreparedRun {
        selection,
        configs,
        tasks,
        prepare_seconds: start.elapsed().as_secs_f64(),
    })
}

fn prepare_task(cfg: &TaskConfig, opts: &EvalOptions) -> Result<PreparedTask, EvalError> {
    Ok(PreparedTask::prepare(
        cfg,
        &opts.data,
        opts.num_fewshot,
        opts.fewshot_seed,
        opts.limit,
    )?)
}

/// What a finished (or interrupted) evaluation produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_id: String,
    pub resumed: bool,
    pub interrupted: bool,
    pub requests_total: u64,
    pub requests_reused: u64,
    pub requests_sent: u64,
    pub stats: schedule::ExecStats,
    /// lm-eval's results document (also written to `--output`).
    pub results: Option<PyJson>,
    /// The terminal table.
    pub table: Option<String>,
    pub output_files: Vec<PathBuf>,
    pub wall_seconds: f64,
}

/// One log-likelihood request of a doc after tokenisation.
struct TokenizedRequest {
    key: RequestKey,
    context: Arc<[u32]>,
    continuation: Vec<u32>,
}

/// Per doc: per instance (idx order) the requests whose results it sums (one for log-likelihood
/// requests, one per window for rolling ones).
type TaskPlan = Vec<Vec<Vec<TokenizedRequest>>>;

/// The same, keys only (what scoring needs once the token ids have been handed to the dispatcher).
type TaskKeys = Vec<Vec<Vec<RequestKey>>>;

/// lm-eval's `get_rolling_token_windows` + `make_disjoint_window` (context_len = 1).
pub fn rolling_windows(
    tokens: &[u32],
    prefix: u32,
    max_seq_len: usize,
) -> Vec<(Vec<u32>, Vec<u32>)> {
    let mut out = Vec::new();
    if tokens.is_empty() || max_seq_len == 0 {
        return out;
    }
    let pred_len = max_seq_len;
    let first = max_seq_len.min(tokens.len());
    let mut input = vec![prefix];
    input.extend_from_slice(&tokens[..first - 1]);
    out.push((input, tokens[..first].to_vec()));
    let mut predicted = first;
    while predicted < tokens.len() {
        let window_pred_len = (tokens.len() - predicted).min(pred_len);
        let window_end = predicted + window_pred_len;
        let start = window_end.saturating_sub(max_seq_len + 1);
        out.push((
            tokens[start..window_end - 1].to_vec(),
            tokens[window_end - window_pred_len..window_end].to_vec(),
        ));
        predicted += window_pred_len;
    }
    out.into_iter()
        .map(|(a, b)| {
            let keep = a.len().saturating_sub(b.len().saturating_sub(1));
            (a[..keep].to_vec(), b)
        })
        .collect()
}

fn request_key(
    fingerprint: &str,
    max_length: usize,
    context: &[u32],
    continuation: &[u32],
) -> RequestKey {
    RequestKey::new(
        fingerprint,
        "loglikelihood",
        &serde_json::json!({"context": context, "continuation": continuation, "max_length": max_length}),
    )
}

/// Encode context/continuation pairs: locally (in parallel) with a local tokenizer, through the server's
/// `/tokenize` (a few calls at a time, each string once) with `--tokenizer server`.
fn encode_pairs(
    tok: &yardstick_backends::Tokenizer,
    pairs: &[(String, String)],
    add_special_tokens: bool,
    rt: &tokio::runtime::Handle,
) -> Result<Vec<yardstick_backends::EncodedPair>, EvalError> {
    if tok.pieces().is_some() {
        return Ok(tok.encode_pairs_blocking(pairs, add_special_tokens)?);
    }
    use futures::stream::{self, StreamExt, TryStreamExt};
    rt.block_on(
        stream::iter(pairs)
            .map(|(c, x)| tok.encode_pair(c, x, add_special_tokens))
            .buffered(16)
            .try_collect::<Vec<_>>(),
    )
    .map_err(EvalError::from)
}

/// Tokenise one task's requests.
fn tokenize_task(
    t: &PreparedTaskDocs,
    tok: &yardstick_backends::Tokenizer,
    max_length: usize,
    fingerprint: &str,
    add_special_tokens: bool,
    rt: &tokio::runtime::Handle,
) -> Result<TaskPlan, EvalError> {
    let mut pairs = Vec::new();
    for d in &t.docs {
        for inst in &d.instances {
            match &inst.args {
                RequestArgs::Loglikelihood {
                    context,
                    continuation,
                } => pairs.push((context.clone(), continuation.clone())),
                RequestArgs::LoglikelihoodRolling { .. } => {}
                RequestArgs::GenerateUntil { .. } => {
                    return Err(EvalError::Unsupported(format!(
                        "task {}: generation requests are not supported yet",
                        t.task.name()
                    )))
                }
            }
        }
    }
    let encoded = encode_pairs(tok, &pairs, add_special_tokens, rt)?;
    drop(pairs);
    let mut enc = encoded.into_iter();
    let mut task_plan = Vec::with_capacity(t.docs.len());
    for d in &t.docs {
        let mut doc_plan = Vec::with_capacity(d.instances.len());
        for inst in &d.instances {
            match &inst.args {
                RequestArgs::Loglikelihood { .. } => {
                    let p = enc.next().ok_or_else(|| {
                        EvalError::Internal("tokenizer returned too few pairs".into())
                    })?;
                    let key = request_key(fingerprint, max_length, &p.context, &p.continuation);
                    doc_plan.push(vec![TokenizedRequest {
                        key,
                        context: p.context,
                        continuation: p.continuation,
                    }]);
                }
                RequestArgs::LoglikelihoodRolling { text } => {
                    let tokens: Vec<u32> = if tok.pieces().is_some() {
                        tok.encode_local(text, add_special_tokens)?
                    } else {
                        rt.block_on(tok.encode(text, add_special_tokens))?.to_vec()
                    };
                    let prefix = tok.prefix_token_id().ok_or_else(|| {
                        EvalError::Unsupported(
                            "loglikelihood_rolling needs a prefix token (BOS or EOS) and the tokenizer has none"
                                .into(),
                        )
                    })?;
                    // lm-eval's API models store max_length − 1 and roll with max_seq_len = max_length − 1.
                    let windows =
                        rolling_windows(&tokens, prefix, max_length.saturating_sub(2).max(1));
                    doc_plan.push(
                        windows
                            .into_iter()
                            .map(|(ctx, cont)| TokenizedRequest {
                                key: request_key(fingerprint, max_length, &ctx, &cont),
                                context: Arc::from(ctx),
                                continuation: cont,
                            })
                            .collect(),
                    );
                }
                RequestArgs::GenerateUntil { .. } => {}
            }
        }
        task_plan.push(doc_plan);
    }
    Ok(task_plan)
}

/// Units of work for the keys not in `skip` (stored, or already planned by an earlier task of this run):
/// requests of one doc that share a context go together. Every key planned here is added to `skip`.
fn plan_units(plan: &TaskPlan, skip: &mut HashSet<String>) -> Vec<Unit> {
    let mut units = Vec::new();
    for doc in plan {
        let mut by_context: IndexMap<&[u32], Vec<&TokenizedRequest>> = IndexMap::new();
        for inst in doc {
            for r in inst {
                if !skip.insert(r.key.0.clone()) {
                    continue;
                }
                by_context.entry(&r.context).or_default().push(r);
            }
        }
        for (_, reqs) in by_context {
            let context = reqs[0].context.clone();
            units.push(Unit {
                context,
                members: reqs
                    .into_iter()
                    .map(|r| UnitMember {
                        key: r.key.clone(),
                        continuation: r.continuation.clone(),
                    })
                    .collect(),
            });
        }
    }
    units
}

/// A task ready to run: prepared, tokenised, looked up in the ledger.
struct TaskWork {
    index: usize,
    task: PreparedTaskDocs,
    keys: TaskKeys,
    /// Responses of this task's requests found in the ledger.
    stored: HashMap<String, LoglikelihoodResult>,
    /// Requests to send (those neither stored nor planned by an earlier task).
    units: Vec<Unit>,
    /// Distinct requests first met in this task, and how many of those were stored.
    new_keys: u64,
    new_stored: u64,
}

struct PreparedTaskDocs {
    task: PreparedTask,
    docs: Vec<DocRequests>,
}

/// Everything the preparing thread needs.
struct Producer {
    configs: Vec<TaskConfig>,
    opts: EvalOptions,
    backend: Arc<dyn Backend>,
    fingerprint: String,
    max_length: usize,
    cancel: Arc<AtomicBool>,
    rt: tokio::runtime::Handle,
}

impl Producer {
    /// Prepare, tokenise and look up each task in turn, handing each over as it is ready; stops when the
    /// receiver is gone (the run ended or was interrupted) or at the first error (which it sends).
    fn run(self, tx: tokio::sync::mpsc::Sender<Result<TaskWork, EvalError>>) {
        let store = match Store::open(&self.opts.store_path) {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.blocking_send(Err(e.into()));
                return;
            }
        };
        let mut seen: HashSet<String> = HashSet::new();
        for (index, cfg) in self.configs.iter().enumerate() {
            if self.cancel.load(Ordering::SeqCst) {
                return;
            }
            let work = self.one(index, cfg, &store, &mut seen);
            let failed = work.is_err();
            if tx.blocking_send(work).is_err() || failed {
                return;
            }
        }
    }

    fn one(
        &self,
        index: usize,
        cfg: &TaskConfig,
        store: &Store,
        seen: &mut HashSet<String>,
    ) -> Result<TaskWork, EvalError> {
        let task = prepare_task(cfg, &self.opts)?;
        let docs = task.all_docs()?;
        let work = PreparedTaskDocs { task, docs };
        // lm-eval's local-completions does not add special tokens (add_bos_token=False).
        let plan = tokenize_task(
            &work,
            self.backend.tokenizer(),
            self.max_length,
            &self.fingerprint,
            false,
            &self.rt,
        )?;
        let task_keys: Vec<&str> = {
            let mut uniq = HashSet::new();
            plan.iter()
                .flatten()
                .flatten()
                .map(|r| r.key.as_str())
                .filter(|k| uniq.insert(*k))
                .collect()
        };
        let mut stored = HashMap::with_capacity(task_keys.len());
        for (k, v) in store.get_responses(&task_keys)? {
            let r: LoglikelihoodResult = serde_json::from_value(v).map_err(|e| {
                EvalError::Internal(format!(
                    "stored response {k} is not a log-likelihood result: {e}"
                ))
            })?;
            stored.insert(k, r);
        }
        let new_keys = task_keys.iter().filter(|k| !seen.contains(**k)).count() as u64;
        let new_stored = task_keys
            .iter()
            .filter(|k| !seen.contains(**k) && stored.contains_key(**k))
            .count() as u64;
        drop(task_keys);
        for k in stored.keys() {
            seen.insert(k.clone());
        }
        let units = plan_units(&plan, seen);
        let keys: TaskKeys = plan
            .into_iter()
            .map(|doc| {
                doc.into_iter()
                    .map(|inst| inst.into_iter().map(|r| r.key).collect())
                    .collect()
            })
            .collect();
        Ok(TaskWork {
            index,
            task: work,
            keys,
            stored,
            units,
            new_keys,
            new_stored,
        })
    }
}

/// Adapts a [`Backend`] to the scheduler.
struct BackendScorer {
    backend: Arc<dyn Backend>,
    fingerprint: String,
}

impl schedule::LoglikelihoodScorer for BackendScorer {
    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn score<'a>(
        &'a self,
        context: &'a [u32],
        continuations: &'a [Vec<u32>],
    ) -> schedule::ScoreFuture<'a> {
        Box::pin(async move {
            let outcomes = self
                .backend
                .loglikelihood_group(context, continuations)
                .await
                .map_err(|e| schedule::ScoreError {
                    message: e.to_string(),
                })?;
            Ok(outcomes
                .into_iter()
                .map(|o| {
                    let shared = o.stats.shared_by.max(1) as u64;
                    Scored {
                        result: o.result,
                        request: serde_json::json!({
                            "prompt": &*o.sent, "ctxlen": o.ctxlen, "path": o.path,
                            "lm_eval_slice": o.lm_eval_slice.map(|r| serde_json::json!({"logprob": r.logprob, "is_greedy": r.is_greedy})),
                        }),
                        raw: Some(o.raw_response.chars().take(2000).collect()),
                        latency_ms: o.stats.latency.as_secs_f64() * 1000.0,
                        // A shared call's tokens are counted once, spread over the results it answered.
                        prompt_tokens: o.stats.prompt_tokens as u64 / shared,
                        completion_tokens: o.stats.completion_tokens as u64 / shared,
                    }
                })
                .collect())
        })
    }
}

fn run_id(fingerprint: &str, opts: &EvalOptions, prepared: &PreparedRun) -> String {
    let tasks: Vec<_> = prepared
        .tasks
        .iter()
        .map(|t| serde_json::json!([t.name, t.task_hash, t.dataset_hash, t.n_docs]))
        .collect();
    let limit = opts.limit.map(|l| format!("{l:?}"));
    let ident = serde_json::json!({
        "model": fingerprint, "tasks": opts.tasks, "num_fewshot": opts.num_fewshot, "limit": limit,
        "fewshot_seed": opts.fewshot_seed, "resolved": tasks,
    });
    yardstick_core::sha256_hex(ident.to_string())[..16].to_string()
}

fn hardware() -> serde_json::Value {
    serde_json::json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "hostname": std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()),
    })
}

/// A task admitted to the dispatcher, waiting for its last responses.
struct Admitted {
    work: TaskWork,
    outstanding: usize,
}

/// Run the evaluation against `backend`, streaming: a thread prepares, tokenises and looks up one task
/// after another while the requests of earlier tasks are in flight; each task is scored (and its samples
/// stored and written) as soon as its last response arrives, then dropped. `cancel` stops dispatching new
/// requests (Ctrl-C): what is in flight finishes and is stored, the run is marked interrupted, and
/// rerunning resumes.
pub async fn evaluate(
    opts: &EvalOptions,
    prepared: PreparedRun,
    backend: Arc<dyn Backend>,
    probe: &ProbeReport,
    progress: &dyn Progress,
    cancel: Arc<AtomicBool>,
) -> Result<RunOutcome, EvalError> {
    let start = Instant::now();
    let started_unix = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    for t in &prepared.tasks {
        if let Some(reason) = probe.unsupported_reason(t.output_type.request_kind()) {
            return Err(EvalError::Unsupported(format!(
                "task {} cannot run: {reason}",
                t.name
            )));
        }
    }
    let fingerprint = backend.fingerprint();
    let model = backend.model_ref();
    let store = Store::open(&opts.store_path)?;
    let run_id = run_id(&fingerprint, opts, &prepared);
    let resumed = store.begin_run(&RunRecord {
        run_id: run_id.clone(),
        command: opts.command_line.clone(),
        model_name: model.name.clone(),
        model_location: model.location.clone(),
        model_fingerprint: fingerprint.clone(),
        config: serde_json::json!({
            "tasks": opts.tasks, "num_fewshot": opts.num_fewshot, "limit": opts.limit.map(|l| format!("{l:?}")),
            "fewshot_seed": opts.fewshot_seed, "concurrency": opts.concurrency, "bootstrap_iters": opts.bootstrap_iters,
            "include_paths": opts.include_paths, "data_dir": opts.data.data_dir, "probe": probe,
            "model_args": opts.model_args,
        }),
        tool_version: yardstick_core::YARDSTICK_VERSION.into(),
        lm_eval_compat: yardstick_core::LM_EVAL_COMPAT_VERSION.into(),
        git_rev: opts.git_rev.clone(),
        hardware: hardware(),
    })?;
    for t in &prepared.tasks {
        store.put_run_task(
            &run_id,
            &RunTaskRecord {
                task: t.name.clone(),
                version: t.version.clone(),
                num_fewshot: t.num_fewshot as i64,
                task_hash: t.task_hash.clone(),
                dataset_hash: t.dataset_hash.clone(),
                n_docs: t.n_docs as i64,
                config: t.config.clone(),
            },
        )?;
    }
    let n_tasks = prepared.tasks.len();
    // Estimated requests of the tasks not yet prepared (exact once all are).
    let mut estimate_left: u64 = prepared.estimated_requests() as u64;
    let estimates: Vec<u64> = prepared
        .tasks
        .iter()
        .map(|t| (t.n_docs * t.first_doc_requests) as u64)
        .collect();
    progress.planned(estimate_left, 0, n_tasks == 0);

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<TaskWork, EvalError>>(1);
    let producer = Producer {
        configs: prepared.configs.clone(),
        opts: opts.clone(),
        backend: backend.clone(),
        fingerprint: fingerprint.clone(),
        max_length: probe.max_length,
        cancel: cancel.clone(),
        rt: tokio::runtime::Handle::current(),
    };
    let producer = std::thread::Builder::new()
        .name("prepare".into())
        .spawn(move || producer.run(tx))
        .map_err(|e| EvalError::Internal(format!("cannot start the preparing thread: {e}")))?;

    let writer = LedgerWriter::start(&opts.store_path)?;
    let scorer = Arc::new(BackendScorer {
        backend: backend.clone(),
        fingerprint: fingerprint.clone(),
    });
    let mut disp = Dispatcher::new(scorer, opts.concurrency);
    let score_store = Arc::new(std::sync::Mutex::new(Store::open(&opts.store_path)?));
    let env = NumericEnv::from_env_or_default();
    let partial_dir = opts
        .output_dir
        .as_ref()
        .map(|dir| output::OutputPaths::new(dir, &model.name, "partial").samples_dir);
    let partial_file =
        |dir: &std::path::Path, task: &str| dir.join(format!(".samples_{task}.jsonl.partial"));

    // Responses known to this run (from the ledger or answered now), tasks waiting for some, and who waits.
    let mut known: HashMap<String, LoglikelihoodResult> = HashMap::new();
    let mut admitted: HashMap<usize, Admitted> = HashMap::new();
    let mut waiters: HashMap<String, Vec<usize>> = HashMap::new();
    let mut scoring: tokio::task::JoinSet<Result<(usize, output::TaskOutput), EvalError>> =
        tokio::task::JoinSet::new();
    let mut outputs: Vec<Option<output::TaskOutput>> = (0..n_tasks).map(|_| None).collect();
    let (mut total, mut reused) = (0u64, 0u64);
    let mut producer_done = n_tasks == 0;
    let mut first_error: Option<EvalError> = None;
    // Keep this many units queued ahead of the dispatcher before taking the next prepared task.
    let lookahead = 2 * opts.concurrency.max(1);

    let start_scoring = |scoring: &mut tokio::task::JoinSet<_>,
                         work: TaskWork,
                         known: &HashMap<String, LoglikelihoodResult>|
     -> Result<(), EvalError> {
        let mut results = work.stored;
        for k in work.keys.iter().flatten().flatten() {
            if !results.contains_key(k.as_str()) {
                let r = known
                    .get(k.as_str())
                    .copied()
                    .ok_or_else(|| EvalError::Internal(format!("no response for request {k}")))?;
                results.insert(k.0.clone(), r);
            }
        }
        let (task, keys, index) = (work.task, work.keys, work.index);
        let store = score_store.clone();
        let run_id = run_id.clone();
        let partial = partial_dir
            .as_ref()
            .map(|d| partial_file(d, task.task.name()));
        let bootstrap_iters = opts.bootstrap_iters;
        scoring.spawn_blocking(move || {
            let scored = score_task(&task, &keys, &results, bootstrap_iters, env)?;
            let aggs: Vec<AggregateRecord> = scored
                .output
                .aggregate
                .metrics
                .iter()
                .map(|m| AggregateRecord {
                    task: task.task.name().to_string(),
                    metric: m.metric.clone(),
                    filter: m.filter.clone(),
                    value: Some(m.value),
                    stderr: m.stderr.value(),
                    n: m.count as i64,
                    is_group: false,
                })
                .collect();
            store
                .lock()
                .map_err(|_| EvalError::Internal("store lock poisoned".into()))?
                .put_scores(&run_id, task.task.name(), &scored.stored, &aggs)?;
            if let Some(path) = partial {
                output::write_lines(&path, scored.lines)?;
            }
            Ok((index, scored.output))
        });
        Ok(())
    };

    loop {
        let cancelled = cancel.load(Ordering::SeqCst);
        if first_error.is_none() && !cancelled {
            disp.fill();
        }
        let want_task =
            !producer_done && first_error.is_none() && !cancelled && disp.queued() < lookahead;
        if disp.in_flight() == 0 && scoring.is_empty() && !want_task {
            break;
        }
        tokio::select! {
            done = disp.next(&writer, progress), if disp.in_flight() > 0 => {
                match done {
                    Some(Ok(answered)) => {
                        for (key, r) in answered {
                            if let Some(ws) = waiters.remove(key.as_str()) {
                                for w in ws {
                                    if let Some(a) = admitted.get_mut(&w) {
                                        a.outstanding -= 1;
                                    }
                                }
                            }
                            known.insert(key.0, r);
                        }
                        let ready: Vec<usize> = admitted
                            .iter()
                            .filter(|(_, a)| a.outstanding == 0)
                            .map(|(i, _)| *i)
                            .collect();
                        for i in ready {
                            if let Some(a) = admitted.remove(&i) {
                                if let Err(e) = start_scoring(&mut scoring, a.work, &known) {
                                    first_error.get_or_insert(e);
                                }
                            }
                        }
                    }
                    Some(Err(e)) => {
                        first_error.get_or_insert(e.into());
                    }
                    None => {}
                }
            }
            scored = scoring.join_next(), if !scoring.is_empty() => {
                match scored {
                    Some(Ok(Ok((i, out)))) => outputs[i] = Some(out),
                    Some(Ok(Err(e))) => {
                        first_error.get_or_insert(e);
                    }
                    Some(Err(e)) => {
                        first_error.get_or_insert(EvalError::Internal(format!("scoring panicked: {e}")));
                    }
                    None => {}
                }
            }
            msg = rx.recv(), if want_task => {
                match msg {
                    Some(Ok(mut work)) => {
                        total += work.new_keys;
                        reused += work.new_stored;
                        estimate_left = estimate_left.saturating_sub(estimates[work.index]);
                        producer_done = work.index + 1 == n_tasks;
                        progress.planned(total + estimate_left, reused, producer_done);
                        for (k, r) in work.stored.drain() {
                            known.insert(k, r);
                        }
                        let mut outstanding = 0;
                        let mut counted = HashSet::new();
                        for k in work.keys.iter().flatten().flatten() {
                            if !known.contains_key(k.as_str()) && counted.insert(k.as_str()) {
                                waiters.entry(k.0.clone()).or_default().push(work.index);
                                outstanding += 1;
                            }
                        }
                        drop(counted);
                        disp.push(std::mem::take(&mut work.units));
                        if outstanding == 0 {
                            if let Err(e) = start_scoring(&mut scoring, work, &known) {
                                first_error.get_or_insert(e);
                            }
                        } else {
                            admitted.insert(work.index, Admitted { work, outstanding });
                        }
                    }
                    Some(Err(e)) => {
                        first_error.get_or_insert(e);
                    }
                    None => producer_done = true,
                }
            }
        }
    }
    drop(rx);
    // Joined off the async workers: the preparing thread may be finishing a `/tokenize` call that needs them.
    let _ = tokio::task::spawn_blocking(move || producer.join()).await;
    let flushed = writer
        .finish()
        .map_err(|e| EvalError::Internal(format!("ledger writer: {e}")));
    progress.finish();
    let interrupted = cancel.load(Ordering::SeqCst);
    let stats = disp.stats(interrupted);
    let remove_partials = || {
        if let Some(dir) = &partial_dir {
            for t in &prepared.tasks {
                let _ = std::fs::remove_file(partial_file(dir, &t.name));
            }
        }
    };
    let run_stats = |status: &str| {
        serde_json::json!({
            "status": status, "requests_total": total, "requests_reused": reused,
            "requests_sent": stats.requests_answered, "calls": stats.units_sent,
            "prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "dispatch_seconds": stats.wall_seconds, "prepare_seconds": prepared.prepare_seconds,
        })
    };
    if let Some(e) = first_error {
        remove_partials();
        let _ = store.end_run(
            &run_id,
            yardstick_store::ledger::RunStatus::Failed,
            &serde_json::json!({"error": e.to_string()}),
        );
        return Err(e);
    }
    flushed?;
    if interrupted {
        remove_partials();
        store.end_run(
            &run_id,
            yardstick_store::ledger::RunStatus::Interrupted,
            &run_stats("interrupted"),
        )?;
        return Ok(RunOutcome {
            run_id,
            resumed,
            interrupted: true,
            requests_total: total,
            requests_reused: reused,
            requests_sent: stats.requests_answered,
            stats,
            results: None,
            table: None,
            output_files: Vec::new(),
            wall_seconds: start.elapsed().as_secs_f64(),
        });
    }
    let outputs: Vec<output::TaskOutput> = outputs
        .into_iter()
        .zip(&prepared.tasks)
        .map(|(o, t)| {
            o.ok_or_else(|| EvalError::Internal(format!("task {} was never scored", t.name)))
        })
        .collect::<Result<_, _>>()?;

    let requested: Vec<scoring::groups::Requested> =
        prepared.selection.roots.iter().map(to_requested).collect();
    let groups = output::compute_groups(&outputs, &requested, env);
    let group_aggs: Vec<AggregateRecord> = groups
        .iter()
        .flat_map(|g| {
            g.metrics.iter().map(move |m| AggregateRecord {
                task: g.name.clone(),
                metric: m.metric.clone(),
                filter: m.filter.clone(),
                value: Some(m.value),
                stderr: m.stderr.value(),
                n: m.sample_count as i64,
                is_group: true,
            })
        })
        .collect();
    store.put_aggregates(&run_id, &group_aggs)?;

    let wall = start.elapsed().as_secs_f64();
    let run_meta = output::RunMeta {
        config: output::config_block(
            "local-completions",
            PyJson::str(opts.model_args.clone()),
            PyJson::Int(1),
            match opts.limit {
                Some(Limit::Count(n)) => PyJson::Float(n as f64),
                Some(Limit::Fraction(f)) => PyJson::Float(f),
                None => PyJson::None,
            },
            opts.bootstrap_iters,
            PyJson::dict(),
            [
                Some(0),
                Some(1234),
                Some(1234),
                Some(opts.fewshot_seed as i64),
            ],
        ),
        git_hash: opts.git_rev.clone(),
        date: started_unix,
        env_info: IndexMap::new(),
        model_source: "local-completions".into(),
        model_name: model.name.clone(),
        system_instruction: None,
        fewshot_as_multiturn: None,
        chat_template: None,
        total_evaluation_time_seconds: wall,
        yardstick: output::YardstickMeta {
            tool_version: yardstick_core::YARDSTICK_VERSION.into(),
            lm_eval_compat_version: yardstick_core::LM_EVAL_COMPAT_VERSION.into(),
            run_id: run_id.clone(),
            store_path: Some(opts.store_path.display().to_string()),
            numeric_env: env,
            extra: IndexMap::from([
                (
                    "model_fingerprint".to_string(),
                    PyJson::str(fingerprint.clone()),
                ),
                ("requests_total".to_string(), PyJson::Int(total as i128)),
                ("requests_reused".to_string(), PyJson::Int(reused as i128)),
                (
                    "requests_sent".to_string(),
                    PyJson::Int(stats.requests_answered as i128),
                ),
            ]),
        },
    };
    let results_doc = output::build_results(&outputs, &requested, &groups, &run_meta);
    let table = output::make_table(&results_doc, "results");
    let mut files = Vec::new();
    if let (Some(dir), Some(pdir)) = (&opts.output_dir, &partial_dir) {
        let date_id = output::results::date_id(&chrono::Local::now());
        let paths = output::OutputPaths::new(dir, &model.name, &date_id);
        for t in &prepared.tasks {
            let dest = paths.samples(&t.name);
            std::fs::rename(partial_file(pdir, &t.name), &dest).map_err(|e| {
                EvalError::Internal(format!(
                    "moving the samples of {} to {}: {e}",
                    t.name,
                    dest.display()
                ))
            })?;
            files.push(dest);
        }
        paths.write_results(&results_doc)?;
        files.insert(0, paths.results.clone());
    }
    store.end_run(
        &run_id,
        yardstick_store::ledger::RunStatus::Finished,
        &run_stats("finished"),
    )?;
    Ok(RunOutcome {
        run_id,
        resumed,
        interrupted: false,
        requests_total: total,
        requests_reused: reused,
        requests_sent: stats.requests_answered,
        stats,
        results: Some(results_doc),
        table: Some(table),
        output_files: files,
        wall_seconds: wall,
    })
}

fn to_requested(node: &SelectionNode) -> scoring::groups::Requested {
    match node {
        SelectionNode::Task(t) => scoring::groups::Requested::Task(t.task.clone()),
        SelectionNode::Group { .. } => scoring::groups::Requested::Group(to_group_node(node)),
    }
}

fn to_group_node(node: &SelectionNode) -> GroupNode {
    match node {
        SelectionNode::Group {
            name,
            alias,
            config,
            children,
        } => GroupNode {
            name: name.clone(),
            alias: alias.clone(),
            version: match config.version() {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => Some(other.to_string()),
            },
            aggregate_metric_list: config
                .aggregate_metric_list
                .iter()
                .flatten()
                .map(|a| GroupAggMetric {
                    metric: a.metric.clone(),
                    weight_by_size: a.weight_by_size,
                    filter_list: a.filter_list.clone(),
                })
                .collect(),
            children: children
                .iter()
                .map(|c| match c {
                    SelectionNode::Task(t) => GroupChild::Task(t.task.clone()),
                    g => GroupChild::Group(to_group_node(g)),
                })
                .collect(),
        },
        SelectionNode::Task(t) => GroupNode {
            name: t.task.clone(),
            alias: None,
            version: None,
            aggregate_metric_list: Vec::new(),
            children: Vec::new(),
        },
    }
}

struct ScoredTask {
    output: output::TaskOutput,
    stored: Vec<StoredSample>,
    lines: Vec<String>,
}

fn metric_names(t: &PreparedTask) -> Vec<String> {
    t.metrics().into_iter().map(|m| m.name).collect()
}

fn score_task(
    t: &PreparedTaskDocs,
    plan: &[Vec<Vec<RequestKey>>],
    results: &HashMap<String, LoglikelihoodResult>,
    bootstrap_iters: i64,
    env: NumericEnv,
) -> Result<ScoredTask, EvalError> {
    let task = &t.task;
    let name = task.name().to_string();
    let err = |source| EvalError::Scoring {
        task: name.clone(),
        source,
    };
    let resolved = task.metrics();
    let names = metric_names(task);
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut per_metric: IndexMap<String, Vec<scoring::MetricValue>> = IndexMap::new();
    let mut stored = Vec::with_capacity(t.docs.len());
    let mut lines = Vec::with_capacity(t.docs.len());
    let mut hashes = Vec::with_capacity(t.docs.len());
    for (d, doc_plan) in t.docs.iter().zip(plan) {
        // One result per instance: log-likelihood requests have one request, rolling ones sum windows.
        let mut inst_results = Vec::with_capacity(doc_plan.len());
        let mut keys = Vec::new();
        for reqs in doc_plan {
            let mut sum = 0.0;
            let mut greedy = true;
            for r in reqs {
                let res = results
                    .get(r.as_str())
                    .ok_or_else(|| EvalError::Internal(format!("no response for request {r}")))?;
                sum += res.logprob;
                greedy &= res.is_greedy;
                keys.push(r.0.clone());
            }
            inst_results.push(LoglikelihoodResult {
                logprob: sum,
                is_greedy: greedy,
            });
        }
        let metrics = match task.output_type() {
            OutputType::MultipleChoice => {
                let choices = d.choices.clone().unwrap_or_default();
                let n = choices.len();
                if task.process_results() == Some("truthfulqa_mc2") {
                    let labels: Vec<i64> = d
                        .doc
                        .get("mc2_targets")
                        .and_then(|v| v.get("labels"))
                        .and_then(|v| v.as_array())
                        .map(|a| a.iter().filter_map(|x| x.as_i64()).collect())
                        .ok_or_else(|| {
                            EvalError::Internal(format!(
                                "doc {} of {name} has no mc2_targets.labels",
                                d.doc_id
                            ))
                        })?;
                    let lls: Vec<f64> = inst_results.iter().take(n).map(|r| r.logprob).collect();
                    scoring::truthfulqa_mc2(&lls, &labels, env.numpy_exp).map_err(err)?
                } else {
                    let (cond, uncond) = inst_results.split_at(n.min(inst_results.len()));
                    let input = MultipleChoiceInput {
                        choices: &choices,
                        gold: &d.target,
                        multiple_target: task.multiple_target(),
                        results: cond,
                        unconditional: if uncond.is_empty() {
                            None
                        } else {
                            Some(uncond)
                        },
                    };
                    scoring::multiple_choice(&input, &name_refs, env.numpy_exp).map_err(err)?
                }
            }
            OutputType::Loglikelihood => {
                let r = inst_results
                    .first()
                    .copied()
                    .ok_or_else(|| EvalError::Internal("no request".into()))?;
                scoring::loglikelihood(r, &name_refs)
            }
            OutputType::LoglikelihoodRolling => {
                let text = match &d.target {
                    Target::Text(s) => s.clone(),
                    _ => d.target_string.clone(),
                };
                let ll = inst_results.first().map(|r| r.logprob).unwrap_or(0.0);
                scoring::loglikelihood_rolling(
                    &RollingInput {
                        text: &text,
                        loglikelihood: ll,
                    },
                    &name_refs,
                )
            }
            OutputType::GenerateUntil => {
                return Err(EvalError::Unsupported(format!(
                    "task {name}: generation is not supported yet"
                )))
            }
        };
        for (m, v) in &metrics {
            per_metric.entry(m.clone()).or_default().push(v.clone());
        }
        let arguments: Vec<output::RequestArgTuple> = d
            .instances
            .iter()
            .map(|i| output::RequestArgTuple::from_request(&i.args, None))
            .collect();
        let resps: Vec<Vec<Resp>> = d
            .instances
            .iter()
            .zip(&inst_results)
            .map(|(i, r)| match i.args {
                RequestArgs::LoglikelihoodRolling { .. } => vec![Resp::Float(r.logprob)],
                _ => vec![Resp::Loglikelihood(*r)],
            })
            .collect();
        let filtered: Vec<output::FilteredResp> = resps
            .iter()
            .map(|r| output::FilteredResp::One(r[0].clone()))
            .collect();
        let rec = output::SampleRecord {
            doc_id: d.doc_id,
            doc: &d.doc,
            target: &d.target,
            arguments,
            resps,
            filtered_resps: filtered,
            filter: "none",
            metrics: &metrics,
        };
        let h = rec.hashes();
        let line = rec.to_line();
        let metrics_json: serde_json::Map<String, serde_json::Value> = metrics
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        stored.push(StoredSample {
            task: name.clone(),
            doc_id: d.doc_id as i64,
            filter: "none".into(),
            doc_hash: h.doc_hash.clone(),
            prompt_hash: h.prompt_hash.clone(),
            target_hash: h.target_hash.clone(),
            record: serde_json::from_str(line.trim_end()).unwrap_or(serde_json::Value::Null),
            request_keys: keys,
            fewshot_ids: d.fewshot_ids.iter().map(|&i| i as i64).collect(),
            metrics: serde_json::Value::Object(metrics_json),
        });
        hashes.push(h);
        lines.push(line);
    }
    let raw: Vec<RawMetric> = per_metric
        .into_iter()
        .map(|(metric, values)| {
            let agg = resolved
                .iter()
                .find(|m| m.name == metric)
                .and_then(|m| m.aggregation.clone())
                .map(|a| Aggregation::parse(&a))
                .transpose()
                .map_err(err)?
                .or_else(|| Aggregation::default_for_metric(&metric))
                .unwrap_or(Aggregation::Mean);
            Ok(RawMetric {
                metric,
                filter: "none".into(),
                aggregation: agg,
                values,
            })
        })
        .collect::<Result<_, EvalError>>()?;
    let aggregate = scoring::aggregate_task(&raw, bootstrap_iters, env).map_err(err)?;
    let higher_is_better: IndexMap<String, Option<bool>> = resolved
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.higher_is_better
                    .or_else(|| scoring::aggregate::default_higher_is_better(&m.name)),
            )
        })
        .collect();
    let cfg = task.config();
    let output = output::TaskOutput {
        name: name.clone(),
        alias: cfg.task_alias.clone(),
        version: cfg
            .metadata
            .get("version")
            .map(PyJson::from)
            .unwrap_or(PyJson::None),
        config: PyJson::from(&cfg.to_lm_eval_dict(Some(task.num_fewshot() as u64))),
        num_fewshot: task.num_fewshot() as i64,
        higher_is_better,
        aggregate,
        n_samples_original: task.n_docs_total(),
        sample_hashes: Some(hashes),
    };
    Ok(ScoredTask {
        output,
        stored,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_windows_cover_every_token_once() {
        let toks: Vec<u32> = (10..30).collect();
        for max_len in [1usize, 3, 5, 7, 20, 50] {
            let w = rolling_windows(&toks, 1, max_len);
            let predicted: Vec<u32> = w.iter().flat_map(|(_, c)| c.clone()).collect();
            assert_eq!(predicted, toks, "max_len {max_len}");
            for (ctx, cont) in &w {
                assert!(
                    ctx.len() + cont.len() <= max_len + 1,
                    "window too long at max_len {max_len}"
                );
                assert!(!ctx.is_empty());
            }
        }
        // first window: the prefix predicts the first token
        let w = rolling_windows(&toks, 1, 5);
        assert_eq!(w[0].0, vec![1]);
        assert_eq!(w[0].1, vec![10, 11, 12, 13, 14]);
    }
}
