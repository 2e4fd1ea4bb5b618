//! LMArena (Chatbot Arena) leaderboard CSVs: one row per model with its Elo-scale score, the 95% interval
//! as text (`+8/-8`), votes, organization and licence. Three header variants are accepted (`arena_elo` in the
//! oldest snapshots, `arena_score` later, with or without `rank_stylectrl`). The snapshot date is read from the
//! file name (the last YYYY-MM-DD in it); the arena (text, vision, image) from the file name too.

use super::{date_in_file_name, CsvTable, Parsed, SOURCE_ARENA};
use crate::error::{AnalysisError, Result};
use std::path::Path;
use yardstick_store::observations::{ImportBatch, ModelRow, ScoreRow};

/// z for a two-sided 95% interval: the CI half-widths become a standard error.
const Z95: f64 = 1.959_963_984_540_054;

/// Benchmark id of an arena file: `arena-elo` (text), `arena-elo-vision`, `arena-elo-image`.
fn benchmark_id(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.contains("vision") {
        "arena-elo-vision"
    } else if name.contains("image") {
        "arena-elo-image"
    } else {
        "arena-elo"
    }
}

/// Parse `+8/-7` into (plus, minus).
fn parse_ci(s: &str) -> Option<(f64, f64)> {
    let s = s.trim().trim_start_matches('=');
    let (plus, minus) = s.split_once('/')?;
    let p: f64 = plus.trim().strip_prefix('+')?.parse().ok()?;
    let m: f64 = minus.trim().strip_prefix('-')?.parse().ok()?;
    (p.is_finite() && m.is_finite() && p >= 0.0 && m >= 0.0).then_some((p, m))
}

pub(crate) fn read(path: &Path, bytes: &[u8], sha: &str) -> Result<Parsed> {
    let t = CsvTable::parse(path, bytes)?;
    let snapshot = date_in_file_name(path).ok_or_else(|| AnalysisError::File {
        path: path.to_path_buf(),
        message: "an LMArena leaderboard has no date column: its file name must contain the snapshot date (YYYY-MM-DD), e.g. lmsys_2024-06-19.csv".into(),
    })?;
    let c_model = t.col("model")?;
    let c_score = match t.opt_col("arena_score").or_else(|| t.opt_col("arena_elo")) {
        Some(c) => c,
        None => t.col("arena_score")?,
    };
    let c_ci = t.col("95_pct_ci")?;
    let c_org = t.col("organization")?;
    let c_license = t.col("license")?;
    let c_votes = t.opt_col("votes");
    let c_cutoff = t.opt_col("knowledge_cutoff");
    let benchmark = benchmark_id(path);

    let mut batch = ImportBatch::default();
    let mut row_models = Vec::new();
    let mut rows_without_score = 0;
    for (line, row) in &t.rows {
        let line = *line;
        let Some(model) = t.cell(row, c_model) else {
            rows_without_score += 1;
            continue;
        };
        let model = model.to_string();
        let Some(score) = t.number(line, row, c_score)? else {
            rows_without_score += 1;
            continue;
        };
        let ci = match t.cell(row, c_ci) {
            Some(s) => Some(parse_ci(s).ok_or_else(|| {
                t.err(line, c_ci, format!("'{s}' is not an interval like +8/-7"))
            })?),
            None => None,
        };
        let license = t.cell(row, c_license).map(str::to_string);
        let open_weights = license.as_deref().and_then(|l| {
            let l = l.to_lowercase();
            if l.starts_with("propr") {
                Some(false)
            } else if l.is_empty() || l == "n/a" || l == "-" || l == "other" {
                None
            } else {
                Some(true)
            }
        });
        let mut extra = serde_json::Map::new();
        if let Some(v) = c_cutoff.and_then(|c| t.cell(row, c)) {
            extra.insert("knowledge_cutoff".into(), v.into());
        }
        let votes = match c_votes {
            Some(c) => t.number(line, row, c)?,
            None => None,
        };
        batch.models.push(ModelRow {
            source: SOURCE_ARENA.into(),
            model: model.clone(),
            organization: t.cell(row, c_org).map(str::to_string),
            open_weights,
            license,
            official: Some(true),
            extra_json: serde_json::Value::Object(extra).to_string(),
            file_sha256: sha.to_string(),
            row_number: line,
            ..Default::default()
        });
        batch.scores.push(ScoreRow {
            source: SOURCE_ARENA.into(),
            model: model.clone(),
            benchmark: benchmark.to_string(),
            snapshot: snapshot.clone(),
            variant: String::new(),
            score,
            stderr: ci.map(|(p, m)| (p + m) / 2.0 / Z95),
            ci_lower: ci.map(|(_, m)| score - m),
            ci_upper: ci.map(|(p, _)| score + p),
            n_items: votes.map(|v| v as u64),
            evaluated_at: Some(snapshot.clone()),
            file_sha256: sha.to_string(),
            row_number: line,
            column_name: t.header[c_score].clone(),
        });
        row_models.push((line, model));
    }
    Ok(Parsed {
        batch,
        rows_read: t.rows.len() as u64,
        rows_without_score,
        row_models,
        snapshot_date: Some(snapshot),
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_text() {
        assert_eq!(parse_ci("+8/-7"), Some((8.0, 7.0)));
        assert_eq!(parse_ci("=+14/-14"), Some((14.0, 14.0)));
        assert_eq!(parse_ci("+3.5/-2"), Some((3.5, 2.0)));
        assert_eq!(parse_ci("8/7"), None);
        assert_eq!(parse_ci("+x/-1"), None);
    }
}
