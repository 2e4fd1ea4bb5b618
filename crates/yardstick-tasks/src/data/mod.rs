//! Dataset loading: the rows lm-eval's `datasets.load_dataset(path, name, **dataset_kwargs)[split]` would
//! give, with the same columns, column order, value types and row order — without Python.
//!
//! Where a split comes from, first match wins:
//! 1. **Packaged loaders** (`dataset_path: json | csv | parquet | text`) with `dataset_kwargs.data_files`
//!    (a path, a list, or `{split: path-or-list}`; globs allowed; relative to the task YAML's directory,
//!    [`DatasetSpec::base_dir`]) or `data_dir`.
//! 2. **A local directory** named by `dataset_path` (absolute, or relative to the YAML's directory): read
//!    like a hub repository (dataset card `configs:`, else `datasets`' default file patterns).
//! 3. **Original-release files under `--data-dir`** ([`DataOptions::data_dir`]) for the datasets in the
//!    mapping table of [`release`] (MMLU, CMMLU, TruthfulQA, GSM8K, IFEval, HumanEval, MBPP, MATH-500,
//!    BBH), mapped to the HF schema; also `<data-dir>/<org>/<name>/` as a local repository copy.
//! 4. **The Hugging Face hub cache** (`$HF_HOME/hub/datasets--org--name`): the `main` (or
//!    `revision`) snapshot, then the `refs/convert/parquet` snapshot. See [`hub`].
//! 5. **Download** (unless offline): the hub's parquet export of the split, into the same cache.
//!
//! Nothing found → [`DataError::NotFound`] listing every path tried and what to do.
//!
//! Each split is read once per process ([`load_split_shared`] caches it behind an `Arc`).

mod csv;
mod error;
pub mod hub;
mod json;
mod parquet;
pub(crate) mod release;

use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use yardstick_core::Doc;

pub use error::DataError;
pub use hub::hub_cache_dir;

use hub::{Resolution, SplitFiles};

/// Splits and their files (absolute paths), in split order.
type SplitPaths = Vec<(String, Vec<PathBuf>)>;

/// Where to look for data, and whether the network may be used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DataOptions {
    /// `--data-dir`: original-release benchmark files (see [`release`]) and local dataset copies.
    pub data_dir: Option<PathBuf>,
    /// Hugging Face home; the hub cache is `hf_home/hub`. `None`: `HF_HUB_CACHE` / `HF_HOME` / default.
    pub hf_home: Option<PathBuf>,
    /// Never touch the network (`HF_HUB_OFFLINE` / `HF_DATASETS_OFFLINE`).
    pub offline: bool,
}

impl DataOptions {
    /// From the environment: `HF_HOME` (unless `HF_HUB_CACHE` or `HUGGINGFACE_HUB_CACHE` is set, which
    /// then wins, as in `huggingface_hub`), and offline when `HF_HUB_OFFLINE` or `HF_DATASETS_OFFLINE` is `1`/`true`/`yes`/`on`.
    pub fn from_env() -> Self {
        let set = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let truthy = |k: &str| {
            std::env::var(k)
                .map(|v| {
                    matches!(
                        v.trim().to_ascii_lowercase().as_str(),
                        "1" | "true" | "yes" | "on"
                    )
                })
                .unwrap_or(false)
        };
        DataOptions {
            data_dir: None,
            hf_home: if set("HF_HUB_CACHE")
                .or_else(|| set("HUGGINGFACE_HUB_CACHE"))
                .is_some()
            {
                None
            } else {
                set("HF_HOME").map(PathBuf::from)
            },
            offline: truthy("HF_HUB_OFFLINE") || truthy("HF_DATASETS_OFFLINE"),
        }
    }
}

/// What lm-eval passes to `datasets.load_dataset`: `dataset_path`, `dataset_name` and the loader-relevant
/// `dataset_kwargs`, plus the directory of the task YAML (relative `data_files` resolve against it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatasetSpec {
    /// `dataset_path`: a hub id (`cais/mmlu`), a packaged loader (`json`, `csv`, `parquet`, `text`) or a
    /// local directory.
    pub path: String,
    /// `dataset_name` (the HF config).
    pub name: Option<String>,
    /// `dataset_kwargs.data_files`.
    pub data_files: Option<Value>,
    /// `dataset_kwargs.data_dir`.
    pub data_dir: Option<String>,
    /// `dataset_kwargs.revision` (a branch, tag or commit of the hub repository).
    pub revision: Option<String>,
    /// Directory of the YAML that declared this dataset.
    pub base_dir: Option<PathBuf>,
}

