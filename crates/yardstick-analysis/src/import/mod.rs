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
use chrono::Datelike;
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
    /// What was read differently from the file's text, e.g. "line 3, column 40: NaN read as a missing
    /// value".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
    /// See [`FileReport::notes`].
    pub notes: Vec<String>,
}

/// sha256 of a file's bytes, hex.
pub fn file_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Import files and directories (recursively). Explicitly named files must be in a recognised format
/// and read without error. Inside a directory, a file that is not in a recognised format or cannot be
/// read (a malformed cell, a missing column, a value out of range) is skipped and listed with its reason;
/// the others are imported. An error that stops the import (the store failing, an explicitly named file
/// being bad) names the files already committed ([`AnalysisError::ImportStopped`]).
pub fn import_paths(store: &Store, registry: &Registry, paths: &[PathBuf]) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    for p in paths {
        let outcome = std::fs::metadata(p)
            .map_err(|source| AnalysisError::Io {
                path: p.clone(),
                source,
            })
            .and_then(|meta| {
                if meta.is_dir() {
                    let mut files = Vec::new();
                    let mut walked = Vec::new();
                    walk(p, &mut files, &mut report.skipped, &mut walked)?;
                    files.sort();
                    import_set(store, registry, &files, false, &mut report)
                } else {
                    import_set(store, registry, std::slice::from_ref(p), true, &mut report)
                }
            });
        if let Err(e) = outcome {
            let committed: Vec<String> = report
                .files
                .iter()
                .filter(|f| f.imported)
                .map(|f| f.path.clone())
                .collect();
            if committed.is_empty() {
                return Err(e);
            }
            return Err(AnalysisError::ImportStopped {
                committed,
                cause: Box::new(e),
            });
        }
    }
    Ok(report)
}

/// Errors that are about one file's content (skipped inside a directory), not about the store.
fn is_file_problem(e: &AnalysisError) -> bool {
    matches!(
        e,
        AnalysisError::File { .. }
            | AnalysisError::Field { .. }
            | AnalysisError::UnknownFormat { .. }
            | AnalysisError::Io { .. }
    )
}

/// The files under `dir`, recursively. A symbolic link is followed to the file or directory it points to;
/// one that points nowhere (dangling), into a loop of links, or back to a directory already walked is
/// listed in `skipped` with the reason. `walked` holds the canonical paths of the directories walked.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<SkippedFile>,
    walked: &mut Vec<PathBuf>,
) -> Result<()> {
    if let Ok(canonical) = std::fs::canonicalize(dir) {
        if walked.contains(&canonical) {
            skipped.push(SkippedFile {
                path: dir.display().to_string(),
                reason: format!(
                    "a symbolic link to {}, a directory already read (a loop of links); not read again",
                    canonical.display()
                ),
            });
            return Ok(());
        }
        walked.push(canonical);
    }
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
            walk(&path, out, skipped, walked)?;
        } else if ft.is_file() {
            out.push(path);
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&path)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => walk(&path, out, skipped, walked)?,
                Ok(meta) if meta.is_file() => out.push(path),
                Ok(_) => skipped.push(SkippedFile {
                    path: path.display().to_string(),
                    reason: format!("a symbolic link to {target}, which is not a regular file"),
                }),
                Err(e) => {
                    let why = if e.kind() == std::io::ErrorKind::NotFound {
                        "which does not exist (a dangling link)".to_string()
                    } else if e.raw_os_error() == Some(40) {
                        // ELOOP
                        "which leads into a loop of links".to_string()
                    } else {
                        format!("which cannot be followed: {e}")
                    };
                    skipped.push(SkippedFile {
                        path: path.display().to_string(),
                        reason: format!("a symbolic link to {target}, {why}"),
                    });
                }
            }
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
    // Inside a directory a file's own problem skips it (listed with the reason); else it is an error.
    let skip_or_fail = |report: &mut ImportReport, path: &Path, e: AnalysisError| {
        if explicit || !is_file_problem(&e) {
            return Err(e);
        }
        report.skipped.push(SkippedFile {
            path: path.display().to_string(),
            reason: short_reason(&e),
        });
        Ok(())
    };
    for path in files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(source) => {
                let e = AnalysisError::Io {
                    path: path.clone(),
                    source,
                };
                skip_or_fail(report, path, e)?;
                continue;
            }
        };
        let format = match detect(path, &bytes) {
            Ok(f) => f,
            Err(e) => {
                skip_or_fail(report, path, e)?;
                continue;
            }
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
                let imported = match lmeval::import_results(store, registry, path, &bytes) {
                    Ok(x) => x,
                    Err(e) => {
                        skip_or_fail(report, path, e)?;
                        continue;
                    }
                };
                claimed_samples.extend(imported.samples.iter().map(|s| s.0.clone()));
                claimed_samples.extend(imported.samples_failed.iter().map(|s| s.0.clone()));
                report.files.push(imported.results);
                for (_, r) in imported.samples {
                    report.files.push(r);
                }
                for (spath, e) in imported.samples_failed {
                    skip_or_fail(report, &spath, e)?;
                }
            }
            _ => match import_one(store, registry, path, &bytes, format) {
                Ok(r) => report.files.push(r),
                Err(e) => skip_or_fail(report, path, e)?,
            },
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

