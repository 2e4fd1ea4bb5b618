//! The Hugging Face hub cache, read from its on-disk layout (no `datasets`, no `huggingface_hub`):
//!
//! ```text
//! $HF_HUB_CACHE (= $HF_HOME/hub, default ~/.cache/huggingface/hub)
//!   datasets--{org}--{name}/
//!     refs/main                    -> commit sha of the main branch
//!     refs/convert/parquet         -> commit sha of the parquet-converter branch
//!     snapshots/{sha}/...          -> the repository files at that commit (symlinks into blobs/)
//! ```
//!
//! Which files make which config and split, in the order `datasets` uses:
//! 1. the dataset card's YAML front matter (`README.md`), `configs:` → `config_name`, `data_files`
//!    (a pattern, a list of patterns, or a list of `{split, path}` with `path` a pattern or a list),
//!    `data_dir`, `default: true`; patterns are matched against the snapshot's files (`*` does not cross
//!    `/`, `**` does) and each split's files are read in sorted order;
//! 2. without `configs:`, `datasets`' default patterns on the file names: the `push_to_hub` layout
//!    `data/{split}-NNNNN-of-NNNNN.*`, then a split keyword as a directory name (`test/…`), then a split
//!    keyword delimited by `-._ 0-9` in a file name (`…-test-….parquet`); the keywords are `train`/`training`,
//!    `validation`/`valid`/`val`/`dev`, `test`/`testing`/`eval`/`evaluation`; otherwise every file is `train`.
//!    A config name other than `default` narrows this to the `<config>/` directory when there is one;
//! 3. the parquet-converter branch: `{config}/{split}/NNNN.parquet` (also `partial-{split}/` and the older
//!    `{config}/{name}-{split}[-NNNNN-of-NNNNN].parquet`).
//!
//! Online (not `offline`), a split that is in none of these is downloaded from the hub's parquet API
//! (`/api/datasets/{repo}/parquet/{config}/{split}`) into the converter-branch layout of the same cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::DataError;
use super::DataOptions;

/// Data file extensions `datasets` recognises that this crate can read (with optional `.gz`).
pub(crate) const DATA_EXTENSIONS: &[&str] = &["parquet", "jsonl", "json", "csv", "tsv", "txt"];

/// The hub cache directory: `opts.hf_home/hub` when given, else as `huggingface_hub` resolves it
/// (`$HF_HUB_CACHE`, `$HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub`, `$XDG_CACHE_HOME/huggingface/hub`,
/// `~/.cache/huggingface/hub`; see [`yardstick_core::hf_cache`]).
pub fn hub_cache_dir(opts: &DataOptions) -> PathBuf {
    yardstick_core::hf_cache::hub_cache_dir(opts.hf_home.as_deref())
}

/// `datasets--org--name` for `org/name`.
pub(crate) fn repo_folder_name(repo_id: &str) -> String {
    format!("datasets--{}", repo_id.replace('/', "--"))
}

/// The snapshot directory of `revision` (a branch/ref name or a commit sha) under `repo_dir`.
pub(crate) fn snapshot_dir(
    repo_dir: &Path,
    revision: &str,
    looked: &mut Vec<String>,
) -> Option<PathBuf> {
    let ref_file = repo_dir.join("refs").join(revision);
    if let Ok(sha) = std::fs::read_to_string(&ref_file) {
        let dir = repo_dir.join("snapshots").join(sha.trim());
        if dir.is_dir() {
            return Some(dir);
        }
        looked.push(format!(
            "{} (ref {revision} → {}, missing)",
            dir.display(),
            sha.trim()
        ));
        return None;
    }
    let direct = repo_dir.join("snapshots").join(revision);
    if direct.is_dir() {
        return Some(direct);
    }
    looked.push(format!("{} (no ref '{revision}')", ref_file.display()));
    None
}

/// All files under `root`, relative, `/`-separated, sorted; hidden (`.x`) and `__x` entries skipped.
pub(crate) fn list_files(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.starts_with("__") {
                continue;
            }
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            // metadata() follows symlinks (snapshot files are symlinks into blobs/).
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => walk(&path, &rel, out),
                Ok(m) if m.is_file() => out.push(rel),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(root, "", &mut out);
    out.sort();
    out
}

