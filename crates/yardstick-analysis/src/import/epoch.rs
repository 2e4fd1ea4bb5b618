//! Epoch AI Benchmarking Hub CSVs: one file per benchmark (Epoch's own runs with `mean_score`/`stderr`/
//! `Started at`; `_external` files with scores collected from papers and leaderboards), and the Epoch
//! Capabilities Index. Every row carries the model version, release date, organization and country.

use super::{CsvTable, Parsed, SOURCE_EPOCH};
use crate::error::Result;
use std::path::Path;
use yardstick_store::observations::{ImportBatch, ModelRow, ScoreRow};

/// Columns every Benchmarking Hub file has (and [`read`] requires).
pub(crate) const REQUIRED_COLUMNS: &[&str] =
    &["Model version", "Release date", "Organization", "Country"];

/// The benchmark id of an Epoch file, from its name (Epoch files do not name their benchmark inside).
pub(crate) fn benchmark_id(path: &Path, table: &CsvTable) -> String {
    if table.opt_col("ECI Score").is_some() {
        return "eci".into();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = stem.strip_suffix("_external").unwrap_or(&stem).to_string();
    match stem.as_str() {
        "epoch_capabilities_index" => "eci",
        "hella_swag" => "hellaswag",
        "wino_grande" => "winogrande",
        "arc_ai2" => "arc_challenge",
        "math_level_5" => "math_lvl5",
        "bool_q" => "boolq",
        "trivia_qa" => "triviaqa",
        "open_book_qa" => "openbookqa",
        "live_bench" => "livebench",
        "hle" => "hle",
        other => other,
    }
    .to_string()
}

/// The score column: `ECI Score`, `mean_score` (Epoch's runs), a known exception, or else the column right
/// before `Release date` (the layout of every `_external` file).
fn score_column(benchmark: &str, table: &CsvTable) -> Result<usize> {
    for name in ["ECI Score", "mean_score"] {
        if let Some(c) = table.opt_col(name) {
            return Ok(c);
        }
    }
    if benchmark == "gdpval" {
        return table.col("Win Rate (%)");
    }
    let release = table.col("Release date")?;
    if release == 0 || table.header[release - 1] == "Model version" {
        return Err(crate::error::AnalysisError::File {
            path: table.path.clone(),
            message: "cannot find the score column (expected 'ECI Score', 'mean_score' or a score column before 'Release date')".into(),
        });
    }
    Ok(release - 1)
}

/// A standard-error column, if the file has one.
fn stderr_column(table: &CsvTable) -> Option<usize> {
    table.header.iter().position(|h| {
        let l = h.to_lowercase();
        l == "stderr" || l.ends_with(" se") || l.contains("standard error")
    })
}

pub(crate) fn read(path: &Path, bytes: &[u8], sha: &str) -> Result<Parsed> {
    let table = CsvTable::parse(path, bytes)?;
    let c_model = table.col("Model version")?;
    let c_release = table.col("Release date")?;
    let c_org = table.col("Organization")?;
    let c_country = table.col("Country")?;
    let benchmark = benchmark_id(path, &table);
    let c_score = score_column(&benchmark, &table)?;
    let score_header = table.header[c_score].clone();
    let percent = score_header.contains('%') || score_header.to_lowercase().contains("percent");
    let c_stderr = stderr_column(&table);
    let c_name = table
        .opt_col("Name")
        .or_else(|| table.opt_col("Model name"))
        .or_else(|| table.opt_col("Display name"));
    let c_access = table.opt_col("Model accessibility");
    let c_started = table.opt_col("Started at");
    let c_id = table.opt_col("id");
    let c_compute = table.opt_col("Training compute (FLOP)");
    let c_display = table.opt_col("Display name");
    let items = crate::catalog::items_for(&benchmark, SOURCE_EPOCH).map(u64::from);

    let mut batch = ImportBatch::default();
    let mut row_models = Vec::new();
    let mut rows_without_score = 0;
    for (line, row) in &table.rows {
        let line = *line;
        let model = table
            .cell(row, c_model)
            .or_else(|| c_name.and_then(|c| table.cell(row, c)));
        let Some(model) = model else {
            rows_without_score += 1;
            continue;
        };
        let model = model.to_string();
        let Some(mut score) = table.number(line, row, c_score)? else {
            rows_without_score += 1;
            continue;
        };
        let mut stderr = match c_stderr {
            Some(c) => table.number(line, row, c)?,
            None => None,
        };
        if percent {
            score /= 100.0;
            stderr = stderr.map(|s| s / 100.0);
        }
        let release = table.date(line, row, c_release)?;
        let started = match c_started {
            Some(c) => table.date(line, row, c)?,
            None => None,
        };
        let open_weights = c_access.and_then(|c| table.cell(row, c)).and_then(|a| {
            let l = a.to_lowercase();
            if l.starts_with("open weights") {
                Some(true)
            } else if l.contains("api") || l.contains("unreleased") || l.contains("hosted") {
                Some(false)
            } else {
                None
            }
        });
        let mut extra = serde_json::Map::new();
        if let Some(c) = c_access.and_then(|c| table.cell(row, c)) {
            extra.insert("accessibility".into(), c.into());
        }
        if let Some(v) = c_compute.and_then(|c| table.cell(row, c)) {
            extra.insert("training_compute_flop".into(), v.into());
        }
        if let Some(v) = c_display.and_then(|c| table.cell(row, c)) {
            extra.insert("display_name".into(), v.into());
        }
        batch.models.push(ModelRow {
            source: SOURCE_EPOCH.into(),
            model: model.clone(),
            organization: table.cell(row, c_org).map(str::to_string),
            country: table.cell(row, c_country).map(str::to_string),
            release_date: release.map(|d| d.to_string()),
            open_weights,
            official: Some(true),
            extra_json: serde_json::Value::Object(extra).to_string(),
            file_sha256: sha.to_string(),
            row_number: line,
            ..Default::default()
        });
        let variant = c_id
            .and_then(|c| table.cell(row, c))
            .map(str::to_string)
            .unwrap_or_else(|| format!("line{line}"));
        batch.scores.push(ScoreRow {
            source: SOURCE_EPOCH.into(),
            model: model.clone(),
            benchmark: benchmark.clone(),
            snapshot: String::new(),
            variant,
            score,
            stderr,
            n_items: items,
            evaluated_at: started.map(|d| d.to_string()),
            file_sha256: sha.to_string(),
            row_number: line,
            column_name: score_header.clone(),
            ..Default::default()
        });
        row_models.push((line, model));
    }
    Ok(Parsed {
        batch,
        rows_read: table.rows.len() as u64,
        rows_without_score,
        row_models,
        snapshot_date: None,
        notes: Vec::new(),
    })
}
