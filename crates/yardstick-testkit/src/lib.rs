//! yardstick-testkit
//! Test support shared by the crates' integration tests: locating `../shared/data`, skip-or-fail for
//! tests that need peers (CI always has them), a reference model server launcher ([`RefServer`]), a
//! fault-injecting HTTP proxy ([`FaultProxy`]), a deterministic in-process completions server
//! ([`MockLm`]), a generic in-process HTTP server ([`TestHttpServer`]), and PostgreSQL clusters
//! ([`PgCluster`]) with [`test_store`], the store location every store-using test opens.

pub mod fault_proxy;
pub mod http_util;
pub mod mock_lm;
pub mod pg;
pub mod python;
pub mod ref_server;
pub mod slurm;
pub mod toy;

pub use fault_proxy::{FaultConfig, FaultProxy, FaultSummary};
pub use http_util::{blocking_get, json_response, TestHttpServer};
pub use mock_lm::{BosMode, EchoMode, MockConfig, MockLm, Scripted};
pub use pg::{test_database, test_store, testing_postgres, PgCluster};
pub use ref_server::{peer_python, RefServer};
pub use toy::toy_tokenizer_json;

use std::path::PathBuf;

/// Root of the workspace (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared` beside the workspace, or `$YARDSTICK_SHARED`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("YARDSTICK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"))
}

/// The tiny Llama-2 GGUF (32,000-token vocabulary) in the shared data.
pub fn tiny_llama_gguf() -> PathBuf {
    shared_data_dir().join("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf")
}

/// The real SmolLM2-135M-Instruct GGUF that `scripts/setup-peers` extracts: `$YARDSTICK_SMOLLM2_GGUF`, else
/// `YARDSTICK_SMOLLM2_GGUF=` in `~/.cache/yardstick/peers.env`, else its default place in
/// `~/.cache/yardstick/models/`. None (after [`skip_or_fail`]) when it is not there.
pub fn smollm2_gguf() -> Option<PathBuf> {
    let from_env = std::env::var_os("YARDSTICK_SMOLLM2_GGUF")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let from_file = home.as_ref().and_then(|h| {
        let text = std::fs::read_to_string(h.join(".cache/yardstick/peers.env")).ok()?;
        ref_server::peers_env_value(&text, "YARDSTICK_SMOLLM2_GGUF").map(PathBuf::from)
    });
    let default = home.map(|h| h.join(".cache/yardstick/models/SmolLM2-135M-Instruct.Q4_1.gguf"));
    let found = [from_env, from_file, default]
        .into_iter()
        .flatten()
        .find(|p| p.is_file());
    if found.is_none() {
        skip_or_fail(
            "the SmolLM2-135M-Instruct GGUF is not set up (YARDSTICK_SMOLLM2_GGUF); run scripts/setup-peers",
        );
    }
    found
}

/// The random-weight GGUFs of several architectures and quantisations that `scripts/make-arch-ggufs` writes
/// (run by `scripts/setup-peers`): the folder `$YARDSTICK_ARCH_GGUF_DIR`, else `YARDSTICK_ARCH_GGUF_DIR=` in
/// `~/.cache/yardstick/peers.env`, when it holds a complete set (its `.complete` marker). None (after
/// [`skip_or_fail`]) otherwise.
pub fn arch_gguf_dir() -> Option<PathBuf> {
    let from_env = std::env::var_os("YARDSTICK_ARCH_GGUF_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let from_file = from_env.is_none().then(|| {
        let home = PathBuf::from(std::env::var_os("HOME")?);
        let text = std::fs::read_to_string(home.join(".cache/yardstick/peers.env")).ok()?;
        ref_server::peers_env_value(&text, "YARDSTICK_ARCH_GGUF_DIR").map(PathBuf::from)
    });
    let Some(dir) = from_env.or(from_file.flatten()) else {
        skip_or_fail(
            "the generated architecture GGUFs are not set up (YARDSTICK_ARCH_GGUF_DIR); run scripts/setup-peers",
        );
        return None;
    };
    if !dir.join(".complete").is_file() {
        skip_or_fail(&format!(
            "{} is not a complete scripts/make-arch-ggufs output (no .complete); run scripts/setup-peers",
            dir.display()
        ));
        return None;
    }
    Some(dir)
}

/// `../shared/data`, or `$YARDSTICK_SHARED_DATA`.
pub fn shared_data_dir() -> PathBuf {
    std::env::var_os("YARDSTICK_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data"))
}

/// Call when a test cannot run because something outside the project is missing. In CI (env `CI` set)
/// this fails the test, since CI always provides it; elsewhere it prints why the test is skipped.
/// Returns normally only when skipping is allowed; the caller then returns from the test.
pub fn skip_or_fail(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("required test resource missing in CI: {reason}");
    }
    eprintln!("SKIP: {reason}");
}

/// The shared data directory if present; otherwise skip (or fail in CI) and return None.
pub fn require_shared_data() -> Option<PathBuf> {
    let dir = shared_data_dir();
    if dir.join("MANIFEST.md").is_file() {
        Some(dir)
    } else {
        skip_or_fail(&format!(
            "shared data not found at {} (set YARDSTICK_SHARED_DATA or place ../shared beside the repository)",
            dir.display()
        ));
        None
    }
}

/// The shared data directory when it holds `sub` (e.g. `leaderboards`, `benchmarks`); otherwise skip (or
/// fail in CI) and return None.
pub fn require_shared_data_with(sub: &str) -> Option<PathBuf> {
    let data = require_shared_data()?;
    if data.join(sub).exists() {
        return Some(data);
    }
    skip_or_fail(&format!(
        "{} has no {sub} (set YARDSTICK_SHARED_DATA)",
        data.display()
    ));
    None
}

/// The peers' Python (lm-eval's virtualenv, [`peer_python`]) when it exists; otherwise skip (or fail in CI,
/// which always has the peers) and return None.
pub fn require_peer_python() -> Option<PathBuf> {
    match peer_python() {
        Some(p) if p.exists() => Some(p),
        Some(p) => {
            skip_or_fail(&format!(
                "the peers' python {} does not exist (run scripts/setup-peers)",
                p.display()
            ));
            None
        }
        None => {
            skip_or_fail(
                "no peers' python (set YARDSTICK_PEER_PYTHON or run scripts/setup-peers, which writes \
                 ~/.cache/yardstick/peers.env)",
            );
            None
        }
    }
}

/// Files under `dir` (recursively) whose names start with `prefix`, sorted (e.g. the `results_*.json` and
/// `samples_*.jsonl` a run writes under its `--output` directory).
pub fn files_under(dir: &std::path::Path, prefix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
