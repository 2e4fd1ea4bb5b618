//! Starting, watching and ending one sandboxed program.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;
use tokio::sync::{watch, Semaphore};

use crate::capture::{read_bounded, Captured, OutputBudget};
use crate::isolation::{self, Isolation, Slot, Slots, Users, View, PROGRAM_DIR};
use crate::limits::RlimitPlan;
use crate::outcome::{classify, Ending, Execution};
use crate::{Language, Limits, Program, SandboxConfig, SandboxError};

/// How long output readers may take after the tree ended before they are stopped.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub(crate) struct Runner {
    pub(crate) isolation: Isolation,
    pub(crate) python: PathBuf,
    pub(crate) python_version: String,
    view: View,
    workers: Semaphore,
    pub(crate) slots: Slots,
}

impl Runner {
    pub(crate) async fn new(config: &SandboxConfig) -> Result<Runner, SandboxError> {
        let python = find_python(config)?;
        let mut extra = Vec::new();
        if !python.starts_with("/usr/") {
            // e.g. /opt/python/3.11/bin/python3.11 → /opt/python/3.11
            if let Some(prefix) = python.parent().and_then(Path::parent) {
                extra.push(prefix.to_path_buf());
            }
        }
        let isolation = match config.bwrap.clone().or_else(isolation::find_bwrap) {
            Some(bwrap) => {
                // SAFETY: geteuid and getuid cannot fail.
                let (euid, uid) = unsafe { (libc::geteuid(), libc::getuid()) };
                let users = if euid == 0 {
                    Users::OwnIds {
                        base: config.uid_base,
                    }
                } else {
                    Users::Runner { uid }
                };
                Isolation::Namespaces { bwrap, users }
            }
            None => Isolation::UnsafeLocal,
        };
        let own_ids_from = match &isolation {
            Isolation::Namespaces {
                users: Users::OwnIds { base },
                ..
            } => Some(*base),
            _ => None,
        };
        if own_ids_from.is_some() {
            become_subreaper();
        }
        let mut runner = Runner {
            slots: Slots::new(config.workers, own_ids_from)?,
            isolation,
            python,
            python_version: String::new(),
            view: View { extra },
            workers: Semaphore::new(config.workers),
        };
        runner.check(config).await?;
        Ok(runner)
    }

    /// Run one real program to see that the sandbox starts here, and learn the interpreter's version.
    async fn check(&mut self, config: &SandboxConfig) -> Result<(), SandboxError> {
        let probe = Program::python("import sys\nprint('%d.%d.%d' % sys.version_info[:3])\n");
        let limits = Limits {
            wall: Duration::from_secs(30),
            ..Limits::default()
        };
        if matches!(self.isolation, Isolation::UnsafeLocal) {
            if !config.allow_unsafe_local_exec {
                return Err(SandboxError::Unavailable {
                    reason: "bubblewrap (`bwrap`) is not installed (nor named by $YARDSTICK_BWRAP)".into(),
                    remedy: "Install it (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install \
                             bubblewrap`); it needs unprivileged user namespaces (`sysctl \
                             user.max_user_namespaces` > 0)."
                        .into(),
                });
            }
            tracing::warn!(
                "--unsafe-local-exec: model-written code runs directly on this machine, with rlimits only"
            );
        }
        let e = self.run(&probe, &limits).await?;
        if let (true, Some(v)) = (e.passed(), e.stdout.text.lines().next()) {
            self.python_version = v.trim().to_string();
            return Ok(());
        }
        let why = e
            .failure
            .map(|f| f.to_string())
            .unwrap_or_else(|| "no output".into());
        let excerpt: String = e.stderr.text.chars().take(600).collect();
        if matches!(self.isolation, Isolation::Namespaces { .. }) && config.allow_unsafe_local_exec
        {
            tracing::warn!(
                "the sandbox does not start here ({why}; {excerpt}); --unsafe-local-exec: model-written code \
                 runs directly on this machine, with rlimits only"
            );
            self.isolation = Isolation::UnsafeLocal;
            return Box::pin(self.check(config)).await;
        }
        Err(SandboxError::Unavailable {
            reason: format!(
                "a test program ({} -c 'print(sys.version)') failed in it: {why}; stderr: {excerpt}",
                self.python.display()
            ),
            remedy: "Check that user namespaces are enabled (`sysctl user.max_user_namespaces` > 0, and \
                     `kernel.unprivileged_userns_clone=1` on Debian kernels that have it) and that the \
                     interpreter is readable by other users."
                .into(),
        })
    }

