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
}

/// Keys read back per batch (bounded memory on a large ledger).
const BATCH: usize = 1_000;

pub fn store(cmd: StoreCommand) -> anyhow::Result<ExitCode> {
    match cmd {
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
