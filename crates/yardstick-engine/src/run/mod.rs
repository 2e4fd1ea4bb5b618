//! One evaluation, end to end, as named parts:
//!
//! * [`plan`]: the options and the pre-flight check of every task ([`prepare`]) — what the run computes.
//! * `requests`: a task's requests as token ids under the backend's [`RequestPolicy`], keyed, and cut into
//!   units of requests that share a context.
//! * `producer`: the preparing thread (prepare, tokenise, look up in the ledger) feeding the dispatch loop.
//! * `state`: the run in flight — known responses, tasks waiting, counts — and scoring each task as soon as
//!   its last response arrives.
//! * [`score`]: scoring one task, a public function over plain inputs ([`score_task`]).
//! * `finish`: the run's endings (failed, interrupted, finished).
//!
//! [`evaluate`] wires them: it is handed a [`Store`] and a [`Backend`], and knows neither a backend nor a
//! task by name.
//!
//! [`RequestPolicy`]: yardstick_backends::RequestPolicy

pub mod code_exec;
mod finish;
pub use finish::requested;
pub mod plan;
mod producer;
mod requests;
pub mod score;
mod score_code;
mod score_generation;
pub mod sharding;
mod state;

pub use code_exec::{CodeExec, CodeExecOptions, CodeJob, CodeVerdict};
pub use plan::{prepare, EvalOptions, PreparedRun, TaskSummary};
pub use requests::{loglikelihood_key, rolling_windows, TaskKeys};
pub use score::{score_task, score_task_with, DocResults, ScoredTask};
pub use sharding::{make_plan, PlanError, PlannedBackend, RunMode, RunPlan, ShardCount};

use crate::ledger_writer::{LedgerError, LedgerWriter};
use crate::output;
use crate::schedule::{self, Dispatcher, Progress, TaskWorkload};
use crate::scoring::{self, NumericEnv};
use finish::{Counts, Ending};
use producer::{Producer, TaskWork};
use state::{RunState, ScoringSet, TaskScorer};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use yardstick_backends::Backend;
use yardstick_store::ledger::{RunRecord, RunTaskRecord};
use yardstick_store::Store;

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
    Exec(Box<schedule::ExecError>),
    #[error(transparent)]
    Ledger(Box<LedgerError>),
    #[error("scoring task {task}: {source}")]
    Scoring {
        task: String,
        source: scoring::ScoringError,
    },
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error("{0}")]
    Unsupported(String),
    /// Model-written code cannot be run (no sandbox here, or it failed to start a program).
    #[error("{0}")]
    Sandbox(String),
    /// A plan and this run disagree (a changed model, data or task), or a finalised plan is incomplete.
    #[error("{0}")]
    Plan(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<schedule::ExecError> for EvalError {
    fn from(e: schedule::ExecError) -> Self {
        EvalError::Exec(Box::new(e))
    }
}

impl From<LedgerError> for EvalError {
    fn from(e: LedgerError) -> Self {
        EvalError::Ledger(Box::new(e))
    }
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
    pub results: Option<output::PyJson>,
    /// The terminal table.
    pub table: Option<String>,
    pub output_files: Vec<PathBuf>,
    pub wall_seconds: f64,
}

/// The first `key: value` of `/proc/cpuinfo` or `/proc/meminfo` style text.
fn proc_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// Where the run computes, for the efficiency record: this machine (CPU model, cores, memory) and, for an
/// in-process model, the threads, batch and GPU layers it used (a server's hardware is the server's: only
/// its address is known here).
fn hardware(probe: &yardstick_backends::ProbeReport) -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = proc_field(&meminfo, "MemTotal")
        .and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    let meta = &probe.model_metadata;
    let in_process = meta.get("threads").is_some();
    let compute = if in_process {
        serde_json::json!({
            "where": "in process (llama.cpp)", "threads": meta.get("threads"), "batch": meta.get("batch"),
            "gpu_layers": meta.get("gpu_layers"),
            "gpu": if meta.get("gpu_layers").and_then(|g| g.as_u64()).unwrap_or(0) > 0 { "cuda" } else { "none" },
        })
    } else {
        serde_json::json!({"where": "server", "server": yardstick_core::redact_url(&probe.base_url)})
    };
    serde_json::json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu_model": proc_field(&cpuinfo, "model name"),
        "memory_gib": memory_gib,
        "hostname": std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()),
        "compute": compute,
    })
}

