//! `yardstick plan`, `yardstick run --plan P --shard I | --claim`, `yardstick finalize --plan P`: one run cut
//! into shards for many workers (a Slurm array, a Kubernetes Indexed Job, a few processes), with scoring once
//! from the ledger after every shard is in. See `yardstick_engine::run::sharding` for the rules.

use super::run::{self, RunArgs};
use crate::output::StoreArgs;
use anyhow::{bail, Context};
use clap::{Args, Parser};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use yardstick_backends::Backend;
use yardstick_engine::run::{
    self as evaluate, make_plan, PlannedBackend, RunMode, RunPlan, ShardCount,
};
use yardstick_engine::schedule::Progress;
use yardstick_store::Store;

/// A lease on a shard lasts this long without a heartbeat; workers renew it every third of it.
const LEASE_SECONDS: f64 = 120.0;

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Where to write the plan
    #[arg(long, value_name = "FILE", default_value = "plan.json")]
    pub out: PathBuf,
    /// Cut the plan into exactly N shards (default: one per --shard-size requests)
    #[arg(long, value_name = "N", conflicts_with = "shard_size")]
    pub shards: Option<usize>,
    /// Requests per shard, about (documents are assigned by a hash of their key)
    #[arg(long, value_name = "REQUESTS")]
    pub shard_size: Option<usize>,
    /// Also write the scheduler's job files beside the plan: a Slurm array (with a requeue chain and a
    /// finalise step) or a Kubernetes Indexed Job (with a finalise Job)
    #[arg(long, value_enum)]
    pub emit: Option<super::plan_emit::Emit>,
    /// Container image for --emit k8s
    #[arg(long, default_value = "yardstick:latest")]
    pub image: String,
}

#[derive(Args, Debug)]
pub struct FinalizeArgs {
    /// The plan whose shards are all in the store
    #[arg(long, value_name = "PLAN")]
    pub plan: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write lm-eval-compatible results_*.json and samples_*.jsonl under this directory
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Print the results as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// No progress output
    #[arg(long, short)]
    pub quiet: bool,
}

/// `yardstick run`'s arguments alone (to read a plan's).
#[derive(Parser)]
struct RunOnly {
    #[command(flatten)]
    run: RunArgs,
}

/// Flags left out of the plan's recorded run arguments: `plan`'s own, and `--store` (each worker names its
/// own store, and a store URL may hold a password).
const PLAN_ONLY: &[&str] = &[
    "--out",
    "--shards",
    "--shard-size",
    "--emit",
    "--image",
    "--store",
];

/// The `run` arguments of this `plan` command line.
fn plan_run_args() -> Vec<String> {
    let argv: Vec<String> = std::env::args().collect();
    let start = argv
        .iter()
        .position(|a| a == "plan")
        .map_or(argv.len(), |i| i + 1);
    let mut out = Vec::new();
    let mut skip = false;
    for a in &argv[start..] {
        if std::mem::take(&mut skip) {
            continue;
        }
        if PLAN_ONLY.contains(&a.as_str()) {
            skip = true;
            continue;
        }
        if PLAN_ONLY.iter().any(|f| a.starts_with(&format!("{f}="))) {
            continue;
        }
        out.push(a.clone());
    }
    out
}

/// The plan's `run` arguments, parsed.
fn plan_args(plan: &RunPlan) -> anyhow::Result<RunArgs> {
    let argv = std::iter::once("yardstick-run".to_string()).chain(plan.run_args.iter().cloned());
    RunOnly::try_parse_from(argv).map(|r| r.run).map_err(|e| {
        anyhow::anyhow!(
            "plan {}: its run arguments do not parse: {e}",
            plan.short_id()
        )
    })
}

fn load(path: &Path) -> anyhow::Result<Arc<RunPlan>> {
    Ok(Arc::new(RunPlan::load(path)?))
}

pub fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(plan_async(args))
}