fn is_data_file(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    DATA_EXTENSIONS
        .iter()
        .any(|ext| base.ends_with(&format!(".{ext}")))
        && !lower.ends_with("readme.md")
        && !rel.rsplit('/').next().is_some_and(|f| {
            f.eq_ignore_ascii_case("dataset_infos.json")
                || f.eq_ignore_ascii_case("dataset_info.json")
        })
}

const GLOB_OPTS: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// Files (relative, sorted) matching one `datasets`-style pattern.
pub(crate) fn match_pattern(files: &[String], pattern: &str) -> Result<Vec<String>, DataError> {
    let pattern = pattern.trim_start_matches("./");
    if !pattern.contains(['*', '?', '[']) {
        // A plain path: the file itself, or every data file under it when it is a directory.
        if files.iter().any(|f| f == pattern) {
            return Ok(vec![pattern.to_string()]);
        }
        let dir = format!("{}/", pattern.trim_end_matches('/'));
        return Ok(files
            .iter()
            .filter(|f| f.starts_with(&dir) && is_data_file(f))
            .cloned()
            .collect());
    }
    let pat = glob::Pattern::new(pattern)
        .map_err(|e| DataError::InvalidSpec(format!("bad data_files pattern '{pattern}': {e}")))?;
    Ok(files
        .iter()
        .filter(|f| pat.matches_with(f, GLOB_OPTS))
        .cloned()
        .collect())
}

/// `(split, patterns)` pairs from a `data_files` value, in declaration order. Accepts a pattern, a list of
/// patterns (split `train`), a mapping `{split: pattern | [patterns]}`, or the card's list of
/// `{split, path}` entries.
pub(crate) fn data_files_by_split(value: &Value) -> Result<Vec<(String, Vec<String>)>, DataError> {
    let patterns = |v: &Value| -> Result<Vec<String>, DataError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|x| {
                    x.as_str().map(str::to_string).ok_or_else(|| {
                        DataError::InvalidSpec(format!(
                            "data_files: expected a path string, found {x}"
                        ))
                    })
                })
                .collect(),
            other => Err(DataError::InvalidSpec(format!(
                "data_files: expected a path or a list of paths, found {other}"
            ))),
        }
    };
    match value {
        Value::String(_) => Ok(vec![("train".into(), patterns(value)?)]),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            Ok(vec![("train".into(), patterns(value)?)])
        }
        Value::Array(items) => {
            let mut out: Vec<(String, Vec<String>)> = Vec::new();
            for item in items {
                let split = item
                    .get("split")
                    .and_then(Value::as_str)
                    .unwrap_or("train")
                    .to_string();
                let path = item.get("path").ok_or_else(|| {
                    DataError::InvalidSpec(format!("data_files entry without 'path': {item}"))
                })?;
                let ps = patterns(path)?;
                match out.iter_mut().find(|(s, _)| *s == split) {
                    Some((_, v)) => v.extend(ps),
                    None => out.push((split, ps)),
                }
            }
            Ok(out)
        }
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), patterns(v)?)))
            .collect(),
        other => Err(DataError::InvalidSpec(format!(
            "data_files: unsupported value {other}"
        ))),
    }
}

/// One config of a dataset card.
#[derive(Clone, Debug)]
pub(crate) struct CardConfig {
    pub name: String,
    pub default: bool,
    pub data_dir: Option<String>,
    pub data_files: Option<Value>,
}

