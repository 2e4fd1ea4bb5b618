//! Where a GGUF's tensor data lies, so a truncated or partly downloaded file is refused before llama.cpp
//! maps it (llama.cpp itself only notices when it reads past the end, after the model is half loaded).

use super::{GgufError, GgufFile};
use std::path::{Path, PathBuf};

/// GGUF's default data alignment (`general.alignment` overrides it).
const DEFAULT_ALIGNMENT: u64 = 32;

/// One tensor's description from the file header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    /// ggml type id.
    pub ggml_type: u32,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Bytes of the tensor's data, when its type's block layout is known.
    pub fn data_bytes(&self) -> Option<u64> {
        let (block, bytes) = block_layout(self.ggml_type)?;
        let elements = self
            .dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
        elements.div_ceil(block).checked_mul(bytes)
    }
}

/// Elements per block and bytes per block of a ggml type (ggml's type traits); None for a type this table
/// does not know (its size is then not checked).
pub fn block_layout(ggml_type: u32) -> Option<(u64, u64)> {
    Some(match ggml_type {
        0 => (1, 4),      // F32
        1 => (1, 2),      // F16
        2 => (32, 18),    // Q4_0
        3 => (32, 20),    // Q4_1
        6 => (32, 22),    // Q5_0
        7 => (32, 24),    // Q5_1
        8 => (32, 34),    // Q8_0
        9 => (32, 36),    // Q8_1
        10 => (256, 84),  // Q2_K
        11 => (256, 110), // Q3_K
        12 => (256, 144), // Q4_K
        13 => (256, 176), // Q5_K
        14 => (256, 210), // Q6_K
        15 => (256, 292), // Q8_K
        20 => (32, 18),   // IQ4_NL
        23 => (256, 136), // IQ4_XS
        24 => (1, 1),     // I8
        25 => (1, 2),     // I16
        26 => (1, 4),     // I32
        27 => (1, 8),     // I64
        28 => (1, 8),     // F64
        30 => (1, 2),     // BF16
        _ => return None,
    })
}

/// The tensor descriptions of a GGUF and the byte range its data must cover.
#[derive(Clone, Debug)]
pub struct Layout {
    pub file: GgufFile,
    pub tensors: Vec<TensorInfo>,
    /// Start of the data section (after the header, aligned).
    pub data_start: u64,
    /// The file size the tensors need: data start + the furthest tensor end.
    pub needed_bytes: u64,
}

/// A GGUF whose data section is shorter than its tensors need.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path} is truncated: it has {have} bytes but its {tensors} tensors need {need} bytes (the tensor '{tensor}' \
     ends past the end of the file). The download was probably cut short: download the file again (an \
     hf:// model resumes and verifies its download)"
)]
pub struct TruncatedData {
    pub path: PathBuf,
    pub have: u64,
    pub need: u64,
    pub tensors: usize,
    pub tensor: String,
}

/// Why a layout check failed.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error(transparent)]
    Truncated(#[from] TruncatedData),
}

