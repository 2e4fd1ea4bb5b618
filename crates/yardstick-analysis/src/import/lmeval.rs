//! lm-evaluation-harness output: `results_<datetime>.json` (aggregated metrics per task and group) and the
//! `samples_<task>_<datetime>.jsonl` files beside it (one line per doc and filter, with `doc_hash` and each
//! metric's per-doc value as a top-level key). The samples give per-item data for paired gaps.

use super::{already, file_sha256, store_parsed, FileReport, Format, Parsed, SOURCE_LM_EVAL};
use crate::catalog::{benchmark, benchmark_of_task};
use crate::error::{AnalysisError, Result};
use crate::registry::Registry;
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yardstick_store::observations::{self, ImportBatch, ItemRow, ModelRow, ScoreRow};
use yardstick_store::Store;

/// Import a results file and its samples files. Returns the results report and one report per samples file.
/// Python's `json` module writes `NaN`, `Infinity` and `-Infinity` bare (lm-eval results can hold them, e.g.
/// a stderr of one sample). Parse such JSON: each of them becomes `null` (a missing value). Returns the
/// value and one note per replacement ("line L, column C: NaN read as a missing value").
pub(crate) fn parse_python_json(
    text: &str,
) -> std::result::Result<(Value, Vec<String>), serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(v) => return Ok((v, Vec::new())),
        Err(e) if !e.is_syntax() => return Err(e),
        Err(_) => {}
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut notes = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    let (mut line, mut line_start) = (1usize, 0usize);
    let mut copied = 0; // bytes of `text` copied to `out`
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if c == b'"' {
            in_string = true;
        } else if c == b'\n' {
            line += 1;
            line_start = i + 1;
        } else if matches!(c, b'N' | b'I' | b'-') {
            let token = ["NaN", "Infinity", "-Infinity"]
                .into_iter()
                .find(|t| b[i..].starts_with(t.as_bytes()));
            if let Some(t) = token {
                let end = i + t.len();
                let word_ends = b.get(end).is_none_or(|n| !n.is_ascii_alphanumeric());
                if word_ends {
                    out.push_str(&text[copied..i]);
                    out.push_str("null");
                    copied = end;
                    notes.push(format!(
                        "line {line}, column {}: {t} read as a missing value",
                        i - line_start + 1
                    ));
                    i = end;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    let v = serde_json::from_str(&out)?;
    Ok((v, notes))
}

/// What importing one results file did: its report, its samples files' reports, and samples files that
/// could not be read (with why).
pub(crate) struct ImportedResults {
    pub results: FileReport,
    pub samples: Vec<(PathBuf, FileReport)>,
    pub samples_failed: Vec<(PathBuf, AnalysisError)>,
}

pub(crate) fn import_results(
    store: &Store,
    registry: &Registry,
    path: &Path,
    bytes: &[u8],
) -> Result<ImportedResults> {
    let sha = file_sha256(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| AnalysisError::File {
        path: path.to_path_buf(),
        message: format!("not UTF-8 at byte {}", e.valid_up_to()),
    })?;
    let (doc, notes) = parse_python_json(text).map_err(|e| AnalysisError::File {
        path: path.to_path_buf(),
        message: format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    })?;
    let Value::Object(doc) = doc else {
        return Err(AnalysisError::File {
            path: path.to_path_buf(),
            message: "expected a JSON object".into(),
        });
    };
    let model = model_name(path, &doc)?;
    let results = match doc.get("results") {
        Some(Value::Object(r)) => r,
        _ => {
            return Err(AnalysisError::Field {
                path: path.to_path_buf(),
                line: 1,
                column: "results".into(),
                message: "expected an object of tasks".into(),
            })
        }
    };
    let groups: BTreeMap<String, Vec<String>> = match doc.get("group_subtasks") {
        Some(Value::Object(g)) => g
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    let results_report = if let Some(prev) = observations::find_file(store, &sha)? {
        already(path, sha.clone(), Format::LmEvalResults, prev)
    } else {
        let parsed = results_parsed(&doc, results, &groups, &model, &sha, notes);
        store_parsed(
            store,
            registry,
            path,
            sha.clone(),
            Format::LmEvalResults,
            parsed,
        )?
    };

    let (samples_reports, samples_failed) = import_samples(store, registry, path, results, &model)?;
    Ok(ImportedResults {
        results: results_report,
        samples: samples_reports,
        samples_failed,
    })
}

/// The scores of a results file: one per task or group (its primary metric and stderr), with the file's
/// model and date.
fn results_parsed(
    doc: &Map<String, Value>,
    results: &Map<String, Value>,
    groups: &BTreeMap<String, Vec<String>>,
    model: &str,
    sha: &str,
    notes: Vec<String>,
) -> Parsed {
    let n_samples =
        |task: &str| -> Option<u64> { doc.get("n-samples")?.get(task)?.get("effective")?.as_u64() };
    let model = model.to_string();
    let sha = sha.to_string();
    let mut batch = ImportBatch::default();
    let mut tasks_without_score = 0;
    let date = doc
        .get("date")
        .and_then(Value::as_f64)
        .and_then(|ts| chrono::DateTime::from_timestamp(ts as i64, 0))
        .map(|d| d.date_naive().to_string());
    let mut extra = Map::new();
    for key in ["lm_eval_version", "git_hash", "model_source"] {
        if let Some(v) = doc.get(key).filter(|v| !v.is_null()) {
            extra.insert(key.into(), v.clone());
        }
    }
    batch.models.push(ModelRow {
        source: SOURCE_LM_EVAL.into(),
        model: model.clone(),
        extra_json: Value::Object(extra).to_string(),
        file_sha256: sha.clone(),
        row_number: 1,
        ..Default::default()
    });
    for (task, entry) in results {
        let Value::Object(entry) = entry else {
            continue;
        };
        let is_group = groups.get(task).is_some_and(|s| !s.is_empty());
        let canonical = benchmark_of_task(task);
        let stripped = task.strip_prefix("leaderboard_").unwrap_or(task);
        let bench_id = if is_group || canonical == stripped {
            canonical.clone()
        } else {
            task.clone()
        };
        let Some((key, value)) = pick_metric(&canonical, entry) else {
            tasks_without_score += 1;
            continue;
        };
        let stderr_key = key.replacen(',', "_stderr,", 1);
        let stderr = entry.get(&stderr_key).and_then(Value::as_f64);
        let n = if is_group {
            group_samples(task, groups, &n_samples)
        } else {
            n_samples(task)
        };
        batch.scores.push(ScoreRow {
            source: SOURCE_LM_EVAL.into(),
            model: model.clone(),
            benchmark: bench_id,
            variant: task.clone(),
            score: value,
            stderr,
            n_items: n,
            evaluated_at: date.clone(),
            file_sha256: sha.clone(),
            row_number: 1,
            column_name: format!("results.{task}.{key}"),
            ..Default::default()
        });
    }
    Parsed {
        rows_read: results.len() as u64,
        rows_without_score: tasks_without_score,
        row_models: vec![(1, model.clone())],
        snapshot_date: None,
        batch,
        notes,
    }
}
type SamplesReports = (Vec<(PathBuf, FileReport)>, Vec<(PathBuf, AnalysisError)>);

/// The samples files beside a results file, for the tasks it lists: each imported (or found already
/// imported), or listed as failed with its reason; only a store error stops the import.
fn import_samples(
    store: &Store,
    registry: &Registry,
    path: &Path,
    results: &Map<String, Value>,
    model: &str,
) -> Result<SamplesReports> {
    let mut samples_reports = Vec::new();
    let mut samples_failed = Vec::new();
    for (task, spath) in samples_files(path, results)? {
        let sbytes = match std::fs::read(&spath) {
            Ok(b) => b,
            Err(source) => {
                let e = AnalysisError::Io {
                    path: spath.clone(),
                    source,
                };
                samples_failed.push((spath, e));
                continue;
            }
        };
        let ssha = file_sha256(&sbytes);
        if let Some(prev) = observations::find_file(store, &ssha)? {
            samples_reports.push((
                spath.clone(),
                already(&spath, ssha, Format::LmEvalSamples, prev),
            ));
            continue;
        }
        // A Parquet samples file (Yardstick's export, the hub's conversion) is read as the JSON lines it holds.
        let lines = if spath.extension().is_some_and(|e| e == "parquet") {
            match crate::samples_parquet::read_samples(&spath) {
                Ok(rows) => rows
                    .into_iter()
                    .map(|r| Value::Object(r).to_string() + "\n")
                    .collect::<String>()
                    .into_bytes(),
                Err(e) => {
                    samples_failed.push((spath, e));
                    continue;
                }
            }
        } else {
            sbytes
        };
        let items = match read_samples(&spath, &lines, &ssha, model, &task) {
            Ok(x) => x,
            Err(e) => {
                samples_failed.push((spath, e));
                continue;
            }
        };
        let rows = items.1;
        let batch = ImportBatch {
            items: items.0,
            ..Default::default()
        };
        let parsed = Parsed {
            batch,
            rows_read: rows,
            rows_without_score: 0,
            row_models: Vec::new(),
            snapshot_date: None,
            notes: Vec::new(),
        };
        match store_parsed(store, registry, &spath, ssha, Format::LmEvalSamples, parsed) {
            Ok(r) => samples_reports.push((spath, r)),
            Err(e @ AnalysisError::Store(_)) => return Err(e),
            Err(e) => samples_failed.push((spath, e)),
        }
    }
    Ok((samples_reports, samples_failed))
}

/// The evaluated model: `model_name`, else `pretrained=`/`model=` in `config.model_args`, else the directory
/// name (lm-eval writes `<output>/<sanitized model name>/results_*.json`).
fn model_name(path: &Path, doc: &Map<String, Value>) -> Result<String> {
    if let Some(n) = doc
        .get("model_name")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        return Ok(n.trim().to_string());
    }
    if let Some(args) = doc.get("config").and_then(|c| c.get("model_args")) {
        let found = match args {
            Value::String(s) => s.split(',').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                matches!(k.trim(), "pretrained" | "model" | "path").then(|| v.trim().to_string())
            }),
            Value::Object(m) => ["pretrained", "model", "path"]
                .iter()
                .find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string)),
            _ => None,
        };
        if let Some(f) = found.filter(|s| !s.is_empty()) {
            return Ok(f);
        }
    }
    if let Some(dir) = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().to_string())
    {
        if !dir.is_empty() && dir != "." {
            return Ok(dir.replacen("__", "/", 1));
        }
    }
    Err(AnalysisError::Field {
        path: path.to_path_buf(),
        line: 1,
        column: "model_name".into(),
        message: "cannot tell which model was evaluated: no 'model_name', no pretrained= in config.model_args".into(),
    })
}

