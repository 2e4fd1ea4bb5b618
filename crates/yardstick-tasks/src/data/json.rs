//! JSON / JSON Lines / text files typed the way Hugging Face `datasets` (5.x, the version a fresh
//! `pip install lm-eval==0.4.13` resolves to) types them in its `json` and `text` loaders.
//!
//! The `json` loader (`datasets/packaged_modules/json/json.py`):
//! - a file starting with `[` is a JSON array: an array of objects becomes rows, an array of strings
//!   becomes rows `{"text": s}`; anything else is JSON Lines (blank lines skipped); a UTF-8 BOM is dropped;
//! - columns are the union of the rows' keys in order of first appearance; a row lacking a key gets null;
//! - each column gets one Arrow type (pyarrow's JSON inference): integers stay integers unless a float is
//!   seen in the same column (then every value becomes a float: `1` → `1.0`); objects become structs whose
//!   fields are the union of keys in first-seen order, missing fields null, so every value of a struct
//!   column has the same keys in the same order; strings that are all ISO-8601 timestamps become
//!   timestamps (`YYYY-MM-DD HH:MM:SS` here, what lm-eval's `str()` fallback writes);
//! - **except** where `datasets` keeps a field as opaque JSON (`Json` feature, `on_mixed_types="use_json"`):
//!   a nested field whose objects do not all have the same key set (or are empty), a field mixing
//!   objects/lists with other kinds, or a field whose scalar kinds conflict (number vs string). Such values
//!   are kept exactly as written. (IFEval's `kwargs`, a list of differently-shaped objects, is the common
//!   case; `datasets` < 5 turned it into a struct with every key and nulls instead.)

use std::path::Path;

use serde_json::{Map, Number, Value};
use yardstick_core::Doc;

use super::csv::strip_bom;
use super::error::DataError;

/// One step of a field path: an object key, or "any element of a list".
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Elem,
}

/// The inferred Arrow-like type of a column or nested field.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Null,
    Bool,
    Int,
    Float,
    Timestamp,
    Str,
    List(Box<Ty>),
    Struct(Vec<(String, Ty)>),
    /// Kept as written (`datasets`' `Json` feature, or a kind conflict).
    Raw,
}

/// Parse a `.json` / `.jsonl` file into rows (no typing yet).
fn parse_rows(text: &str, path: &Path) -> Result<Vec<Map<String, Value>>, DataError> {
    let text = strip_bom(text);
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        parse_array_rows(text, trimmed, path)
    } else {
        parse_json_lines_rows(text, trimmed, path)
    }
}

/// A top-level JSON array: its objects, or `{"text": s}` per string.
fn parse_array_rows(
    text: &str,
    trimmed: &str,
    path: &Path,
) -> Result<Vec<Map<String, Value>>, DataError> {
    let value: Value = serde_json::from_str(text).map_err(|e| DataError::Json {
        path: path.to_path_buf(),
        line: e.line() as u64,
        column: e.column() as u64,
        message: json_error_message(&e),
    })?;
    let Value::Array(items) = value else {
        return Err(DataError::Json {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "expected a JSON array".into(),
        });
    };
    let objects = array_of_objects(trimmed);
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match (objects, item) {
            (true, Value::Object(m)) => Ok(m),
            (false, Value::String(s)) => {
                let mut m = Map::new();
                m.insert("text".into(), Value::String(s));
                Ok(m)
            }
            (_, other) => Err(DataError::Json {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: format!(
                    "element {i} of the top-level array is {}, expected {}",
                    kind_name(&other),
                    if objects { "an object" } else { "a string" }
                ),
            }),
        })
        .collect()
}

/// HF: a '{' before the first '"' in the first 100 bytes means "list of objects", else "list of strings".
fn array_of_objects(trimmed: &str) -> bool {
    let head = &trimmed.as_bytes()[..trimmed.len().min(100)];
    let before_quote = head.split(|b| *b == b'"').next().unwrap_or(head);
    before_quote.contains(&b'{')
}

