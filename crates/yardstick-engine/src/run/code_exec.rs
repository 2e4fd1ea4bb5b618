//! Running candidate programs of code benchmarks (humaneval, mbpp) in the sandbox, as lm-eval's `code_eval`
//! metric runs them, with every result kept in the ledger: a program already run under the same harness,
//! interpreter and limits is not run again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use yardstick_sandbox::{Execution, Failure, Limits, Program, Sandbox, SandboxConfig};
use yardstick_store::Store;

use super::EvalError;

/// The harness each candidate runs under (see its header).
const HARNESS: &str = include_str!("code_eval_harness.py");
/// Bytes of the harness's own stdout/stderr kept per run.
const KEEP_OUTPUT: usize = 2048;

/// How candidate programs are run (`yardstick run --sandbox-workers …`).
#[derive(Clone, Debug)]
pub struct CodeExecOptions {
    /// Programs run at once.
    pub workers: usize,
    /// The interpreter (default: the sandbox's choice, `/usr/bin/python3`).
    pub python: Option<PathBuf>,
    /// Run unsandboxed where no sandbox is available (`--unsafe-local-exec`).
    pub unsafe_local_exec: bool,
    /// code_eval's per-program time limit (its `timeout`, 3 s): the floor of every candidate's limit.
    pub timeout: Duration,
    /// A candidate's limit is `max(timeout, reference_factor × the reference solution's time here)`, so a
    /// slow machine does not fail correct code (equal to code_eval's fixed limit while the reference runs
    /// in under `timeout / reference_factor`); 0 turns the scaling off.
    pub reference_factor: f64,
    /// Address-space limit of a program (code_eval sets none; the sandbox needs one).
    pub memory_bytes: u64,
}

impl Default for CodeExecOptions {
    fn default() -> Self {
        CodeExecOptions {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            python: None,
            unsafe_local_exec: false,
            timeout: Duration::from_secs(3),
            reference_factor: 4.0,
            memory_bytes: 4 << 30,
        }
    }
}

/// The verdict on one candidate, as code_eval gives it, with what the sandbox saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeVerdict {
    /// `passed`, `timed out` or `failed: <exception>` (code_eval's strings).
    pub result: String,
    /// Why the harness process itself failed (no verdict), if it did: timeout, memory, killed….
    pub failure: Option<Failure>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The head of the harness's stderr (the program's own output is swallowed, as in code_eval).
    pub stderr: String,
    pub wall_ms: f64,
    /// The time limit it ran under (code_eval's `timeout`), seconds.
    #[serde(default)]
    pub timeout_s: f64,
    /// Whether the ledger already had it.
    #[serde(skip)]
    pub cached: bool,
}

/// One program to check and the time limit it gets.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeJob {
    pub program: String,
    pub timeout: Duration,
}

impl CodeVerdict {
    pub fn passed(&self) -> bool {
        self.result == "passed"
    }
}

/// Runs candidates: the sandbox, the ledger, and the runtime to block on from a scoring thread.
pub struct CodeExec {
    sandbox: Sandbox,
    store: Arc<Store>,
    timeout: Duration,
    reference_factor: f64,
    memory_bytes: u64,
    /// Everything but the program and its limits that determines a result: harness, interpreter.
    key_prefix: String,
    rt: tokio::runtime::Handle,
}