/// The `configs:` of a `README.md` YAML front matter; `Ok(None)` when there is no card or no `configs`.
pub(crate) fn read_card_configs(readme: &Path) -> Result<Option<Vec<CardConfig>>, DataError> {
    let Ok(text) = std::fs::read_to_string(readme) else {
        return Ok(None);
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let Some(rest) = text
        .strip_prefix("---")
        .filter(|r| r.starts_with('\n') || r.starts_with("\r\n"))
    else {
        return Ok(None);
    };
    let end = rest.find("\n---").ok_or_else(|| DataError::Card {
        path: readme.to_path_buf(),
        message: "YAML front matter opened with '---' is never closed".into(),
    })?;
    let yaml = &rest[..end];
    let meta: Value = serde_norway::from_str(yaml).map_err(|e| DataError::Card {
        path: readme.to_path_buf(),
        message: format!("invalid YAML: {e}"),
    })?;
    let Some(configs) = meta.get("configs").and_then(Value::as_array) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for c in configs {
        let name = match c.get("config_name") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "default".into(),
        };
        out.push(CardConfig {
            name,
            default: c.get("default").and_then(Value::as_bool).unwrap_or(false),
            data_dir: c
                .get("data_dir")
                .and_then(Value::as_str)
                .map(str::to_string),
            data_files: c.get("data_files").cloned(),
        });
    }
    Ok(Some(out))
}

/// Splits and their files (relative to the repository root), in split order.
pub(crate) type SplitFiles = Vec<(String, Vec<String>)>;

/// Why a config could not be resolved in one snapshot (for the error message).
pub(crate) enum Resolution {
    Found(SplitFiles),
    Missing(String),
}

const SPLIT_KEYWORDS: &[(&str, &[&str])] = &[
    ("train", &["train", "training"]),
    ("validation", &["validation", "valid", "dev", "val"]),
    ("test", &["test", "testing", "eval", "evaluation"]),
];

fn is_sep(c: char) -> bool {
    matches!(c, '-' | '.' | '_' | ' ') || c.is_ascii_digit()
}

/// The push_to_hub layout: `data/{split}-NNNNN-of-NNNNN*.ext` → split.
fn push_to_hub_split(rel: &str, prefix: &str) -> Option<String> {
    let name = rel.strip_prefix(prefix)?.strip_prefix("data/")?;
    if name.contains('/') {
        return None;
    }
    let (split, rest) = name.split_once('-')?;
    let b = rest.as_bytes();
    let ok = b.len() >= 14
        && b[..5].iter().all(u8::is_ascii_digit)
        && &rest[5..9] == "-of-"
        && b[9..14].iter().all(u8::is_ascii_digit);
    (ok && !split.is_empty()).then(|| split.to_string())
}

fn keyword_in_dir(rel_dirs: &[&str]) -> Option<&'static str> {
    for dir in rel_dirs {
        for (split, words) in SPLIT_KEYWORDS {
            for w in *words {
                if *dir == *w {
                    return Some(split);
                }
                if let Some(rest) = dir.strip_prefix(w) {
                    if rest.starts_with(is_sep) {
                        return Some(split);
                    }
                }
                if let Some(pos) = dir.find(w) {
                    let before = dir[..pos].chars().last();
                    let after = dir[pos + w.len()..].chars().next();
                    if pos > 0 && before.is_some_and(is_sep) && after.is_none_or(is_sep) {
                        return Some(split);
                    }
                }
            }
        }
    }
    None
}

fn keyword_in_filename(file: &str) -> Option<&'static str> {
    let stem = file;
    for (split, words) in SPLIT_KEYWORDS {
        for w in *words {
            let mut from = 0;
            while let Some(pos) = stem[from..].find(w).map(|p| p + from) {
                let before = stem[..pos].chars().last();
                let after = stem[pos + w.len()..].chars().next();
                if before.is_none_or(is_sep) && after.is_some_and(is_sep) {
                    return Some(split);
                }
                from = pos + w.len();
            }
        }
    }
    None
}

fn order_splits(mut map: BTreeMap<String, Vec<String>>) -> SplitFiles {
    let mut out = Vec::new();
    for s in ["train", "validation", "test"] {
        if let Some(v) = map.remove(s) {
            out.push((s.to_string(), v));
        }
    }
    out.extend(map);
    out
}

