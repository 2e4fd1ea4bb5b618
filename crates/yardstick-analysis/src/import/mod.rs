//! `yardstick import`: recognise a results file by its content, read it into observations with provenance
//! (file path, sha256 of its bytes, format, line), and store it. Importing the same bytes twice adds nothing.
//!
//! Formats: lm-eval `results_*.json` (+ the `samples_*.jsonl` beside it: per-item data), Open LLM
//! Leaderboard v1 and v2 CSV exports, Epoch AI Benchmarking Hub CSVs (per benchmark, `_external` ones and
//! the Epoch Capabilities Index), LMArena leaderboard CSVs (snapshot date from the file name).

mod arena;
mod csvtable;
mod epoch;
mod lmeval;
mod oll;

use crate::attribution::{resolve_developer, Attribution};
use crate::error::{AnalysisError, Result};
use crate::registry::Registry;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use yardstick_store::observations::{self, FileRecord, ImportBatch, ModelRow};
use yardstick_store::Store;

pub use csvtable::CsvTable;

/// Source ids of imported data.
pub const SOURCE_EPOCH: &str = "epoch-hub";
pub const SOURCE_OLL_V1: &str = "oll-v1";
pub const SOURCE_OLL_V2: &str = "oll-v2";
pub const SOURCE_ARENA: &str = "lmarena";
pub const SOURCE_LM_EVAL: &str = "lm-eval";

/// A recognised file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    LmEvalResults,
    LmEvalSamples,
    OpenLlmLeaderboardV1,
    OpenLlmLeaderboardV2,
    EpochBenchmarkHub,
    LmArena,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::LmEvalResults => "lm-eval results",
            Format::LmEvalSamples => "lm-eval samples",
            Format::OpenLlmLeaderboardV1 => "Open LLM Leaderboard v1 CSV",
            Format::OpenLlmLeaderboardV2 => "Open LLM Leaderboard v2 CSV",
            Format::EpochBenchmarkHub => "Epoch Benchmarking Hub CSV",
            Format::LmArena => "LMArena leaderboard CSV",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Format::LmEvalResults | Format::LmEvalSamples => SOURCE_LM_EVAL,
            Format::OpenLlmLeaderboardV1 => SOURCE_OLL_V1,
            Format::OpenLlmLeaderboardV2 => SOURCE_OLL_V2,
            Format::EpochBenchmarkHub => SOURCE_EPOCH,
            Format::LmArena => SOURCE_ARENA,
        }
    }
}

/// A row whose model could not be attributed to an organization/country.
#[derive(Debug, Clone, Serialize)]
pub struct UnattributedRow {
    pub line: u64,
    pub model: String,
    pub organization: Option<String>,
    pub reason: String,
}

/// Outcome of importing one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub sha256: String,
    pub format: Format,
    pub source: String,
    /// False when the same bytes had been imported before (nothing was added).
    pub imported: bool,
    /// When `imported` is false: the earlier import.
    pub previously_imported_at: Option<String>,
    pub previously_imported_as: Option<String>,
    pub snapshot_date: Option<String>,
    pub rows_read: u64,
    pub scores_added: u64,
    pub scores_duplicate: u64,
    pub items_added: u64,
    pub items_duplicate: u64,
    pub models_added: u64,
    /// Rows skipped because they carry no score (blank cell) or no model name.
    pub rows_without_score: u64,
    pub unattributed: Vec<UnattributedRow>,
    /// Count of unattributed rows (also when the file was imported before).
    pub unattributed_count: u64,
}

/// A file that was found in a directory but not imported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// Outcome of `yardstick import`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    pub skipped: Vec<SkippedFile>,
}

impl ImportReport {
    pub fn unattributed_total(&self) -> u64 {
        self.files.iter().map(|f| f.unattributed_count).sum()
    }
}

/// What a reader produced from one file, before it is stored.
pub(crate) struct Parsed {
    pub batch: ImportBatch,
    pub rows_read: u64,
    pub rows_without_score: u64,
    /// (line, model) of every row read, for the attribution check.
    pub row_models: Vec<(u64, String)>,
    pub snapshot_date: Option<String>,
}