impl DatasetSpec {
    /// A spec for `path` with nothing else set.
    pub fn new(path: impl Into<String>) -> Self {
        DatasetSpec {
            path: path.into(),
            ..Default::default()
        }
    }

    /// The same spec with `dataset_name` set.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}

/// One loaded split.
#[derive(Clone, Debug)]
pub struct LoadedSplit {
    /// The rows, in dataset order.
    pub docs: Vec<Doc>,
    /// Where they came from (files and how they were interpreted), for logs and the ledger.
    pub source: String,
    /// [`content_hash`] of `docs`.
    pub content_hash: String,
}

/// sha256 (hex) over the docs' canonical JSON: each doc serialized compactly by `serde_json` with its
/// column order as loaded (order is part of the data), followed by `\n`. Stable across runs and
/// platforms; changes whenever any value, type (`1` vs `1.0`), column order or row order changes.
pub fn content_hash(docs: &[Doc]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(1024);
    for d in docs {
        buf.clear();
        // Serializing a Map of Values cannot fail.
        if serde_json::to_writer(&mut buf, d).is_ok() {
            h.update(&buf);
        }
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Load one split (a copy of the cached split; see [`load_split_shared`] to avoid the copy).
pub fn load_split(
    spec: &DatasetSpec,
    split: &str,
    opts: &DataOptions,
) -> Result<LoadedSplit, DataError> {
    load_split_shared(spec, split, opts).map(|s| (*s).clone())
}

/// Splits read recently, newest last. Bounded: a run prepares its tasks one after another (and again when
/// each task's turn comes), so only the last few splits are worth keeping; holding every split of a large
/// group (all of MMLU's or CMMLU's) would cost memory for nothing.
type Cache = Mutex<VecDeque<(String, Arc<LoadedSplit>)>>;

/// How many splits the cache keeps (an eval split and its few-shot split, for a few tasks).
const CACHE_SPLITS: usize = 8;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(VecDeque::new()))
}

fn cache_key(spec: &DatasetSpec, split: &str, opts: &DataOptions) -> String {
    format!("{spec:?}\u{1f}{split}\u{1f}{opts:?}")
}

/// Load one split, reusing one of the last few splits read (errors are not cached).
pub fn load_split_shared(
    spec: &DatasetSpec,
    split: &str,
    opts: &DataOptions,
) -> Result<Arc<LoadedSplit>, DataError> {
    let key = cache_key(spec, split, opts);
    {
        let map = cache().lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, hit)) = map.iter().find(|(k, _)| *k == key) {
            return Ok(Arc::clone(hit));
        }
    }
    let (docs, source) = load_uncached(spec, split, opts)?;
    let content_hash = content_hash(&docs);
    let loaded = Arc::new(LoadedSplit {
        docs,
        source,
        content_hash,
    });
    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, hit)) = map.iter().find(|(k, _)| *k == key) {
        return Ok(Arc::clone(hit));
    }
    if map.len() >= CACHE_SPLITS {
        map.pop_front();
    }
    map.push_back((key, Arc::clone(&loaded)));
    Ok(loaded)
}

/// Forget every cached split (for tools that rewrite data while running, and tests).
pub fn clear_cache() {
    cache().lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// The splits a dataset (config) has, in the dataset's order.
pub fn available_splits(spec: &DatasetSpec, opts: &DataOptions) -> Result<Vec<String>, DataError> {
    let mut looked = Vec::new();
    match find(spec, None, opts, &mut looked)? {
        Some(Found::Release {
            layout,
            root,
            config,
        }) => Ok(layout
            .splits
            .iter()
            .filter(|s| (layout.locate)(&root, &config, s).is_ok())
            .map(|s| s.to_string())
            .collect()),
        Some(Found::Files { splits, .. }) => Ok(splits.into_iter().map(|(s, _)| s).collect()),
        None => Err(not_found(spec, "*", opts, looked, None)),
    }
}

// ---------------------------------------------------------------------------------------------------

/// File formats we read (HF's packaged loaders).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Parquet,
    Json,
    Csv(char),
    Text,
}

