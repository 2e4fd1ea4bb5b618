//! Checks made before llama.cpp loads a model, so that bad input fails at once with a message that says
//! what is wrong: a path that is not a GGUF file, a truncated file (a cut download), a file without an
//! architecture, and a context whose KV cache (with the weights) does not fit in the memory available.

use crate::gguf::layout::{check_file, Layout, LayoutError, TruncatedData};
use crate::gguf::{GgufError, GgufFile};
use std::path::{Path, PathBuf};

/// Why a model file is refused before loading.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("model file {0} does not exist (pass a .gguf file, an hf://ORG/REPO/FILE.gguf, or a server URL)")]
    NotFound(PathBuf),
    #[error("{0}")]
    Gguf(#[from] GgufError),
    #[error("{0}")]
    Truncated(#[from] TruncatedData),
    #[error(
        "{path} has no `general.architecture` key, so llama.cpp cannot tell which network it holds; it is not a \
         model GGUF (a vocabulary-only or adapter file?)"
    )]
    NoArchitecture { path: PathBuf },
    #[error(
        "{}: a context of {} tokens needs {} of KV cache ({} bytes per token over {} layers) besides {} of \
         weights, {} in all, but only {} of memory is available. Lower --max-length (the context is twice it), \
         or free memory",
        .0.path.display(), .0.est.cells, human_bytes(.0.est.kv_bytes), .0.est.bytes_per_cell, .0.est.layers,
        human_bytes(.0.est.weight_bytes), human_bytes(.0.est.total()), human_bytes(.0.available)
    )]
    TooLarge(Box<TooLarge>),
}

impl From<LayoutError> for PreflightError {
    fn from(e: LayoutError) -> Self {
        match e {
            LayoutError::Gguf(g) => PreflightError::Gguf(g),
            LayoutError::Truncated(t) => PreflightError::Truncated(t),
        }
    }
}

/// A context that does not fit in memory.
#[derive(Debug)]
pub struct TooLarge {
    pub path: PathBuf,
    pub est: KvEstimate,
    pub available: u64,
}

/// What a context of some size costs in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvEstimate {
    pub layers: u64,
    /// Bytes of K and V per token (f16 cache, all layers).
    pub bytes_per_cell: u64,
    pub cells: usize,
    pub kv_bytes: u64,
    pub weight_bytes: u64,
}

impl KvEstimate {
    pub fn total(&self) -> u64 {
        self.kv_bytes.saturating_add(self.weight_bytes)
    }
}

/// A metadata number that may be stored per layer (an array): the largest value.
fn arch_number(f: &GgufFile, key: &str) -> Option<u64> {
    let v = f.get(key)?;
    v.as_i64()
        .or_else(|| v.as_array().and_then(|a| a.as_i64_vec()?.into_iter().max()))
        .and_then(|n| u64::try_from(n).ok())
}

/// The KV cache of `cells` tokens for the model in `layout` (f16 K and V, llama.cpp's default), from the
/// architecture's hyper-parameters; keys a model lacks count as zero (the estimate is then low, never high).
pub fn kv_estimate(layout: &Layout, cells: usize) -> KvEstimate {
    let f = &layout.file;
    let arch = f.get_str("general.architecture").unwrap_or_default();
    let key = |k: &str| arch_number(f, &format!("{arch}.{k}"));
    let layers = key("block_count").unwrap_or(0);
    let embd = key("embedding_length").unwrap_or(0);
    let heads = key("attention.head_count").unwrap_or(0);
    let heads_kv = key("attention.head_count_kv").unwrap_or(heads);
    let head_dim = embd.checked_div(heads).unwrap_or(0);
    let k_len = key("attention.key_length").unwrap_or(head_dim);
    let v_len = key("attention.value_length").unwrap_or(head_dim);
    let bytes_per_cell = layers * heads_kv * (k_len + v_len) * 2;
    KvEstimate {
        layers,
        bytes_per_cell,
        cells,
        kv_bytes: bytes_per_cell.saturating_mul(cells as u64),
        weight_bytes: layout.weight_bytes(),
    }
}

