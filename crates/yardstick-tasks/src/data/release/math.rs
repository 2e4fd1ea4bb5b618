//! Release layouts of the MATH datasets: Hendrycks MATH as `EleutherAI/hendrycks_math` (one config per
//! subject) and MATH-500 as `HuggingFaceH4/MATH-500`. See `MAPPINGS.md` for what each reproduces and how it
//! was checked.

use std::path::Path;

use serde_json::{Map, Value};
use yardstick_core::Doc;

use super::super::error::DataError;
use super::super::json::{json_to_docs, jsonl_objects};
use super::super::read_text;
use super::{located, schema_err, unknown_split, Located, Miss};

// ---------------------------------------------------------------------------------------------------
// EleutherAI/hendrycks_math

/// The configs of the HF builder (`hendrycks_math.py` `_NAMES`), in its order: MATH's subject directories.
pub(super) const HENDRYCKS_MATH_SUBJECTS: [&str; 7] = [
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
];

/// The builder's features, in order (all `Value("string")`).
const HENDRYCKS_MATH_COLUMNS: [&str; 4] = ["problem", "level", "type", "solution"];

pub(super) fn hendrycks_math_configs(_root: &Path) -> Vec<String> {
    HENDRYCKS_MATH_SUBJECTS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

pub(super) fn hendrycks_math_locate(
    root: &Path,
    config: &str,
    split: &str,
) -> Result<Located, Miss> {
    if !HENDRYCKS_MATH_SUBJECTS.contains(&config) {
        return Err(Miss::UnknownConfig(format!(
            "EleutherAI/hendrycks_math has no config '{config}' (configs: {})",
            HENDRYCKS_MATH_SUBJECTS.join(", ")
        )));
    }
    if !matches!(split, "train" | "test") {
        return Err(unknown_split(&["train", "test"]));
    }
    located(
        vec![root.join(format!("{split}.jsonl"))],
        hendrycks_math_load,
        config,
        split,
    )
}

/// `math/{train,test}.jsonl` hold one line per original file `MATH/<split>/<subject>/<N>.json`, with its
/// path in `unique_id` (`"test/algebra/1.json"`). The HF builder yields, per (subject, split), the files
/// of `sorted(pathlib.Path(MATH/<split>/<subject>).iterdir())` — a text sort of the file names
/// (`1.json`, `10.json`, `100.json`, `1000.json`, …, `2.json`) — as `{problem, level, type, solution}`.
/// So: the subject's rows, stably sorted by the file name in `unique_id` as a string, those four columns.
fn hendrycks_math_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let prefix = format!("{}/{}/", loc.split, loc.config);
    let mut rows: Vec<(String, Doc)> = Vec::new();
    for (i, mut row) in jsonl_objects(&read_text(path)?, path)?
        .into_iter()
        .enumerate()
    {
        let record = || format!("record {}", i + 1);
        let unique_id = match row.get("unique_id") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(schema_err(
                    path,
                    record(),
                    "missing string field 'unique_id' (the original file's path, e.g. \"test/algebra/1.json\")"
                        .into(),
                ))
            }
        };
        let Some(file_name) = unique_id.strip_prefix(&prefix) else {
            continue;
        };
        let file_name = file_name.to_string();
        let mut d = Map::with_capacity(HENDRYCKS_MATH_COLUMNS.len());
        for c in HENDRYCKS_MATH_COLUMNS {
            match row.remove(c) {
                Some(v @ Value::String(_)) => {
                    d.insert(c.to_string(), v);
                }
                other => {
                    return Err(schema_err(
                        path,
                        record(),
                        format!(
                            "field '{c}' must be a string (the HF feature is Value(\"string\")), found {}",
                            other.map_or("nothing".to_string(), |v| v.to_string())
                        ),
                    ))
                }
            }
        }
        rows.push((file_name, d));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rows.into_iter().map(|(_, d)| d).collect())
}

// ---------------------------------------------------------------------------------------------------
// HuggingFaceH4/MATH-500

pub(super) fn math500_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if config != "default" {
        return Err(Miss::UnknownConfig(format!(
            "HuggingFaceH4/MATH-500 has no config '{config}'"
        )));
    }
    if split != "test" {
        return Err(unknown_split(&["test"]));
    }
    // The hub repository holds this same JSON Lines file (PRM800K's MATH-500); the `json` loader reads it.
    located(
        vec![root.join("test.jsonl")],
        |l| json_to_docs(&read_text(&l.files[0])?, &l.files[0]),
        config,
        split,
    )
}
