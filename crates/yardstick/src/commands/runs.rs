//! `yardstick runs` and `yardstick results`: what the store holds.

use crate::output::{emit_text_or_json, OutputArgs, StoreArgs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use yardstick_analysis::leaderboard::{Leaderboard, RunsReport};

/// What fills a store these commands read.
const FILL: &str = "yardstick run …";

#[derive(Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Delete this run (its record, samples and aggregates; the responses it used stay in the ledger for
    /// reuse)
    #[arg(long, value_name = "RUN_ID")]
    pub delete: Option<String>,
    /// Where a planned run's shards stand (done, running, pending), read from --store and --shard-store
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// With --plan: refresh every 2 s until every shard is done
    #[arg(long, requires = "plan")]
    pub watch: bool,
    /// With --plan: the shards' own stores (one SQLite file per shard), as many as there are
    #[arg(long, requires = "plan", num_args = 1.., value_name = "STORE")]
    pub shard_store: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct ResultsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Metric to show (default: acc)
    #[arg(long)]
    pub metric: Option<String>,
    /// Include runs that have not finished (interrupted or running)
    #[arg(long)]
    pub all: bool,
    /// Efficiency instead: each finished run's tokens, time, tokens per second and hardware
    #[arg(long)]
    pub efficiency: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn runs(args: RunsArgs) -> anyhow::Result<ExitCode> {
    if let Some(id) = &args.delete {
        return delete(&args, id);
    }
    if let Some(plan) = &args.plan {
        let mut stores = args.shard_store.clone();
        if stores.is_empty() || super::plan_watch::exists(&args.store.store) {
            stores.insert(0, args.store.store.clone());
        }
        return super::plan_watch::watch(plan, &stores, args.watch, args.output.json);
    }
    let store = args.store.open_read_only(FILL)?;
    emit_text_or_json(&RunsReport::load(&store)?, args.output)?;
    Ok(ExitCode::SUCCESS)
}

pub fn results(args: ResultsArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read_only(FILL)?;
    if args.efficiency {
        let report = yardstick_analysis::efficiency::EfficiencyReport::load(&store)?;
        emit_text_or_json(&report, args.output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let board = Leaderboard::load(&store, args.metric.as_deref(), args.all)?;
    emit_text_or_json(&board, args.output)?;
    Ok(ExitCode::SUCCESS)
}

fn delete(args: &RunsArgs, run_id: &str) -> anyhow::Result<ExitCode> {
    // Opened read-only first: a missing store is an error, not a new empty one.
    drop(args.store.open_read_only(FILL)?);
    let store = args.store.open_for_writing()?;
    match store.delete_run(run_id)? {
        Some(samples) => {
            println!(
                "deleted run {run_id} ({samples} samples) from {}; the responses it used stay in the ledger, so \
                 running it again sends nothing that was already answered",
                args.store.shown()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => anyhow::bail!(
            "no run {run_id} in {}; `yardstick runs --store {}` lists them",
            args.store.shown(),
            args.store.shown()
        ),
    }
}
