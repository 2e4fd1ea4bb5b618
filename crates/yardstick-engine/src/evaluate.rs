//! One evaluation, end to end: resolve and prepare the tasks, tokenise every request, look each one up in
//! the ledger by its request key, send only what is missing (requests sharing a context as one unit),
//! persist each response as it arrives, then score, aggregate, store and write lm-eval-compatible output.

use crate::ledger_writer::LedgerWriter;
use crate::output::{self, PyJson, Resp};
use crate::schedule::{self, Progress, Scored, Unit, UnitMember};
use crate::scoring::{
    self, aggregate::RawMetric, groups::GroupChild, Aggregation, GroupAggMetric, GroupNode,
    MultipleChoiceInput, NumericEnv, RollingInput,
};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use yardstick_backends::{Backend, ProbeReport};
use yardstick_core::{LoglikelihoodResult, OutputType, RequestArgs, RequestKey, Target};
use yardstick_store::ledger::{
    AggregateRecord, RunRecord, RunTaskRecord, SampleRecord as StoredSample,
};
use yardstick_store::Store;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{DocRequests, Limit, PreparedTask, Selection, SelectionNode, TaskIndex};

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

/// Tasks resolved and prepared (data loaded, prompts built): everything that can fail before a model
/// is contacted.
pub struct PreparedRun {
    pub selection: Selection,
    pub tasks: Vec<PreparedTaskDocs>,
    pub prepare_seconds: f64,
}

pub struct PreparedTaskDocs {
    pub task: PreparedTask,
    pub docs: Vec<DocRequests>,
}

impl PreparedRun {
    pub fn n_requests(&self) -> usize {
        self.tasks
            .iter()
            .map(|t| t.docs.iter().map(|d| d.instances.len()).sum::<usize>())
            .sum()
    }

    /// Sample prompt texts (first doc of each task) for the tokenizer agreement probe.
    pub fn probe_texts(&self, max: usize) -> Vec<String> {
        self.tasks
            .iter()
            .filter_map(|t| t.docs.first().map(|d| d.context.clone()))
            .take(max)
            .collect()
    }
}

