//! A JSON value with Python's distinctions (int vs float, NaN/Infinity allowed) and a serializer
//! that writes exactly what CPython's `json.dumps(obj, ensure_ascii=False)` writes, with or
//! without `indent`. lm-eval hashes `json.dumps(doc, indent=2, ensure_ascii=False)` for `doc_hash`
//! and writes its result and sample files with these settings, so byte equality matters
//! ([`doc_hash`]).

use indexmap::IndexMap;

use super::float::py_float_repr;

/// A Python JSON-able value.
#[derive(Clone, Debug, PartialEq)]
pub enum PyJson {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<PyJson>),
    Dict(IndexMap<String, PyJson>),
}

impl PyJson {
    pub fn str(s: impl Into<String>) -> Self {
        PyJson::Str(s.into())
    }

    pub fn dict() -> Self {
        PyJson::Dict(IndexMap::new())
    }

    /// Insert into a dict (no-op on other variants).
    pub fn insert(&mut self, key: impl Into<String>, value: PyJson) {
        if let PyJson::Dict(m) = self {
            m.insert(key.into(), value);
        }
    }

    pub fn get(&self, key: &str) -> Option<&PyJson> {
        match self {
            PyJson::Dict(m) => m.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyJson::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `json.dumps(self, ensure_ascii=False)` (separators `", "` and `": "`).
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, None, 0);
        out
    }

    /// `json.dumps(self, indent=indent, ensure_ascii=False)` (separators `","` and `": "`).
    pub fn dumps_indent(&self, indent: usize) -> String {
        let mut out = String::new();
        write_value(&mut out, self, Some(indent), 0);
        out
    }
}