/// JSON Lines: one object per non-blank line.
fn parse_json_lines_rows(
    text: &str,
    trimmed: &str,
    path: &Path,
) -> Result<Vec<Map<String, Value>>, DataError> {
    let mut rows = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| {
            let hint = if i == 0 && trimmed.starts_with('{') && serde_json::from_str::<Value>(text).is_ok() {
                " (the file is one JSON object; HF needs `field=` to pick the list of records in it, which Yardstick's data_files loader does not take: give a JSON Lines file or a top-level array)"
            } else {
                ""
            };
            DataError::Json { path: path.to_path_buf(), line: i as u64 + 1, column: e.column() as u64, message: format!("{}{hint}", json_error_message(&e)) }
        })?;
        match value {
            Value::Object(m) => rows.push(m),
            other => {
                return Err(DataError::Json {
                    path: path.to_path_buf(),
                    line: i as u64 + 1,
                    column: 1,
                    message: format!(
                        "expected a JSON object per line, found {}",
                        kind_name(&other)
                    ),
                })
            }
        }
    }
    Ok(rows)
}

/// serde_json's message without its trailing " at line L column C" (our errors put the position first).
pub(crate) fn json_error_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `datasets.utils.json.find_mixed_struct_types_field_paths` (non-root): the field paths `datasets` keeps as
/// opaque JSON.
fn mixed_struct_paths(rows: &[Map<String, Value>]) -> Vec<Vec<Seg>> {
    let mut out = Vec::new();
    // Root: rows are all objects; recurse into each field (root-level key differences are fine).
    let mut queue: std::collections::VecDeque<(Vec<Seg>, Vec<&Value>)> =
        std::collections::VecDeque::new();
    let mut keys: Vec<&String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    for k in keys {
        let vals: Vec<&Value> = rows
            .iter()
            .filter_map(|r| r.get(k))
            .filter(|v| !v.is_null())
            .collect();
        if !vals.is_empty() {
            queue.push_back((vec![Seg::Key(k.clone())], vals));
        }
    }
    while let Some((path, content)) = queue.pop_front() {
        if content.iter().all(|v| v.is_object()) {
            let first: Vec<&String> = content[0]
                .as_object()
                .map(|m| m.keys().collect())
                .unwrap_or_default();
            let same = |m: &Map<String, Value>| {
                m.len() == first.len() && first.iter().all(|k| m.contains_key(*k))
            };
            if first.is_empty()
                || content
                    .iter()
                    .any(|v| v.as_object().is_some_and(|m| !same(m)))
            {
                out.push(path);
            } else {
                for k in first {
                    let vals: Vec<&Value> = content
                        .iter()
                        .filter_map(|v| v.get(k.as_str()))
                        .filter(|v| !v.is_null())
                        .collect();
                    if !vals.is_empty() {
                        let mut p = path.clone();
                        p.push(Seg::Key(k.clone()));
                        queue.push_back((p, vals));
                    }
                }
            }
        } else if content.iter().all(|v| v.is_array()) {
            let vals: Vec<&Value> = content
                .iter()
                .flat_map(|v| v.as_array().into_iter().flatten())
                .filter(|v| !v.is_null())
                .collect();
            if !vals.is_empty() {
                let mut p = path.clone();
                p.push(Seg::Elem);
                queue.push_back((p, vals));
            }
        } else if content.iter().any(|v| v.is_object() || v.is_array()) {
            out.push(path);
        }
    }
    out
}

fn is_iso_timestamp(s: &str) -> bool {
    // pyarrow's JSON reader turns ISO-8601 strings into timestamp[s]: YYYY-MM-DD, optionally followed by
    // [T ]hh:mm or [T ]hh:mm:ss, optionally 'Z'.
    let b = s.strip_suffix('Z').unwrap_or(s).as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let date_ok = b.len() >= 10
        && (0..4).all(d)
        && b[4] == b'-'
        && d(5)
        && d(6)
        && b[7] == b'-'
        && d(8)
        && d(9);
    if !date_ok {
        return false;
    }
    match b.len() {
        10 => true,
        16 | 19 => {
            (b[10] == b'T' || b[10] == b' ')
                && d(11)
                && d(12)
                && b[13] == b':'
                && d(14)
                && d(15)
                && (b.len() == 16 || (b[16] == b':' && d(17) && d(18)))
        }
        _ => false,
    }
}