/// `datasets`' default data-file patterns over `files` (optionally under `prefix`).
fn auto_splits(files: &[String], prefix: &str) -> SplitFiles {
    let data: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with(prefix) && is_data_file(f))
        .collect();
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &data {
        if let Some(s) = push_to_hub_split(f, prefix) {
            by.entry(s).or_default().push((*f).clone());
        }
    }
    if !by.is_empty() {
        return order_splits(by);
    }
    for f in &data {
        let rel = &f[prefix.len()..];
        let dirs: Vec<&str> = rel.split('/').collect();
        if let Some(s) = keyword_in_dir(&dirs[..dirs.len() - 1]) {
            by.entry(s.to_string()).or_default().push((*f).clone());
        }
    }
    if !by.is_empty() {
        return order_splits(by);
    }
    for f in &data {
        let file = f.rsplit('/').next().unwrap_or(f);
        if let Some(s) = keyword_in_filename(file) {
            by.entry(s.to_string()).or_default().push((*f).clone());
        }
    }
    if !by.is_empty() {
        return order_splits(by);
    }
    if data.is_empty() {
        return Vec::new();
    }
    vec![("train".into(), data.into_iter().cloned().collect())]
}

/// Resolve `config` in a repository checkout (a hub snapshot or a local directory) whose files are `files`.
pub(crate) fn resolve_repo(
    root: &Path,
    files: &[String],
    config: Option<&str>,
) -> Result<Resolution, DataError> {
    if let Some(configs) = read_card_configs(&root.join("README.md"))? {
        let chosen = match config {
            Some(name) => configs.iter().find(|c| c.name == name),
            None => configs
                .iter()
                .find(|c| c.default)
                .or_else(|| {
                    if configs.len() == 1 {
                        configs.first()
                    } else {
                        None
                    }
                })
                .or_else(|| configs.iter().find(|c| c.name == "default")),
        };
        let Some(chosen) = chosen else {
            let names: Vec<&str> = configs.iter().map(|c| c.name.as_str()).collect();
            let shown = if names.len() > 12 {
                format!("{}, … ({} in all)", names[..12].join(", "), names.len())
            } else {
                names.join(", ")
            };
            return Ok(Resolution::Missing(format!(
                "{}: the dataset card declares configs [{shown}], not '{}'",
                root.join("README.md").display(),
                config.unwrap_or("default")
            )));
        };
        let prefix = chosen
            .data_dir
            .as_deref()
            .map(|d| format!("{}/", d.trim_end_matches('/')))
            .unwrap_or_default();
        let splits = match &chosen.data_files {
            Some(df) => {
                let mut out = Vec::new();
                for (split, patterns) in data_files_by_split(df)? {
                    let mut matched = Vec::new();
                    for p in &patterns {
                        for f in match_pattern(files, &format!("{prefix}{p}"))? {
                            if !matched.contains(&f) {
                                matched.push(f);
                            }
                        }
                    }
                    out.push((split, matched));
                }
                out
            }
            None => auto_splits(files, &prefix),
        };
        return Ok(Resolution::Found(splits));
    }
    let prefix = match config {
        Some(c) if c != "default" && files.iter().any(|f| f.starts_with(&format!("{c}/"))) => {
            format!("{c}/")
        }
        _ => String::new(),
    };
    let splits = auto_splits(files, &prefix);
    if splits.is_empty() {
        return Ok(Resolution::Missing(format!(
            "{}: no data files ({})",
            root.display(),
            DATA_EXTENSIONS.join(", ")
        )));
    }
    Ok(Resolution::Found(splits))
}

/// The parquet-converter branch layout for `config` (`default` when none).
pub(crate) fn resolve_converted(files: &[String], config: Option<&str>) -> SplitFiles {
    let config = config.unwrap_or("default");
    let prefix = format!("{config}/");
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.starts_with(&prefix) && f.ends_with(".parquet"))
    {
        let rel = &f[prefix.len()..];
        let split = match rel.split_once('/') {
            Some((dir, file)) if !file.contains('/') => {
                dir.strip_prefix("partial-").unwrap_or(dir).to_string()
            }
            Some(_) => continue,
            None => {
                // {name}-{split}.parquet or {name}-{split}-NNNNN-of-NNNNN.parquet
                let stem = rel.trim_end_matches(".parquet");
                let stem = match stem.rfind("-of-") {
                    Some(i) if i >= 6 => stem[..i - 6].to_string(),
                    _ => stem.to_string(),
                };
                match stem.rsplit_once('-') {
                    Some((_, s)) => s.to_string(),
                    None => continue,
                }
            }
        };
        by.entry(split).or_default().push(f.clone());
    }
    order_splits(by)
}