    pub(crate) async fn run(
        &self,
        program: &Program,
        limits: &Limits,
    ) -> Result<Execution, SandboxError> {
        let _permit = self
            .workers
            .acquire()
            .await
            .map_err(|_| SandboxError::Config("the sandbox was shut down".into()))?;
        let slot = self
            .slots
            .take()
            .ok_or_else(|| SandboxError::Config("no free sandbox slot".into()))?;
        let result = self.run_in_slot(program, limits, slot).await;
        self.slots.give_back(slot);
        result
    }

    async fn run_in_slot(
        &self,
        program: &Program,
        limits: &Limits,
        slot: Slot,
    ) -> Result<Execution, SandboxError> {
        let dir = program_dir(program)?;
        let uid = slot.uid;
        let mut cmd = self.command(program, dir.path(), limits, uid);
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(SandboxError::io(format!(
            "starting {}",
            match &self.isolation {
                Isolation::Namespaces { bwrap, .. } => bwrap.display().to_string(),
                Isolation::UnsafeLocal => self.python.display().to_string(),
            }
        )))?;
        let pid = child.id();
        if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), program.stdin.clone()) {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                // A program that does not read its input closes the pipe: not an error.
                let _ = pipe.write_all(&bytes).await;
            });
        }
        let budget = OutputBudget::new(limits.output_bytes);
        let (stop_tx, stop_rx) = watch::channel(false);
        let reader = |s: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| {
            let (budget, keep, mut stop) =
                (budget.clone(), limits.keep_output_bytes, stop_rx.clone());
            tokio::spawn(async move {
                let Some(s) = s else {
                    return Captured::default();
                };
                read_bounded(s, keep, budget, &mut stop).await
            })
        };
        let out = reader(child.stdout.take().map(|s| Box::new(s) as _));
        let err = reader(child.stderr.take().map(|s| Box::new(s) as _));
        let waited = tokio::select! {
            s = child.wait() => Some(s),
            _ = tokio::time::sleep(limits.wall) => None,
            _ = budget.exceeded.notified() => None,
        };
        let (status, ending) = match waited {
            Some(s) => (
                s.map_err(SandboxError::io("waiting for the program"))?,
                None,
            ),
            None => {
                let ending = if budget.is_exceeded() {
                    Ending::OutputLimit
                } else {
                    Ending::WallTimeout
                };
                kill_tree(pid);
                let s = child
                    .wait()
                    .await
                    .map_err(SandboxError::io("waiting for the program"))?;
                (s, Some(ending))
            }
        };
        if let Some(uid) = uid {
            let left = clean_up_uid(uid);
            if left > 0 {
                tracing::warn!(
                    "{left} processes of sandbox user id {uid} could not be ended or reaped"
                );
            }
        }
        let wall = start.elapsed();
        let drained = tokio::time::timeout(DRAIN, async { (out.await, err.await) });
        let (stdout, stderr) = match drained.await {
            Ok((Ok(o), Ok(e))) => (o, e),
            _ => {
                // Something outside the tree still holds the pipes (only possible unsandboxed).
                let _ = stop_tx.send(true);
                (Captured::default(), Captured::default())
            }
        };
        Ok(finish(
            status,
            ending,
            uid.is_some() || self.is_namespaced(),
            stdout,
            stderr,
            wall,
            limits,
        ))
    }

    fn is_namespaced(&self) -> bool {
        matches!(self.isolation, Isolation::Namespaces { .. })
    }

    /// The command for one run, with its environment, pipes and child set-up.
    fn command(&self, program: &Program, dir: &Path, limits: &Limits, uid: Option<u32>) -> Command {
        let (mut cmd, home) = match &self.isolation {
            Isolation::Namespaces { bwrap, .. } => {
                let mut interp = vec![
                    self.python.clone().into_os_string(),
                    OsString::from("-I"),
                    OsString::from("-B"),
                    OsString::from(format!("{PROGRAM_DIR}/main.py")),
                ];
                interp.extend(program.args.iter().map(OsString::from));
                let mut c = Command::new(bwrap);
                c.args(isolation::bwrap_args(
                    &self.view,
                    dir,
                    limits.tmp_bytes,
                    &interp,
                ));
                (c, PathBuf::from("/tmp"))
            }
            Isolation::UnsafeLocal => {
                let mut c = Command::new(&self.python);
                c.args(["-I", "-B"])
                    .arg(dir.join("main.py"))
                    .current_dir(dir);
                (c, dir.to_path_buf())
            }
        };
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &home)
            .env("TMPDIR", &home)
            .env("LANG", "C.UTF-8")
            .stdin(if program.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        // Processes of the same user id that are not the program's: bubblewrap and its PID-1 reaper, or,
        // running as the user, everything else the user runs.
        let others = match uid {
            // Zombies of earlier runs that nobody reaps (see `clean_up_uid`) still count.
            Some(uid) if STRAYS_SEEN.load(std::sync::atomic::Ordering::Relaxed) => {
                isolation::processes_of(uid, true).len() as u64 + 3
            }
            Some(_) => 3,
            // SAFETY: getuid cannot fail.
            None => isolation::processes_of(unsafe { libc::getuid() }, true).len() as u64 + 3,
        };
        let plan = RlimitPlan::new(limits, others);
        // SAFETY: the closure makes only async-signal-safe system calls (setrlimit, setgroups, setgid,
        // setuid, prctl) on data prepared before fork.
        unsafe {
            cmd.pre_exec(move || child_setup(&plan, uid));
        }
        cmd
    }
}