fn render_timestamp(s: &str) -> String {
    let s = s.strip_suffix('Z').unwrap_or(s);
    match s.len() {
        10 => format!("{s} 00:00:00"),
        16 => format!("{} {}:00", &s[..10], &s[11..]),
        _ => format!("{} {}", &s[..10], &s[11..]),
    }
}

fn infer(v: &Value, path: &mut Vec<Seg>, raw: &[Vec<Seg>]) -> Ty {
    if raw.iter().any(|p| p == path) {
        return Ty::Raw;
    }
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Bool,
        Value::Number(n) => {
            if n.is_f64() {
                Ty::Float
            } else {
                Ty::Int
            }
        }
        Value::String(s) => {
            if is_iso_timestamp(s) {
                Ty::Timestamp
            } else {
                Ty::Str
            }
        }
        Value::Array(items) => {
            path.push(Seg::Elem);
            let mut t = Ty::Null;
            for it in items {
                let ti = infer(it, path, raw);
                t = unify(t, ti);
            }
            path.pop();
            Ty::List(Box::new(t))
        }
        Value::Object(m) => {
            let mut fields = Vec::with_capacity(m.len());
            for (k, x) in m {
                path.push(Seg::Key(k.clone()));
                fields.push((k.clone(), infer(x, path, raw)));
                path.pop();
            }
            Ty::Struct(fields)
        }
    }
}

fn unify(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Null, t) | (t, Ty::Null) => t,
        (Ty::Raw, _) | (_, Ty::Raw) => Ty::Raw,
        (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
        (Ty::Timestamp, Ty::Str) | (Ty::Str, Ty::Timestamp) => Ty::Str,
        (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(unify(*x, *y))),
        (Ty::Struct(mut xs), Ty::Struct(ys)) => {
            for (k, t) in ys {
                if let Some(slot) = xs.iter_mut().find(|(name, _)| *name == k) {
                    let old = std::mem::replace(&mut slot.1, Ty::Null);
                    slot.1 = unify(old, t);
                } else {
                    xs.push((k, t));
                }
            }
            Ty::Struct(xs)
        }
        (x, y) if x == y => x,
        _ => Ty::Raw,
    }
}

fn conform(v: Value, t: &Ty) -> Value {
    match (t, v) {
        (_, Value::Null) => Value::Null,
        (Ty::Float, Value::Number(n)) if !n.is_f64() => n
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (Ty::Timestamp, Value::String(s)) => Value::String(render_timestamp(&s)),
        (Ty::List(inner), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|x| conform(x, inner)).collect())
        }
        (Ty::Struct(fields), Value::Object(mut m)) => {
            let mut out = Map::with_capacity(fields.len());
            for (k, ft) in fields {
                let x = m.remove(k).unwrap_or(Value::Null);
                out.insert(k.clone(), conform(x, ft));
            }
            Value::Object(out)
        }
        (_, v) => v,
    }
}

/// A float as `datasets` has it after writing it with pandas' ujson (`double_precision=10`) and reading it
/// back: zero loses its sign; magnitudes in [1e-15, 1e16] are written in fixed notation rounded to 10
/// decimals (`0.1234567890123` → `0.123456789`, `1e-11` → `0.0`); others in shortest exponential notation,
/// unchanged. (pandas' ujson also reads numbers imprecisely, which can move a value sitting exactly on a
/// rounding boundary of the 10th decimal by one unit; that is not reproduced.)
fn ujson_float(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    if v == 0.0 {
        return 0.0;
    }
    let a = v.abs();
    if !(1e-15..=1e16).contains(&a) {
        return v;
    }
    format!("{v:.10}").parse().unwrap_or(v)
}

/// Every float of a value through [`ujson_float`].
fn ujson_round_trip(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            .map(ujson_float)
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Number(n)),
        Value::Array(items) => Value::Array(items.into_iter().map(ujson_round_trip).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, ujson_round_trip(x)))
                .collect(),
        ),
        v => v,
    }
}