/// `HF_TOKEN`, or the token file `huggingface-cli login` writes.
#[cfg_attr(not(feature = "hub-download"), allow(dead_code))]
pub(crate) fn hf_token(opts: &DataOptions) -> Option<String> {
    if let Some(t) = std::env::var("HF_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Some(t.trim().to_string());
    }
    let home = opts
        .hf_home
        .clone()
        .or_else(|| std::env::var_os("HF_HOME").map(PathBuf::from))
        .unwrap_or_else(|| {
            hub_cache_dir(opts)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        });
    std::fs::read_to_string(home.join("token"))
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The hub endpoint (`HF_ENDPOINT`, default `https://huggingface.co`).
#[cfg_attr(not(feature = "hub-download"), allow(dead_code))]
pub(crate) fn hf_endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "https://huggingface.co".into())
        .trim_end_matches('/')
        .to_string()
}

/// Download one split's parquet files through the hub's parquet API into the converter-branch layout of
/// the cache (`refs/convert/parquet`, `snapshots/{sha}/{config}/{split}/NNNN.parquet`). Returns the files.
#[cfg(feature = "hub-download")]
pub(crate) fn download_split(
    endpoint: &str,
    hub: &Path,
    repo_id: &str,
    config: &str,
    split: &str,
    token: Option<String>,
) -> Result<Vec<PathBuf>, DataError> {
    let endpoint = endpoint.to_string();
    let hub = hub.to_path_buf();
    let repo_id = repo_id.to_string();
    let config = config.to_string();
    let split = split.to_string();
    // reqwest's blocking client owns a runtime; run it on its own thread so that calling this from inside
    // an async context (the engine) cannot panic.
    std::thread::spawn(move || {
        download_split_blocking(&endpoint, &hub, &repo_id, &config, &split, token.as_deref())
    })
    .join()
    .map_err(|_| DataError::Download {
        url: String::new(),
        message: "download thread panicked".into(),
    })?
}

