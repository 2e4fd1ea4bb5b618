//! `yardstick`: evaluate language models and measure the gaps between groups of them.

mod commands;
mod output;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "yardstick",
    version,
    about = "Evaluate language models and measure the gaps between groups of them, with error bars"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a model on tasks (lm-evaluation-harness compatible), resuming from the store
    Run(Box<commands::run::RunArgs>),
    /// Cut a run into shards for many workers (Slurm, Kubernetes, several processes): writes an immutable plan
    Plan(Box<commands::plan::PlanArgs>),
    /// Score a planned run from the store once every shard is in (nothing is sent)
    Finalize(commands::plan::FinalizeArgs),
    /// List task definitions or show exactly how one is prompted
    #[command(subcommand)]
    Tasks(commands::tasks::TasksCommand),
    /// What the store holds: runs, their status and size
    Runs(commands::runs::RunsArgs),
    /// Leaderboard of stored results: model × task
    Results(commands::runs::ResultsArgs),
    /// Tokenizer utilities (export a GGUF's embedded vocabulary to a Hugging Face tokenizer.json)
    #[command(subcommand)]
    Tokenizer(commands::tokenizer::TokenizerCommand),
    /// Import results measured elsewhere (lm-eval results/samples, Open LLM Leaderboard, Epoch, LMArena)
    Import(commands::analysis::ImportArgs),
    /// The model registry: organizations, countries, release dates
    #[command(subcommand)]
    Models(commands::analysis::ModelsCommand),
    /// Gap between two groups of models, with confidence intervals
    Gap(commands::analysis::GapArgs),
    /// Frontier gap, lag in months and trend of the gap over release dates
    Trend(commands::analysis::TrendArgs),
    /// Bradley–Terry ratings with confidence intervals from pairwise battles
    Rate(commands::analysis::RateArgs),
    /// The ledger itself: stored requests and responses
    #[command(subcommand)]
    Store(commands::store::StoreCommand),
    /// Web UI over the store: leaderboard, model, gap, runs and samples pages, and a JSON API
    Serve(commands::web::ServeArgs),
    /// Write one self-contained HTML file with the leaderboard and gap analyses, for sharing
    Report(commands::web::ReportArgs),
}

/// glibc's malloc gives every thread that allocates its own arena (up to 8 per core) and keeps freed
/// memory in it; a run's threads (tokio workers, the preparing thread, tokenizer and scoring threads) then
/// hold ~20 MB of peak RSS more than they use on an mmlu run (BENCHMARKS.md). One arena is enough for a
/// process whose heavy work is waiting on a model server.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called first thing in main, before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Output into a closed pipe (`yardstick … | head`) ends the process quietly, as it does for other Unix
/// tools: Rust ignores SIGPIPE, so a write would fail with EPIPE and `println!` would panic. No write of
/// ours needs to survive a closed pipe (sockets use MSG_NOSIGNAL and are unaffected).
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition, first thing in main, before any other thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The error and its causes on one line, `outer: cause: …`, as anyhow's `{:#}` writes them — but a cause
/// whose message the text already holds is left out: many errors quote their source in their own message
/// (`task `x`: split `test`: {source}`), and the user would read the same paragraph twice.
fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let msg = cause.to_string();
        if msg.is_empty() || text.contains(&msg) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&msg);
    }
    text
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    default_sigpipe();
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("YARDSTICK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Run(args) => commands::run::run(*args),
        Command::Plan(args) => commands::plan::plan(*args),
        Command::Finalize(args) => commands::plan::finalize(args),
        Command::Tasks(cmd) => commands::tasks::run(cmd),
        Command::Runs(args) => commands::runs::runs(args),
        Command::Results(args) => commands::runs::results(args),
        Command::Store(cmd) => commands::store::store(cmd),
        Command::Tokenizer(cmd) => commands::tokenizer::run(cmd),
        Command::Import(args) => commands::analysis::import(args),
        Command::Models(cmd) => commands::analysis::models(cmd),
        Command::Gap(args) => commands::analysis::gap(args),
        Command::Trend(args) => commands::analysis::trend(args),
        Command::Rate(args) => commands::analysis::rate(args),
        Command::Serve(args) => commands::web::serve(args),
        Command::Report(args) => commands::web::report(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (e.g. `yardstick results | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // Errors may quote a server's body or an imported file: safe to print (no terminal escapes,
            // no secrets).
            eprintln!(
                "error: {}",
                yardstick_core::safe_to_print(&error_text(&err))
            );
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[derive(Debug)]
    struct Quoting(std::io::Error);
    impl std::fmt::Display for Quoting {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "reading x: {}", self.0)
        }
    }
    impl std::error::Error for Quoting {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_the_message_already_quotes_is_printed_once() {
        let inner = std::io::Error::other("disk on fire");
        let err = anyhow::Error::new(Quoting(inner)).context("loading task y");
        assert_eq!(error_text(&err), "loading task y: reading x: disk on fire");
    }

    #[test]
    fn causes_not_quoted_are_all_kept() {
        let err = anyhow::anyhow!("disk on fire")
            .context("reading x")
            .context("loading task y");
        assert_eq!(error_text(&err), "loading task y: reading x: disk on fire");
        assert_eq!(error_text(&err), format!("{err:#}"));
    }
}
