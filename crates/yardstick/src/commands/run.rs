//! `yardstick run`: evaluate a model behind an OpenAI-compatible server on lm-eval-compatible tasks.

use crate::progress::{self, RunProgress};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use yardstick_backends::{
    Backend, ChatBackend, EndpointPool, OpenAiBackend, OpenAiOptions, TokenizerChoice,
    TokenizerSpec,
};
use yardstick_engine::run::{self as evaluate, EvalOptions};
use yardstick_engine::schedule::Progress;
use yardstick_store::Store;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{ChatFormat, ChatRenderer, Limit};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1) — several endpoints of the
    /// same model separated by commas share the run (each request goes to the least-loaded one) — or a
    /// GGUF file evaluated in process by llama.cpp (./model.gguf, hf://ORG/REPO/FILE.gguf)
    #[arg(long, required_unless_present = "plan", default_value = "")]
    pub model: String,
    /// Model id to send (default: the first model the server lists)
    #[arg(long)]
    pub model_name: Option<String>,
    /// Tasks, groups or tags, comma-separated (see `yardstick tasks list`)
    #[arg(long, value_delimiter = ',', required_unless_present = "plan", value_parser = task_name)]
    pub tasks: Vec<String>,
    /// Few-shot examples per prompt (default: each task's own; a task that fixes 0 keeps 0)
    #[arg(long, allow_negative_numbers = true, value_parser = super::non_negative)]
    pub num_fewshot: Option<usize>,
    /// Evaluate only the first N documents of each task (a value below 1 is a fraction)
    #[arg(long, allow_negative_numbers = true, value_parser = str::parse::<Limit>)]
    pub limit: Option<Limit>,
    /// Requests in flight at once (per endpoint)
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// The store holding every request, response and score: a SQLite file, or a PostgreSQL database as
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
    #[arg(long, env = "YARDSTICK_STORE", default_value = "yardstick.db")]
    pub store: String,
    /// Write lm-eval-compatible results_*.json and samples_*.jsonl under this directory
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Few-shot sampling seed (lm-eval's fewshot_seed)
    #[arg(long, default_value_t = 1234)]
    pub seed: u64,
    /// Tokenizer: a tokenizer.json (or a directory with one), a Hugging Face repo id in the local cache,
    /// or `server` for the server's /tokenize (default: the model id in the HF cache, else `server`)
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Directory of original-release benchmark files (e.g. ../shared/data/benchmarks) for offline machines
    #[arg(long, env = "YARDSTICK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Extra directories of task YAMLs (override built-in tasks of the same name)
    #[arg(long)]
    pub include_path: Vec<PathBuf>,
    /// lm-eval's max_length: requests are left-truncated to max_length − 1 tokens (default 2048, as lm-eval)
    #[arg(long)]
    pub max_length: Option<usize>,
    /// Bootstrap iterations for bootstrapped stderrs (lm-eval's default 100000; 0 disables stderr)
    #[arg(long, default_value_t = 100_000)]
    pub bootstrap_iters: i64,
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Retries of a failed request (5xx, 429, timeouts, dropped connections)
    #[arg(long, default_value_t = 5)]
    pub max_retries: u32,
    /// Send one request per choice even when a question's choices are single tokens
    #[arg(long)]
    pub no_grouping: bool,
    /// Log-probabilities asked per position when a question is scored from one request (default 10, at
    /// most the server's limit): more find more choices of a weak model at once, in larger responses
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(2..))]
    pub group_top_k: Option<u16>,
    /// The endpoint: `completions` (/v1/completions: every task type) or `chat` (/v1/chat/completions:
    /// generation tasks only, prompts sent as chat messages, as lm-eval's local-chat-completions)
    #[arg(long, value_enum, default_value_t = Api::Completions)]
    pub api: Api,
    /// Render prompts with the model's chat template (from the tokenizer's tokenizer_config.json or the
    /// GGUF, or --chat-template); a value picks one of several named templates
    #[arg(long, num_args = 0..=1, default_missing_value = "default", value_name = "NAME")]
    pub apply_chat_template: Option<String>,
    /// A chat template file (Jinja) to use instead of the model's own (implies --apply-chat-template)
    #[arg(long, value_name = "FILE")]
    pub chat_template: Option<PathBuf>,
    /// With a chat template: few-shot examples as separate user/assistant turns (lm-eval's default), or
    /// (false) collapsed into one user message
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub fewshot_as_multiturn: bool,
    /// A system instruction, put before the task's description in the system message
    #[arg(long, value_name = "TEXT")]
    pub system_instruction: Option<String>,
    /// Reasoning models: drop a generation's text up to the last occurrence of this token (e.g.
    /// `</think>`) before filters and metrics see it; the raw text is kept in the store
    #[arg(long, value_name = "TOKEN")]
    pub think_end_token: Option<String>,
    /// Code benchmarks (humaneval, mbpp): model-written programs run at once in the sandbox
    #[arg(long, value_name = "N")]
    pub sandbox_workers: Option<usize>,
    /// Code benchmarks: the Python interpreter programs run with (default /usr/bin/python3)
    #[arg(long, value_name = "PATH")]
    pub sandbox_python: Option<PathBuf>,
    /// Code benchmarks: where no sandbox is available (no bubblewrap or user namespaces), run
    /// model-written code directly on this machine with resource limits only. Only for code you trust.
    #[arg(long)]
    pub unsafe_local_exec: bool,
    /// Accepted for lm-eval compatibility (its flag for code tasks); Yardstick runs such code in its
    /// sandbox regardless
    #[arg(long, hide = true)]
    pub confirm_run_unsafe_code: bool,
    /// Print the results as JSON on stdout (no progress bar)
    #[arg(long)]
    pub json: bool,
    /// No progress output
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub native: super::native::NativeArgs,
    /// Compute shards of a plan (`yardstick plan`): what to evaluate comes from the plan; this worker's
    /// --store, --model (another endpoint of the same model), --concurrency and timeouts apply
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// The shard to compute (default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)
    #[arg(long, requires = "plan", value_name = "I")]
    pub shard: Option<usize>,
    /// Take shards from the store one after another until none is left (a shared PostgreSQL store, or
    /// several workers on one machine); a shard whose worker died is taken over when its lease lapses
    #[arg(long, requires = "plan", conflicts_with = "shard")]
    pub claim: bool,
}

