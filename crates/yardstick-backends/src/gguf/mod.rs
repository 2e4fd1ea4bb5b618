//! GGUF metadata reader (format versions 2 and 3, little-endian) and the exporter of a GGUF's embedded
//! vocabulary to a Hugging Face `tokenizer.json` (see [`export`]).
//!
//! Only the header and the key/value metadata are read; tensor infos and data are never touched. The file
//! is memory-mapped, and every length read from it is checked against the bytes that remain, so a corrupt
//! or truncated file gives an error naming the key and offset instead of a huge allocation or a panic.

pub mod export;
pub mod layout;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use export::{export_tokenizer, ExportSummary, ExportedTokenizer, TokenizerJsonError};

/// Errors reading a GGUF file or converting its vocabulary.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot open GGUF file {path}: {cause}")]
    Open {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is not a GGUF file (magic bytes {magic:02x?}, expected \"GGUF\")")]
    BadMagic { path: PathBuf, magic: [u8; 4] },
    #[error(
        "{path}: GGUF version {version} is not supported (supported: 2 and 3; version 1 predates August 2023 \
         — re-convert the model with a current llama.cpp)"
    )]
    UnsupportedVersion { path: PathBuf, version: u32 },
    #[error("{path}: the file looks big-endian (version field {raw:#010x}); only little-endian GGUF is supported")]
    BigEndian { path: PathBuf, raw: u32 },
    #[error("{path}: truncated or corrupt metadata at byte {offset} while reading {what}")]
    Truncated {
        path: PathBuf,
        offset: usize,
        what: String,
    },
    #[error("{path}: unknown GGUF value type {type_id} for key '{key}' at byte {offset}")]
    UnknownType {
        path: PathBuf,
        key: String,
        type_id: u32,
        offset: usize,
    },
    #[error("{path}: metadata key '{key}' is not valid UTF-8")]
    BadUtf8 { path: PathBuf, key: String },
    #[error("{path}: metadata key '{key}' is missing (needed to {why})")]
    MissingKey {
        path: PathBuf,
        key: String,
        why: String,
    },
    #[error("{path}: metadata key '{key}' has type {found}, expected {expected}")]
    WrongType {
        path: PathBuf,
        key: String,
        found: &'static str,
        expected: &'static str,
    },
    #[error("{path}: cannot export the tokenizer: {message}")]
    Unsupported { path: PathBuf, message: String },
}

/// One metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum GgufValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(GgufArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A typed metadata array (kept typed so a 150k-entry vocabulary costs one allocation per string, not per
/// boxed value).
#[derive(Clone, Debug, PartialEq)]
pub enum GgufArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<GgufArray>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl GgufArray {
    pub fn len(&self) -> usize {
        match self {
            GgufArray::U8(v) => v.len(),
            GgufArray::I8(v) => v.len(),
            GgufArray::U16(v) => v.len(),
            GgufArray::I16(v) => v.len(),
            GgufArray::U32(v) => v.len(),
            GgufArray::I32(v) => v.len(),
            GgufArray::F32(v) => v.len(),
            GgufArray::Bool(v) => v.len(),
            GgufArray::String(v) => v.len(),
            GgufArray::Array(v) => v.len(),
            GgufArray::U64(v) => v.len(),
            GgufArray::I64(v) => v.len(),
            GgufArray::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            GgufArray::U8(_) => "array<u8>",
            GgufArray::I8(_) => "array<i8>",
            GgufArray::U16(_) => "array<u16>",
            GgufArray::I16(_) => "array<i16>",
            GgufArray::U32(_) => "array<u32>",
            GgufArray::I32(_) => "array<i32>",
            GgufArray::F32(_) => "array<f32>",
            GgufArray::Bool(_) => "array<bool>",
            GgufArray::String(_) => "array<string>",
            GgufArray::Array(_) => "array<array>",
            GgufArray::U64(_) => "array<u64>",
            GgufArray::I64(_) => "array<i64>",
            GgufArray::F64(_) => "array<f64>",
        }
    }

