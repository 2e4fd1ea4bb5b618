//! What became of a run: passed, or failed with a reason read from how it ended (the runner's own kills,
//! the exit status, the signal) and, for Python, the last line of its traceback.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::capture::Captured;

/// Why a program failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Failure {
    /// An `assert` (a test) failed.
    Assertion { message: String },
    /// Still running at the wall-clock limit; the whole tree was killed.
    Timeout { limit_ms: u64 },
    /// Used its CPU-time limit (SIGXCPU, or SIGKILL at the hard limit).
    CpuTime,
    /// Ran out of its memory limit (`MemoryError`, or killed by the kernel for memory).
    Memory,
    /// Could not create another process or thread (its process limit).
    ProcessLimit,
    /// Wrote a file larger than its limit, or filled its private `/tmp`.
    FileSize,
    /// Wrote more output than allowed; the whole tree was killed.
    OutputLimit { limit_bytes: u64 },
    /// The program does not compile (`SyntaxError`, `IndentationError`, `TabError`).
    Syntax { message: String },
    /// Ended by another uncaught exception (name and message from its traceback).
    Exception { name: String, message: String },
    /// Killed by a signal not accounted for above.
    Killed { signal: i32 },
    /// Exited with a non-zero status and no traceback.
    Exit { code: i32 },
    /// The sandbox itself could not start the program (its own message).
    Sandbox { message: String },
}

impl Failure {
    /// A short name for the reason (`assertion`, `timeout`, ...), as recorded per sample.
    pub fn name(&self) -> &'static str {
        match self {
            Failure::Assertion { .. } => "assertion",
            Failure::Timeout { .. } => "timeout",
            Failure::CpuTime => "cpu_time",
            Failure::Memory => "memory",
            Failure::ProcessLimit => "process_limit",
            Failure::FileSize => "file_size",
            Failure::OutputLimit { .. } => "output_limit",
            Failure::Syntax { .. } => "syntax",
            Failure::Exception { .. } => "exception",
            Failure::Killed { .. } => "killed",
            Failure::Exit { .. } => "exit",
            Failure::Sandbox { .. } => "sandbox",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Assertion { message } if message.is_empty() => write!(f, "assertion failed"),
            Failure::Assertion { message } => write!(f, "assertion failed: {message}"),
            Failure::Timeout { limit_ms } => write!(f, "timed out after {limit_ms} ms"),
            Failure::CpuTime => write!(f, "CPU-time limit reached"),
            Failure::Memory => write!(f, "memory limit reached"),
            Failure::ProcessLimit => write!(f, "process limit reached"),
            Failure::FileSize => write!(f, "file-size or disk limit reached"),
            Failure::OutputLimit { limit_bytes } => {
                write!(f, "more than {limit_bytes} bytes of output")
            }
            Failure::Syntax { message } => write!(f, "syntax error: {message}"),
            Failure::Exception { name, message } if message.is_empty() => write!(f, "{name}"),
            Failure::Exception { name, message } => write!(f, "{name}: {message}"),
            Failure::Killed { signal } => write!(f, "killed by signal {signal}"),
            Failure::Exit { code } => write!(f, "exited with status {code}"),
            Failure::Sandbox { message } => write!(f, "sandbox: {message}"),
        }
    }
}

/// The result of running one program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// `None` when it passed (exit status 0 within every limit).
    pub failure: Option<Failure>,
    /// Its exit status, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    pub stdout: Captured,
    pub stderr: Captured,
    /// Wall-clock time from start to the end of the whole tree.
    #[serde(with = "micros")]
    pub wall: Duration,
}

impl Execution {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// How the runner saw the end of the tree.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ending {
    /// The status the supervisor reported: the program's exit code, or 128 + the signal that killed it.
    Status(i32),
    /// The runner killed it at the wall-clock limit.
    WallTimeout,
    /// The runner killed it for too much output.
    OutputLimit,
}

/// Decide the failure (if any) of a finished run. `supervised`: the status comes from the namespace
/// supervisor (128 + signal for a killed program) rather than from the program's own process.
pub(crate) fn classify(
    ending: Ending,
    signal: Option<i32>,
    stderr: &Captured,
    limits: &crate::Limits,
) -> Option<Failure> {
    let code = match ending {
        Ending::WallTimeout => {
            return Some(Failure::Timeout {
                limit_ms: limits.wall.as_millis().try_into().unwrap_or(u64::MAX),
            })
        }
        Ending::OutputLimit => {
            return Some(Failure::OutputLimit {
                limit_bytes: limits.output_bytes,
            })
        }
        Ending::Status(0) if signal.is_none() => return None,
        Ending::Status(code) => code,
    };
    if let Some(sig) = signal.or_else(|| (129..=128 + 64).contains(&code).then(|| code - 128)) {
        return Some(match sig {
            libc::SIGXCPU => Failure::CpuTime,
            libc::SIGXFSZ => Failure::FileSize,
            _ => Failure::Killed { signal: sig },
        });
    }
    if let Some(message) = bwrap_message(&stderr.text, code) {
        return Some(Failure::Sandbox { message });
    }
    Some(from_traceback(&stderr.text).unwrap_or(Failure::Exit { code }))
}