async fn plan_async(args: PlanArgs) -> anyhow::Result<ExitCode> {
    if args.run.plan.is_some() {
        bail!("`yardstick plan` makes a plan; --plan belongs to `yardstick run` and `yardstick finalize`");
    }
    let silent = args.run.json || args.run.quiet;
    let note = |s: &str| {
        if !silent {
            eprintln!("{s}");
        }
    };
    let mut opts = run::eval_options(&args.run, run::recorded_command_line());
    let prepared = run::prepare(&opts, note).await?;
    let session = run::open_session(&args.run, &prepared, &mut opts, silent).await?;
    let count = match (args.shards, args.shard_size) {
        (Some(0), _) | (_, Some(0)) => bail!("--shards and --shard-size must be at least 1"),
        (Some(n), _) => ShardCount::Shards(n),
        (None, size) => ShardCount::Size(size.unwrap_or(300)),
    };
    let run_args = plan_run_args();
    let backend = session.backend.clone();
    let probe = session.probe.clone();
    let rt = tokio::runtime::Handle::current();
    let plan = tokio::task::spawn_blocking(move || {
        make_plan(&opts, &prepared, &*backend, probe, count, run_args, &rt).map_err(Box::new)
    })
    .await
    .context("planning")??;
    plan.write(&args.out)?;
    let sizes = plan.shard_sizes();
    let docs: usize = plan.tasks.iter().map(|t| t.docs.len()).sum();
    let out = args.out.display();
    println!(
        "plan {}: {} task(s), {docs} documents, {} requests in {} shard(s) of {}–{} requests; run {}",
        plan.short_id(),
        plan.tasks.len(),
        plan.requests,
        plan.n_shards,
        sizes.iter().min().copied().unwrap_or(0),
        sizes.iter().max().copied().unwrap_or(0),
        plan.run_id
    );
    println!("wrote {out}");
    match args.emit {
        Some(kind) => {
            for f in super::plan_emit::write(kind, &plan, &args.out, &args.run, &args.image)? {
                println!("wrote {}", f.display());
            }
        }
        None => println!(
            "next: on each worker `yardstick run --plan {out} --shard I --store shard-I.db` (I = 0…{}), or \
             `yardstick run --plan {out} --claim --store postgres://…`; then `yardstick store merge shard-*.db \
             --into run.db --plan {out}` and `yardstick finalize --plan {out} --store run.db`",
            plan.n_shards - 1
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The arguments a worker runs with: what decides the requests from the plan; where to store, which
/// endpoints, how many requests at once and how long to wait from the worker's own command line.
fn worker_args(plan: &RunPlan, worker: RunArgs) -> anyhow::Result<RunArgs> {
    if !worker.tasks.is_empty() {
        bail!(
            "--tasks comes from the plan {}: a worker of a plan takes only --store, --model (another endpoint \
             of the same model), --concurrency, --timeout, --max-retries and the in-process flags",
            plan.short_id()
        );
    }
    let mut args = plan_args(plan)?;
    args.store = worker.store;
    if !worker.model.is_empty() {
        args.model = worker.model;
    }
    args.concurrency = worker.concurrency;
    args.timeout = worker.timeout;
    args.max_retries = worker.max_retries;
    args.native = worker.native;
    args.json = worker.json;
    args.quiet = worker.quiet;
    args.output = None;
    args.plan = worker.plan;
    args.shard = worker.shard;
    args.claim = worker.claim;
    Ok(args)
}

/// The shard a scheduler gave this worker: Slurm's array index or Kubernetes' completion index.
fn shard_from_env() -> Option<anyhow::Result<usize>> {
    ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]
        .iter()
        .find_map(|v| std::env::var(v).ok().map(|s| (v, s)))
        .map(|(v, s)| {
            s.trim()
                .parse()
                .with_context(|| format!("${v} is {s:?}, not a shard number"))
        })
}

fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// `yardstick run --plan P`: compute one shard (--shard, or the scheduler's index) or claim shards until none
/// is left (--claim). Each shard's responses go to the ledger; nothing is scored until `finalize`.
pub async fn run_planned(worker: RunArgs) -> anyhow::Result<ExitCode> {
    let path = worker.plan.clone().context("--plan")?;
    let plan = load(&path)?;
    let args = worker_args(&plan, worker)?;
    let fixed = match (args.shard, args.claim) {
        (Some(s), _) => Some(s),
        (None, true) => None,
        (None, false) => Some(shard_from_env().unwrap_or_else(|| {
            bail!(
                "which shard? pass --shard I (0…{}), or --claim to take shards until none is left (Slurm and \
                 Kubernetes set $SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX, which are read when --shard is absent)",
                plan.n_shards - 1
            )
        })?),
    };
    if let Some(s) = fixed.filter(|s| *s >= plan.n_shards) {
        bail!(
            "shard {s} does not exist: plan {} has {} shards (0…{})",
            plan.short_id(),
            plan.n_shards,
            plan.n_shards - 1
        );
    }
    let silent = args.json || args.quiet;
    let store = Arc::new(Store::open_location(&args.store).with_context(|| {
        format!(
            "opening the store {}",
            yardstick_store::display_location(&args.store)
        )
    })?);
    let command_line = run::recorded_command_line();
    let cancel = Arc::new(AtomicBool::new(false));
    run::install_interrupt_handlers(cancel.clone(), command_line.clone())?;
    let worker = worker_name();
    let mut session: Option<run::Session> = None;
    let mut done = 0usize;
    loop {
        let shard = match fixed {
            Some(s) => {
                if done > 0 {
                    break;
                }
                store.shard_started(&plan.plan_id, s, plan.n_shards, &worker, LEASE_SECONDS)?;
                s
            }
            None => {
                match store.claim_shard(&plan.plan_id, plan.n_shards, &worker, LEASE_SECONDS)? {
                    Some(s) => s,
                    None => break,
                }
            }
        };
        let heartbeat = heartbeat(store.clone(), plan.plan_id.clone(), shard, worker.clone());
        let mut opts = run::eval_options(&args, command_line.clone());
        opts.mode = RunMode::Shard {
            plan: plan.clone(),
            shard,
        };
        let note = |s: &str| {
            if !silent {
                eprintln!("shard {shard}/{}: {s}", plan.n_shards);
            }
        };
        let prepared = run::prepare(&opts, note).await?;
        let s = match session.take() {
            Some(s) => s,
            None => run::open_session(&args, &prepared, &mut opts, silent).await?,
        };
        opts.concurrency = args.concurrency.max(1) * s.servers.len().max(1);
        opts.format.chat = run::chat_format(&args, s.backend.tokenizer())?;
        let progress = run::run_progress(silent, &s.servers);
        let outcome = evaluate::evaluate(
            &opts,
            prepared,
            s.backend.clone(),
            store.clone(),
            &progress as &dyn Progress,
            cancel.clone(),
        )
        .await;
        heartbeat.abort();
        let outcome =
            outcome.with_context(|| format!("shard {shard} of plan {}", plan.short_id()))?;
        if outcome.interrupted {
            eprintln!(
                "shard {shard} interrupted: {} of its {} requests stored; run the same command again to finish it",
                outcome.requests_reused + outcome.requests_sent,
                outcome.requests_total
            );
            return Ok(ExitCode::from(run::interrupted_code()));
        }
        store.shard_done(
            &plan.plan_id,
            shard,
            &worker,
            outcome.requests_total,
            outcome.requests_sent,
        )?;
        if !silent {
            eprintln!(
                "shard {shard} of {} (plan {}): {} requests, {} already stored, {} sent; {}",
                plan.n_shards,
                plan.short_id(),
                outcome.requests_total,
                outcome.requests_reused,
                outcome.requests_sent,
                crate::progress::short_duration(outcome.wall_seconds)
            );
        }
        session = Some(s);
        done += 1;
    }
    if fixed.is_none() && !silent {
        eprintln!(
            "no shard of plan {} left to take ({done} computed here); `yardstick runs --plan {} --watch` shows \
             where it stands, and `yardstick finalize --plan {}` scores it once every shard is done",
            plan.short_id(),
            path.display(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Renew this worker's lease on `shard` every third of the lease, until aborted.
fn heartbeat(
    store: Arc<Store>,
    plan_id: String,
    shard: usize,
    worker: String,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs_f64(LEASE_SECONDS / 3.0);
        loop {
            tokio::time::sleep(every).await;
            let (store, plan_id, worker) = (store.clone(), plan_id.clone(), worker.clone());
            let renewed = tokio::task::spawn_blocking(move || {
                store.renew_shard_lease(&plan_id, shard, &worker, LEASE_SECONDS)
            })
            .await;
            if !matches!(renewed, Ok(Ok(true))) {
                eprintln!("shard {shard}: the lease could not be renewed; another worker may take it over");
            }
        }
    })
}

pub fn finalize(args: FinalizeArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(finalize_async(args))
}

/// Score a plan from the ledger: every planned response must be there (else: which shards are missing, and
/// how to finish them); nothing is sent. The run and its results are those a plain `run` records.
async fn finalize_async(fa: FinalizeArgs) -> anyhow::Result<ExitCode> {
    let plan = load(&fa.plan)?;
    let mut args = plan_args(&plan)?;
    args.store = fa.store.store.clone();
    args.output = fa.output;
    args.json = fa.json;
    args.quiet = fa.quiet;
    let silent = args.json || args.quiet;
    drop(fa.store.open_read_only("yardstick run --plan …")?);
    let store = Arc::new(fa.store.open_for_writing()?);
    let missing = plan.missing(&store)?;
    if !missing.is_empty() {
        let n: u64 = missing.values().sum();
        let shards: Vec<String> = missing.keys().map(|s| s.to_string()).collect();
        bail!(
            "plan {} is not complete in {}: {n} of its {} requests are missing, from shard(s) {}. Run them \
             (`yardstick run --plan {} --shard I`) or merge their stores (`yardstick store merge … --into {} \
             --plan {}`), then finalise again",
            plan.short_id(),
            yardstick_store::display_location(&args.store),
            plan.requests,
            shards.join(", "),
            fa.plan.display(),
            yardstick_store::display_location(&args.store),
            fa.plan.display()
        );
    }
    if let Some(dir) = &args.output {
        run::check_output_dir(dir)?;
    }
    let command_line = run::recorded_command_line();
    let mut opts = run::eval_options(&args, command_line.clone());
    opts.mode = RunMode::Finalize { plan: plan.clone() };
    opts.format.chat = run::chat_format(&args, None).with_context(|| {
        "finalising renders prompts for the samples without the model: pass the chat template as a file \
         (--chat-template) when planning"
    })?;
    let note = |s: &str| {
        if !silent {
            eprintln!("{s}");
        }
    };
    let prepared = run::prepare(&opts, note).await?;
    let backend: Arc<dyn Backend> = Arc::new(PlannedBackend::new(plan.clone()));
    let session = run::Session {
        backend: backend.clone(),
        servers: Vec::new(),
        pool: None,
        probe: plan.probe.clone(),
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let progress = run::run_progress(silent, &[]);
    let outcome = evaluate::evaluate(
        &opts,
        prepared,
        backend,
        store,
        &progress as &dyn Progress,
        cancel,
    )
    .await
    .context("finalising failed")?;
    run::report_outcome(&args, &outcome, &session, &command_line)
}