/// The metric to keep for a task: the catalog's preferred metrics first, then any; filter `none` first.
fn pick_metric(canonical: &str, entry: &Map<String, Value>) -> Option<(String, f64)> {
    let candidates: Vec<(&String, f64)> = entry
        .iter()
        .filter(|(k, _)| k.contains(',') && !k.contains("_stderr"))
        .filter_map(|(k, v)| v.as_f64().map(|x| (k, x)))
        .collect();
    let rank_filter = |k: &str| match k.split_once(',').map(|x| x.1) {
        Some("none") => 0,
        Some("strict-match") => 1,
        _ => 2,
    };
    let preferred: Vec<&str> = benchmark(canonical)
        .map(|b| b.metrics.to_vec())
        .unwrap_or_default();
    let mut best: Option<(usize, usize, &String, f64)> = None;
    for (k, v) in candidates {
        let metric = k.split(',').next().unwrap_or("");
        let pref = preferred
            .iter()
            .position(|p| *p == metric)
            .unwrap_or(preferred.len());
        let cand = (pref, rank_filter(k), k, v);
        if best
            .as_ref()
            .is_none_or(|b| (cand.0, cand.1, cand.2) < (b.0, b.1, b.2))
        {
            best = Some(cand);
        }
    }
    best.map(|(_, _, k, v)| (k.clone(), v))
}