#[cfg(feature = "hub-download")]
fn download_split_blocking(
    endpoint: &str,
    hub: &Path,
    repo_id: &str,
    config: &str,
    split: &str,
    token: Option<&str>,
) -> Result<Vec<PathBuf>, DataError> {
    use std::io::Write;

    let local = endpoint.contains("://127.0.0.1") || endpoint.contains("://localhost");
    let mut builder = reqwest::blocking::Client::builder()
        .user_agent(concat!("yardstick/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(300));
    if local {
        builder = builder.no_proxy();
    }
    let client = builder.build().map_err(|e| DataError::Download {
        url: endpoint.to_string(),
        message: e.to_string(),
    })?;
    let get = |url: &str| -> Result<reqwest::blocking::Response, DataError> {
        let mut req = client.get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().map_err(|e| DataError::Download {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        let status = resp.status();
        if !status.is_success() {
            let body: String = resp.text().unwrap_or_default().chars().take(300).collect();
            return Err(DataError::Download {
                url: url.to_string(),
                message: format!("HTTP {status}: {body}"),
            });
        }
        Ok(resp)
    };
    let enc = |s: &str| {
        s.replace('%', "%25")
            .replace('/', "%2F")
            .replace(' ', "%20")
    };
    let list_url = format!(
        "{endpoint}/api/datasets/{repo_id}/parquet/{}/{}",
        enc(config),
        enc(split)
    );
    let urls: Vec<String> = get(&list_url)?.json().map_err(|e| DataError::Download {
        url: list_url.clone(),
        message: format!("unexpected response: {e}"),
    })?;
    if urls.is_empty() {
        return Err(DataError::Download {
            url: list_url,
            message: "the hub lists no parquet files for this split".into(),
        });
    }
    let rev_url = format!("{endpoint}/api/datasets/{repo_id}/revision/refs%2Fconvert%2Fparquet");
    let rev: Value = get(&rev_url)?.json().map_err(|e| DataError::Download {
        url: rev_url.clone(),
        message: format!("unexpected response: {e}"),
    })?;
    let sha = rev
        .get("sha")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| DataError::Download {
            url: rev_url.clone(),
            message: "no commit sha in the response".into(),
        })?
        .to_string();
    let repo_dir = hub.join(repo_folder_name(repo_id));
    let split_dir = repo_dir
        .join("snapshots")
        .join(&sha)
        .join(config)
        .join(split);
    std::fs::create_dir_all(&split_dir).map_err(|e| DataError::io(&split_dir, e))?;
    let mut out = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let target = split_dir.join(format!("{i:04}.parquet"));
        if !target.is_file() {
            let bytes = get(url)?.bytes().map_err(|e| DataError::Download {
                url: url.clone(),
                message: e.to_string(),
            })?;
            let tmp = split_dir.join(format!(".{i:04}.parquet.part"));
            let mut f = std::fs::File::create(&tmp).map_err(|e| DataError::io(&tmp, e))?;
            f.write_all(&bytes).map_err(|e| DataError::io(&tmp, e))?;
            drop(f);
            std::fs::rename(&tmp, &target).map_err(|e| DataError::io(&target, e))?;
        }
        out.push(target);
    }
    let refs = repo_dir.join("refs").join("convert");
    std::fs::create_dir_all(&refs).map_err(|e| DataError::io(&refs, e))?;
    std::fs::write(refs.join("parquet"), &sha)
        .map_err(|e| DataError::io(refs.join("parquet"), e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-column parquet file (`n: int64`) with `values`.
    #[cfg(feature = "hub-download")]
    fn tiny_parquet(values: &[i64]) -> Vec<u8> {
        use parquet::data_type::Int64Type;
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        use parquet::schema::parser::parse_message_type;
        use std::sync::Arc;
        let schema = Arc::new(parse_message_type("message s { REQUIRED INT64 n; }").unwrap());
        let mut buf = Vec::new();
        {
            let mut w = SerializedFileWriter::new(
                &mut buf,
                schema,
                Arc::new(WriterProperties::builder().build()),
            )
            .unwrap();
            let mut rg = w.next_row_group().unwrap();
            let mut col = rg.next_column().unwrap().unwrap();
            col.typed::<Int64Type>()
                .write_batch(values, None, None)
                .unwrap();
            col.close().unwrap();
            rg.close().unwrap();
            w.close().unwrap();
        }
        buf
    }

    /// The download path against a local stand-in for the hub API: files land in the converter-branch
    /// layout of the cache, and the offline reader then finds them there.
    #[cfg(feature = "hub-download")]
    #[test]
    fn download_into_cache_layout_then_read_offline() {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let files = [tiny_parquet(&[1, 2]), tiny_parquet(&[3])];
        let list = format!(
            r#"["{base}/api/datasets/org/name/parquet/default/test/0.parquet","{base}/api/datasets/org/name/parquet/default/test/1.parquet"]"#
        );
        let server = std::thread::spawn(move || {
            for stream in listener.incoming().take(5) {
                let mut stream = stream.unwrap();
                let mut first = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                reader.read_line(&mut first).unwrap();
                let mut auth = String::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                        break;
                    }
                    if h.to_ascii_lowercase().starts_with("authorization:") {
                        auth = h.trim().to_string();
                    }
                }
                let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body): (&str, Vec<u8>) = match path.as_str() {
                    "/api/datasets/org/name/parquet/default/test" => {
                        ("200 OK", list.clone().into_bytes())
                    }
                    "/api/datasets/org/name/revision/refs%2Fconvert%2Fparquet" => {
                        ("200 OK", br#"{"sha":"0123abcd"}"#.to_vec())
                    }
                    "/api/datasets/org/name/parquet/default/test/0.parquet" => {
                        ("200 OK", files[0].clone())
                    }
                    "/api/datasets/org/name/parquet/default/test/1.parquet" => {
                        ("200 OK", files[1].clone())
                    }
                    _ => ("404 Not Found", b"no such split".to_vec()),
                };
                assert_eq!(auth, "authorization: Bearer tok", "token sent");
                write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .unwrap();
                stream.write_all(&body).unwrap();
            }
        });
        let tmp = tempfile::tempdir().unwrap();
        let hub = tmp.path().join("hub");
        let err = download_split(
            &base,
            &hub,
            "org/name",
            "default",
            "train",
            Some("tok".into()),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("HTTP 404 Not Found: no such split"),
            "{err}"
        );
        let got = download_split(
            &base,
            &hub,
            "org/name",
            "default",
            "test",
            Some("tok".into()),
        )
        .unwrap();
        server.join().unwrap();
        let snap = hub.join("datasets--org--name/snapshots/0123abcd");
        assert_eq!(
            got,
            vec![
                snap.join("default/test/0000.parquet"),
                snap.join("default/test/0001.parquet")
            ]
        );
        assert_eq!(
            std::fs::read_to_string(hub.join("datasets--org--name/refs/convert/parquet")).unwrap(),
            "0123abcd"
        );
        let opts = DataOptions {
            data_dir: None,
            hf_home: Some(tmp.path().to_path_buf()),
            offline: true,
        };
        let docs =
            super::super::load_split(&super::super::DatasetSpec::new("org/name"), "test", &opts)
                .unwrap()
                .docs;
        assert_eq!(
            serde_json::to_string(&docs).unwrap(),
            r#"[{"n":1},{"n":2},{"n":3}]"#
        );
    }

    fn files(v: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn default_patterns() {
        let f = files(&[
            "README.md",
            "data/test-00000-of-00001.parquet",
            "data/train-00000-of-00002.parquet",
            "data/train-00001-of-00002.parquet",
        ]);
        let s = auto_splits(&f, "");
        assert_eq!(s[0].0, "train");
        assert_eq!(s[0].1.len(), 2);
        assert_eq!(s[1].0, "test");
        let f = files(&[
            "abstract_algebra/dev-00000-of-00001.parquet",
            "abstract_algebra/test-00000-of-00001.parquet",
        ]);
        let s = auto_splits(&f, "abstract_algebra/");
        assert_eq!(
            s.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["validation", "test"]
        );
        let f = files(&["x/my_eval.jsonl", "x/other.jsonl"]);
        assert_eq!(auto_splits(&f, "")[0].0, "test");
        let f = files(&["stuff.jsonl"]);
        assert_eq!(auto_splits(&f, "")[0].0, "train");
    }

    #[test]
    fn converted_layouts() {
        let f = files(&[
            "default/test/0000.parquet",
            "default/test/0001.parquet",
            "default/partial-train/0000.parquet",
            "abc/ds-validation.parquet",
            "abc/ds-test-00000-of-00002.parquet",
        ]);
        let s = resolve_converted(&f, None);
        assert_eq!(
            s.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["train", "test"]
        );
        assert_eq!(s[1].1.len(), 2);
        let s = resolve_converted(&f, Some("abc"));
        assert_eq!(
            s.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["validation", "test"]
        );
    }

    #[test]
    fn data_files_shapes() {
        let v: Value = serde_json::json!({"test": "a/*.csv", "dev": ["x.csv", "y.csv"]});
        let s = data_files_by_split(&v).unwrap();
        assert_eq!(
            s,
            vec![
                ("test".to_string(), vec!["a/*.csv".to_string()]),
                (
                    "dev".to_string(),
                    vec!["x.csv".to_string(), "y.csv".to_string()]
                )
            ]
        );
        let v: Value = serde_json::json!([{"split": "test", "path": "t/*"}, {"split": "dev", "path": ["d1", "d2"]}]);
        assert_eq!(data_files_by_split(&v).unwrap()[1].1.len(), 2);
        assert_eq!(
            data_files_by_split(&serde_json::json!("x.json")).unwrap()[0].0,
            "train"
        );
        assert!(data_files_by_split(&serde_json::json!(3)).is_err());
    }

    #[test]
    fn glob_semantics() {
        let f = files(&["a/test-0.parquet", "a/b/test-1.parquet", "README.md"]);
        assert_eq!(
            match_pattern(&f, "a/test-*").unwrap(),
            vec!["a/test-0.parquet"]
        );
        assert_eq!(match_pattern(&f, "**/test-*").unwrap().len(), 2);
        assert_eq!(match_pattern(&f, "a").unwrap().len(), 2);
    }
}