/// sha256 of a file's bytes, hex.
pub fn file_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Import files and directories (recursively). Explicitly named files must be in a recognised format;
/// unrecognised files found inside a directory are skipped and listed.
pub fn import_paths(store: &Store, registry: &Registry, paths: &[PathBuf]) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| AnalysisError::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(p, &mut files)?;
            files.sort();
            import_set(store, registry, &files, false, &mut report)?;
        } else {
            import_set(store, registry, std::slice::from_ref(p), true, &mut report)?;
        }
    }
    Ok(report)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| AnalysisError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| AnalysisError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|source| AnalysisError::Io {
            path: path.clone(),
            source,
        })?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if ft.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn import_set(
    store: &Store,
    registry: &Registry,
    files: &[PathBuf],
    explicit: bool,
    report: &mut ImportReport,
) -> Result<()> {
    // lm-eval samples files are read together with their results file.
    let mut claimed_samples: Vec<PathBuf> = Vec::new();
    let mut samples_seen: Vec<PathBuf> = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|source| AnalysisError::Io {
            path: path.clone(),
            source,
        })?;
        let format = match detect(path, &bytes) {
            Ok(f) => f,
            Err(e) if !explicit => {
                report.skipped.push(SkippedFile {
                    path: path.display().to_string(),
                    reason: short_reason(&e),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        match format {
            Format::LmEvalSamples => {
                if explicit {
                    return Err(AnalysisError::File {
                        path: path.clone(),
                        message: "an lm-eval samples file is imported together with its results_*.json: import the results file or the directory holding both".into(),
                    });
                }
                samples_seen.push(path.clone());
            }
            Format::LmEvalResults => {
                let (results_report, samples) =
                    lmeval::import_results(store, registry, path, &bytes)?;
                claimed_samples.extend(samples.iter().map(|s| s.0.clone()));
                report.files.push(results_report);
                for (_, r) in samples {
                    report.files.push(r);
                }
            }
            _ => {
                let r = import_one(store, registry, path, &bytes, format)?;
                report.files.push(r);
            }
        }
    }
    for s in samples_seen {
        if !claimed_samples.contains(&s) {
            report.skipped.push(SkippedFile {
                path: s.display().to_string(),
                reason: "lm-eval samples file without a results_*.json beside it that lists its task (the model is unknown)".into(),
            });
        }
    }
    Ok(())
}

fn short_reason(e: &AnalysisError) -> String {
    match e {
        AnalysisError::UnknownFormat { detail, .. } => {
            format!("not a recognised results file ({detail})")
        }
        other => other.to_string(),
    }
}

/// Recognise a file's format from its content (the header of a CSV, the keys of a JSON document).
pub fn detect(path: &Path, bytes: &[u8]) -> Result<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let text_start = &bytes[..bytes.len().min(64 * 1024)];
    let Ok(head) = std::str::from_utf8(text_start)
        .or_else(|e| std::str::from_utf8(&text_start[..e.valid_up_to()]))
    else {
        return Err(AnalysisError::UnknownFormat {
            path: path.to_path_buf(),
            detail: "not UTF-8 text".into(),
        });
    };
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // JSON document or JSON Lines.
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_slice::<serde_json::Value>(bytes)
        {
            if map.contains_key("results")
                && (map.contains_key("versions")
                    || map.contains_key("configs")
                    || map.contains_key("config"))
            {
                return Ok(Format::LmEvalResults);
            }
            return Err(AnalysisError::UnknownFormat {
                path: path.to_path_buf(),
                detail: "a JSON object without lm-eval's 'results' and 'versions'/'config' keys"
                    .into(),
            });
        }
        let first_line = trimmed.lines().next().unwrap_or("");
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_str::<serde_json::Value>(first_line)
        {
            if map.contains_key("doc_id") && map.contains_key("doc_hash") {
                return Ok(Format::LmEvalSamples);
            }
        }
        return Err(AnalysisError::UnknownFormat {
            path: path.to_path_buf(),
            detail: "JSON that is neither an lm-eval results file nor lm-eval samples".into(),
        });
    }
    let header_line = trimmed.lines().next().unwrap_or("");
    let header: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header_line.as_bytes())
        .records()
        .next()
        .and_then(|r| r.ok())
        .map(|r| r.iter().map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let has = |c: &str| header.iter().any(|h| h == c);
    if header.len() >= 2 {
        if header.iter().any(|h| h.starts_with("evaluations_")) {
            return Ok(Format::OpenLlmLeaderboardV2);
        }
        if has("fullname") && (has("hellaswag") || has("arc") || has("mmlu")) {
            return Ok(Format::OpenLlmLeaderboardV1);
        }
        if has("Model version") && (has("Release date") || has("Organization")) {
            return Ok(Format::EpochBenchmarkHub);
        }
        if has("95_pct_ci") || has("arena_score") || has("arena_elo") {
            return Ok(Format::LmArena);
        }
    }
    let shown: String = header_line.chars().take(120).collect();
    Err(AnalysisError::UnknownFormat {
        path: path.to_path_buf(),
        detail: if name.is_empty() {
            format!("first line: {shown}")
        } else {
            format!("{name}: first line '{shown}'")
        },
    })
}

