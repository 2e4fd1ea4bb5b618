//! Launch `shared/tools/ref_server.py` (the reference completions server on llama.cpp) with the peers
//! virtualenv's Python, on a free port; wait until it answers `/v1/models`; kill it on drop.

use crate::http_util::blocking_get;
use crate::{shared_dir, skip_or_fail};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The peers' Python: `$YARDSTICK_PEER_PYTHON`, else `YARDSTICK_PEER_PYTHON=` in
/// `~/.cache/yardstick/peers.env` (shell syntax, optional `export` and quotes).
pub fn peer_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("YARDSTICK_PEER_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let env = PathBuf::from(std::env::var_os("HOME")?).join(".cache/yardstick/peers.env");
    let text = std::fs::read_to_string(env).ok()?;
    peers_env_value(&text, "YARDSTICK_PEER_PYTHON").map(PathBuf::from)
}

/// The value of `KEY=...` in a shell-style env file.
pub fn peers_env_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let l = l.trim();
        let l = l.strip_prefix("export ").unwrap_or(l);
        let (k, v) = l.split_once('=')?;
        (k.trim() == key)
            .then(|| v.trim().trim_matches('"').trim_matches('\'').to_string())
            .filter(|v| !v.is_empty())
    })
}

/// The small-vocabulary GGUF made by scripts/setup-peers: `$YARDSTICK_TINY_GGUF`, else its line in
/// `~/.cache/yardstick/peers.env`, else the newest `tiny-small-vocab-*` under `~/.cache/yardstick/models`.
pub fn tiny_small_vocab_gguf() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("YARDSTICK_TINY_GGUF").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let env = std::fs::read_to_string(home.join(".cache/yardstick/peers.env")).ok();
    if let Some(p) = env
        .as_deref()
        .and_then(|t| peers_env_value(t, "YARDSTICK_TINY_GGUF"))
    {
        return Some(PathBuf::from(p));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(home.join(".cache/yardstick/models"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tiny-small-vocab-"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// A reference server on the tiny small-vocabulary GGUF (its path is the server's `model`); None after
/// saying why when the GGUF or the peers are missing (a skip here, a failure in CI).
pub fn start_tiny_server() -> Option<RefServer> {
    let Some(gguf) = tiny_small_vocab_gguf().filter(|p| p.is_file()) else {
        skip_or_fail("the tiny small-vocab GGUF is missing: run scripts/setup-peers");
        return None;
    };
    RefServer::start(&gguf)
}

/// `n` reference servers on the tiny small-vocabulary GGUF, each on its own port (a fleet of endpoints of one
/// model), as `Some` so that a test can stop one by taking it; None after saying why (see [`start_tiny_server`]).
pub fn start_tiny_servers(n: usize) -> Option<Vec<Option<RefServer>>> {
    let mut servers = Vec::with_capacity(n);
    for _ in 0..n {
        servers.push(Some(start_tiny_server()?));
    }
    Some(servers)
}

/// `ref_server.py`: `$YARDSTICK_SHARED/tools/ref_server.py`, else `<workspace>/../shared/tools/ref_server.py`.
pub fn ref_server_script() -> PathBuf {
    shared_dir().join("tools/ref_server.py")
}

/// A running reference server.
pub struct RefServer {
    child: Child,
    pub addr: SocketAddr,
    pub model: PathBuf,
}

impl RefServer {
    /// Start the server for `model` (a GGUF). Returns None (after `skip_or_fail`) when the peers' Python,
    /// the script or the model is missing, or the server does not come up within 120 s.
    pub fn start(model: &Path) -> Option<RefServer> {
        Self::start_with(model, &[])
    }

    /// As [`RefServer::start`], with extra arguments (e.g. `["--ctx", "2048", "--threads", "2"]`).
    pub fn start_with(model: &Path, extra: &[&str]) -> Option<RefServer> {
        let Some(python) = peer_python().filter(|p| p.exists()) else {
            skip_or_fail(
                "the peers' Python (YARDSTICK_PEER_PYTHON or ~/.cache/yardstick/peers.env, with llama-cpp-python) is \
                 not set up; run scripts/setup-peers",
            );
            return None;
        };
        let real = ref_server_script();
        if !real.is_file() {
            skip_or_fail(&format!("{} not found", real.display()));
            return None;
        }
        // shared/tools/ref_server.py computes log-probabilities from a view of llama.cpp's logits buffer
        // after releasing its lock, so concurrent requests can read each other's logits; the shim runs it
        // unchanged with a fresh buffer per request (see scripts/ref_server_shim.py).
        let script = crate::workspace_root().join("scripts/ref_server_shim.py");
        if !script.is_file() {
            skip_or_fail(&format!("{} not found", script.display()));
            return None;
        }
        if !model.is_file() {
            skip_or_fail(&format!("model {} not found", model.display()));
            return None;
        }
        let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(a) => a.port(),
            Err(e) => {
                skip_or_fail(&format!("no free port: {e}"));
                return None;
            }
        };
        let mut child = match Command::new(&python)
            .arg(&script)
            .env("YARDSTICK_REF_SERVER_REAL", &real)
            .arg(model)
            .arg(port.to_string())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                skip_or_fail(&format!("cannot start {}: {e}", python.display()));
                return None;
            }
        };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let tail: String = err
                    .chars()
                    .rev()
                    .take(1500)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                skip_or_fail(&format!("ref_server.py exited with {status}: {tail}"));
                return None;
            }
            if let Ok((200, _)) = blocking_get(addr, "/v1/models", Duration::from_secs(2)) {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                skip_or_fail("ref_server.py did not answer /v1/models within 120 s");
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Drain stderr so a chatty server never blocks on a full pipe.
        if let Some(mut e) = child.stderr.take() {
            std::thread::spawn(move || {
                let mut sink = [0u8; 4096];
                while matches!(e.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
        Some(RefServer {
            child,
            addr,
            model: model.to_path_buf(),
        })
    }

    /// Base URL with `/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`
    pub fn root(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RefServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_peers_env() {
        let text = "# peers\nexport YARDSTICK_PEER_PYTHON=\"/home/u/.cache/yardstick/venv/bin/python\"\nYARDSTICK_LLAMA_SERVER=/x\n";
        assert_eq!(
            peers_env_value(text, "YARDSTICK_PEER_PYTHON").as_deref(),
            Some("/home/u/.cache/yardstick/venv/bin/python")
        );
        assert_eq!(
            peers_env_value(text, "YARDSTICK_LLAMA_SERVER").as_deref(),
            Some("/x")
        );
        assert_eq!(peers_env_value(text, "NOPE"), None);
    }
}
