//! `yardstick store …`: the ledger itself, for tools and people who trace a number back to what was sent.

use crate::output::StoreArgs;
use clap::Subcommand;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Every stored request and response as JSON lines (request key, model fingerprint, kind, the request
    /// exactly as sent, the parsed response, the raw excerpt, latency and token counts)
    Responses {
        #[command(flatten)]
        store: StoreArgs,
        /// Only the responses of this model fingerprint
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
    },
    /// A run's scores and per-sample records in lm-eval's output layout (results_*.json and one
    /// samples_<task>_*.parquet or .jsonl per task, as the hub's details datasets hold them); `yardstick
    /// import` reads them back
    Export {
        /// The run (see `yardstick runs`)
        run_id: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Directory to write into (a <model> directory is made inside)
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
        /// The samples files' format
        #[arg(long, value_enum, default_value_t = Format::Parquet)]
        format: Format,
    },
    /// Copy every row of one store into another (SQLite file or postgres:// URL, either way), losslessly:
    /// runs, tasks, responses with their contexts and excerpts, samples, aggregates, code executions and
    /// imported observations. Rows already in TO are skipped; a key TO holds with different content is an
    /// error naming it. Prints the rows copied and already present per table
    Copy {
        /// The store to read (must exist)
        #[arg(value_name = "FROM")]
        from: String,
        /// The store to write (created when absent; a PostgreSQL database must exist, its tables are created)
        #[arg(value_name = "TO")]
        to: String,
        /// Print the counts as JSON
        #[arg(long)]
        json: bool,
    },
    /// Merge the stores of a plan's shards into one (every row of each, as `copy` does) and, with --plan,
    /// check coverage: every request the plan needs is in the merged store (those found in several shard
    /// stores — a shard run twice — are counted)
    Merge {
        /// The shards' stores (SQLite files or postgres:// URLs)
        #[arg(required = true, value_name = "SHARD_STORE")]
        shards: Vec<String>,
        /// The store to merge into (created when absent)
        #[arg(long, value_name = "STORE")]
        into: String,
        /// The plan (`yardstick plan`) whose coverage to check
        #[arg(long, value_name = "PLAN")]
        plan: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Parquet,
    Jsonl,
}

/// Keys read back per batch (bounded memory on a large ledger).
const BATCH: usize = 1_000;

pub fn store(cmd: StoreCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        StoreCommand::Export {
            run_id,
            store,
            out,
            format,
        } => {
            use yardstick_analysis::export::{export_run, SamplesFormat};
            let s = store.open_read_only("yardstick run …")?;
            let format = match format {
                Format::Parquet => SamplesFormat::Parquet,
                Format::Jsonl => SamplesFormat::Jsonl,
            };
            for f in export_run(&s, &run_id, &out, format)? {
                println!("wrote {}", f.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Responses { store, fingerprint } => {
            let s = store.open_read_only("yardstick run …")?;
            let keys = s.response_keys(fingerprint.as_deref())?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for chunk in keys.chunks(BATCH) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                for r in s.get_response_records(&refs)? {
                    serde_json::to_writer(&mut out, &r)?;
                    out.write_all(b"\n")?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Copy { from, to, json } => copy(&from, &to, json),
        StoreCommand::Merge { shards, into, plan } => merge(&shards, &into, plan.as_deref()),
    }
}

fn copy(from: &str, to: &str, json: bool) -> anyhow::Result<ExitCode> {
    let source = StoreArgs {
        store: from.to_string(),
    };
    let dest = StoreArgs {
        store: to.to_string(),
    };
    if !yardstick_store::is_postgres_url(from) && !yardstick_store::is_postgres_url(to) {
        let (a, b) = (std::path::Path::new(from), std::path::Path::new(to));
        if a.exists() && b.exists() && a.canonicalize()? == b.canonicalize()? {
            anyhow::bail!("FROM and TO are the same store ({from}); name another TO");
        }
    }
    let source = source.open_read_only("yardstick run …")?;
    let dest = dest.open_for_writing()?;
    let started = std::time::Instant::now();
    let stats = source.copy_into(&dest)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &stats)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{:<12} {:>10} {:>10}", "table", "copied", "present")?;
        for t in &stats.tables {
            writeln!(out, "{:<12} {:>10} {:>10}", t.table, t.copied, t.present)?;
        }
        writeln!(
            out,
            "copied {} row(s) from {} into {} in {:.1}s ({} already there)",
            stats.copied(),
            source.location(),
            dest.location(),
            started.elapsed().as_secs_f64(),
            stats.present()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `store merge`: every shard store copied into INTO, then (with the plan) the coverage check.
fn merge(
    shards: &[String],
    into: &str,
    plan: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let plan = plan.map(yardstick_engine::run::RunPlan::load).transpose()?;
    let planned: std::collections::HashSet<String> = plan
        .as_ref()
        .map(|p| p.owners().into_keys().map(str::to_string).collect())
        .unwrap_or_default();
    let dest = StoreArgs {
        store: into.to_string(),
    }
    .open_for_writing()?;
    let mut holders: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut out = std::io::stdout().lock();
    for s in shards {
        let same_file = !yardstick_store::is_postgres_url(s)
            && std::path::Path::new(s).canonicalize().ok()
                == std::path::Path::new(into).canonicalize().ok();
        if s == into || same_file {
            anyhow::bail!("{s} is the store merged into (--into); name the shard stores only");
        }
        let source = StoreArgs { store: s.clone() }.open_read_only("yardstick run --plan …")?;
        if !planned.is_empty() {
            for k in source.response_keys(None)? {
                if planned.contains(&k) {
                    *holders.entry(k).or_insert(0) += 1;
                }
            }
        }
        let stats = source.copy_into(&dest)?;
        writeln!(
            out,
            "merged {s}: {} row(s) copied, {} already present",
            stats.copied(),
            stats.present()
        )?;
    }
    if let Some(plan) = plan {
        let missing = plan.missing(&dest)?;
        if !missing.is_empty() {
            let n: u64 = missing.values().sum();
            let list: Vec<String> = missing.keys().map(|s| s.to_string()).collect();
            anyhow::bail!(
                "coverage: {n} of plan {}'s {} requests are in none of these stores (shard(s) {}); run those shards \
                 (`yardstick run --plan PLAN --shard I`) and merge again",
                plan.short_id(),
                plan.requests,
                list.join(", ")
            );
        }
        let twice = holders.values().filter(|n| **n > 1).count();
        writeln!(
            out,
            "coverage: every one of the plan's {} requests is in {into} ({twice} were in more than one shard store: \
             a shard computed twice, harmless)",
            plan.requests
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