/// Which OpenAI-compatible endpoint `--model` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Api {
    Completions,
    Chat,
}

/// The chat template `--apply-chat-template` / `--chat-template` ask for: a file, else the tokenizer's
/// template of that name.
fn chat_template_for(
    args: &RunArgs,
    tokenizer: Option<&Arc<yardstick_backends::Tokenizer>>,
) -> anyhow::Result<Option<Arc<yardstick_tasks::chat_template::ChatTemplate>>> {
    use yardstick_tasks::chat_template::ChatTemplate;
    let specials = tokenizer
        .map(|t| t.info().special_tokens.clone())
        .unwrap_or_default();
    if let Some(path) = &args.chat_template {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--chat-template {}: cannot read it", path.display()))?;
        let t = ChatTemplate::new(&text, &path.display().to_string(), specials)?;
        return Ok(Some(Arc::new(t)));
    }
    let Some(name) = &args.apply_chat_template else {
        return Ok(None);
    };
    let Some(tok) = tokenizer else {
        anyhow::bail!(
            "--apply-chat-template: the backend has no tokenizer to take a chat template from; pass              --chat-template FILE or --tokenizer PATH"
        );
    };
    let templates = &tok.info().chat_templates;
    let found = templates
        .iter()
        .find(|(n, _)| n == name)
        .or_else(|| (name == "default" && templates.len() == 1).then(|| &templates[0]));
    let Some((n, text)) = found else {
        if templates.is_empty() {
            anyhow::bail!(
                "--apply-chat-template: the tokenizer {} has no chat template (tokenizer_config.json `chat_template`;                  for a GGUF, `yardstick tokenizer export` copies `tokenizer.chat_template`); pass --chat-template FILE",
                tok.info().source
            );
        }
        anyhow::bail!(
            "--apply-chat-template {name}: the tokenizer {} has templates {}; name one",
            tok.info().source,
            templates
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let source_name = format!("{} ({n})", tok.info().source);
    Ok(Some(Arc::new(ChatTemplate::new(
        text,
        &source_name,
        specials,
    )?)))
}

/// The backend a run talks to, and the OpenAI-compatible clients behind it (for their counters).
struct Connected {
    backend: Arc<dyn Backend>,
    servers: Vec<Arc<OpenAiBackend>>,
    pool: Option<Arc<EndpointPool>>,
}

/// The endpoints `--model` names (comma-separated).
fn endpoint_urls(model: &str) -> Vec<String> {
    model
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}

/// Connect the backend `--model` and `--api` name: a GGUF file in process, the completions client (one
/// endpoint, or a pool of several), or the chat client.
async fn connect(args: &RunArgs, prepared: &evaluate::PreparedRun) -> anyhow::Result<Connected> {
    if let Some(native) = super::native::connect(args, prepared).await? {
        return Ok(Connected {
            backend: native,
            servers: Vec::new(),
            pool: None,
        });
    }
    let tokenizer = match &args.tokenizer {
        Some(s) => TokenizerChoice::Spec(TokenizerSpec::parse(s)),
        None => TokenizerChoice::Auto,
    };
    let backend_opts = OpenAiOptions {
        model_name: args.model_name.clone(),
        concurrency: args.concurrency.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_retries: args.max_retries,
        max_length: args.max_length,
        tokenizer,
        grouped: !args.no_grouping,
        group_top_k: args.group_top_k.map(usize::from),
        probe_texts: prepared.probe_texts(8),
        think_end_token: args.think_end_token.clone(),
        ..OpenAiOptions::default()
    };
    let connecting = || format!("connecting to {}", yardstick_core::redact_url(&args.model));
    let urls = endpoint_urls(&args.model);
    Ok(match (args.api, urls.as_slice()) {
        (Api::Completions, [one]) => {
            let b = Arc::new(
                OpenAiBackend::connect(one, backend_opts)
                    .await
                    .with_context(connecting)?,
            );
            Connected {
                backend: b.clone(),
                servers: vec![b],
                pool: None,
            }
        }
        (Api::Completions, _) => {
            let pool = Arc::new(
                EndpointPool::connect(&urls, backend_opts)
                    .await
                    .with_context(connecting)?,
            );
            for (url, why) in pool.left_out() {
                eprintln!("warning: endpoint {url} is left out of this run (it could not be connected: {why})");
            }
            Connected {
                backend: pool.clone(),
                servers: pool.backends().cloned().collect(),
                pool: Some(pool),
            }
        }
        (Api::Chat, [one]) => Connected {
            backend: Arc::new(
                ChatBackend::connect(one, backend_opts)
                    .await
                    .with_context(connecting)?,
            ),
            servers: Vec::new(),
            pool: None,
        },
        (Api::Chat, _) => anyhow::bail!(
            "--api chat takes one endpoint; several endpoints ({}) are supported with --api completions",
            urls.len()
        ),
    })
}

/// How prompts are rendered as chat: a chat endpoint gets the message list itself (lm-eval's
/// `JsonChatStr`); a completions endpoint gets the chat template's text when one is asked for.
pub(crate) fn chat_format(
    args: &RunArgs,
    tokenizer: Option<&Arc<yardstick_backends::Tokenizer>>,
) -> anyhow::Result<Option<ChatFormat>> {
    let renderer = match args.api {
        Api::Chat => Some(ChatRenderer::Messages),
        Api::Completions => chat_template_for(args, tokenizer)?.map(ChatRenderer::Template),
    };
    Ok(renderer.map(|renderer| ChatFormat {
        renderer,
        fewshot_as_multiturn: args.fewshot_as_multiturn,
    }))
}

/// One name of `--tasks`: not empty (`--tasks ,`, `--tasks ""` and `--tasks a,,b` are refused).
fn task_name(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(
            "an empty task name; give task, group or tag names separated by commas, e.g. --tasks mmlu,gsm8k \
             (see `yardstick tasks list`)"
                .into(),
        );
    }
    Ok(t.to_string())
}

/// Fail before the first request when `--output DIR` cannot be written: create it and write (and remove)
/// a probe file there.
pub(crate) fn check_output_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let what = || {
        format!(
            "--output {}: the directory for results_*.json and samples_*.jsonl cannot be written",
            dir.display()
        )
    };
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "{}: it is not a directory; pass a directory with --output DIR",
            what()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}; create it or pass another --output DIR", what()))?;
    let probe = dir.join(format!(".yardstick-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("{}; make it writable or pass another --output DIR", what()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A second signal within this time of the first is taken for the same one, delivered twice.
const SIGNAL_REPEAT: Duration = Duration::from_secs(1);

/// The signal that interrupted a run, as `128 + signal number` (the shell's exit status for it); 0 = none.
static INTERRUPTED_BY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Ctrl-C (SIGINT), SIGTERM (a scheduler or `kill`) and SIGHUP (a closed terminal or SSH session) all end a
/// run the same way: the requests in flight finish and are stored, the run is marked interrupted and the
/// resume command printed; exit status 128 + the signal (130, 143, 129). A second signal (a second or more
/// after the first) exits at once.
pub(crate) fn install_interrupt_handlers(
    cancel: Arc<AtomicBool>,
    resume: String,
) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let first_at = Arc::new(std::sync::Mutex::new(None::<std::time::Instant>));
        let mut streams = Vec::new();
        for (kind, code, name) in [
            (SignalKind::interrupt(), 130u8, "Ctrl-C"),
            (SignalKind::terminate(), 143, "SIGTERM"),
            (SignalKind::hangup(), 129, "SIGHUP"),
        ] {
            let s = signal(kind).with_context(|| format!("listening for {name}"))?;
            streams.push((s, code, name));
        }
        for (mut s, code, name) in streams {
            let cancel = cancel.clone();
            let resume = resume.clone();
            let first_at = first_at.clone();
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    let first = INTERRUPTED_BY
                        .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok();
                    if first {
                        if let Ok(mut at) = first_at.lock() {
                            *at = Some(std::time::Instant::now());
                        }
                    }
                    if !first || cancel.swap(true, Ordering::SeqCst) {
                        // The same request delivered twice at once (timeout(1) signals its child and then
                        // the process group; schedulers signal every process of a job) is not a second one.
                        let since = first_at.lock().ok().and_then(|at| at.map(|t| t.elapsed()));
                        if since.is_some_and(|d| d < SIGNAL_REPEAT) {
                            continue;
                        }
                        std::process::exit(i32::from(code));
                    }
                    eprintln!(
                        "\ninterrupted ({name}): finishing the requests in flight and saving them (the same signal or \
                         Ctrl-C again quits now).\nResume with:\n  {resume}"
                    );
                }
            });
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            INTERRUPTED_BY.store(130, Ordering::SeqCst);
            cancel.store(true, Ordering::SeqCst);
            eprintln!(
                "\ninterrupted: finishing the requests in flight and saving them (Ctrl-C again to quit now).\n\
                 Resume with:\n  {resume}"
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    Ok(())
}