/// In the child, between fork and exec: limits, then the user id of its own, then death with the runner.
fn child_setup(plan: &RlimitPlan, uid: Option<u32>) -> std::io::Result<()> {
    plan.apply()?;
    let check = |r: libc::c_int| {
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    if let Some(uid) = uid {
        // SAFETY: plain system calls with valid arguments.
        unsafe {
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setgid(uid))?;
            check(libc::setuid(uid))?;
        }
    }
    // After setuid, which clears it: the tree dies with the runner.
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) })
}

fn finish(
    status: std::process::ExitStatus,
    ending: Option<Ending>,
    supervised: bool,
    stdout: Captured,
    stderr: Captured,
    wall: Duration,
    limits: &Limits,
) -> Execution {
    use std::os::unix::process::ExitStatusExt;
    let (exit_code, signal) = match (status.code(), status.signal()) {
        (_, Some(sig)) => (None, Some(sig)),
        // bubblewrap reports a program killed by a signal as 128 + the signal.
        (Some(c), None) if supervised && (129..=192).contains(&c) => (None, Some(c - 128)),
        (c, None) => (c, None),
    };
    let code = exit_code.unwrap_or(128 + signal.unwrap_or(0));
    let failure = classify(
        ending.unwrap_or(Ending::Status(code)),
        signal,
        &stderr,
        limits,
    );
    Execution {
        failure,
        exit_code,
        signal,
        stdout,
        stderr,
        wall,
    }
}

