//! Per-sample records as Parquet, in the layout of lm-eval's `samples_<task>_<datetime>.jsonl` (the layout the
//! Open LLM Leaderboard's details datasets publish, and that the Hugging Face hub converts to Parquet): one row
//! per document and filter, the columns `doc_id, doc, target, arguments, resps, filtered_resps, filter,
//! metrics, doc_hash, prompt_hash, target_hash`, then one column per metric.
//!
//! Writing: nested values (`doc`, `target`, `arguments`, `resps`, `filtered_resps`, `metrics`) are stored as
//! their JSON text in UTF-8 columns, named in the file's key-value metadata (`yardstick.json_columns`), so a
//! row reads back as exactly the JSON line it came from; a metric whose every value is a number or boolean
//! is a DOUBLE column (booleans as 0/1, as lm-eval's importers read them), any other metric is JSON text.
//! Reading: such a file, or one whose nested columns are Parquet structs and lists (the hub's conversion),
//! gives the JSON lines lm-eval would have written, which the samples importer then reads.

use crate::error::{AnalysisError, Result};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::parser::parse_message_type;
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// The fixed columns, in lm-eval's order (`doc_id` is INT64, the rest UTF-8).
const FIXED: &[&str] = &[
    "doc_id",
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "filter",
    "metrics",
    "doc_hash",
    "prompt_hash",
    "target_hash",
];
/// Fixed columns holding JSON text (not plain strings).
const JSON_FIXED: &[&str] = &[
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "metrics",
];
const JSON_COLUMNS_KEY: &str = "yardstick.json_columns";

fn file_err(path: &Path, message: impl std::fmt::Display) -> AnalysisError {
    AnalysisError::File {
        path: path.to_path_buf(),
        message: format!("parquet: {message}"),
    }
}

/// A metric column: DOUBLE when every value is a number or boolean (or absent), else JSON text.
fn numeric(v: &Value) -> Option<Option<f64>> {
    match v {
        Value::Number(n) => n.as_f64().map(Some),
        Value::Bool(b) => Some(Some(if *b { 1.0 } else { 0.0 })),
        Value::Null => Some(None),
        _ => None,
    }
}

/// Write `records` (lm-eval sample lines, as JSON objects) to `path`.
pub fn write_samples(path: &Path, records: &[Map<String, Value>]) -> Result<()> {
    // metric columns: every name listed in a record's `metrics`, in first-seen order
    let mut metrics: Vec<String> = Vec::new();
    for r in records {
        for m in r
            .get("metrics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(m) = m.as_str() {
                if !FIXED.contains(&m) && !metrics.iter().any(|x| x == m) {
                    metrics.push(m.to_string());
                }
            }
        }
    }
    let is_double: Vec<bool> = metrics
        .iter()
        .map(|m| {
            records
                .iter()
                .all(|r| r.get(m).is_none_or(|v| numeric(v).is_some()))
        })
        .collect();
    let mut schema = String::from("message lm_eval_samples {\n  required int64 doc_id;\n");
    for c in &FIXED[1..] {
        schema.push_str(&format!("  optional binary {c} (STRING);\n"));
    }
    let mut json_columns: Vec<String> = JSON_FIXED.iter().map(|s| s.to_string()).collect();
    for (i, (m, dbl)) in metrics.iter().zip(&is_double).enumerate() {
        // metric names may hold characters a schema name cannot (`,`, spaces): quote-free column names
        // are made from them and the real name kept in the metadata
        let col = format!("m{i}");
        if *dbl {
            schema.push_str(&format!("  optional double {col};\n"));
        } else {
            schema.push_str(&format!("  optional binary {col} (STRING);\n"));
            json_columns.push(m.clone());
        }
    }
    schema.push('}');
    let schema = Arc::new(parse_message_type(&schema).map_err(|e| file_err(path, e))?);
    let metadata = vec![
        KeyValue::new(JSON_COLUMNS_KEY.into(), json_columns.join("\u{1f}")),
        KeyValue::new("yardstick.metric_columns".into(), metrics.join("\u{1f}")),
        KeyValue::new("yardstick.layout".into(), "lm-eval samples 0.4".to_string()),
    ];
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_key_value_metadata(Some(metadata))
            .build(),
    );
    let file = std::fs::File::create(path).map_err(|source| AnalysisError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer =
        SerializedFileWriter::new(file, schema, props).map_err(|e| file_err(path, e))?;
    let mut group = writer.next_row_group().map_err(|e| file_err(path, e))?;
    let text_of = |v: Option<&Value>, json: bool| -> Option<ByteArray> {
        match v {
            None => None,
            Some(Value::String(s)) if !json => Some(ByteArray::from(s.as_str())),
            Some(v) if !json => Some(ByteArray::from(v.to_string().as_str())),
            Some(v) => Some(ByteArray::from(v.to_string().as_str())),
        }
    };
    let mut column = 0usize;
    while let Some(mut col) = group.next_column().map_err(|e| file_err(path, e))? {
        let result = if column == 0 {
            let ids: Vec<i64> = records
                .iter()
                .map(|r| r.get("doc_id").and_then(Value::as_i64).unwrap_or(-1))
                .collect();
            col.typed::<Int64Type>()
                .write_batch(&ids, None, None)
                .map(drop)
        } else if column < FIXED.len() {
            let name = FIXED[column];
            let json = JSON_FIXED.contains(&name);
            let vals: Vec<Option<ByteArray>> =
                records.iter().map(|r| text_of(r.get(name), json)).collect();
            write_optional_bytes(col.typed::<ByteArrayType>(), &vals)
        } else {
            let i = column - FIXED.len();
            let name = &metrics[i];
            if is_double[i] {
                let vals: Vec<Option<f64>> = records
                    .iter()
                    .map(|r| r.get(name).and_then(numeric).flatten())
                    .collect();
                let defs: Vec<i16> = vals.iter().map(|v| i16::from(v.is_some())).collect();
                let present: Vec<f64> = vals.into_iter().flatten().collect();
                col.typed::<DoubleType>()
                    .write_batch(&present, Some(&defs), None)
                    .map(drop)
            } else {
                let vals: Vec<Option<ByteArray>> =
                    records.iter().map(|r| text_of(r.get(name), true)).collect();
                write_optional_bytes(col.typed::<ByteArrayType>(), &vals)
            }
        };
        result.map_err(|e| file_err(path, e))?;
        col.close().map_err(|e| file_err(path, e))?;
        column += 1;
    }
    group.close().map_err(|e| file_err(path, e))?;
    writer.close().map_err(|e| file_err(path, e))?;
    Ok(())
}

