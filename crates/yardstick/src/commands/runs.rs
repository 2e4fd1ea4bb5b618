//! `yardstick runs` and `yardstick results`: what the store holds.

use crate::output::{emit_text_or_json, OutputArgs, StoreArgs};
use clap::Args;
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
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn runs(args: RunsArgs) -> anyhow::Result<ExitCode> {
    if let Some(id) = &args.delete {
        return delete(&args, id);
    }
    let store = args.store.open_read_only(FILL)?;
    emit_text_or_json(&RunsReport::load(&store)?, args.output)?;
    Ok(ExitCode::SUCCESS)
}

pub fn results(args: ResultsArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read_only(FILL)?;
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