/// Why a file was skipped, safe to print (it may quote the file's text).
fn short_reason(e: &AnalysisError) -> String {
    let reason = match e {
        AnalysisError::UnknownFormat { detail, .. } => {
            format!("not a recognised results file ({detail})")
        }
        other => other.to_string(),
    };
    yardstick_core::safe_to_print(&reason)
}

/// Recognise a file's format from its content: a JSON document by its keys, a CSV by its header. A CSV
/// is taken for a format only when it has every column that format's reader requires (a file that has a
/// format's identifying columns but lacks others is not that format: the detail names what it lacks).
pub fn detect(path: &Path, bytes: &[u8]) -> Result<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    // lm-eval samples as Parquet (`yardstick store export`, the hub's conversion of a details dataset)
    if name.starts_with("samples_") && bytes.starts_with(b"PAR1") {
        return Ok(Format::LmEvalSamples);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            let byte = bytes.get(at).copied().unwrap_or(0);
            return Err(AnalysisError::UnknownFormat {
                path: path.to_path_buf(),
                detail: format!(
                    "not UTF-8 at byte {at} (line {line}: byte 0x{byte:02x}); re-save the file as UTF-8"
                ),
            });
        }
    };
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // JSON document or JSON Lines; Python's json writes bare NaN/Infinity, which are read as null.
        if let Ok((serde_json::Value::Object(map), _)) = lmeval::parse_python_json(trimmed) {
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
        if let Ok((serde_json::Value::Object(map), _)) = lmeval::parse_python_json(first_line) {
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
        .has_headers(true)
        .from_reader(trimmed.as_bytes())
        .headers()
        .map(|r| r.iter().map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let has = |c: &str| header.iter().any(|h| h == c);
    let missing = |required: &[String]| -> Vec<String> {
        required.iter().filter(|c| !has(c)).cloned().collect()
    };
    let strings = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    // (format, has its identifying columns, the columns its reader requires that are missing)
    let mut arena_missing = missing(&strings(&["model", "95_pct_ci", "organization", "license"]));
    if !has("arena_score") && !has("arena_elo") {
        arena_missing.insert(1, "arena_score".into());
    }
    let candidates: [(Format, bool, Vec<String>); 4] = [
        (
            Format::OpenLlmLeaderboardV2,
            header.iter().any(|h| h.starts_with("evaluations_")),
            missing(&oll::required_columns_v2()),
        ),
        (
            Format::OpenLlmLeaderboardV1,
            has("fullname"),
            missing(&oll::required_columns_v1()),
        ),
        (
            Format::EpochBenchmarkHub,
            has("Model version"),
            missing(&strings(epoch::REQUIRED_COLUMNS)),
        ),
        (
            Format::LmArena,
            has("95_pct_ci") || has("arena_score") || has("arena_elo"),
            arena_missing,
        ),
    ];
    if let Some((f, _, _)) = candidates
        .iter()
        .find(|(_, identified, missing)| *identified && missing.is_empty())
    {
        return Ok(*f);
    }
    let shown: String = header_line.chars().take(120).collect();
    let near_miss = candidates
        .iter()
        .find(|(_, identified, _)| *identified)
        .map(|(f, _, missing)| {
            format!(
                "it looks like an {} but is missing column '{}', which that format requires (its columns are: {})",
                f.name(),
                missing.join("', '"),
                header.join(", ")
            )
        });
    Err(AnalysisError::UnknownFormat {
        path: path.to_path_buf(),
        detail: match near_miss {
            Some(m) => m,
            None if name.is_empty() => format!("first line: {shown}"),
            None => format!("{name}: first line '{shown}'"),
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
        notes: Vec::new(),
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
    check_ranges(path, format, &parsed)?;
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
        // Notes quote the file's text: safe to print (no terminal escapes, no secrets).
        notes: parsed
            .notes
            .iter()
            .map(|n| yardstick_core::safe_to_print(n))
            .collect(),
    })
}

/// Largest magnitude accepted for a score or standard error. Every score Yardstick imports is a
/// proportion, a percentage, an Elo-like rating, an index or a time in minutes; a value beyond this is a
/// unit or parsing error, and one such row would swamp every mean and gap it enters.
pub const MAX_ABS_VALUE: f64 = 1e6;

/// Earliest model release year accepted (a release date in year 0001 is a placeholder, not a date).
pub const MIN_RELEASE_YEAR: i32 = 1950;

/// Refuse a file with a value no benchmark can have: a non-finite or huge score, a negative score (except
/// lm-eval's `*_diff` metrics, which are differences), a negative, non-finite or huge standard error or
/// interval bound, a release date before 1950 or after next year. The whole file is refused (not only
/// the row) and the error names file:line:column: a value like that means the file was read with the
/// wrong unit or column, so its other rows are suspect too. Inside a directory the file is skipped with
/// this reason.
fn check_ranges(path: &Path, format: Format, parsed: &Parsed) -> Result<()> {
    let field = |line: u64, column: &str, message: String| AnalysisError::Field {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        message,
    };
    let fix = "fix or remove the row, then import again";
    for s in &parsed.batch.scores {
        let may_be_negative = s.column_name.contains("_diff");
        if !s.score.is_finite() || s.score.abs() > MAX_ABS_VALUE {
            return Err(field(
                s.row_number,
                &s.column_name,
                format!(
                    "score {:e} of {} is out of range (|score| ≤ {MAX_ABS_VALUE:e}); {fix}",
                    s.score, s.model
                ),
            ));
        }
        if s.score < 0.0 && !may_be_negative {
            return Err(field(
                s.row_number,
                &s.column_name,
                format!(
                    "score {} of {} is negative, which no accuracy or rating is; {fix}",
                    s.score, s.model
                ),
            ));
        }
        for (what, v) in [
            ("standard error", s.stderr),
            ("interval lower bound", s.ci_lower),
            ("interval upper bound", s.ci_upper),
        ] {
            let Some(v) = v else { continue };
            let negative_stderr = what == "standard error" && v < 0.0;
            if !v.is_finite() || v.abs() > MAX_ABS_VALUE || negative_stderr {
                let column = match (format, what) {
                    (Format::EpochBenchmarkHub, "standard error") => "stderr".to_string(),
                    _ => format!("{} ({what})", s.column_name),
                };
                return Err(field(
                    s.row_number,
                    &column,
                    format!(
                        "{what} {v:e} of {} is out of range (finite, non-negative for a standard \
                         error, magnitude ≤ {MAX_ABS_VALUE:e}); {fix}",
                        s.model
                    ),
                ));
            }
        }
    }
    let max_year = chrono::Utc::now().date_naive().year() + 1;
    for m in &parsed.batch.models {
        let Some(d) = &m.release_date else { continue };
        let year = d.get(..4).and_then(|y| y.parse::<i32>().ok());
        if year.is_none_or(|y| !(MIN_RELEASE_YEAR..=max_year).contains(&y)) {
            let column = match format {
                Format::EpochBenchmarkHub => "Release date",
                Format::OpenLlmLeaderboardV2 => "metadata_upload_date",
                Format::OpenLlmLeaderboardV1 => "date",
                _ => "release date",
            };
            return Err(field(
                m.row_number,
                column,
                format!(
                    "release date {d} of {} is outside {MIN_RELEASE_YEAR}..={max_year}; {fix}",
                    m.model
                ),
            ));
        }
    }
    Ok(())
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