fn builder_format(name: &str) -> Option<Format> {
    match name {
        "parquet" => Some(Format::Parquet),
        "json" => Some(Format::Json),
        "csv" => Some(Format::Csv(',')),
        "text" => Some(Format::Text),
        _ => None,
    }
}

fn extension_format(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = name.rsplit_once('.')?.1;
    match ext {
        "parquet" => Some(Format::Parquet),
        "json" | "jsonl" => Some(Format::Json),
        "csv" => Some(Format::Csv(',')),
        "tsv" => Some(Format::Csv('\t')),
        "txt" => Some(Format::Text),
        _ => None,
    }
}

/// Read a text file (transparently gunzipping `*.gz`), as UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| DataError::io(path, e))?;
        out
    } else {
        raw
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        DataError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not valid UTF-8 (byte offset {at})"),
            ),
        )
    })
}

/// Map `f` over `items` on a few threads, keeping order; the first error (in item order) wins.
pub(crate) fn parallel_map<T: Send>(
    items: &[PathBuf],
    f: impl Fn(&Path) -> Result<T, DataError> + Sync,
) -> Result<Vec<T>, DataError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len())
        .min(8);
    if workers <= 1 {
        return items.iter().map(|p| f(p)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<T, DataError>>>> =
        items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .zip(items)
        .map(|(slot, path)| {
            slot.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| {
                    Err(DataError::io(
                        path,
                        std::io::Error::other("worker thread did not finish"),
                    ))
                })
        })
        .collect()
}