impl std::fmt::Debug for CodeExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeExec")
            .field("isolation", &self.sandbox.isolation().describe())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl CodeExec {
    /// Start the sandbox (checked with a real program); fails with the reason and the remedy where there
    /// is none.
    pub async fn new(opts: &CodeExecOptions, store: Arc<Store>) -> Result<CodeExec, EvalError> {
        let sandbox = Sandbox::new(SandboxConfig {
            workers: opts.workers.max(1),
            python: opts.python.clone(),
            allow_unsafe_local_exec: opts.unsafe_local_exec,
            ..SandboxConfig::default()
        })
        .await
        .map_err(|e| EvalError::Sandbox(e.to_string()))?;
        let (python, version) = sandbox.python();
        let key_prefix = format!(
            "code_eval-v2\n{}\n{}\n{version}\n",
            hex::encode(Sha256::digest(HARNESS.as_bytes())),
            python.display(),
        );
        tracing::info!(
            "code execution: {}; python {} ({version}); {} workers",
            sandbox.isolation().describe(),
            python.display(),
            opts.workers
        );
        Ok(CodeExec {
            sandbox,
            store,
            timeout: opts.timeout,
            reference_factor: opts.reference_factor,
            memory_bytes: opts.memory_bytes,
            key_prefix,
            rt: tokio::runtime::Handle::current(),
        })
    }

    /// code_eval's fixed limit (the floor of every candidate's).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A candidate's limit when the reference solution took `reference` here (see
    /// [`CodeExecOptions::reference_factor`]).
    pub fn timeout_for_reference(&self, reference: Duration) -> Duration {
        Limits::default()
            .with_time_scaled(reference, self.reference_factor, self.timeout)
            .wall
    }

    /// The sandbox limits of a program with code_eval limit `timeout`: code_eval waits `timeout` + 1 s for
    /// its process; the sandbox's start-up comes on top.
    fn limits(&self, timeout: Duration) -> Limits {
        let wall = timeout + Duration::from_secs(2);
        Limits {
            wall,
            cpu: wall,
            memory_bytes: self.memory_bytes,
            keep_output_bytes: KEEP_OUTPUT,
            ..Limits::default()
        }
    }

    /// The ledger key of a job's result.
    pub fn key(&self, job: &CodeJob) -> String {
        let mut h = Sha256::new();
        h.update(self.key_prefix.as_bytes());
        h.update(format!(
            "{}\n{}\n",
            job.timeout.as_secs_f64(),
            self.limits(job.timeout).key_text()
        ));
        h.update(job.program.as_bytes());
        hex::encode(h.finalize())
    }

    /// Verdicts for `jobs` (in order), from the ledger or by running them; new results are stored before
    /// returning. Blocks: call it from a blocking thread (the scorer's), not from async code.
    pub fn check_all(&self, jobs: &[CodeJob]) -> Result<Vec<CodeVerdict>, EvalError> {
        let keys: Vec<String> = jobs.iter().map(|j| self.key(j)).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut known: HashMap<String, CodeVerdict> = HashMap::new();
        for (k, v) in self.store.get_executions(&refs)? {
            if let Ok(mut verdict) = serde_json::from_value::<CodeVerdict>(v) {
                verdict.cached = true;
                known.insert(k, verdict);
            }
        }
        let mut todo: Vec<(String, &CodeJob)> = Vec::new();
        for (k, p) in keys.iter().zip(jobs) {
            if !known.contains_key(k) && !todo.iter().any(|(t, _)| t == k) {
                todo.push((k.clone(), p));
            }
        }
        let fresh = self.rt.block_on(self.run_many(&todo))?;
        let rows: Vec<(String, serde_json::Value)> = fresh
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
            .collect();
        if !rows.is_empty() {
            self.store.put_executions(&rows)?;
        }
        known.extend(fresh);
        keys.iter()
            .map(|k| {
                known
                    .get(k)
                    .cloned()
                    .ok_or_else(|| EvalError::Internal(format!("no verdict for program {k}")))
            })
            .collect()
    }

    async fn run_many(
        &self,
        todo: &[(String, &CodeJob)],
    ) -> Result<Vec<(String, CodeVerdict)>, EvalError> {
        let mut handles = Vec::with_capacity(todo.len());
        for (k, job) in todo {
            let nonce = nonce(k);
            let mut program = Program::python(HARNESS);
            program.files = vec![("candidate.py".into(), job.program.clone())];
            program.args = vec![
                format!("{}/candidate.py", Program::DIR),
                format!("{}", job.timeout.as_secs_f64()),
            ];
            program.stdin = Some(format!("{nonce}\n").into_bytes());
            let (sb, limits) = (self.sandbox.clone(), self.limits(job.timeout));
            handles.push(tokio::spawn(async move {
                let e = sb.run(&program, &limits).await;
                (nonce, e)
            }));
        }
        let mut out = Vec::with_capacity(todo.len());
        for ((k, job), h) in todo.iter().zip(handles) {
            let (nonce, e) = h
                .await
                .map_err(|e| EvalError::Internal(format!("a sandbox task failed: {e}")))?;
            let e = e.map_err(|e| EvalError::Sandbox(e.to_string()))?;
            let mut v = verdict(&nonce, &e);
            v.timeout_s = job.timeout.as_secs_f64();
            out.push((k.clone(), v));
        }
        Ok(out)
    }
}

/// A per-program nonce the program cannot know in advance (derived from its key and the process's clock).
fn nonce(key: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update(t.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    hex::encode(&h.finalize()[..12])
}

/// The harness's verdict line (the last line carrying the nonce); none → code_eval's "timed out" (its
/// process ended or was killed without a result).
fn verdict(nonce: &str, e: &Execution) -> CodeVerdict {
    let result = e
        .stdout
        .text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["nonce"] == nonce)
        .and_then(|v| v["result"].as_str().map(str::to_string));
    CodeVerdict {
        failure: if result.is_some() {
            None
        } else {
            e.failure.clone()
        },
        result: result.unwrap_or_else(|| "timed out".into()),
        exit_code: e.exit_code,
        signal: e.signal,
        stderr: e.stderr.text.clone(),
        wall_ms: e.wall.as_secs_f64() * 1e3,
        timeout_s: 0.0,
        cached: false,
    }
}