    /// Integer elements widened to i64 (for token types, which writers store as i32 or u32).
    pub fn as_i64_vec(&self) -> Option<Vec<i64>> {
        Some(match self {
            GgufArray::U8(v) => v.iter().map(|&x| x as i64).collect(),
            GgufArray::I8(v) => v.iter().map(|&x| x as i64).collect(),
            GgufArray::U16(v) => v.iter().map(|&x| x as i64).collect(),
            GgufArray::I16(v) => v.iter().map(|&x| x as i64).collect(),
            GgufArray::U32(v) => v.iter().map(|&x| x as i64).collect(),
            GgufArray::I32(v) => v.iter().map(|&x| x as i64).collect(),
            GgufArray::U64(v) => v.iter().map(|&x| x as i64).collect(),
            GgufArray::I64(v) => v.clone(),
            _ => return None,
        })
    }

    /// Float elements widened to f64 (scores are f32 in practice).
    pub fn as_f32_vec(&self) -> Option<Vec<f32>> {
        Some(match self {
            GgufArray::F32(v) => v.clone(),
            GgufArray::F64(v) => v.iter().map(|&x| x as f32).collect(),
            _ => return None,
        })
    }
}

impl GgufValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            GgufValue::U8(_) => "u8",
            GgufValue::I8(_) => "i8",
            GgufValue::U16(_) => "u16",
            GgufValue::I16(_) => "i16",
            GgufValue::U32(_) => "u32",
            GgufValue::I32(_) => "i32",
            GgufValue::F32(_) => "f32",
            GgufValue::Bool(_) => "bool",
            GgufValue::String(_) => "string",
            GgufValue::Array(a) => a.type_name(),
            GgufValue::U64(_) => "u64",
            GgufValue::I64(_) => "i64",
            GgufValue::F64(_) => "f64",
        }
    }

    /// Any integer value as i64 (u64 values above i64::MAX give None).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            GgufValue::U8(v) => Some(v as i64),
            GgufValue::I8(v) => Some(v as i64),
            GgufValue::U16(v) => Some(v as i64),
            GgufValue::I16(v) => Some(v as i64),
            GgufValue::U32(v) => Some(v as i64),
            GgufValue::I32(v) => Some(v as i64),
            GgufValue::U64(v) => i64::try_from(v).ok(),
            GgufValue::I64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            GgufValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&GgufArray> {
        match self {
            GgufValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A short human rendering (arrays are summarised).
    pub fn summary(&self) -> String {
        match self {
            GgufValue::String(s) => {
                let short: String = s.chars().take(80).collect();
                if short.len() < s.len() {
                    format!("{short:?}… ({} bytes)", s.len())
                } else {
                    format!("{s:?}")
                }
            }
            GgufValue::Array(a) => format!("{} of {} elements", a.type_name(), a.len()),
            GgufValue::U8(v) => v.to_string(),
            GgufValue::I8(v) => v.to_string(),
            GgufValue::U16(v) => v.to_string(),
            GgufValue::I16(v) => v.to_string(),
            GgufValue::U32(v) => v.to_string(),
            GgufValue::I32(v) => v.to_string(),
            GgufValue::F32(v) => v.to_string(),
            GgufValue::Bool(v) => v.to_string(),
            GgufValue::U64(v) => v.to_string(),
            GgufValue::I64(v) => v.to_string(),
            GgufValue::F64(v) => v.to_string(),
        }
    }
}

/// The metadata of a GGUF file.
#[derive(Clone, Debug)]
pub struct GgufFile {
    pub path: PathBuf,
    pub version: u32,
    pub tensor_count: u64,
    /// Keys in file order are not needed by any consumer; a sorted map gives stable iteration.
    pub metadata: BTreeMap<String, GgufValue>,
}

impl GgufFile {
    /// Memory-map `path` and read its header and metadata.
    pub fn open(path: impl AsRef<Path>) -> Result<GgufFile, GgufError> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::File::open(&path).map_err(|cause| GgufError::Open {
            path: path.clone(),
            cause,
        })?;
        // SAFETY: the mapping is read-only and dropped before this function returns; a concurrent writer
        // truncating the file could fault, which is the documented hazard of every mmap-based GGUF reader.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|cause| GgufError::Open {
            path: path.clone(),
            cause,
        })?;
        Self::parse(&path, &map)
    }

    /// Parse GGUF metadata from bytes (the whole file or at least its header and metadata).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<GgufFile, GgufError> {
        Ok(Self::parse_reader(path, bytes)?.0)
    }

    /// [`GgufFile::parse`], with the reader left at the first tensor description (for [`layout`]).
    fn parse_reader<'a>(
        path: &'a Path,
        bytes: &'a [u8],
    ) -> Result<(GgufFile, Reader<'a>), GgufError> {
        let mut r = Reader {
            bytes,
            pos: 0,
            path,
        };
        let magic: [u8; 4] = r.take(4, "magic")?.try_into().unwrap_or([0; 4]);
        if &magic != b"GGUF" {
            return Err(GgufError::BadMagic {
                path: path.to_path_buf(),
                magic,
            });
        }
        let version = r.u32("version")?;
        if version == 0 || version > 0xFFFF {
            if version.swap_bytes() <= 3 {
                return Err(GgufError::BigEndian {
                    path: path.to_path_buf(),
                    raw: version,
                });
            }
            return Err(GgufError::UnsupportedVersion {
                path: path.to_path_buf(),
                version,
            });
        }
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion {
                path: path.to_path_buf(),
                version,
            });
        }
        let tensor_count = r.u64("tensor count")?;
        let kv_count = r.u64("metadata key count")?;
        let mut metadata = BTreeMap::new();
        for i in 0..kv_count {
            let key = r.string(&format!("metadata key #{i}"))?;
            let type_id = r.u32(&format!("type of '{key}'"))?;
            let value = r.value(&key, type_id, 0)?;
            metadata.insert(key, value);
        }
        let file = GgufFile {
            path: path.to_path_buf(),
            version,
            tensor_count,
            metadata,
        };
        Ok((file, r))
    }

    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.metadata.get(key)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(GgufValue::as_str)
    }

    pub fn get_i64(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(GgufValue::as_i64)
    }

    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(GgufValue::as_bool)
    }

    pub(crate) fn require(&self, key: &str, why: &str) -> Result<&GgufValue, GgufError> {
        self.get(key).ok_or_else(|| GgufError::MissingKey {
            path: self.path.clone(),
            key: key.to_string(),
            why: why.to_string(),
        })
    }

    pub(crate) fn wrong_type(
        &self,
        key: &str,
        found: &GgufValue,
        expected: &'static str,
    ) -> GgufError {
        GgufError::WrongType {
            path: self.path.clone(),
            key: key.to_string(),
            found: found.type_name(),
            expected,
        }
    }
}