/// Read files of one split and concatenate their rows. JSON files are typed together (one schema).
fn read_files(files: &[PathBuf], forced: Option<Format>) -> Result<Vec<Doc>, DataError> {
    let formats: Vec<Format> = files
        .iter()
        .map(|f| {
            forced.or_else(|| extension_format(f)).ok_or_else(|| {
                DataError::Unsupported(format!(
                    "{}: unknown data file type (readable: .parquet, .json, .jsonl, .csv, .tsv, .txt, optionally .gz; \
                     HF's arrow/script datasets are not supported)",
                    f.display()
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    if formats.iter().all(|f| *f == Format::Json) {
        let rows = parallel_map(files, |p| {
            let text = read_text(p)?;
            json::json_to_docs(&text, p)
        })?;
        // Re-type across files so that every row has the union schema.
        let all: Vec<Doc> = rows.into_iter().flatten().collect();
        return Ok(if files.len() > 1 {
            json::type_rows(all, false)
        } else {
            all
        });
    }
    let per_file = parallel_map(files, |p| {
        let i = files.iter().position(|f| f == p).unwrap_or(0);
        match formats[i] {
            Format::Parquet => parquet::parquet_to_docs(p),
            Format::Json => json::json_to_docs(&read_text(p)?, p),
            Format::Csv(delim) => csv::csv_to_docs(&read_text(p)?, delim, p),
            Format::Text => Ok(json::text_to_docs(&read_text(p)?)),
        }
    })?;
    Ok(per_file.into_iter().flatten().collect())
}

// ---------------------------------------------------------------------------------------------------

enum Found {
    Release {
        layout: &'static release::ReleaseLayout,
        root: PathBuf,
        config: String,
    },
    Files {
        desc: String,
        splits: SplitPaths,
        format: Option<Format>,
    },
}

fn load_uncached(
    spec: &DatasetSpec,
    split: &str,
    opts: &DataOptions,
) -> Result<(Vec<Doc>, String), DataError> {
    let mut looked = Vec::new();
    match find(spec, Some(split), opts, &mut looked)? {
        Some(Found::Release {
            layout,
            root,
            config,
        }) => match (layout.locate)(&root, &config, split) {
            Ok(loc) => {
                let docs = loc.load()?;
                let source = format!(
                    "{} (original release files under --data-dir, mapped to {} {config}/{split})",
                    describe_files(&loc.files),
                    layout.ids[0]
                );
                Ok((docs, source))
            }
            Err(release::Miss::UnknownSplit(available)) => Err(DataError::SplitNotFound {
                dataset: spec.describe(),
                config: Some(config),
                split: split.to_string(),
                available,
                source_desc: root.display().to_string(),
            }),
            Err(release::Miss::UnknownConfig(msg)) => Err(DataError::InvalidSpec(msg)),
            Err(release::Miss::Absent(paths)) => {
                looked.extend(paths.iter().map(|p| p.display().to_string()));
                Err(not_found(spec, split, opts, looked, None))
            }
        },
        Some(Found::Files {
            desc,
            splits,
            format,
        }) => {
            let names: Vec<String> = splits.iter().map(|(s, _)| s.clone()).collect();
            let Some((_, files)) = splits.into_iter().find(|(s, _)| s == split) else {
                return Err(DataError::SplitNotFound {
                    dataset: spec.describe(),
                    config: spec.name.clone(),
                    split: split.to_string(),
                    available: names,
                    source_desc: desc,
                });
            };
            if files.is_empty() && !looked.is_empty() {
                // The split is declared, but its files are not there: say which paths were tried.
                return Err(not_found(spec, split, opts, looked, None));
            }
            if files.is_empty() {
                return Err(DataError::SplitNotFound {
                    dataset: spec.describe(),
                    config: spec.name.clone(),
                    split: split.to_string(),
                    available: names,
                    source_desc: format!(
                        "{desc} (split '{split}' is declared but no file matches it)"
                    ),
                });
            }
            let docs = read_files(&files, format)?;
            Ok((docs, format!("{} ({desc})", describe_files(&files))))
        }
        None => {
            if let Some(dl) = try_download(spec, split, opts, &mut looked)? {
                return Ok(dl);
            }
            Err(not_found(spec, split, opts, looked, None))
        }
    }
}

fn describe_files(files: &[PathBuf]) -> String {
    match files {
        [] => "no files".into(),
        [one] => one.display().to_string(),
        [first, rest @ ..] => format!("{} (+{} more)", first.display(), rest.len()),
    }
}

fn base_dir(spec: &DatasetSpec) -> PathBuf {
    spec.base_dir.clone().unwrap_or_else(|| PathBuf::from("."))
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Resolve packaged-loader `data_files` relative to `root` on the local file system.
fn resolve_local_data_files(
    root: &Path,
    data_files: &Value,
    looked: &mut Vec<String>,
) -> Result<SplitPaths, DataError> {
    let mut out = Vec::new();
    for (split, patterns) in hub::data_files_by_split(data_files)? {
        let mut files: Vec<PathBuf> = Vec::new();
        for p in patterns {
            if p.starts_with("http://") || p.starts_with("https://") || p.starts_with("hf://") {
                return Err(DataError::Unsupported(format!(
                    "data_files URL {p}: remote data files are not supported; download the file and point data_files at it"
                )));
            }
            let abs = if Path::new(&p).is_absolute() {
                PathBuf::from(&p)
            } else {
                root.join(&p)
            };
            if has_glob(&p) {
                let pat = abs.to_string_lossy().into_owned();
                let mut matched: Vec<PathBuf> = glob::glob(&pat)
                    .map_err(|e| {
                        DataError::InvalidSpec(format!("bad data_files pattern '{p}': {e}"))
                    })?
                    .flatten()
                    .filter(|f| f.is_file())
                    .collect();
                matched.sort();
                if matched.is_empty() {
                    looked.push(format!("{pat} (no match)"));
                }
                files.extend(matched);
            } else if abs.is_file() {
                files.push(abs);
            } else if abs.is_dir() {
                let rel = hub::list_files(&abs);
                files.extend(
                    rel.iter()
                        .filter(|f| extension_format(Path::new(f)).is_some())
                        .map(|f| abs.join(f)),
                );
            } else {
                looked.push(abs.display().to_string());
            }
        }
        out.push((split, files));
    }
    Ok(out)
}

fn abs_splits(root: &Path, splits: SplitFiles) -> SplitPaths {
    splits
        .into_iter()
        .map(|(s, fs)| (s, fs.into_iter().map(|f| root.join(f)).collect()))
        .collect()
}

/// A repository checkout (hub snapshot or local directory): `data_files` override, else card/auto.
fn resolve_checkout(
    spec: &DatasetSpec,
    root: &Path,
    looked: &mut Vec<String>,
) -> Result<Option<SplitPaths>, DataError> {
    let files = hub::list_files(root);
    let prefix = spec
        .data_dir
        .as_deref()
        .map(|d| format!("{}/", d.trim_matches('/')))
        .unwrap_or_default();
    if let Some(df) = &spec.data_files {
        let mut out = Vec::new();
        for (split, patterns) in hub::data_files_by_split(df)? {
            let mut matched = Vec::new();
            for p in &patterns {
                let m = hub::match_pattern(&files, &format!("{prefix}{p}"))?;
                if m.is_empty() {
                    looked.push(format!(
                        "{} (no match)",
                        root.join(format!("{prefix}{p}")).display()
                    ));
                }
                matched.extend(m);
            }
            out.push((split, matched.into_iter().map(|f| root.join(f)).collect()));
        }
        return Ok(Some(out));
    }
    if !prefix.is_empty() {
        let sub: Vec<String> = files
            .iter()
            .filter(|f| f.starts_with(&prefix))
            .cloned()
            .collect();
        let splits = hub::resolve_repo(root, &sub, None)?;
        return Ok(match splits {
            Resolution::Found(s) if !s.is_empty() => Some(abs_splits(root, s)),
            Resolution::Found(_) => {
                looked.push(format!("{} (no data files)", root.join(&prefix).display()));
                None
            }
            Resolution::Missing(why) => {
                looked.push(why);
                None
            }
        });
    }
    match hub::resolve_repo(root, &files, spec.name.as_deref())? {
        Resolution::Found(s) if !s.is_empty() => Ok(Some(abs_splits(root, s))),
        Resolution::Found(_) => {
            looked.push(format!("{} (no data files)", root.display()));
            Ok(None)
        }
        Resolution::Missing(why) => {
            looked.push(why);
            Ok(None)
        }
    }
}

/// Where `spec`'s data is, trying in order: a packaged loader's files, a local directory, `--data-dir`
/// (release layouts, then repository copies), the HF hub cache. `looked` collects what was tried.
fn find(
    spec: &DatasetSpec,
    split: Option<&str>,
    opts: &DataOptions,
    looked: &mut Vec<String>,
) -> Result<Option<Found>, DataError> {
    let base = base_dir(spec);
    // 1. Packaged loaders.
    if let Some(format) = builder_format(&spec.path) {
        return find_packaged(spec, format, &base, looked);
    }
    if matches!(
        spec.path.as_str(),
        "arrow" | "pandas" | "imagefolder" | "audiofolder" | "webdataset" | "xml" | "sql"
    ) {
        return Err(DataError::Unsupported(format!(
            "dataset_path '{}': this packaged loader is not supported (supported: json, csv, parquet, text)",
            spec.path
        )));
    }
    // 2. A local directory.
    if let Some(found) = find_local(spec, &base, looked)? {
        return Ok(Some(found));
    }
    // 3. --data-dir: original release layouts, then local repository copies.
    if let Some(dd) = &opts.data_dir {
        if let Some(found) = find_release(spec, split, dd, looked)? {
            return Ok(Some(found));
        }
        if let Some(found) = find_data_dir_copy(spec, dd, looked)? {
            return Ok(Some(found));
        }
    }
    // 4. The HF hub cache.
    find_in_hub_cache(spec, opts, looked)
}

/// A packaged loader (`json`, `csv`, `parquet`, `text`): `data_files` (or `data_dir`) under the YAML's
/// directory.
fn find_packaged(
    spec: &DatasetSpec,
    format: Format,
    base: &Path,
    looked: &mut Vec<String>,
) -> Result<Option<Found>, DataError> {
    let root = match &spec.data_dir {
        Some(d) if Path::new(d).is_absolute() => PathBuf::from(d),
        Some(d) => base.join(d),
        None => base.to_path_buf(),
    };
    let splits = match &spec.data_files {
        Some(df) => resolve_local_data_files(&root, df, looked)?,
        None if spec.data_dir.is_some() => match hub::resolve_repo(&root, &hub::list_files(&root), None)? {
            Resolution::Found(s) => abs_splits(&root, s),
            Resolution::Missing(why) => {
                looked.push(why);
                Vec::new()
            }
        },
        None => {
            return Err(DataError::InvalidSpec(format!(
                "dataset_path '{}' needs dataset_kwargs.data_files (or data_dir) naming the files to read",
                spec.path
            )))
        }
    };
    if splits.iter().all(|(_, f)| f.is_empty()) {
        if looked.is_empty() {
            looked.push(format!("{} (no data files)", root.display()));
        }
        return Ok(None);
    }
    Ok(Some(Found::Files {
        desc: format!("{} loader, data_files under {}", spec.path, root.display()),
        splits,
        format: Some(format),
    }))
}

/// `dataset_path` naming a local directory (relative to the YAML's directory).
fn find_local(
    spec: &DatasetSpec,
    base: &Path,
    looked: &mut Vec<String>,
) -> Result<Option<Found>, DataError> {
    let local = if Path::new(&spec.path).is_absolute() {
        PathBuf::from(&spec.path)
    } else {
        base.join(&spec.path)
    };
    if local.is_dir() {
        if let Some(splits) = resolve_checkout(spec, &local, looked)? {
            return Ok(Some(Found::Files {
                desc: format!("local dataset directory {}", local.display()),
                splits,
                format: None,
            }));
        }
    }
    Ok(None)
}

/// An original release layout under `--data-dir` (see [`release`]).
fn find_release(
    spec: &DatasetSpec,
    split: Option<&str>,
    dd: &Path,
    looked: &mut Vec<String>,
) -> Result<Option<Found>, DataError> {
    let Some(layout) = release::find_layout(&spec.path) else {
        return Ok(None);
    };
    let root = dd.join(layout.dir);
    let config = match spec
        .name
        .clone()
        .or_else(|| layout.default_config.map(str::to_string))
    {
        Some(c) => c,
        None => {
            let configs = (layout.configs)(&root);
            return Err(DataError::InvalidSpec(format!(
                "dataset {} needs a config (dataset_name); available under {}: {}",
                spec.path,
                root.display(),
                if configs.is_empty() {
                    "none found".to_string()
                } else {
                    configs.join(", ")
                }
            )));
        }
    };
    let present = match split {
        Some(s) => match (layout.locate)(&root, &config, s) {
            Ok(_) | Err(release::Miss::UnknownSplit(_)) => true,
            Err(release::Miss::UnknownConfig(msg)) => return Err(DataError::InvalidSpec(msg)),
            Err(release::Miss::Absent(paths)) => {
                looked.extend(paths.iter().map(|p| p.display().to_string()));
                if paths.is_empty() {
                    looked.push(root.display().to_string());
                }
                false
            }
        },
        None => {
            let any = layout
                .splits
                .iter()
                .any(|s| (layout.locate)(&root, &config, s).is_ok());
            if !any {
                looked.push(format!(
                    "{} (no files for config '{config}')",
                    root.display()
                ));
            }
            any
        }
    };
    if present {
        return Ok(Some(Found::Release {
            layout,
            root,
            config,
        }));
    }
    Ok(None)
}

/// A copy of the dataset's repository under `--data-dir` (`DIR/org/name` or `DIR/org--name`).
fn find_data_dir_copy(
    spec: &DatasetSpec,
    dd: &Path,
    looked: &mut Vec<String>,
) -> Result<Option<Found>, DataError> {
    for candidate in [dd.join(&spec.path), dd.join(spec.path.replace('/', "--"))] {
        if candidate.is_dir() {
            if let Some(splits) = resolve_checkout(spec, &candidate, looked)? {
                return Ok(Some(Found::Files {
                    desc: format!("dataset directory {} under --data-dir", candidate.display()),
                    splits,
                    format: None,
                }));
            }
        } else {
            looked.push(candidate.display().to_string());
        }
    }
    Ok(None)
}

/// The HF hub cache: the revision's snapshot, else the `convert/parquet` export.
fn find_in_hub_cache(
    spec: &DatasetSpec,
    opts: &DataOptions,
    looked: &mut Vec<String>,
) -> Result<Option<Found>, DataError> {
    let hub_dir = hub::hub_cache_dir(opts);
    let repo_dir = hub_dir.join(hub::repo_folder_name(&spec.path));
    if !repo_dir.is_dir() {
        looked.push(repo_dir.display().to_string());
        return Ok(None);
    }
    let revision = spec.revision.as_deref().unwrap_or("main");
    if let Some(snap) = hub::snapshot_dir(&repo_dir, revision, looked) {
        if let Some(splits) = resolve_checkout(spec, &snap, looked)? {
            return Ok(Some(Found::Files {
                desc: format!("HF cache snapshot {}", snap.display()),
                splits,
                format: None,
            }));
        }
    }
    if spec.data_files.is_none() && spec.revision.is_none() {
        if let Some(snap) = hub::snapshot_dir(&repo_dir, "convert/parquet", looked) {
            let files = hub::list_files(&snap);
            let splits = hub::resolve_converted(&files, spec.name.as_deref());
            if !splits.is_empty() {
                return Ok(Some(Found::Files {
                    desc: format!("HF cache parquet export {}", snap.display()),
                    splits: abs_splits(&snap, splits),
                    format: Some(Format::Parquet),
                }));
            }
            looked.push(format!(
                "{}/{}/<split>/*.parquet",
                snap.display(),
                spec.name.as_deref().unwrap_or("default")
            ));
        }
    }
    Ok(None)
}

#[cfg(feature = "hub-download")]
fn try_download(
    spec: &DatasetSpec,
    split: &str,
    opts: &DataOptions,
    looked: &mut Vec<String>,
) -> Result<Option<(Vec<Doc>, String)>, DataError> {
    if opts.offline || builder_format(&spec.path).is_some() {
        return Ok(None);
    }
    let endpoint = hub::hf_endpoint();
    let config = spec.name.as_deref().unwrap_or("default");
    match hub::download_split(
        &endpoint,
        &hub::hub_cache_dir(opts),
        &spec.path,
        config,
        split,
        hub::hf_token(opts),
    ) {
        Ok(files) => {
            let docs = read_files(&files, Some(Format::Parquet))?;
            Ok(Some((
                docs,
                format!(
                    "{} (downloaded from {endpoint} parquet export)",
                    describe_files(&files)
                ),
            )))
        }
        Err(e) => {
            looked.push(format!(
                "{endpoint}/api/datasets/{}/parquet/{config}/{split} ({e})",
                spec.path
            ));
            Ok(None)
        }
    }
}

#[cfg(not(feature = "hub-download"))]
fn try_download(
    spec: &DatasetSpec,
    split: &str,
    opts: &DataOptions,
    looked: &mut Vec<String>,
) -> Result<Option<(Vec<Doc>, String)>, DataError> {
    if !opts.offline && builder_format(&spec.path).is_none() {
        looked.push(format!(
            "hub download of {} {split} (this build has no `hub-download` feature)",
            spec.path
        ));
    }
    Ok(None)
}

fn not_found(
    spec: &DatasetSpec,
    split: &str,
    opts: &DataOptions,
    looked: Vec<String>,
    extra: Option<&str>,
) -> DataError {
    let hub_dir = hub::hub_cache_dir(opts);
    let mut hint = format!(
        "It is not in the HF cache at {}: set HF_HOME (or HF_HUB_CACHE) to a cache that has it",
        hub_dir.display()
    );
    if let Some(layout) = release::find_layout(&spec.path) {
        hint.push_str(&format!(
            ", or pass --data-dir DIR holding the original release files (expected under DIR/{}/)",
            layout.dir
        ));
    } else if builder_format(&spec.path).is_none() {
        hint.push_str(
            ", or pass --data-dir DIR holding a copy of the dataset repository (DIR/<org>/<name>/)",
        );
    }
    if opts.offline {
        hint.push_str(
            ", or run online (unset HF_HUB_OFFLINE / HF_DATASETS_OFFLINE) to download it",
        );
    } else {
        hint.push_str(" (downloading it was tried, see above)");
    }
    hint.push('.');
    if builder_format(&spec.path).is_some() {
        hint = format!(
            "Check dataset_kwargs.data_files (relative paths resolve against the task YAML's directory, {}).",
            base_dir(spec).display()
        );
    }
    if let Some(x) = extra {
        hint.push(' ');
        hint.push_str(x);
    }
    DataError::NotFound {
        dataset: spec.path.clone(),
        config: spec.name.clone(),
        split: split.to_string(),
        looked_in: looked,
        hint,
    }
}
