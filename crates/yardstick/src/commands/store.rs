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
    }
}