const MAX_DEPTH: usize = 4;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn truncated(&self, what: &str) -> GgufError {
        GgufError::Truncated {
            path: self.path.to_path_buf(),
            offset: self.pos,
            what: what.to_string(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], GgufError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| self.truncated(what))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn arr<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.arr(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.arr(what)?))
    }

    /// A count of elements each at least `min_elem_size` bytes: rejected when the rest of the file could
    /// not hold it (guards allocations against corrupt lengths).
    fn count(&mut self, min_elem_size: usize, what: &str) -> Result<usize, GgufError> {
        let n = self.u64(what)?;
        let remaining = (self.bytes.len() - self.pos) as u64;
        if n.saturating_mul(min_elem_size.max(1) as u64) > remaining {
            return Err(self.truncated(what));
        }
        usize::try_from(n).map_err(|_| self.truncated(what))
    }

    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let n = self.count(1, what)?;
        let raw = self.take(n, what)?;
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(s.to_string()),
            // Vocabularies occasionally hold invalid UTF-8 pieces; keep them readable rather than failing
            // the whole file (the exporter reports such tokens).
            Err(_) => Ok(String::from_utf8_lossy(raw).into_owned()),
        }
    }

    fn value(&mut self, key: &str, type_id: u32, depth: usize) -> Result<GgufValue, GgufError> {
        let what = || format!("value of '{key}'");
        Ok(match type_id {
            0 => GgufValue::U8(self.arr::<1>(&what())?[0]),
            1 => GgufValue::I8(self.arr::<1>(&what())?[0] as i8),
            2 => GgufValue::U16(u16::from_le_bytes(self.arr(&what())?)),
            3 => GgufValue::I16(i16::from_le_bytes(self.arr(&what())?)),
            4 => GgufValue::U32(u32::from_le_bytes(self.arr(&what())?)),
            5 => GgufValue::I32(i32::from_le_bytes(self.arr(&what())?)),
            6 => GgufValue::F32(f32::from_le_bytes(self.arr(&what())?)),
            7 => GgufValue::Bool(self.arr::<1>(&what())?[0] != 0),
            8 => GgufValue::String(self.string(&what())?),
            9 => GgufValue::Array(self.array(key, depth)?),
            10 => GgufValue::U64(u64::from_le_bytes(self.arr(&what())?)),
            11 => GgufValue::I64(i64::from_le_bytes(self.arr(&what())?)),
            12 => GgufValue::F64(f64::from_le_bytes(self.arr(&what())?)),
            other => {
                return Err(GgufError::UnknownType {
                    path: self.path.to_path_buf(),
                    key: key.to_string(),
                    type_id: other,
                    offset: self.pos,
                })
            }
        })
    }

    fn array(&mut self, key: &str, depth: usize) -> Result<GgufArray, GgufError> {
        if depth >= MAX_DEPTH {
            return Err(self.truncated(&format!(
                "nested arrays of '{key}' (deeper than {MAX_DEPTH})"
            )));
        }
        let what = format!("array '{key}'");
        let elem_type = self.u32(&what)?;
        macro_rules! fixed {
            ($variant:ident, $ty:ty, $size:expr) => {{
                let n = self.count($size, &what)?;
                let raw = self.take(n * $size, &what)?;
                GgufArray::$variant(
                    raw.chunks_exact($size)
                        .map(|c| {
                            let mut a = [0u8; $size];
                            a.copy_from_slice(c);
                            <$ty>::from_le_bytes(a)
                        })
                        .collect(),
                )
            }};
        }
        Ok(match elem_type {
            0 => fixed!(U8, u8, 1),
            1 => fixed!(I8, i8, 1),
            2 => fixed!(U16, u16, 2),
            3 => fixed!(I16, i16, 2),
            4 => fixed!(U32, u32, 4),
            5 => fixed!(I32, i32, 4),
            6 => fixed!(F32, f32, 4),
            7 => {
                let n = self.count(1, &what)?;
                GgufArray::Bool(self.take(n, &what)?.iter().map(|&b| b != 0).collect())
            }
            8 => {
                let n = self.count(8, &what)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.string(&what)?);
                }
                GgufArray::String(v)
            }
            9 => {
                let n = self.count(12, &what)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.array(key, depth + 1)?);
                }
                GgufArray::Array(v)
            }
            10 => fixed!(U64, u64, 8),
            11 => fixed!(I64, i64, 8),
            12 => fixed!(F64, f64, 8),
            other => {
                return Err(GgufError::UnknownType {
                    path: self.path.to_path_buf(),
                    key: key.to_string(),
                    type_id: other,
                    offset: self.pos,
                })
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal GGUF writer for tests (little-endian, version 3, no tensors).
    pub(crate) struct Writer {
        pub kvs: Vec<(String, Vec<u8>)>,
    }

    impl Writer {
        pub fn new() -> Self {
            Writer { kvs: Vec::new() }
        }
        fn s(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        pub fn string(&mut self, k: &str, v: &str) -> &mut Self {
            let mut b = 8u32.to_le_bytes().to_vec();
            Self::s(&mut b, v);
            self.kvs.push((k.into(), b));
            self
        }
        pub fn u32(&mut self, k: &str, v: u32) -> &mut Self {
            let mut b = 4u32.to_le_bytes().to_vec();
            b.extend_from_slice(&v.to_le_bytes());
            self.kvs.push((k.into(), b));
            self
        }
        pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
            let mut b = 7u32.to_le_bytes().to_vec();
            b.push(v as u8);
            self.kvs.push((k.into(), b));
            self
        }
        pub fn strings(&mut self, k: &str, v: &[&str]) -> &mut Self {
            let mut b = 9u32.to_le_bytes().to_vec();
            b.extend_from_slice(&8u32.to_le_bytes());
            b.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for s in v {
                Self::s(&mut b, s);
            }
            self.kvs.push((k.into(), b));
            self
        }
        pub fn f32s(&mut self, k: &str, v: &[f32]) -> &mut Self {
            let mut b = 9u32.to_le_bytes().to_vec();
            b.extend_from_slice(&6u32.to_le_bytes());
            b.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for x in v {
                b.extend_from_slice(&x.to_le_bytes());
            }
            self.kvs.push((k.into(), b));
            self
        }
        pub fn i32s(&mut self, k: &str, v: &[i32]) -> &mut Self {
            let mut b = 9u32.to_le_bytes().to_vec();
            b.extend_from_slice(&5u32.to_le_bytes());
            b.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for x in v {
                b.extend_from_slice(&x.to_le_bytes());
            }
            self.kvs.push((k.into(), b));
            self
        }
        pub fn bytes(&self) -> Vec<u8> {
            let mut out = b"GGUF".to_vec();
            out.extend_from_slice(&3u32.to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes());
            out.extend_from_slice(&(self.kvs.len() as u64).to_le_bytes());
            for (k, v) in &self.kvs {
                Self::s(&mut out, k);
                out.extend_from_slice(v);
            }
            out
        }
    }

    #[test]
    fn parses_all_scalar_types_and_arrays() {
        let mut w = Writer::new();
        w.string("general.name", "tiny")
            .u32("n", 7)
            .bool("flag", true)
            .strings("toks", &["a", "b"])
            .f32s("scores", &[0.5, -1.0]);
        // add a u64 / i64 / f64 / nested array by hand
        let mut b = 10u32.to_le_bytes().to_vec();
        b.extend_from_slice(&42u64.to_le_bytes());
        w.kvs.push(("u64".into(), b));
        let mut b = 12u32.to_le_bytes().to_vec();
        b.extend_from_slice(&1.5f64.to_le_bytes());
        w.kvs.push(("f64".into(), b));
        let mut b = 9u32.to_le_bytes().to_vec();
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&2u64.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        w.kvs.push(("nested".into(), b));
        let bytes = w.bytes();
        let f = GgufFile::parse(Path::new("t.gguf"), &bytes).expect("parse");
        assert_eq!(f.version, 3);
        assert_eq!(f.get_str("general.name"), Some("tiny"));
        assert_eq!(f.get_i64("n"), Some(7));
        assert_eq!(f.get_bool("flag"), Some(true));
        assert_eq!(
            f.get("toks"),
            Some(&GgufValue::Array(GgufArray::String(vec![
                "a".into(),
                "b".into()
            ])))
        );
        assert_eq!(
            f.get("scores"),
            Some(&GgufValue::Array(GgufArray::F32(vec![0.5, -1.0])))
        );
        assert_eq!(f.get_i64("u64"), Some(42));
        assert_eq!(f.get("f64"), Some(&GgufValue::F64(1.5)));
        assert_eq!(
            f.get("nested"),
            Some(&GgufValue::Array(GgufArray::Array(vec![GgufArray::U32(
                vec![1, 2]
            )])))
        );
    }

    #[test]
    fn truncated_and_corrupt_files_are_errors_not_panics() {
        let mut w = Writer::new();
        w.strings("toks", &["hello", "world"]);
        let bytes = w.bytes();
        for cut in 0..bytes.len() {
            assert!(
                GgufFile::parse(Path::new("t.gguf"), &bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        // absurd array length
        let mut bad = bytes.clone();
        let len_at = bytes.len() - (8 + 5 + 8 + 5) - 8;
        bad[len_at..len_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let err = GgufFile::parse(Path::new("t.gguf"), &bad).expect_err("corrupt");
        assert!(err.to_string().contains("truncated or corrupt"), "{err}");
        // wrong magic, version 1, big-endian
        assert!(matches!(
            GgufFile::parse(Path::new("x"), b"GGML\x03\0\0\0"),
            Err(GgufError::BadMagic { .. })
        ));
        let mut v1 = bytes.clone();
        v1[4..8].copy_from_slice(&1u32.to_le_bytes());
        assert!(matches!(
            GgufFile::parse(Path::new("x"), &v1),
            Err(GgufError::UnsupportedVersion { .. })
        ));
        let mut be = bytes.clone();
        be[4..8].copy_from_slice(&3u32.to_be_bytes());
        assert!(matches!(
            GgufFile::parse(Path::new("x"), &be),
            Err(GgufError::BigEndian { .. })
        ));
    }
}