fn group_samples(
    group: &str,
    groups: &BTreeMap<String, Vec<String>>,
    n: &dyn Fn(&str) -> Option<u64>,
) -> Option<u64> {
    fn walk(
        g: &str,
        groups: &BTreeMap<String, Vec<String>>,
        n: &dyn Fn(&str) -> Option<u64>,
        depth: u32,
    ) -> Option<u64> {
        if depth > 8 {
            return None;
        }
        match groups.get(g) {
            Some(children) if !children.is_empty() => {
                let mut total = 0;
                for c in children {
                    total += walk(c, groups, n, depth + 1)?;
                }
                Some(total)
            }
            _ => n(g),
        }
    }
    walk(group, groups, n, 0)
}

/// `samples_<task>_<datetime>.jsonl` files next to the results file, for tasks listed in the results. When
/// the results file name carries a datetime, only samples with the same datetime are taken.
fn samples_files(
    results_path: &Path,
    results: &Map<String, Value>,
) -> Result<Vec<(String, PathBuf)>> {
    let Some(dir) = results_path.parent() else {
        return Ok(Vec::new());
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let stamp_re = Regex::new(r"^results_(.+)\.json$")
        .map_err(|e| AnalysisError::invalid("regex", e.to_string()))?;
    let sample_re = Regex::new(r"^samples_(.+)_(\d{4}-\d{2}-\d{2}T[0-9.:\-]+)\.(jsonl|parquet)$")
        .map_err(|e| AnalysisError::invalid("regex", e.to_string()))?;
    let name = results_path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let stamp = stamp_re.captures(&name).map(|c| c[1].to_string());
    let entries = std::fs::read_dir(dir).map_err(|source| AnalysisError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut by_task: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|source| AnalysisError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let fname = entry.file_name().to_string_lossy().to_string();
        let Some(c) = sample_re.captures(&fname) else {
            continue;
        };
        let task = c[1].to_string();
        let dt = c[2].to_string();
        if !results.contains_key(&task) {
            continue;
        }
        if let Some(s) = &stamp {
            if s.chars().next().is_some_and(|ch| ch.is_ascii_digit()) && s != &dt {
                continue;
            }
        }
        let keep = by_task.get(&task).is_none_or(|(old, _)| &dt > old);
        if keep {
            by_task.insert(task, (dt, entry.path()));
        }
    }
    Ok(by_task.into_iter().map(|(t, (_, p))| (t, p)).collect())
}

/// Per-item rows of one samples file. Returns the items and the number of lines read.
fn read_samples(
    path: &Path,
    bytes: &[u8],
    sha: &str,
    model: &str,
    task: &str,
) -> Result<(Vec<ItemRow>, u64)> {
    let text = std::str::from_utf8(bytes).map_err(|e| AnalysisError::File {
        path: path.to_path_buf(),
        message: format!("not UTF-8: {e}"),
    })?;
    let mut items = Vec::new();
    let mut lines = 0;
    for (i, line) in text.lines().enumerate() {
        let lineno = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let field = |column: &str, message: String| AnalysisError::Field {
            path: path.to_path_buf(),
            line: lineno,
            column: column.into(),
            message,
        };
        let v: Value = serde_json::from_str(line)
            .map_err(|e| field("(json)", format!("invalid JSON: {e}")))?;
        let Value::Object(rec) = v else {
            return Err(field("(json)", "expected a JSON object per line".into()));
        };
        let doc_id = rec
            .get("doc_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| field("doc_id", "missing or not an integer".into()))?;
        let doc_hash = rec
            .get("doc_hash")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                field(
                    "doc_hash",
                    "missing (run lm-eval with --log_samples)".into(),
                )
            })?;
        let filter = rec.get("filter").and_then(Value::as_str).unwrap_or("none");
        let names: Vec<&str> = match rec.get("metrics") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => return Err(field("metrics", "missing list of metric names".into())),
        };
        for name in names {
            let value = match rec.get(name) {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
                Some(Value::Null) | None => {
                    return Err(field(
                        name,
                        "metric listed in 'metrics' has no value".into(),
                    ))
                }
                Some(_) => None, // non-scalar metric inputs (e.g. BLEU tuples) are aggregated elsewhere
            };
            let Some(value) = value.filter(|x| x.is_finite()) else {
                continue;
            };
            items.push(ItemRow {
                source: SOURCE_LM_EVAL.into(),
                model: model.to_string(),
                task: task.to_string(),
                filter: filter.to_string(),
                metric: name.to_string(),
                doc_id,
                doc_hash: doc_hash.to_string(),
                value,
                file_sha256: sha.to_string(),
                line_number: lineno,
            });
        }
    }
    Ok((items, lines))
}
