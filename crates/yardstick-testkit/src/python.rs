//! Python as a test oracle: running an interpreter (the reference for CPython float/random/json semantics
//! and NumPy), finding one with the modules a test needs (or the peers' virtualenv), and skipping when it
//! is absent outside CI (failing under CI, where it is required).

use std::io::Write;
use std::process::{Command, Stdio};

/// Run `code` with `python` (a command name or path), feeding `stdin`; `None` when the interpreter
/// cannot be started.
pub fn run_python(python: &str, code: &str, stdin: &str) -> Option<String> {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(code)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(stdin.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        panic!("{python} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Some(String::from_utf8(out.stdout).expect("python printed non-UTF-8"))
}

/// Whether `python` starts and can import every module in `modules`.
pub fn python_has(python: &str, modules: &[&str]) -> bool {
    let code = modules
        .iter()
        .map(|m| format!("import {m}\n"))
        .collect::<String>();
    Command::new(python)
        .arg("-c")
        .arg(code)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The reference `python3` when it has `modules`; otherwise prints `SKIP:` and returns `None`, or
/// panics under CI (env `CI` set), where the interpreter is required.
pub fn python3_with(test: &str, modules: &[&str]) -> Option<String> {
    let py = std::env::var("YARDSTICK_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string());
    if python_has(&py, modules) {
        return Some(py);
    }
    // A fresh machine's system Python may lack numpy; the peers' virtualenv (scripts/setup-peers) has it.
    if let Some(peer) = std::env::var("YARDSTICK_PEER_PYTHON")
        .ok()
        .filter(|p| python_has(p, modules))
    {
        return Some(peer);
    }
    crate::skip_or_fail(&format!(
        "{test}: {py} with modules {modules:?} not available (run scripts/setup-peers)"
    ));
    None
}

/// An optional interpreter (e.g. `python3.12`): `None` without failing when absent.
pub fn optional_python(cmd: &str, modules: &[&str]) -> Option<String> {
    if python_has(cmd, modules) {
        Some(cmd.to_string())
    } else {
        println!("SKIP: optional interpreter {cmd} not available");
        None
    }
}

/// The python of the lm-eval peer virtualenv ([`crate::peer_python`]), when it can import lm_eval;
/// otherwise SKIP (or fail under CI, which always has the peers) and `None`.
pub fn peer_python_with_lm_eval() -> Option<String> {
    let Some(py) = crate::peer_python() else {
        crate::skip_or_fail(
            "no lm-eval peer python (set YARDSTICK_PEER_PYTHON or run scripts/setup-peers)",
        );
        return None;
    };
    let py = py.to_string_lossy().into_owned();
    if python_has(&py, &["lm_eval.api.metrics"]) {
        return Some(py);
    }
    crate::skip_or_fail(&format!("peer python {py} cannot import lm_eval"));
    None
}

/// f64s as exact hex bit patterns, one per line (for passing to Python without any rounding).
pub fn to_hex_lines(xs: &[f64]) -> String {
    xs.iter()
        .map(|x| format!("{:016x}\n", x.to_bits()))
        .collect()
}

pub fn from_hex_lines(s: &str) -> Vec<f64> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| f64::from_bits(u64::from_str_radix(l.trim(), 16).unwrap()))
        .collect()
}

/// A small deterministic generator for test inputs (SplitMix64).
pub struct Gen(pub u64);

impl Gen {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Python helper code: read hex doubles from stdin into `xs`.
pub const PY_READ_HEX: &str = "import sys, struct\nxs=[struct.unpack('<d', bytes.fromhex(l.strip())[::-1])[0] for l in sys.stdin if l.strip()]\n";
/// Python helper code: print doubles as hex bit patterns.
pub const PY_HEX_OUT: &str = "def hx(v):\n    return struct.pack('<d', float(v))[::-1].hex()\n";