fn has_raw(t: &Ty) -> bool {
    match t {
        Ty::Raw => true,
        Ty::List(inner) => has_raw(inner),
        Ty::Struct(fields) => fields.iter().any(|(_, t)| has_raw(t)),
        _ => false,
    }
}

/// Type rows as a table: union of columns in first-seen order, one type per column (see module docs).
/// `datasets` re-encodes rows with pandas' ujson before typing them when the file is a JSON array, or when
/// any field is kept as JSON (mixed types): then every float goes through [`ujson_float`] (`reencoded`
/// says the former; the latter is found here).
pub(crate) fn type_rows(rows: Vec<Map<String, Value>>, reencoded: bool) -> Vec<Doc> {
    if rows.is_empty() {
        return Vec::new();
    }
    let raw = mixed_struct_paths(&rows);
    let mut columns: Vec<(String, Ty)> = Vec::new();
    let mut path = Vec::new();
    for r in &rows {
        for (k, v) in r {
            path.clear();
            path.push(Seg::Key(k.clone()));
            let t = infer(v, &mut path, &raw);
            if let Some(slot) = columns.iter_mut().find(|(name, _)| name == k) {
                let old = std::mem::replace(&mut slot.1, Ty::Null);
                slot.1 = unify(old, t);
            } else {
                columns.push((k.clone(), t));
            }
        }
    }
    let rows: Vec<Map<String, Value>> = if reencoded || columns.iter().any(|(_, t)| has_raw(t)) {
        rows.into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|(k, v)| (k, ujson_round_trip(v)))
                    .collect()
            })
            .collect()
    } else {
        rows
    };
    // Fast path: every row already has exactly the columns, in order, and no value needs converting.
    let trivial = columns
        .iter()
        .all(|(_, t)| matches!(t, Ty::Null | Ty::Bool | Ty::Int | Ty::Str | Ty::Raw));
    rows.into_iter()
        .map(|mut r| {
            if trivial
                && r.len() == columns.len()
                && r.keys().zip(&columns).all(|(a, (b, _))| a == b)
            {
                return r;
            }
            let mut out = Map::with_capacity(columns.len());
            for (k, t) in &columns {
                let v = r.remove(k).unwrap_or(Value::Null);
                out.insert(k.clone(), conform(v, t));
            }
            out
        })
        .collect()
}

/// Read a `.json` or `.jsonl` file as HF's `json` loader does.
pub(crate) fn json_to_docs(text: &str, path: &Path) -> Result<Vec<Doc>, DataError> {
    let array = strip_bom(text).trim_start().starts_with('[');
    Ok(type_rows(parse_rows(text, path)?, array))
}

/// Read JSON Lines without any table typing (each line's object as written). For original-release files
/// whose HF dataset was built by a script that copies fields through.
pub(crate) fn jsonl_objects(text: &str, path: &Path) -> Result<Vec<Map<String, Value>>, DataError> {
    parse_rows(text, path)
}