/// SIGKILL the supervisor's process group (the namespace goes with it).
fn kill_tree(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill with a process-group id and a signal number.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Kill whatever still runs as `uid` (nothing should: the PID namespace ends with its first process) and
/// reap what was left to this process: bubblewrap's PID-1 reaper outlives the supervisor by a moment, is
/// re-parented here (this process is a child subreaper, see [`become_subreaper`]) and, unreaped, would keep
/// counting against the user id's process limit. Returns how many processes of `uid` could not be ended
/// (zombies some other process must reap).
fn clean_up_uid(uid: u32) -> usize {
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    let mut left = 0;
    for round in 0..50 {
        let procs = isolation::processes_of(uid, true);
        left = 0;
        for p in &procs {
            if !p.zombie {
                // SAFETY: kill with a pid and a signal number.
                unsafe { libc::kill(p.pid, libc::SIGKILL) };
                left += 1;
            } else if p.ppid == me {
                // SAFETY: waitpid on a specific zombie child of ours (never one tokio waits for: those run as
                // this uid only while their run holds the slot, and that run has already waited).
                unsafe { libc::waitpid(p.pid, std::ptr::null_mut(), libc::WNOHANG) };
            } else {
                left += 1;
            }
        }
        // Nothing alive and every zombie of ours reaped: done (no second scan needed).
        if left == 0 {
            return 0;
        }
        if round > 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    STRAYS_SEEN.store(true, std::sync::atomic::Ordering::Relaxed);
    left
}

/// Whether a clean-up ever left processes behind (zombies only init can reap): from then on each start counts
/// them against the process limit (a `/proc` scan per start, skipped until then).
static STRAYS_SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Make orphans of this process's descendants (bubblewrap's PID-1 reapers) its children instead of init's,
/// so that they are reaped even where init does not reap (some containers).
pub(crate) fn become_subreaper() {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        tracing::warn!(
            "could not become a child subreaper ({}); sandbox processes left to init may count against the \
             process limit",
            std::io::Error::last_os_error()
        );
    }
}

/// A fresh host directory with the program's files, readable by the sandbox's user id.
fn program_dir(program: &Program) -> Result<tempfile::TempDir, SandboxError> {
    let dir = tempfile::Builder::new()
        .prefix("yardstick-sandbox-")
        .tempdir()
        .map_err(SandboxError::io("creating a temporary directory"))?;
    let set = |p: &Path, mode| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).map_err(
            SandboxError::io(format!("setting permissions of {}", p.display())),
        )
    };
    set(dir.path(), 0o755)?;
    let main = match program.language {
        Language::Python => "main.py",
    };
    let plain =
        |n: &str| !n.is_empty() && !n.starts_with('.') && !n.contains(['/', '\0']) && n != main;
    if let Some((bad, _)) = program.files.iter().find(|(n, _)| !plain(n)) {
        return Err(SandboxError::Config(format!(
            "program file name {bad:?} must be a plain file name other than {main}"
        )));
    }
    let files = std::iter::once((main, program.source.as_str()))
        .chain(program.files.iter().map(|(n, c)| (n.as_str(), c.as_str())));
    for (name, content) in files {
        let file = dir.path().join(name);
        std::fs::write(&file, content)
            .map_err(SandboxError::io(format!("writing {}", file.display())))?;
        set(&file, 0o644)?;
    }
    Ok(dir)
}

fn find_python(config: &SandboxConfig) -> Result<PathBuf, SandboxError> {
    let found = config.python.clone().or_else(|| {
        let system = PathBuf::from("/usr/bin/python3");
        if system.is_file() {
            Some(system)
        } else {
            isolation::find_on_path("python3")
        }
    });
    let Some(p) = found else {
        return Err(SandboxError::Config(
            "no Python interpreter: neither /usr/bin/python3 nor python3 on PATH; name one with \
             --sandbox-python"
                .into(),
        ));
    };
    std::fs::canonicalize(&p).map_err(SandboxError::io(format!(
        "resolving the sandbox's Python interpreter {}",
        p.display()
    )))
}