fn import_one(
    store: &Store,
    registry: &Registry,
    path: &Path,
    bytes: &[u8],
    format: Format,
) -> Result<FileReport> {
    let sha = file_sha256(bytes);
    if let Some(prev) = observations::find_file(store, &sha)? {
        return Ok(already(path, sha, format, prev));
    }
    let parsed = match format {
        Format::OpenLlmLeaderboardV1 => oll::read_v1(path, bytes, &sha)?,
        Format::OpenLlmLeaderboardV2 => oll::read_v2(path, bytes, &sha)?,
        Format::EpochBenchmarkHub => epoch::read(path, bytes, &sha)?,
        Format::LmArena => arena::read(path, bytes, &sha)?,
        Format::LmEvalResults | Format::LmEvalSamples => {
            return Err(AnalysisError::File {
                path: path.to_path_buf(),
                message: "internal: lm-eval files are imported by lmeval".into(),
            })
        }
    };
    store_parsed(store, registry, path, sha, format, parsed)
}

pub(crate) fn already(path: &Path, sha: String, format: Format, prev: FileRecord) -> FileReport {
    FileReport {
        path: path.display().to_string(),
        sha256: sha,
        format,
        source: prev.source.clone(),
        imported: false,
        previously_imported_at: Some(prev.imported_at.clone()),
        previously_imported_as: Some(prev.path.clone()),
        snapshot_date: prev.snapshot_date.clone(),
        rows_read: prev.rows_read,
        scores_added: 0,
        scores_duplicate: 0,
        items_added: 0,
        items_duplicate: 0,
        models_added: 0,
        rows_without_score: 0,
        unattributed: Vec::new(),
        unattributed_count: prev.unattributed,
    }
}

/// Attribution check of the rows of a file, then one transaction.
pub(crate) fn store_parsed(
    store: &Store,
    registry: &Registry,
    path: &Path,
    sha: String,
    format: Format,
    mut parsed: Parsed,
) -> Result<FileReport> {
    let unattributed = check_attribution(registry, &parsed.batch.models, &parsed.row_models);
    let file = FileRecord {
        sha256: sha.clone(),
        path: path.display().to_string(),
        format: format.name().to_string(),
        source: format.source().to_string(),
        snapshot_date: parsed.snapshot_date.clone(),
        rows_read: parsed.rows_read,
        scores: parsed.batch.scores.len() as u64,
        items: parsed.batch.items.len() as u64,
        unattributed: unattributed.len() as u64,
        imported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    parsed.batch.file = Some(file);
    let summary = observations::insert_batch(store, &parsed.batch)?;
    Ok(FileReport {
        path: path.display().to_string(),
        sha256: sha,
        format,
        source: format.source().to_string(),
        imported: true,
        previously_imported_at: None,
        previously_imported_as: None,
        snapshot_date: parsed.snapshot_date,
        rows_read: parsed.rows_read,
        scores_added: summary.new_scores,
        scores_duplicate: summary.duplicate_scores,
        items_added: summary.new_items,
        items_duplicate: summary.duplicate_items,
        models_added: summary.new_models,
        rows_without_score: parsed.rows_without_score,
        unattributed_count: unattributed.len() as u64,
        unattributed,
    })
}

/// Rows whose model the registry and the row itself cannot place in an organization and country.
fn check_attribution(
    registry: &Registry,
    models: &[ModelRow],
    rows: &[(u64, String)],
) -> Vec<UnattributedRow> {
    // Each row read produced the model description at its own line.
    let by_line: std::collections::HashMap<(u64, &str), &ModelRow> = models
        .iter()
        .map(|m| ((m.row_number, m.model.as_str()), m))
        .collect();
    let mut out = Vec::new();
    for (line, model) in rows {
        let Some(m) = by_line.get(&(*line, model.as_str())) else {
            continue;
        };
        let dev = resolve_developer(registry, m);
        if let Attribution::Unattributed { reason } = &dev.attribution {
            out.push(UnattributedRow {
                line: *line,
                model: model.clone(),
                organization: m.organization.clone(),
                reason: reason.clone(),
            });
        }
    }
    out
}

/// The snapshot date written in a file name (the last YYYY-MM-DD in it).
pub(crate) fn date_in_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().to_string();
    let re = regex::Regex::new(r"(\d{4}-\d{2}-\d{2})").ok()?;
    let last = re.find_iter(&name).last()?.as_str().to_string();
    crate::country::parse_date(&last).map(|d| d.to_string())
}
