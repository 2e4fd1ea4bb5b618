//! `yardstick serve` and `yardstick report`: the web UI over a store, and its self-contained HTML report.

use crate::output::{RegistryArgs, StoreArgs};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use yardstick_web::gapview::GapParams;
use yardstick_web::view::LeaderboardParams;
use yardstick_web::AppState;

const FILL: &str = "yardstick import FILE… or yardstick run";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed on start)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Allow a non-loopback --bind address: every client that can reach it can read the whole store
    #[arg(long)]
    pub allow_remote: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The HTML file to write
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite an existing --out file
    #[arg(long)]
    pub force: bool,
    /// A gap to include, "GROUP_A vs GROUP_B" (e.g. "country=US vs country=CN"); repeatable
    #[arg(long, value_name = "A vs B")]
    pub gap: Vec<String>,
    /// The dimension of every --gap (default: all dimensions)
    #[arg(long)]
    pub dimension: Option<String>,
    /// Benchmark id(s) of every --gap, comma-separated
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Only models published by their developer, in every --gap
    #[arg(long)]
    pub official_only: bool,
    /// Bootstrap replicates of the gaps
    #[arg(long, default_value_t = yardstick_web::gapview::DEFAULT_REPLICATES)]
    pub replicates: usize,
    /// Leaderboard rows in the report (1-500)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub rows: u16,
    /// Only leaderboard rows of this source (measured, imported, or a source id)
    #[arg(long)]
    pub source: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(warning) = yardstick_web::security::check_bind(a.bind, a.allow_remote)? {
        eprintln!("{warning}");
    }
    let reg = a.registry.load()?;
    // Checked before binding: a missing store is the usual first mistake.
    a.store.open_read_only(FILL)?;
    let state = AppState::open(&a.store.store, reg)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = yardstick_web::bind(a.bind).await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "serving {} at http://{}/ (read-only; Ctrl-C stops)",
            a.store.shown(),
            listener.addr
        )?;
        out.flush()?;
        drop(out);
        let shutdown = async {
            // If the signal cannot be watched, the server runs until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        yardstick_web::serve(state, listener, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// "A vs B" → the two queries.
fn split_gap(text: &str) -> anyhow::Result<(String, String)> {
    match text.split_once(" vs ") {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => anyhow::bail!(
            "--gap {text:?}: write two group queries separated by \" vs \", e.g. --gap \"country=US vs country=CN\""
        ),
    }
}

pub fn report(a: ReportArgs) -> anyhow::Result<ExitCode> {
    if a.out.exists() && !a.force {
        anyhow::bail!(
            "--out {}: the file exists; pass --force to overwrite it, or choose another path",
            a.out.display()
        );
    }
    let gaps = a
        .gap
        .iter()
        .map(|g| {
            let (between, and) = split_gap(g)?;
            Ok(GapParams {
                between: Some(between),
                and: Some(and),
                dimension: a.dimension.clone(),
                benchmark: a.benchmark.clone(),
                replicates: Some(a.replicates.to_string()),
                official_only: a.official_only.then(|| "1".to_string()),
                ..Default::default()
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let reg = a.registry.load()?;
    a.store.open_read_only(FILL)?;
    let state = AppState::open(&a.store.store, reg)?;
    let board = LeaderboardParams {
        source: a.source.clone(),
        ..Default::default()
    };
    let html = yardstick_web::report::report_html(&state, &board, a.rows.into(), &gaps)?;
    std::fs::write(&a.out, html).with_context(|| format!("writing {}", a.out.display()))?;
    println!("report written to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::split_gap;

    #[test]
    fn gap_argument_is_two_queries() {
        assert_eq!(
            split_gap("country=US vs country=CN & open_weights").expect("valid"),
            ("country=US".into(), "country=CN & open_weights".into())
        );
        assert!(split_gap("country=US").is_err());
    }
}