/// Bytes of memory this process can still use: `MemAvailable`, capped by a cgroup v2 limit. None when
/// neither can be read (the check is then skipped).
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let avail = meminfo.as_deref().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let read = |p: &str| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok();
    let cgroup = match (
        read("/sys/fs/cgroup/memory.max"),
        read("/sys/fs/cgroup/memory.current"),
    ) {
        (Some(max), Some(cur)) => Some(max.saturating_sub(cur)),
        _ => None,
    };
    match (avail, cgroup) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// Human size (GiB/MiB).
pub fn human_bytes(b: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    if b as f64 >= GIB {
        format!("{:.1} GiB", b as f64 / GIB)
    } else {
        format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
    }
}

/// Refuse a context that cannot fit: weights (mapped, so counted in full) + KV cache > `available`.
pub fn check_memory(
    path: &Path,
    est: &KvEstimate,
    available: Option<u64>,
) -> Result<(), PreflightError> {
    let Some(available) = available else {
        return Ok(());
    };
    if est.total() <= available {
        return Ok(());
    }
    Err(PreflightError::TooLarge(Box::new(TooLarge {
        path: path.to_path_buf(),
        est: *est,
        available,
    })))
}

/// Everything checked before loading: the file exists, is a complete GGUF with an architecture, and a
/// context of `cells` tokens fits in `available` bytes (None: the machine's available memory).
pub fn preflight(
    path: &Path,
    cells: usize,
    available: Option<u64>,
) -> Result<(Layout, KvEstimate), PreflightError> {
    if !path.is_file() {
        return Err(PreflightError::NotFound(path.to_path_buf()));
    }
    let layout = check_file(path)?;
    if layout.file.get_str("general.architecture").is_none() {
        return Err(PreflightError::NoArchitecture {
            path: path.to_path_buf(),
        });
    }
    let est = kv_estimate(&layout, cells);
    check_memory(path, &est, available.or_else(available_memory))?;
    Ok((layout, est))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::layout::tests::tiny;
    use crate::gguf::tests::Writer as GgufBuilder;

    #[test]
    fn a_text_file_is_not_gguf() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.gguf");
        std::fs::write(&p, "<html>404 Not Found</html>").unwrap();
        let err = preflight(&p, 4096, None).unwrap_err();
        assert!(err.to_string().contains("is not a GGUF file"), "{err}");
        let err = preflight(&dir.path().join("absent.gguf"), 4096, None).unwrap_err();
        assert!(matches!(err, PreflightError::NotFound(_)), "{err}");
    }

    #[test]
    fn a_cut_download_is_refused_before_loading() {
        let Some(src) = tiny() else { return };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.gguf");
        let bytes = std::fs::read(&src).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let err = preflight(&p, 4096, None).unwrap_err();
        assert!(matches!(err, PreflightError::Truncated(_)), "{err}");
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn a_gguf_without_architecture_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vocab.gguf");
        let mut b = GgufBuilder::new();
        b.string("tokenizer.ggml.model", "gpt2");
        std::fs::write(&p, b.bytes()).unwrap();
        let err = preflight(&p, 4096, None).unwrap_err();
        assert!(
            matches!(err, PreflightError::NoArchitecture { .. }),
            "{err}"
        );
    }

    #[test]
    fn the_kv_estimate_follows_the_hyper_parameters_and_a_huge_context_is_refused() {
        let Some(p) = tiny() else { return };
        let (layout, est) = preflight(&p, 1000, Some(u64::MAX)).unwrap();
        let f = &layout.file;
        let n = |k: &str| f.get_i64(&format!("llama.{k}")).unwrap() as u64;
        let heads = n("attention.head_count");
        let kv_heads = f
            .get_i64("llama.attention.head_count_kv")
            .map_or(heads, |v| v as u64);
        let per_cell = n("block_count") * kv_heads * 2 * (n("embedding_length") / heads) * 2;
        assert_eq!(est.bytes_per_cell, per_cell);
        assert_eq!(est.kv_bytes, per_cell * 1000);
        let err = preflight(&p, 1000, Some(est.total() - 1)).unwrap_err();
        assert!(matches!(err, PreflightError::TooLarge(_)), "{err}");
        assert!(err.to_string().contains("--max-length"), "{err}");
    }
}