/// HF's `text` loader: one row `{"text": line}` per line (universal newlines, line breaks dropped, empty
/// lines kept, no row after a final newline).
pub(crate) fn text_to_docs(text: &str) -> Vec<Doc> {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines: Vec<&str> = normalized.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| {
            let mut m = Map::new();
            m.insert("text".into(), Value::String(l.to_string()));
            m
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(s: &str) -> String {
        serde_json::to_string(&json_to_docs(s, Path::new("t.jsonl")).unwrap()).unwrap()
    }

    #[test]
    fn union_of_columns_and_numeric_promotion() {
        assert_eq!(
            docs("{\"a\":1,\"s\":{\"x\":1}}\n\n{\"a\":2.5,\"s\":{\"x\":3},\"b\":true}\n"),
            r#"[{"a":1.0,"s":{"x":1},"b":null},{"a":2.5,"s":{"x":3},"b":true}]"#
        );
    }

    #[test]
    fn struct_field_order_and_mixed_keys_kept_raw() {
        // same key set, different order: struct in first-seen order
        assert_eq!(
            docs("{\"s\":{\"x\":1,\"y\":2}}\n{\"s\":{\"y\":3,\"x\":4}}\n"),
            r#"[{"s":{"x":1,"y":2}},{"s":{"x":4,"y":3}}]"#
        );
        // differing key sets (IFEval kwargs): kept as written
        assert_eq!(
            docs("{\"k\":[{},{\"n\":3}]}\n{\"k\":[{\"r\":\"a\",\"n\":1}]}\n"),
            r#"[{"k":[{},{"n":3}]},{"k":[{"r":"a","n":1}]}]"#
        );
        // scalar conflict: kept as written
        assert_eq!(docs("{\"v\":1}\n{\"v\":\"x\"}\n"), r#"[{"v":1},{"v":"x"}]"#);
    }

    #[test]
    fn arrays_bom_and_timestamps() {
        assert_eq!(
            docs("\u{feff}[{\"a\":1},{\"b\":2}]"),
            r#"[{"a":1,"b":null},{"a":null,"b":2}]"#
        );
        assert_eq!(docs("[\"x\",\"y\"]"), r#"[{"text":"x"},{"text":"y"}]"#);
        assert_eq!(
            docs("{\"d\":\"2020-01-01\"}\n{\"d\":\"2020-01-02T10:00\"}\n"),
            r#"[{"d":"2020-01-01 00:00:00"},{"d":"2020-01-02 10:00:00"}]"#
        );
        assert_eq!(
            docs("{\"d\":\"2020-01-01\"}\n{\"d\":\"soon\"}\n"),
            r#"[{"d":"2020-01-01"},{"d":"soon"}]"#
        );
    }

    #[test]
    fn errors_have_line_and_column() {
        let e = json_to_docs("{\"a\":1}\n{\"a\": tru}\n", Path::new("bad.jsonl")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("bad.jsonl:2:"), "{msg}");
        let e = json_to_docs("[{\"a\":1},\n {\"a\":,}]", Path::new("bad.json")).unwrap_err();
        assert!(e.to_string().starts_with("bad.json:2:7:"), "{e}");
    }

    #[test]
    fn text_loader() {
        let d = text_to_docs("a\r\n\nb\rc\n");
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"[{"text":"a"},{"text":""},{"text":"b"},{"text":"c"}]"#
        );
    }
}

#[cfg(test)]
mod ujson_tests {
    use super::*;

    // the literals are the Python inputs as written
    /// Values read back from `datasets.utils.json.ujson_dumps` (pandas 3.1) of each input, in the peers'
    /// virtualenv.
    #[test]
    #[allow(clippy::excessive_precision)]
    fn floats_as_pandas_ujson_writes_them() {
        for (v, want) in [
            (0.5f64, 0.5f64),
            (0.1234567890123456, 0.123456789),
            (1e16, 1e16),
            (2.5e-07, 2.5e-07),
            (-0.0, 0.0),
            (1e300, 1e300),
            (0.30000000000000004, 0.3),
            (1e-11, 0.0),
            (1e-15, 0.0),
            (1e-16, 1e-16),
            (123456.12345678901, 123456.123456789),
            (1000000000000000.3, 1000000000000000.25),
            (1e17, 1e17),
            (1.2345678901234567e-5, 0.0000123457),
        ] {
            let got = ujson_float(v);
            assert_eq!(got.to_bits(), want.to_bits(), "{v:e}: {got:e} vs {want:e}");
        }
    }

    #[test]
    fn a_batch_with_a_mixed_field_or_a_json_array_is_reencoded() {
        let rows = |text: &str| parse_rows(text, Path::new("t.jsonl")).unwrap();
        let plain = type_rows(rows("{\"x\": -0.0}\n{\"x\": 0.12345678901234}\n"), false);
        assert!(plain[0]["x"].as_f64().unwrap().is_sign_negative());
        let mixed = type_rows(
            rows("{\"x\": -0.0, \"y\": [1, \"a\"]}\n{\"x\": 0.12345678901234, \"y\": []}\n"),
            false,
        );
        assert!(mixed[0]["x"].as_f64().unwrap().is_sign_positive());
        assert_eq!(mixed[1]["x"], serde_json::json!(0.123456789));
        let array = json_to_docs("[{\"x\": 0.12345678901234}]", Path::new("t.json")).unwrap();
        assert_eq!(array[0]["x"], serde_json::json!(0.123456789));
    }
}