/// Resolve task names and prepare every leaf task (fails fast on unknown tasks, bad YAML, missing data).
pub fn prepare(opts: &EvalOptions) -> Result<PreparedRun, EvalError> {
    let start = Instant::now();
    let index = TaskIndex::load(&opts.include_paths)?;
    let selection = index.resolve(&opts.tasks)?;
    let configs: Vec<_> = selection.tasks().into_iter().cloned().collect();
    let mut tasks = Vec::with_capacity(configs.len());
    for cfg in &configs {
        if cfg.output_type == OutputType::GenerateUntil {
            return Err(EvalError::Unsupported(format!(
                "task {} is a generate_until task: generation tasks are not supported by `yardstick run` yet \
                 (multiple_choice, loglikelihood and loglikelihood_rolling are)",
                cfg.task
            )));
        }
        let task = PreparedTask::prepare(
            cfg,
            &opts.data,
            opts.num_fewshot,
            opts.fewshot_seed,
            opts.limit,
        )?;
        let docs = task.all_docs()?;
        tasks.push(PreparedTaskDocs { task, docs });
    }
    Ok(PreparedRun {
        selection,
        tasks,
        prepare_seconds: start.elapsed().as_secs_f64(),
    })
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

/// Per task: per doc: per instance (idx order) the requests whose results it sums (one for
/// log-likelihood requests, one per window for rolling ones).
type RequestPlan = Vec<Vec<Vec<Vec<TokenizedRequest>>>>;

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

fn tokenize(
    prepared: &PreparedRun,
    backend: &dyn Backend,
    probe: &ProbeReport,
    fingerprint: &str,
    add_special_tokens: bool,
) -> Result<RequestPlan, EvalError> {
    let tok = backend.tokenizer();
    let max_length = probe.max_length;
    let mut plan = Vec::with_capacity(prepared.tasks.len());
    for t in &prepared.tasks {
        let mut pairs = Vec::new();
        let mut rolling_texts = Vec::new();
        for d in &t.docs {
            for inst in &d.instances {
                match &inst.args {
                    RequestArgs::Loglikelihood {
                        context,
                        continuation,
                    } => pairs.push((context.clone(), continuation.clone())),
                    RequestArgs::LoglikelihoodRolling { text } => rolling_texts.push(text.clone()),
                    RequestArgs::GenerateUntil { .. } => {
                        return Err(EvalError::Unsupported(format!(
                            "task {}: generation requests are not supported yet",
                            t.task.name()
                        )))
                    }
                }
            }
        }
        let encoded = tok.encode_pairs_blocking(&pairs, add_special_tokens)?;
        let mut enc = encoded.into_iter();
        let mut texts = rolling_texts.iter();
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
                    RequestArgs::LoglikelihoodRolling { .. } => {
                        let text = texts
                            .next()
                            .ok_or_else(|| EvalError::Internal("rolling text missing".into()))?;
                        let tokens = tok.encode_local(text, add_special_tokens)?;
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
        plan.push(task_plan);
    }
    Ok(plan)
}

/// Units of work for the keys not in `have`: requests of one doc that share a context go together;
/// a key already planned elsewhere is not sent twice.
fn plan_units(plan: &RequestPlan, have: &HashSet<String>) -> Vec<Unit> {
    let mut planned: HashSet<&str> = HashSet::new();
    let mut units = Vec::new();
    for task in plan {
        for doc in task {
            let mut by_context: IndexMap<&[u32], Vec<&TokenizedRequest>> = IndexMap::new();
            for inst in doc {
                for r in inst {
                    if have.contains(r.key.as_str()) || !planned.insert(r.key.as_str()) {
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
    }
    units
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
        .map(|t| {
            serde_json::json!([
                t.task.name(),
                t.task.task_hash(),
                t.task.dataset_hash(),
                t.docs.len()
            ])
        })
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

/// Run the evaluation against `backend`. `cancel` stops dispatching new requests (Ctrl-C): what is in
/// flight finishes and is stored, the run is marked interrupted, and rerunning resumes.
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
        if let Some(reason) = probe.unsupported_reason(t.task.output_type().request_kind()) {
            return Err(EvalError::Unsupported(format!(
                "task {} cannot run: {reason}",
                t.task.name()
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
                task: t.task.name().to_string(),
                version: t
                    .task
                    .config()
                    .metadata
                    .get("version")
                    .map(|v| v.to_string()),
                num_fewshot: t.task.num_fewshot() as i64,
                task_hash: t.task.task_hash(),
                dataset_hash: t.task.dataset_hash().to_string(),
                n_docs: t.docs.len() as i64,
                config: t
                    .task
                    .config()
                    .to_lm_eval_dict(Some(t.task.num_fewshot() as u64)),
            },
        )?;
    }

    // Tokenise (lm-eval's local-completions does not add special tokens: add_bos_token=False).
    let plan = tokenize(&prepared, backend.as_ref(), probe, &fingerprint, false)?;
    let all_keys: Vec<&str> = plan
        .iter()
        .flatten()
        .flatten()
        .flatten()
        .map(|r| r.key.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let stored = store.get_responses(&all_keys)?;
    let mut results: HashMap<String, LoglikelihoodResult> = HashMap::with_capacity(all_keys.len());
    for (k, v) in &stored {
        let r: LoglikelihoodResult = serde_json::from_value(v.clone()).map_err(|e| {
            EvalError::Internal(format!(
                "stored response {k} is not a log-likelihood result: {e}"
            ))
        })?;
        results.insert(k.clone(), r);
    }
    let have: HashSet<String> = results.keys().cloned().collect();
    let units = plan_units(&plan, &have);
    let to_send: u64 = units.iter().map(|u| u.members.len() as u64).sum();
    progress.planned(all_keys.len() as u64, have.len() as u64, units.len() as u64);

    let writer = LedgerWriter::start(&opts.store_path)?;
    let scorer = Arc::new(BackendScorer {
        backend: backend.clone(),
        fingerprint: fingerprint.clone(),
    });
    let exec = schedule::execute(units, scorer, &writer, opts.concurrency, progress, cancel).await;
    let flushed = writer
        .finish()
        .map_err(|e| EvalError::Internal(format!("ledger writer: {e}")));
    progress.finish();
    let (answered, stats) = match exec {
        Ok(v) => v,
        Err(e) => {
            let _ = store.end_run(
                &run_id,
                "failed",
                &serde_json::json!({"error": e.to_string()}),
            );
            return Err(e.into());
        }
    };
    flushed?;
    for (k, r) in answered {
        results.insert(k.0, r);
    }
    let run_stats = |status: &str| {
        serde_json::json!({
            "status": status, "requests_total": all_keys.len(), "requests_reused": have.len(),
            "requests_sent": stats.requests_answered, "calls": stats.units_sent,
            "prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "dispatch_seconds": stats.wall_seconds, "prepare_seconds": prepared.prepare_seconds,
        })
    };
    if stats.interrupted {
        store.end_run(&run_id, "interrupted", &run_stats("interrupted"))?;
        return Ok(RunOutcome {
            run_id,
            resumed,
            interrupted: true,
            requests_total: all_keys.len() as u64,
            requests_reused: have.len() as u64,
            requests_sent: stats.requests_answered,
            stats,
            results: None,
            table: None,
            output_files: Vec::new(),
            wall_seconds: start.elapsed().as_secs_f64(),
        });
    }
    if (results.len() as u64) < all_keys.len() as u64 {
        return Err(EvalError::Internal(format!(
            "{} of {} requests have no response after dispatch ({} were to be sent)",
            all_keys.len() - results.len(),
            all_keys.len(),
            to_send
        )));
    }

    // Score, aggregate and store every task.
    let env = NumericEnv::from_env_or_default();
    let mut outputs = Vec::with_capacity(prepared.tasks.len());
    let mut sample_lines: Vec<(String, Vec<String>)> = Vec::new();
    for (t, task_plan) in prepared.tasks.iter().zip(&plan) {
        let scored = score_task(t, task_plan, &results, opts.bootstrap_iters, env)?;
        let aggs: Vec<AggregateRecord> = scored
            .output
            .aggregate
            .metrics
            .iter()
            .map(|m| AggregateRecord {
                task: t.task.name().to_string(),
                metric: m.metric.clone(),
                filter: m.filter.clone(),
                value: Some(m.value),
                stderr: m.stderr.value(),
                n: m.count as i64,
                is_group: false,
            })
            .collect();
        store.put_scores(&run_id, t.task.name(), &scored.stored, &aggs)?;
        sample_lines.push((t.task.name().to_string(), scored.lines));
        outputs.push(scored.output);
    }
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
                (
                    "requests_total".to_string(),
                    PyJson::Int(all_keys.len() as i128),
                ),
                (
                    "requests_reused".to_string(),
                    PyJson::Int(have.len() as i128),
                ),
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
    if let Some(dir) = &opts.output_dir {
        let date_id = output::results::date_id(&chrono::Local::now());
        let paths = output::OutputPaths::new(dir, &model.name, &date_id);
        paths.write_results(&results_doc)?;
        files.push(paths.results.clone());
        for (task, lines) in sample_lines {
            files.push(paths.write_samples(&task, lines)?);
        }
    }
    store.end_run(&run_id, "finished", &run_stats("finished"))?;
    Ok(RunOutcome {
        run_id,
        resumed,
        interrupted: false,
        requests_total: all_keys.len() as u64,
        requests_reused: have.len() as u64,
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
    plan: &[Vec<Vec<TokenizedRequest>>],
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
                let res = results.get(r.key.as_str()).ok_or_else(|| {
                    EvalError::Internal(format!("no response for request {}", r.key))
                })?;
                sum += res.logprob;
                greedy &= res.is_greedy;
                keys.push(r.key.0.clone());
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
