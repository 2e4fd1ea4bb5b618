//! Open LLM Leaderboard exports. v2 (IFEval, BBH, MATH Lvl 5, GPQA, MuSR, MMLU-Pro; raw accuracies 0–1 in
//! `evaluations_<b>_value`, official-provider flag, base model, params, Hub upload date). v1 (ARC, HellaSwag,
//! MMLU, TruthfulQA, WinoGrande, GSM8K; scores 0–100). Neither has an organization column: the organization
//! comes from the Hugging Face id prefix at analysis time.

use super::{CsvTable, Parsed, SOURCE_OLL_V1, SOURCE_OLL_V2};
use crate::catalog::items_for;
use crate::error::Result;
use std::path::Path;
use yardstick_store::observations::{ImportBatch, ModelRow, ScoreRow};

/// (column key in the v2 export, benchmark id).
const V2_BENCHMARKS: &[(&str, &str)] = &[
    ("ifeval", "ifeval"),
    ("bbh", "bbh"),
    ("math", "math_lvl5"),
    ("gpqa", "gpqa"),
    ("musr", "musr"),
    ("mmlu_pro", "mmlu_pro"),
];

/// (column in the v1 export, benchmark id).
const V1_BENCHMARKS: &[(&str, &str)] = &[
    ("arc", "arc_challenge"),
    ("hellaswag", "hellaswag"),
    ("mmlu", "mmlu"),
    ("truthfulqa", "truthfulqa_mc2"),
    ("winogrande", "winogrande"),
    ("gsm8k", "gsm8k"),
];