fn write_optional_bytes(
    w: &mut parquet::column::writer::ColumnWriterImpl<'_, ByteArrayType>,
    vals: &[Option<ByteArray>],
) -> parquet::errors::Result<()> {
    let defs: Vec<i16> = vals.iter().map(|v| i16::from(v.is_some())).collect();
    let present: Vec<ByteArray> = vals.iter().flatten().cloned().collect();
    w.write_batch(&present, Some(&defs), None).map(drop)
}

fn field_json(f: Field) -> Value {
    match f {
        Field::Group(row) => Value::Object(
            row.into_columns()
                .into_iter()
                .map(|(k, v)| (k, field_json(v)))
                .collect(),
        ),
        Field::ListInternal(list) => {
            Value::Array(list.elements().iter().cloned().map(field_json).collect())
        }
        other => other.to_json_value(),
    }
}

/// The JSON lines (one object per row, lm-eval's sample layout) of a samples Parquet file.
pub fn read_samples(path: &Path) -> Result<Vec<Map<String, Value>>> {
    let file = std::fs::File::open(path).map_err(|source| AnalysisError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = SerializedFileReader::new(file).map_err(|e| file_err(path, e))?;
    let kv = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned();
    let meta = |key: &str| -> Vec<String> {
        kv.iter()
            .flatten()
            .find(|k| k.key == key)
            .and_then(|k| k.value.clone())
            .map(|v| {
                v.split('\u{1f}')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let json_columns = meta(JSON_COLUMNS_KEY);
    let metric_columns = meta("yardstick.metric_columns");
    let mut out = Vec::new();
    for (i, row) in reader
        .get_row_iter(None)
        .map_err(|e| file_err(path, e))?
        .enumerate()
    {
        let row = row.map_err(|e| file_err(path, format!("row {}: {e}", i + 1)))?;
        let mut rec = Map::new();
        for (name, field) in row.into_columns() {
            let name = name
                .strip_prefix('m')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| metric_columns.get(n).cloned())
                .unwrap_or(name);
            let mut v = field_json(field);
            if json_columns.contains(&name) {
                if let Value::String(s) = &v {
                    v = serde_json::from_str(s).map_err(|e| {
                        file_err(path, format!("row {}, column {name}: not JSON: {e}", i + 1))
                    })?;
                }
            }
            if v.is_null() && metric_columns.contains(&name) {
                continue; // a metric this row does not have
            }
            rec.insert(name, v);
        }
        out.push(rec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sample_lines_survive_a_round_trip_through_parquet() {
        let lines = [
            json!({"doc_id": 0, "doc": {"question": "2+2?", "choices": ["3", "4"], "answer": 1},
                   "target": 1, "arguments": {"gen_args_0": {"arg_0": "Q: 2+2?", "arg_1": " 4"}},
                   "resps": [[["-1.5", "False"]], [["-0.25", "True"]]], "filtered_resps": [["-1.5", "False"], ["-0.25", "True"]],
                   "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "a", "prompt_hash": "b",
                   "target_hash": "c", "acc": 1.0, "acc_norm": 0.0}),
            json!({"doc_id": 7, "doc": {"question": "\"quoted\"\n"}, "target": "B", "arguments": {},
                   "resps": [], "filtered_resps": [], "filter": "strict-match", "metrics": ["exact_match", "bleu"],
                   "doc_hash": "d", "prompt_hash": "e", "target_hash": "f", "exact_match": true,
                   "bleu": [["x"], ["y"]]}),
        ];
        let records: Vec<Map<String, Value>> = lines
            .iter()
            .map(|l| l.as_object().unwrap().clone())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples_t_2026-01-01T00-00-00.parquet");
        write_samples(&path, &records).unwrap();
        let back = read_samples(&path).unwrap();
        assert_eq!(back.len(), 2);
        // exact_match was a boolean: a DOUBLE column reads it as 1.0; everything else is as written
        let mut expected = records.clone();
        expected[1].insert("exact_match".into(), json!(1.0));
        assert_eq!(back, expected);
    }
}