/// bubblewrap's own error (it exits 1 with `bwrap: …` as the only stderr when set-up fails).
fn bwrap_message(stderr: &str, code: i32) -> Option<String> {
    let line = stderr.trim_end();
    (code == 1 && line.starts_with("bwrap: ") && !line.contains('\n'))
        .then(|| line.trim_start_matches("bwrap: ").to_string())
}

/// The failure named by the last exception line of a Python traceback in stderr, if there is one. Several
/// processes (a program that forks) may interleave their tracebacks: the last line that looks like an
/// exception line (an unindented dotted name, alone or followed by `: message`) is taken.
pub(crate) fn from_traceback(stderr: &str) -> Option<Failure> {
    if !stderr.contains("Traceback (most recent call last)") && !stderr.contains("Error:") {
        return None;
    }
    let (name, message) = stderr.lines().rev().find_map(exception_line)?;
    let short = name.rsplit('.').next().unwrap_or(name);
    let message = message.to_string();
    Some(match short {
        "AssertionError" => Failure::Assertion { message },
        "MemoryError" => Failure::Memory,
        "SyntaxError" | "IndentationError" | "TabError" => Failure::Syntax { message },
        "BlockingIOError" if message.contains("Resource temporarily unavailable") => {
            Failure::ProcessLimit
        }
        "OSError" if message.contains("[Errno 28]") || message.contains("[Errno 27]") => {
            Failure::FileSize
        }
        _ => Failure::Exception {
            name: name.to_string(),
            message,
        },
    })
}

/// `Name` or `Name: message` at the start of a line, `Name` a dotted Python identifier.
fn exception_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_end();
    let (name, message) = match line.split_once(": ") {
        Some((n, m)) => (n, m),
        None => (line.strip_suffix(':').unwrap_or(line), ""),
    };
    let ident = |p: &str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    (!name.is_empty() && name != "Traceback (most recent call last)" && name.split('.').all(ident))
        .then_some((name, message))
}

mod micros {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros().try_into().unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_micros(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    fn err(text: &str) -> Captured {
        Captured {
            text: text.to_string(),
            total_bytes: text.len() as u64,
            truncated: false,
        }
    }

    fn status(code: i32, stderr: &str) -> Option<Failure> {
        classify(Ending::Status(code), None, &err(stderr), &Limits::default())
    }

    #[test]
    fn tracebacks_name_the_reason() {
        let tb = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 3, in <module>\n    \
                  assert f(1) == 2, 'f(1)'\nAssertionError: f(1)\n";
        assert_eq!(
            status(1, tb),
            Some(Failure::Assertion {
                message: "f(1)".into()
            })
        );
        let tb = "Traceback (most recent call last):\n  File \"x\", line 1\nAssertionError\n";
        assert_eq!(
            status(1, tb),
            Some(Failure::Assertion { message: "".into() })
        );
        let tb = "  File \"/sandbox/main.py\", line 2\n    def f(:\n          ^\nSyntaxError: invalid syntax\n";
        assert_eq!(
            status(1, tb),
            Some(Failure::Syntax {
                message: "invalid syntax".into()
            })
        );
        let interleaved = "Traceback (most recent call last):\nTraceback (most recent call last):\n  File \"<string>\", \
                           line 4, in <module>\nBlockingIOError: [Errno 11] Resource temporarily unavailable\n  File \
                           \"<string>\", line 4, in <module>\n";
        assert_eq!(status(1, interleaved), Some(Failure::ProcessLimit));
        assert_eq!(
            status(1, "Traceback (most recent call last):\nMemoryError\n"),
            Some(Failure::Memory)
        );
        assert_eq!(
            status(1, "Traceback (most recent call last):\nKeyError: 'a'\n"),
            Some(Failure::Exception {
                name: "KeyError".into(),
                message: "'a'".into()
            })
        );
        assert_eq!(
            status(
                1,
                "Traceback (most recent call last):\nBlockingIOError: [Errno 11] Resource temporarily unavailable\n"
            ),
            Some(Failure::ProcessLimit)
        );
    }

    #[test]
    fn statuses_and_signals() {
        assert_eq!(status(0, ""), None);
        assert_eq!(
            status(3, "no traceback here"),
            Some(Failure::Exit { code: 3 })
        );
        assert_eq!(status(128 + 9, ""), Some(Failure::Killed { signal: 9 }));
        assert_eq!(status(128 + libc::SIGXCPU, ""), Some(Failure::CpuTime));
        assert_eq!(status(128 + libc::SIGXFSZ, ""), Some(Failure::FileSize));
        assert_eq!(
            status(
                1,
                "bwrap: Can't mount tmpfs on /newroot/tmp: Operation not permitted\n"
            ),
            Some(Failure::Sandbox {
                message: "Can't mount tmpfs on /newroot/tmp: Operation not permitted".into()
            })
        );
        let l = Limits::default();
        assert_eq!(
            classify(Ending::WallTimeout, Some(9), &err(""), &l),
            Some(Failure::Timeout { limit_ms: 10_000 })
        );
        assert!(matches!(
            classify(Ending::OutputLimit, None, &err(""), &l),
            Some(Failure::OutputLimit { .. })
        ));
    }
}