/// Columns [`read_v2`] requires.
pub(crate) fn required_columns_v2() -> Vec<String> {
    let mut c: Vec<String> = [
        "id",
        "model_name",
        "features_is_official_provider",
        "metadata_base_model",
        "metadata_params_billions",
        "metadata_hub_license",
        "metadata_upload_date",
        "metadata_submission_date",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    c.extend(
        V2_BENCHMARKS
            .iter()
            .map(|(key, _)| format!("evaluations_{key}_value")),
    );
    c
}

/// Columns [`read_v1`] requires.
pub(crate) fn required_columns_v1() -> Vec<String> {
    [
        "fullname",
        "model_sha",
        "precision",
        "params_b",
        "hub_license",
        "date",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(V1_BENCHMARKS.iter().map(|(col, _)| col.to_string()))
    .collect()
}

pub(crate) fn read_v2(path: &Path, bytes: &[u8], sha: &str) -> Result<Parsed> {
    let t = CsvTable::parse(path, bytes)?;
    let c_id = t.col("id")?;
    let c_name = t.col("model_name")?;
    let c_official = t.col("features_is_official_provider")?;
    let c_base = t.col("metadata_base_model")?;
    let c_params = t.col("metadata_params_billions")?;
    let c_license = t.col("metadata_hub_license")?;
    let c_upload = t.col("metadata_upload_date")?;
    let c_submit = t.col("metadata_submission_date")?;
    let c_type = t.opt_col("model_type");
    let c_merged = t.opt_col("features_is_merged");
    let c_flagged = t.opt_col("features_is_flagged");
    let c_moe = t.opt_col("features_is_moe");
    let c_precision = t.opt_col("model_precision");
    // The v2 ⋈ LMArena export adds the arena's organization column.
    let c_org = t.opt_col("organization");
    let bench_cols: Vec<(usize, &str, String)> = V2_BENCHMARKS
        .iter()
        .map(|(key, id)| {
            let col = format!("evaluations_{key}_value");
            t.col(&col).map(|c| (c, *id, col))
        })
        .collect::<Result<_>>()?;

    let mut batch = ImportBatch::default();
    let mut row_models = Vec::new();
    let mut rows_without_score = 0;
    for (line, row) in &t.rows {
        let line = *line;
        let Some(model) = t.cell(row, c_name) else {
            rows_without_score += 1;
            continue;
        };
        let model = model.to_string();
        let variant = t.cell(row, c_id).unwrap_or_default().to_string();
        let submitted = t.date(line, row, c_submit)?;
        let uploaded = t.date(line, row, c_upload)?;
        let params = t.number(line, row, c_params)?.filter(|p| *p > 0.0);
        let base = t
            .cell(row, c_base)
            .filter(|b| !b.eq_ignore_ascii_case("removed"))
            .map(str::to_string);
        let mut extra = serde_json::Map::new();
        extra.insert("release_date_basis".into(), "hub upload date".into());
        for (key, c) in [("type", c_type), ("precision", c_precision)] {
            if let Some(v) = c.and_then(|c| t.cell(row, c)) {
                extra.insert(key.into(), v.into());
            }
        }
        for (key, c) in [("merged", c_merged), ("flagged", c_flagged), ("moe", c_moe)] {
            if let Some(c) = c {
                if let Some(v) = t.boolean(line, row, c)? {
                    extra.insert(key.into(), v.into());
                }
            }
        }
        if t.cell(row, c_base)
            .is_some_and(|b| b.eq_ignore_ascii_case("removed"))
        {
            extra.insert("base_model_removed".into(), true.into());
        }
        batch.models.push(ModelRow {
            source: SOURCE_OLL_V2.into(),
            model: model.clone(),
            organization: c_org.and_then(|c| t.cell(row, c)).map(str::to_string),
            release_date: uploaded.map(|d| d.to_string()),
            params_b: params,
            open_weights: Some(true),
            license: t.cell(row, c_license).map(str::to_string),
            base_model: base,
            official: t.boolean(line, row, c_official)?,
            extra_json: serde_json::Value::Object(extra).to_string(),
            file_sha256: sha.to_string(),
            row_number: line,
            ..Default::default()
        });
        let mut any = false;
        for (c, id, col) in &bench_cols {
            let Some(v) = t.number(line, row, *c)? else {
                continue;
            };
            if !(0.0..=1.0).contains(&v) {
                return Err(t.err(
                    line,
                    *c,
                    format!("{v} is outside 0–1 (raw accuracy expected)"),
                ));
            }
            any = true;
            batch.scores.push(ScoreRow {
                source: SOURCE_OLL_V2.into(),
                model: model.clone(),
                benchmark: (*id).to_string(),
                variant: variant.clone(),
                score: v,
                n_items: items_for(id, SOURCE_OLL_V2).map(u64::from),
                evaluated_at: submitted.map(|d| d.to_string()),
                file_sha256: sha.to_string(),
                row_number: line,
                column_name: col.clone(),
                ..Default::default()
            });
        }
        if !any {
            rows_without_score += 1;
        }
        row_models.push((line, model));
    }
    Ok(Parsed {
        batch,
        rows_read: t.rows.len() as u64,
        rows_without_score,
        row_models,
        snapshot_date: None,
        notes: Vec::new(),
    })
}

pub(crate) fn read_v1(path: &Path, bytes: &[u8], sha: &str) -> Result<Parsed> {
    let t = CsvTable::parse(path, bytes)?;
    let c_name = t.col("fullname")?;
    let c_sha = t.col("model_sha")?;
    let c_precision = t.col("precision")?;
    let c_params = t.col("params_b")?;
    let c_license = t.col("hub_license")?;
    let c_date = t.col("date")?;
    let c_type = t.opt_col("type");
    let c_flagged = t.opt_col("flagged");
    let c_merged = t.opt_col("merged");
    let bench_cols: Vec<(usize, &str, &str)> = V1_BENCHMARKS
        .iter()
        .map(|(col, id)| t.col(col).map(|c| (c, *id, *col)))
        .collect::<Result<_>>()?;

    let mut batch = ImportBatch::default();
    let mut row_models = Vec::new();
    let mut rows_without_score = 0;
    for (line, row) in &t.rows {
        let line = *line;
        let Some(model) = t.cell(row, c_name) else {
            rows_without_score += 1;
            continue;
        };
        let model = model.to_string();
        let variant = format!(
            "{}:{}",
            t.cell(row, c_sha).unwrap_or(""),
            t.cell(row, c_precision).unwrap_or("")
        );
        let evaluated = t.date(line, row, c_date)?;
        let mut extra = serde_json::Map::new();
        if let Some(v) = c_type.and_then(|c| t.cell(row, c)) {
            extra.insert("type".into(), v.into());
        }
        for (key, c) in [("flagged", c_flagged), ("merged", c_merged)] {
            if let Some(c) = c {
                if let Some(v) = t.boolean(line, row, c)? {
                    extra.insert(key.into(), v.into());
                }
            }
        }
        batch.models.push(ModelRow {
            source: SOURCE_OLL_V1.into(),
            model: model.clone(),
            params_b: t.number(line, row, c_params)?.filter(|p| *p > 0.0),
            open_weights: Some(true),
            license: t.cell(row, c_license).map(str::to_string),
            extra_json: serde_json::Value::Object(extra).to_string(),
            file_sha256: sha.to_string(),
            row_number: line,
            ..Default::default()
        });
        let mut any = false;
        for (c, id, col) in &bench_cols {
            let Some(v) = t.number(line, row, *c)? else {
                continue;
            };
            if !(0.0..=100.0).contains(&v) {
                return Err(t.err(line, *c, format!("{v} is outside 0–100")));
            }
            any = true;
            batch.scores.push(ScoreRow {
                source: SOURCE_OLL_V1.into(),
                model: model.clone(),
                benchmark: (*id).to_string(),
                variant: variant.clone(),
                score: v / 100.0,
                n_items: items_for(id, SOURCE_OLL_V1).map(u64::from),
                evaluated_at: evaluated.map(|d| d.to_string()),
                file_sha256: sha.to_string(),
                row_number: line,
                column_name: (*col).to_string(),
                ..Default::default()
            });
        }
        if !any {
            rows_without_score += 1;
        }
        row_models.push((line, model));
    }
    Ok(Parsed {
        batch,
        rows_read: t.rows.len() as u64,
        rows_without_score,
        row_models,
        snapshot_date: None,
        notes: Vec::new(),
    })
}
