//! Running untrusted, model-written programs in isolation.
//!
//! A program runs under bubblewrap in its own user, PID, mount, network, IPC and UTS namespaces: it sees
//! `/usr` (and an interpreter's directory) read-only, its own files read-only at `/sandbox`, a private
//! size-limited tmpfs at `/tmp` as its working directory, a minimal `/dev` and its own `/proc`; it has no
//! network (only a loopback of its own), no capabilities and a clean environment. rlimits bound its CPU
//! time, address space, processes, file size and open files; the runner bounds its wall time and output and
//! kills the whole tree at the end (the PID namespace dies with its first process). When the runner is root,
//! each concurrent program also runs as a user id of its own, so nothing private to root is readable and
//! anything left behind is found and killed by user id.
//!
//! Where bubblewrap or user namespaces are missing, [`Sandbox::new`] says so and refuses, unless the caller
//! explicitly allows unsandboxed execution ([`SandboxConfig::allow_unsafe_local_exec`]).

mod capture;
mod isolation;
mod limits;
mod outcome;
mod run;

use std::path::PathBuf;
use std::sync::Arc;

pub use capture::Captured;
pub use isolation::{Isolation, Users};
pub use limits::Limits;
pub use outcome::{Execution, Failure};

/// Why the sandbox cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "model-written code cannot be sandboxed on this machine: {reason}. {remedy} Or pass \
         --unsafe-local-exec to run it directly on this machine (only for code you trust)."
    )]
    Unavailable { reason: String, remedy: String },
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
}

impl SandboxError {
    fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> SandboxError {
        let action = action.into();
        move |source| SandboxError::Io { action, source }
    }
}

/// The language of a program (the interface is open to others; Python is the one the benchmarks need).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Python,
}

/// One program to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub language: Language,
    /// The main file's source (for a benchmark: the model's code followed by the tests, or a harness).
    pub source: String,
    /// More files beside the main one, read-only in the program's directory: (plain file name, content).
    pub files: Vec<(String, String)>,
    /// Arguments after the main file.
    pub args: Vec<String>,
    /// What the program reads on stdin (`None`: it reads end-of-file at once).
    pub stdin: Option<Vec<u8>>,
}

impl Program {
    pub fn python(source: impl Into<String>) -> Program {
        Program {
            language: Language::Python,
            source: source.into(),
            files: Vec::new(),
            args: Vec::new(),
            stdin: None,
        }
    }

    /// The directory the program's files are in, as the program sees it (`/sandbox`; unsandboxed, a
    /// temporary directory — pass paths to it as arguments rather than writing them into the source).
    pub const DIR: &'static str = isolation::PROGRAM_DIR;
}

/// How to build a [`Sandbox`].
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Programs run at once (`--sandbox-workers`).
    pub workers: usize,
    /// The Python interpreter; default `/usr/bin/python3` where it exists, else `python3` on `PATH`.
    pub python: Option<PathBuf>,
    /// bubblewrap; default `$YARDSTICK_BWRAP` or `bwrap` on `PATH`.
    pub bwrap: Option<PathBuf>,
    /// First user id of the pool used when the runner is root.
    pub uid_base: u32,
    /// Run programs unsandboxed when no sandbox is available (`--unsafe-local-exec`), instead of refusing.
    pub allow_unsafe_local_exec: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            python: None,
            bwrap: None,
            uid_base: 3_000_000,
            allow_unsafe_local_exec: false,
        }
    }
}

/// Runs programs, `workers` at a time.
#[derive(Debug, Clone)]
pub struct Sandbox {
    inner: Arc<run::Runner>,
}

impl Sandbox {
    /// Find bubblewrap and the interpreter and check, with one real program, that a sandbox can start here.
    pub async fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        if config.workers == 0 {
            return Err(SandboxError::Config(
                "--sandbox-workers must be at least 1".into(),
            ));
        }
        let runner = run::Runner::new(&config).await?;
        Ok(Sandbox {
            inner: Arc::new(runner),
        })
    }

    /// How programs are isolated.
    pub fn isolation(&self) -> &Isolation {
        &self.inner.isolation
    }

    /// The interpreter programs run with, and its version (`3.11.2`).
    pub fn python(&self) -> (&std::path::Path, &str) {
        (&self.inner.python, &self.inner.python_version)
    }

    /// Processes still running as one of the sandbox's own user ids (there should be none between runs);
    /// `None` where programs do not run under ids of their own (runner not root, or unsandboxed).
    pub fn processes_left(&self) -> Option<Vec<i32>> {
        let uids = &self.inner.slots.uids;
        (!uids.is_empty()).then(|| {
            uids.iter()
                .flat_map(|&uid| isolation::processes_of(uid, false))
                .map(|p| p.pid)
                .collect()
        })
    }

    /// Run one program under `limits` (waits for a free worker).
    pub async fn run(&self, program: &Program, limits: &Limits) -> Result<Execution, SandboxError> {
        self.inner.run(program, limits).await
    }
}