impl From<&serde_json::Value> for PyJson {
    fn from(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => PyJson::None,
            serde_json::Value::Bool(b) => PyJson::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    PyJson::Int(i as i128)
                } else if let Some(u) = n.as_u64() {
                    PyJson::Int(u as i128)
                } else {
                    PyJson::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => PyJson::Str(s.clone()),
            serde_json::Value::Array(a) => PyJson::List(a.iter().map(PyJson::from).collect()),
            serde_json::Value::Object(o) => PyJson::Dict(
                o.iter()
                    .map(|(k, v)| (k.clone(), PyJson::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<serde_json::Value> for PyJson {
    fn from(v: serde_json::Value) -> Self {
        PyJson::from(&v)
    }
}

impl From<&serde_json::Map<String, serde_json::Value>> for PyJson {
    fn from(m: &serde_json::Map<String, serde_json::Value>) -> Self {
        PyJson::Dict(
            m.iter()
                .map(|(k, v)| (k.clone(), PyJson::from(v)))
                .collect(),
        )
    }
}

impl From<&str> for PyJson {
    fn from(s: &str) -> Self {
        PyJson::Str(s.to_string())
    }
}

impl From<String> for PyJson {
    fn from(s: String) -> Self {
        PyJson::Str(s)
    }
}

impl From<f64> for PyJson {
    fn from(x: f64) -> Self {
        PyJson::Float(x)
    }
}

impl From<i64> for PyJson {
    fn from(x: i64) -> Self {
        PyJson::Int(x as i128)
    }
}

impl From<usize> for PyJson {
    fn from(x: usize) -> Self {
        PyJson::Int(x as i128)
    }
}

impl From<bool> for PyJson {
    fn from(b: bool) -> Self {
        PyJson::Bool(b)
    }
}

impl<T: Into<PyJson>> From<Option<T>> for PyJson {
    fn from(o: Option<T>) -> Self {
        match o {
            Some(v) => v.into(),
            None => PyJson::None,
        }
    }
}

/// Parse JSON text into a [`PyJson`] (keeping int/float distinct and key order; accepts Python's
/// `NaN`, `Infinity` and `-Infinity`).
pub fn parse(text: &str) -> Result<PyJson, serde_json::Error> {
    // serde_json rejects NaN/Infinity; lm-eval writes them. Replace them outside strings with
    // sentinels, then map the sentinels back.
    const NAN: &str = "\"\\u0000__pyjson_nan__\"";
    const INF: &str = "\"\\u0000__pyjson_inf__\"";
    const NINF: &str = "\"\\u0000__pyjson_ninf__\"";
    let mut cleaned = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let c = bytes[i];
        if in_str {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_str = false;
            }
        } else if c == b'"' {
            in_str = true;
        } else if text[i..].starts_with("NaN") {
            cleaned.push_str(NAN);
            i += 3;
            continue;
        } else if text[i..].starts_with("-Infinity") {
            cleaned.push_str(NINF);
            i += 9;
            continue;
        } else if text[i..].starts_with("Infinity") {
            cleaned.push_str(INF);
            i += 8;
            continue;
        }
        let ch_len = text[i..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
        cleaned.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    let v: serde_json::Value = serde_json::from_str(&cleaned)?;
    fn fix(v: PyJson) -> PyJson {
        match v {
            PyJson::Str(s) if s == "\u{0}__pyjson_nan__" => PyJson::Float(f64::NAN),
            PyJson::Str(s) if s == "\u{0}__pyjson_inf__" => PyJson::Float(f64::INFINITY),
            PyJson::Str(s) if s == "\u{0}__pyjson_ninf__" => PyJson::Float(f64::NEG_INFINITY),
            PyJson::List(l) => PyJson::List(l.into_iter().map(fix).collect()),
            PyJson::Dict(m) => PyJson::Dict(m.into_iter().map(|(k, v)| (k, fix(v))).collect()),
            other => other,
        }
    }
    Ok(fix(PyJson::from(&v)))
}

/// lm-eval's `doc_hash`: the sha256 (hex) of `json.dumps(doc, indent=2, ensure_ascii=False)`, with
/// the document's keys in their stored order.
pub fn doc_hash(doc: &serde_json::Map<String, serde_json::Value>) -> String {
    crate::sha256_hex(PyJson::from(doc).dumps_indent(2))
}

/// `json.encoder.py_encode_basestring` (ensure_ascii=False): quotes, backslash and control characters
/// escaped, everything else (including non-ASCII and DEL) written as is.
pub fn encode_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `float.__repr__` as the json encoder writes floats (NaN and infinities as JavaScript names).
pub fn encode_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x == f64::INFINITY {
        "Infinity".to_string()
    } else if x == f64::NEG_INFINITY {
        "-Infinity".to_string()
    } else {
        py_float_repr(x)
    }
}

/// Before the `k`-th item of a list or dict at `level`: `, ` inline, or `,` and a new indented line.
fn item_separator(out: &mut String, indent: Option<usize>, k: usize, level: usize) {
    match indent {
        Some(n) => {
            if k > 0 {
                out.push(',');
            }
            newline_indent(out, n, level + 1);
        }
        None => {
            if k > 0 {
                out.push_str(", ");
            }
        }
    }
}

fn newline_indent(out: &mut String, indent: usize, level: usize) {
    out.push('\n');
    for _ in 0..indent * level {
        out.push(' ');
    }
}

fn write_value(out: &mut String, v: &PyJson, indent: Option<usize>, level: usize) {
    match v {
        PyJson::None => out.push_str("null"),
        PyJson::Bool(true) => out.push_str("true"),
        PyJson::Bool(false) => out.push_str("false"),
        PyJson::Int(i) => out.push_str(&i.to_string()),
        PyJson::Float(x) => out.push_str(&encode_float(*x)),
        PyJson::Str(s) => encode_str(out, s),
        PyJson::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                item_separator(out, indent, k, level);
                write_value(out, item, indent, level + 1);
            }
            if let Some(n) = indent {
                newline_indent(out, n, level);
            }
            out.push(']');
        }
        PyJson::Dict(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (k, (key, item)) in map.iter().enumerate() {
                item_separator(out, indent, k, level);
                encode_str(out, key);
                out.push_str(": ");
                write_value(out, item, indent, level + 1);
            }
            if let Some(n) = indent {
                newline_indent(out, n, level);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_indented() {
        let v = parse(r#"{"a": [1, 2.5, "x\u0001\n\"é"], "b": {}, "c": [], "d": null, "e": true, "f": 1e-07, "g": 1.0, "h": NaN}"#)
            .unwrap();
        assert_eq!(
            v.dumps(),
            "{\"a\": [1, 2.5, \"x\\u0001\\n\\\"é\"], \"b\": {}, \"c\": [], \"d\": null, \"e\": true, \"f\": 1e-07, \"g\": 1.0, \"h\": NaN}"
        );
        assert_eq!(
            v.dumps_indent(2),
            "{\n  \"a\": [\n    1,\n    2.5,\n    \"x\\u0001\\n\\\"é\"\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": null,\n  \"e\": true,\n  \"f\": 1e-07,\n  \"g\": 1.0,\n  \"h\": NaN\n}"
        );
    }

    #[test]
    fn serde_values_dump_like_python() {
        // Integers stay integers (also beyond i64), floats use Python's repr, keys keep their order.
        let v: serde_json::Value = serde_json::from_str(
            r#"{"z": 18446744073709551615, "a": -3, "f": 100.0, "e": 1e16, "s": "中\t\u007f", "l": [[], {}]}"#,
        )
        .unwrap();
        assert_eq!(
            PyJson::from(&v).dumps_indent(2),
            "{\n  \"z\": 18446744073709551615,\n  \"a\": -3,\n  \"f\": 100.0,\n  \"e\": 1e+16,\n  \"s\": \"中\\t\u{7f}\",\n  \"l\": [\n    [],\n    {}\n  ]\n}"
        );
        let doc = v.as_object().unwrap();
        assert_eq!(
            doc_hash(doc),
            crate::sha256_hex(PyJson::from(&v).dumps_indent(2))
        );
    }
}
