//! `yardstick store export RUN`: a run's per-sample records and scores in lm-eval's output layout —
//! `<model>/results_<datetime>.json` and one `samples_<task>_<datetime>.{parquet,jsonl}` per task — so they
//! travel to the tools that read lm-eval output and the hub's details datasets, and come back with
//! `yardstick import`.

use crate::error::{AnalysisError, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use yardstick_store::Store;

/// The samples files' format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplesFormat {
    Parquet,
    Jsonl,
}

/// lm-eval's directory name for a model (`/` becomes `__`).
fn model_dir(name: &str) -> String {
    name.replace('/', "__")
}

/// lm-eval's file timestamp (`2026-12-04T23-28-14.121551`) from an RFC 3339 time.
fn stamp(time: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now());
    t.format("%Y-%m-%dT%H-%M-%S%.6f").to_string()
}

fn write_err(path: &Path, source: std::io::Error) -> AnalysisError {
    AnalysisError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Export run `run_id` of `store` under `dir`; returns the files written.
pub fn export_run(
    store: &Store,
    run_id: &str,
    dir: &Path,
    format: SamplesFormat,
) -> Result<Vec<PathBuf>> {
    let detail = store
        .run_detail(run_id)?
        .ok_or_else(|| AnalysisError::File {
            path: store.path().to_path_buf(),
            message: format!("no run {run_id} in this store; `yardstick runs` lists them"),
        })?;
    let out = dir.join(model_dir(&detail.record.model_name));
    std::fs::create_dir_all(&out).map_err(|e| write_err(&out, e))?;
    let stamp = stamp(detail.finished_at.as_deref().unwrap_or(&detail.created_at));
    let mut written = Vec::new();
    let mut results: Map<String, Value> = Map::new();
    let mut n_samples: Map<String, Value> = Map::new();
    for a in &detail.aggregates {
        let entry = results
            .entry(a.task.clone())
            .or_insert_with(|| json!({"alias": a.task}));
        entry[format!("{},{}", a.metric, a.filter)] = json!(a.value);
        entry[format!("{}_stderr,{}", a.metric, a.filter)] =
            a.stderr.map_or(json!("N/A"), |s| json!(s));
        if !a.is_group {
            n_samples.insert(a.task.clone(), json!({"original": a.n, "effective": a.n}));
        }
    }
    for t in &detail.tasks {
        let samples = store.samples_of(run_id, Some(&t.task.task))?;
        if samples.is_empty() {
            continue;
        }
        let records: Vec<Map<String, Value>> = samples
            .into_iter()
            .filter_map(|s| match s.record {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect();
        let base = format!("samples_{}_{stamp}", t.task.task);
        let path = match format {
            SamplesFormat::Parquet => {
                let p = out.join(format!("{base}.parquet"));
                crate::samples_parquet::write_samples(&p, &records)?;
                p
            }
            SamplesFormat::Jsonl => {
                let p = out.join(format!("{base}.jsonl"));
                let text: String = records
                    .into_iter()
                    .map(|r| Value::Object(r).to_string() + "\n")
                    .collect();
                std::fs::write(&p, text).map_err(|e| write_err(&p, e))?;
                p
            }
        };
        written.push(path);
    }
    let doc = json!({
        "results": results,
        "n-samples": n_samples,
        "model_name": detail.record.model_name,
        "config": {"model": "yardstick", "model_args": detail.record.config.get("model_args").cloned().unwrap_or(Value::Null)},
        "yardstick": {"run_id": run_id, "model_fingerprint": detail.record.model_fingerprint, "exported_from_store": true},
    });
    let path = out.join(format!("results_{stamp}.json"));
    let text = serde_json::to_string_pretty(&doc).map_err(|e| AnalysisError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(|e| write_err(&path, e))?;
    written.insert(0, path);
    Ok(written)
}