/// Record the run and its tasks in the store; returns whether the run id existed (a resumed run).
fn begin(
    store: &Store,
    run_id: &str,
    opts: &EvalOptions,
    prepared: &PreparedRun,
    backend: &dyn Backend,
    probe: &yardstick_backends::ProbeReport,
) -> Result<bool, EvalError> {
    let model = backend.model_ref();
    let resumed = store.begin_run(&RunRecord {
        run_id: run_id.to_string(),
        command: opts.command_line.clone(),
        model_name: model.name.clone(),
        model_location: model.location.clone(),
        model_fingerprint: backend.fingerprint(),
        config: serde_json::json!({
            "tasks": opts.tasks, "num_fewshot": opts.num_fewshot, "limit": opts.limit.map(|l| format!("{l:?}")),
            "fewshot_seed": opts.fewshot_seed, "concurrency": opts.concurrency, "bootstrap_iters": opts.bootstrap_iters,
            "include_paths": opts.include_paths, "data_dir": opts.data.data_dir, "probe": probe,
            "request_policy": backend.request_policy(), "model_args": opts.model_args,
        }),
        tool_version: yardstick_core::YARDSTICK_VERSION.into(),
        lm_eval_compat: yardstick_core::LM_EVAL_COMPAT_VERSION.into(),
        git_rev: opts.git_rev.clone(),
        hardware: hardware(probe),
    })?;
    for t in &prepared.tasks {
        store.put_run_task(
            run_id,
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
    Ok(resumed)
}

/// Fail before any request when tasks need what the backend cannot do (log-likelihoods from a chat
/// endpoint): every such task named, with the reason, and the generative variants to run instead.
fn check_backend_fit(
    opts: &EvalOptions,
    prepared: &PreparedRun,
    probe: &yardstick_backends::ProbeReport,
) -> Result<(), EvalError> {
    let mut blocked = Vec::new();
    let mut reason = None;
    for t in &prepared.tasks {
        if let Some(r) = probe.unsupported_reason(t.output_type.request_kind()) {
            blocked.push(t.name.clone());
            reason.get_or_insert(r);
        }
    }
    let Some(reason) = reason else {
        return Ok(());
    };
    let shown = match blocked.as_slice() {
        [one] => format!("task {one} cannot run"),
        [first, rest @ ..] if rest.len() > 4 => format!(
            "{} tasks cannot run ({first}, {} and {} more)",
            blocked.len(),
            rest[..3].join(", "),
            rest.len() - 3
        ),
        many => format!("tasks {} cannot run", many.join(", ")),
    };
    let variants: Vec<String> = yardstick_tasks::TaskIndex::load(&opts.include_paths)
        .map(|index| {
            opts.tasks
                .iter()
                .map(|t| format!("{t}_generative"))
                .filter(|g| index.get(g).is_some())
                .collect()
        })
        .unwrap_or_default();
    let instead = if variants.is_empty() {
        "run generation tasks (generate_until) on this endpoint, or use a /v1/completions endpoint"
            .to_string()
    } else {
        format!(
            "run the generative variant instead: --tasks {} (or use a /v1/completions endpoint)",
            variants.join(",")
        )
    };
    Err(EvalError::Unsupported(format!(
        "{shown}: {reason}; {instead}"
    )))
}

/// Whether a task of the run has a metric that runs model-written code (humaneval, mbpp).
fn runs_code(prepared: &PreparedRun) -> bool {
    prepared.configs.iter().any(|c| {
        c.metrics()
            .iter()
            .any(|m| m.function.is_some_and(|f| f.executes_code()))
    })
}

/// Where a task runs model-written code, start the sandbox once (a real program) to learn now — before any
/// model is contacted — whether it can run here; the error says why not and what to do.
pub async fn check_sandbox(opts: &EvalOptions, prepared: &PreparedRun) -> Result<(), EvalError> {
    if !runs_code(prepared) {
        return Ok(());
    }
    let store = Arc::new(Store::open_in_memory()?);
    CodeExec::new(&opts.code_exec, store).await.map(drop)
}

/// Run the evaluation against `backend`, with every request, response and score in `store`, streaming: a
/// thread prepares, tokenises and looks up one task after another while the requests of earlier tasks are in
/// flight; each task is scored (and its samples stored and written) as soon as its last response arrives,
/// then dropped. `cancel` stops dispatching new requests (Ctrl-C): what is in flight finishes and is stored,
/// the run is marked interrupted, and rerunning resumes.
pub async fn evaluate(
    opts: &EvalOptions,
    prepared: PreparedRun,
    backend: Arc<dyn Backend>,
    store: Arc<Store>,
    progress: &dyn Progress,
    cancel: Arc<AtomicBool>,
) -> Result<RunOutcome, EvalError> {
    let start = Instant::now();
    let started_unix = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    // A task that runs model-written code needs the sandbox: checked before the model is contacted.
    let code = if runs_code(&prepared) {
        Some(Arc::new(
            CodeExec::new(&opts.code_exec, store.clone()).await?,
        ))
    } else {
        None
    };
    let probe = backend.probe().await?;
    check_backend_fit(opts, &prepared, &probe)?;
    let fingerprint = backend.fingerprint();
    let model = backend.model_ref();
    let run_id = prepared.run_id(&fingerprint, opts);
    let shard = opts.mode.is_shard();
    // A shard only fills the ledger: the run itself is recorded (and scored) when the plan is finalised.
    let resumed = !shard && begin(&store, &run_id, opts, &prepared, &*backend, &probe)?;
    let env = NumericEnv::from_env_or_default();
    let partial_dir = opts
        .output_dir
        .as_ref()
        .map(|dir| output::OutputPaths::new(dir, &model.name, "partial").samples_dir);
    let scorer = TaskScorer {
        store: store.clone(),
        run_id: run_id.clone(),
        partial_dir: partial_dir.clone(),
        bootstrap_iters: opts.bootstrap_iters,
        env,
        code,
    };
    let ending = Ending {
        store: &store,
        run_id,
        resumed,
        opts,
        prepared: &prepared,
        policy: backend.request_policy(),
        model,
        fingerprint,
        partial_dir,
        env,
        start,
        started_unix,
    };
    let estimates: Vec<u64> = prepared
        .tasks
        .iter()
        .map(|t| t.estimated_requests())
        .collect();
    let mut state = RunState::new(estimates);
    progress.planned(state.expected(), 0, state.all_prepared);
    let workloads: Vec<TaskWorkload> = prepared
        .tasks
        .iter()
        .map(|t| TaskWorkload::estimate(t, backend.tokenizer().map(|t| &**t)))
        .collect();
    progress.tasks(&workloads);
    let producer = Producer {
        configs: prepared.configs.clone(),
        opts: opts.clone(),
        backend: backend.clone(),
        store: store.clone(),
        cancel: cancel.clone(),
        rt: tokio::runtime::Handle::current(),
        owners: std::sync::OnceLock::new(),
    };
    let run = dispatch(
        producer,
        &mut state,
        &scorer,
        Dispatcher::new(backend, opts.concurrency),
        LedgerWriter::start(store.clone())?,
        (progress, &cancel, 2 * opts.concurrency.max(1)),
    )
    .await;
    progress.finish();
    let (outputs, stats) = match run {
        Ok(done) => done,
        Err(e) if shard => return Err(e),
        Err(e) => return Err(ending.failed(e)),
    };
    let interrupted = cancel.load(Ordering::SeqCst);
    let counts = Counts {
        total: state.total,
        reused: state.reused,
        stats: stats.with_interrupted(interrupted),
    };
    if shard {
        return Ok(ending.shard(counts, interrupted));
    }
    if interrupted {
        return ending.interrupted(counts);
    }
    ending.finished(outputs, counts)
}

type Scored = (Vec<Option<output::TaskOutput>>, schedule::ExecStats);

/// The dispatch loop: take prepared tasks while fewer than `lookahead` units are queued, keep the
/// dispatcher full, record each answer and score each task the moment it is complete. Ends when everything
/// is answered and scored, after the first error, or (when cancelled) once what is in flight is back.
async fn dispatch(
    producer: Producer,
    state: &mut RunState,
    scorer: &TaskScorer,
    mut disp: Dispatcher,
    mut writer: LedgerWriter,
    (progress, cancel, lookahead): (&dyn Progress, &AtomicBool, usize),
) -> Result<Scored, EvalError> {
    let n_tasks = producer.configs.len();
    // A shard's tasks are scored when the plan is finalised, not here.
    let scores = !producer.opts.mode.is_shard();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<TaskWork, EvalError>>(1);
    let producer = std::thread::Builder::new()
        .name("prepare".into())
        .spawn(move || producer.run(tx))
        .map_err(|e| EvalError::Internal(format!("cannot start the preparing thread: {e}")))?;
    let mut scoring = ScoringSet::new();
    let mut outputs: Vec<Option<output::TaskOutput>> = (0..n_tasks).map(|_| None).collect();
    let mut producer_done = n_tasks == 0;
    let mut first_error: Option<EvalError> = None;
    let score_ready = |scoring: &mut ScoringSet, state: &RunState, work: TaskWork| {
        if !scores {
            progress.task_scored(work.index);
            return Ok(());
        }
        state
            .results_of(&work)
            .map(|results| scorer.spawn(scoring, work, results))
    };
    loop {
        let go_on = first_error.is_none() && !cancel.load(Ordering::SeqCst);
        if go_on {
            disp.fill();
        }
        let want_task = go_on && !producer_done && disp.queued() < lookahead;
        if disp.in_flight() == 0 && scoring.is_empty() && !want_task {
            break;
        }
        let step: Result<(), EvalError> = tokio::select! {
            done = disp.next(&mut writer, progress), if disp.in_flight() > 0 => match done {
                Some(Ok(answered)) => state
                    .answered(answered)
                    .into_iter()
                    .try_for_each(|work| score_ready(&mut scoring, state, work)),
                Some(Err(e)) => Err(e.into()),
                None => Ok(()),
            },
            scored = scoring.join_next(), if !scoring.is_empty() => match scored {
                Some(Ok(Ok((i, out)))) => {
                    outputs[i] = Some(out);
                    progress.task_scored(i);
                    Ok(())
                }
                Some(Ok(Err(e))) => Err(e),
                Some(Err(e)) => Err(EvalError::Internal(format!("scoring panicked: {e}"))),
                None => Ok(()),
            },
            msg = rx.recv(), if want_task => match msg {
                Some(Ok(work)) => {
                    let (units, ready) = state.admit(work, progress);
                    producer_done |= state.all_prepared;
                    disp.push(units);
                    ready.map_or(Ok(()), |work| score_ready(&mut scoring, state, work))
                }
                Some(Err(e)) => Err(e),
                None => {
                    producer_done = true;
                    Ok(())
                }
            },
        };
        if let Err(e) = step {
            first_error.get_or_insert(e);
        }
    }
    drop(rx);
    // Joined off the async workers: the preparing thread may be finishing a `/tokenize` call that needs them.
    let _ = tokio::task::spawn_blocking(move || producer.join()).await;
    let flushed = writer.finish();
    if let Some(e) = first_error {
        return Err(e);
    }
    flushed?;
    Ok((outputs, disp.stats(false)))
}