impl Layout {
    /// Read the header of `path` (metadata and tensor descriptions).
    pub fn open(path: &Path) -> Result<Layout, GgufError> {
        let f = std::fs::File::open(path).map_err(|cause| GgufError::Open {
            path: path.to_path_buf(),
            cause,
        })?;
        // SAFETY: read-only mapping, dropped before returning (see `GgufFile::open`).
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|cause| GgufError::Open {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::parse(path, &map)
    }

    /// Parse the header from the file's bytes.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Layout, GgufError> {
        let (file, mut r) = GgufFile::parse_reader(path, bytes)?;
        let mut tensors = Vec::new();
        for i in 0..file.tensor_count {
            let name = r.string(&format!("name of tensor #{i}"))?;
            let n_dims = r.u32(&format!("dimension count of tensor '{name}'"))?;
            if n_dims > 8 {
                return Err(r.truncated(&format!(
                    "tensor '{name}' (it claims {n_dims} dimensions; GGUF allows at most 4)"
                )));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for d in 0..n_dims {
                dims.push(r.u64(&format!("dimension {d} of tensor '{name}'"))?);
            }
            let ggml_type = r.u32(&format!("type of tensor '{name}'"))?;
            let offset = r.u64(&format!("offset of tensor '{name}'"))?;
            tensors.push(TensorInfo {
                name,
                dims,
                ggml_type,
                offset,
            });
        }
        let alignment = file
            .get_i64("general.alignment")
            .and_then(|a| u64::try_from(a).ok())
            .filter(|&a| a > 0)
            .unwrap_or(DEFAULT_ALIGNMENT);
        let data_start = (r.pos as u64).div_ceil(alignment) * alignment;
        let needed_bytes = tensors
            .iter()
            .map(|t| {
                data_start.saturating_add(t.offset.saturating_add(t.data_bytes().unwrap_or(0)))
            })
            .max()
            // no tensors: nothing follows the header (not even alignment padding)
            .unwrap_or(r.pos as u64);
        Ok(Layout {
            file,
            tensors,
            data_start,
            needed_bytes,
        })
    }

    /// Refuse a file shorter than its tensors need (`have` = its size in bytes).
    pub fn check_complete(&self, have: u64) -> Result<(), TruncatedData> {
        if have >= self.needed_bytes {
            return Ok(());
        }
        let tensor = self
            .tensors
            .iter()
            .find(|t| self.data_start + t.offset + t.data_bytes().unwrap_or(0) > have)
            .map(|t| t.name.clone())
            .unwrap_or_default();
        Err(TruncatedData {
            path: self.file.path.clone(),
            have,
            need: self.needed_bytes,
            tensors: self.tensors.len(),
            tensor,
        })
    }

    /// Total bytes of tensor data (the weights llama.cpp maps).
    pub fn weight_bytes(&self) -> u64 {
        self.needed_bytes.saturating_sub(self.data_start)
    }
}

/// Read the header of `path` and refuse it when its data is cut short.
pub fn check_file(path: &Path) -> Result<Layout, LayoutError> {
    let layout = Layout::open(path)?;
    let have = std::fs::metadata(path)
        .map_err(|cause| GgufError::Open {
            path: path.to_path_buf(),
            cause,
        })?
        .len();
    layout.check_complete(have)?;
    Ok(layout)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The tiny Llama GGUF of the shared data, or None after saying why the test is skipped.
    pub(crate) fn tiny() -> Option<PathBuf> {
        let p = yardstick_testkit::tiny_llama_gguf();
        if p.is_file() {
            Some(p)
        } else {
            yardstick_testkit::skip_or_fail(&format!("{} is missing", p.display()));
            None
        }
    }

    #[test]
    fn a_complete_file_needs_exactly_its_size_and_a_cut_one_names_the_first_short_tensor() {
        let Some(path) = tiny() else { return };
        let bytes = std::fs::read(&path).unwrap();
        let layout = Layout::parse(&path, &bytes).unwrap();
        assert!(!layout.tensors.is_empty());
        // Every tensor type in the file is known, so the data section ends where the file does (up to the
        // alignment padding after the last tensor).
        assert!(layout.tensors.iter().all(|t| t.data_bytes().is_some()));
        let size = bytes.len() as u64;
        assert!(
            layout.needed_bytes <= size && size - layout.needed_bytes < 32,
            "{} vs {size}",
            layout.needed_bytes
        );
        layout.check_complete(size).unwrap();
        let err = layout.check_complete(size - 1000).unwrap_err();
        assert_eq!(err.need, layout.needed_bytes);
        assert!(err.to_string().contains("truncated"), "{err}");
        let last = layout.tensors.iter().max_by_key(|t| t.offset).unwrap();
        assert_eq!(err.tensor, last.name);
    }

    #[test]
    fn a_file_cut_inside_its_header_is_a_truncation_error() {
        let Some(path) = tiny() else { return };
        let bytes = std::fs::read(&path).unwrap();
        let layout = Layout::parse(&path, &bytes).unwrap();
        let err = Layout::parse(&path, &bytes[..layout.data_start as usize - 40]).unwrap_err();
        assert!(matches!(err, GgufError::Truncated { .. }), "{err}");
    }
}