fn git_rev() -> Option<String> {
    option_env!("YARDSTICK_GIT_REV")
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if args.plan.is_some() {
        return rt.block_on(super::plan::run_planned(args));
    }
    rt.block_on(run_async(args))
}

/// The command line as recorded, written and printed: no credentials (the backend alone uses the real URL).
pub(crate) fn recorded_command_line() -> String {
    yardstick_core::redact_command_line(
        &std::env::args()
            .map(|a| shell_quote(&a))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The evaluation options `args` ask for.
pub(crate) fn eval_options(args: &RunArgs, command_line: String) -> EvalOptions {
    let mut data = DataOptions::from_env();
    data.data_dir = args.data_dir.clone();
    EvalOptions {
        tasks: args.tasks.clone(),
        include_paths: args.include_path.clone(),
        data,
        num_fewshot: args.num_fewshot,
        limit: args.limit,
        fewshot_seed: args.seed,
        concurrency: args.concurrency.max(1),
        output_dir: args.output.clone(),
        bootstrap_iters: args.bootstrap_iters,
        command_line,
        git_rev: git_rev(),
        format: yardstick_tasks::PromptFormat {
            system_instruction: args.system_instruction.clone(),
            chat: None,
        },
        code_exec: {
            let mut c = yardstick_engine::run::CodeExecOptions {
                python: args.sandbox_python.clone(),
                unsafe_local_exec: args.unsafe_local_exec,
                ..Default::default()
            };
            if let Some(n) = args.sandbox_workers {
                c.workers = n.max(1);
            }
            c
        },
        model_args: format!(
            "base_url={},model={},max_length={},num_concurrent={}",
            yardstick_core::redact_url(&args.model),
            args.model_name.clone().unwrap_or_default(),
            args.max_length.unwrap_or(2048),
            args.concurrency
        ),
        mode: Default::default(),
    }
}

/// Resolve and check every task (YAML, data, templates) before a model is contacted.
pub(crate) async fn prepare(
    opts: &EvalOptions,
    note: impl Fn(&str),
) -> anyhow::Result<evaluate::PreparedRun> {
    let prep_opts = opts.clone();
    let prepared =
        tokio::task::spawn_blocking(move || evaluate::prepare(&prep_opts).map_err(Box::new))
            .await
            .context("preparing tasks")??;
    note(&format!(
        "prepared {} task(s), {} documents, about {} requests in {:.2}s",
        prepared.tasks.len(),
        prepared.n_docs(),
        prepared.estimated_requests(),
        prepared.prepare_seconds
    ));
    Ok(prepared)
}

/// The model, connected and probed, and the options it completes (concurrency over its endpoints, the chat
/// format from its tokenizer).
pub(crate) struct Session {
    pub backend: Arc<dyn Backend>,
    pub servers: Vec<Arc<OpenAiBackend>>,
    pub pool: Option<Arc<EndpointPool>>,
    pub probe: yardstick_backends::ProbeReport,
}

/// Connect `--model`, complete `opts` and probe the model (the probe printed unless `silent`).
pub(crate) async fn open_session(
    args: &RunArgs,
    prepared: &evaluate::PreparedRun,
    opts: &mut EvalOptions,
    silent: bool,
) -> anyhow::Result<Session> {
    let Connected {
        backend,
        servers,
        pool,
    } = connect(args, prepared).await?;
    // --concurrency is per endpoint: the run keeps every endpoint busy.
    opts.concurrency = args.concurrency.max(1) * servers.len().max(1);
    opts.format.chat = chat_format(args, backend.tokenizer())?;
    if let Some(ChatRenderer::Template(t)) = opts.format.chat.as_ref().map(|c| &c.renderer) {
        if !silent {
            eprintln!(
                "chat template: {} (sha256 {})",
                t.source_name(),
                &t.sha256()[..12]
            );
        }
    }
    let probe = backend
        .probe()
        .await
        .with_context(|| format!("probing {}", yardstick_core::redact_url(&args.model)))?;
    if !silent {
        eprintln!("{}", probe.render());
    }
    Ok(Session {
        backend,
        servers,
        pool,
        probe,
    })
}

/// The progress display of a run (with the HTTP calls of its servers).
pub(crate) fn run_progress(silent: bool, servers: &[Arc<OpenAiBackend>]) -> RunProgress {
    let progress = RunProgress::new(progress::choose(silent));
    if servers.is_empty() {
        return progress;
    }
    let servers = servers.to_vec();
    progress.with_http_calls(move || servers.iter().map(|s| s.counters().http_calls).sum())
}

async fn run_async(args: RunArgs) -> anyhow::Result<ExitCode> {
    let command_line = recorded_command_line();
    let mut opts = eval_options(&args, command_line.clone());
    let silent = args.json || args.quiet;
    let note = |s: &str| {
        if !silent {
            eprintln!("{s}");
        }
    };

    // Everything that can fail without a model fails first: tasks, YAML, data.
    let prepared = prepare(&opts, note).await?;

    // Then what a run writes: the store (openable, not from a newer Yardstick, writable) and --output.
    let store = Arc::new(Store::open_location(&args.store).with_context(|| {
        format!(
            "opening the store {}",
            yardstick_store::display_location(&args.store)
        )
    })?);
    if let Some(dir) = &args.output {
        check_output_dir(dir)?;
    }

    // Tasks that run model-written code need the sandbox: checked before the model is contacted.
    evaluate::check_sandbox(&opts, &prepared).await?;

    let cancel = Arc::new(AtomicBool::new(false));
    install_interrupt_handlers(cancel.clone(), command_line.clone())?;

    let session = open_session(&args, &prepared, &mut opts, silent).await?;
    let progress = run_progress(silent, &session.servers);
    let outcome = evaluate::evaluate(
        &opts,
        prepared,
        session.backend.clone(),
        store,
        &progress as &dyn Progress,
        cancel,
    )
    .await
    .context("evaluation failed")?;
    report_outcome(&args, &outcome, &session, &command_line)
}

/// What a finished or interrupted run prints: the table and headline (or JSON) on stdout, the summary on
/// stderr; an interrupted run says how to resume and exits 130 (or the signal's code).
pub(crate) fn report_outcome(
    args: &RunArgs,
    outcome: &evaluate::RunOutcome,
    session: &Session,
    command_line: &str,
) -> anyhow::Result<ExitCode> {
    let silent = args.json || args.quiet;
    let mut out = std::io::stdout().lock();
    if outcome.interrupted {
        eprintln!(
            "run {} interrupted: {} of {} requests stored ({} reused, {} sent this time). Resume with:\n  {}",
            outcome.run_id,
            outcome.requests_reused + outcome.requests_sent,
            outcome.requests_total,
            outcome.requests_reused,
            outcome.requests_sent,
            command_line
        );
        return Ok(ExitCode::from(interrupted_code()));
    }
    if args.json {
        if let Some(r) = &outcome.results {
            writeln!(out, "{}", r.dumps_indent(2))?;
        }
    } else if let Some(t) = &outcome.table {
        writeln!(out, "{t}")?;
        let model = session.backend.model_ref();
        let short = yardstick_core::short_model_name(&model.name);
        if let Some(line) = outcome
            .results
            .as_ref()
            .and_then(|r| yardstick_engine::output::headline(r, short))
        {
            writeln!(out, "{line}")?;
        }
    }
    if !silent {
        print_summary(outcome, &session.servers, session.pool.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

/// The exit status of a run stopped by a signal: 130 for Ctrl-C, else the signal's.
pub(crate) fn interrupted_code() -> u8 {
    match INTERRUPTED_BY.load(Ordering::SeqCst) {
        0 => 130,
        c => c,
    }
}

/// The run's closing lines on stderr: requests, reuse, rate and tokens; the HTTP calls of an OpenAI-compatible
/// backend and how multiple-choice questions were scored (and, when one request per choice was used, why
/// and what would change it); the files written.
fn print_summary(
    outcome: &evaluate::RunOutcome,
    servers: &[Arc<OpenAiBackend>],
    pool: Option<&EndpointPool>,
) {
    let s = &outcome.stats;
    let rate = if s.wall_seconds > 0.0 {
        s.requests_answered as f64 / s.wall_seconds
    } else {
        0.0
    };
    eprintln!(
        "run {}{}: {} requests, {} reused from the store, {} sent ({:.1} req/s), {} prompt and {} generated tokens; {}",
        outcome.run_id,
        if outcome.resumed { " (resumed)" } else { "" },
        outcome.requests_total,
        outcome.requests_reused,
        outcome.requests_sent,
        rate,
        s.prompt_tokens,
        s.completion_tokens,
        crate::progress::short_duration(outcome.wall_seconds)
    );
    if !servers.is_empty() {
        print_server_calls(servers);
    }
    if let Some(pool) = pool {
        for e in pool.stats() {
            eprintln!(
                "endpoint {}: {} answered in {} HTTP calls, {} failures",
                e.url, e.answered, e.http_calls, e.failures
            );
        }
    }
    for f in &outcome.output_files {
        eprintln!("wrote {}", f.display());
    }
}

/// What the server saw: HTTP calls, and how single-token multiple-choice questions were scored.
fn print_server_calls(servers: &[Arc<OpenAiBackend>]) {
    let c = servers.iter().map(|s| s.counters()).fold(
        Default::default(),
        |a: yardstick_backends::BackendCounters, b| a + b,
    );
    let mut line = format!(
        "server: {} HTTP calls ({} retries)",
        c.http_calls, c.retries
    );
    if c.grouped_questions > 0 {
        line.push_str(&format!(
            "; {} of {} multiple-choice questions scored from one request each ({} choices read from top \
             log-probabilities, {} needed their own request{})",
            c.grouped_questions,
            c.single_token_questions,
            c.grouped_choices_read,
            c.grouped_fallbacks,
            if c.piece_checks > 0 {
                format!(
                    ", {} more checked by their own request against the server's token names",
                    c.piece_checks
                )
            } else {
                String::new()
            }
        ));
    }
    eprintln!("{line}");
    if let Some(why) = servers.iter().find_map(|s| s.grouping_off()) {
        eprintln!("one request per choice: {why}");
    }
}
