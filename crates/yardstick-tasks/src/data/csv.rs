//! CSV reading with the exact semantics of Python's `csv` module (the excel dialect: `,` delimiter, `"`
//! quote, doubled quotes, no escape character, no whitespace stripping, `strict=False`), plus the
//! pandas/Arrow type inference that Hugging Face's `csv` loader applies on top.
//!
//! Why our own parser instead of the `csv` crate: HF and the original dataset scripts read CSVs with
//! Python's `csv.reader` / `csv.DictReader` (opened with `newline=''`) or with `pandas.read_csv`, and the
//! doc hashes lm-eval logs depend on every byte of every field. Python's reader is a small, well-defined
//! state machine (CPython `Modules/_csv.c`, `parse_process_char`); reproducing it exactly is simpler than
//! proving a general-purpose parser agrees with it on every edge (a quote in the middle of an unquoted
//! field, text after a closing quote, `\r` handling, embedded newlines). It also gives us the line number
//! where each record starts, for error messages.
//!
//! Deviations from Python, all on broken input only:
//! - a quoted field still open at end of file is an error here (Python with `strict=False` silently
//!   returns the rest of the file as one field, which always means a corrupt file);
//! - blank lines are skipped (Python's `csv.reader` yields `[]` for them, which the HF MMLU script would
//!   crash on; `DictReader` and pandas skip them).

use std::path::Path;

use serde_json::{Number, Value};

use super::error::DataError;

/// One parsed record and the 1-based line on which it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CsvRecord {
    pub line: u64,
    pub fields: Vec<String>,
}

/// Strip a UTF-8 byte order mark (Python's `utf-8-sig`; pandas and HF's json loader do the same).
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parse `text` as Python's `csv.reader(open(path, newline=''))` would, with `delimiter` (ASCII).
///
/// Works on bytes: every byte the state machine reacts to (delimiter, `"`, `\r`, `\n`, NUL) is ASCII, so
/// field boundaries are always UTF-8 boundaries and fields are copied as whole slices. Line ends are
/// `\n`, `\r\n` and a lone `\r` (universal newlines, untranslated: inside quotes they are kept as-is).
pub(crate) fn parse_python_csv(
    text: &str,
    delimiter: char,
    path: &Path,
) -> Result<Vec<CsvRecord>, DataError> {
    let delim = u8::try_from(delimiter)
        .ok()
        .filter(u8::is_ascii)
        .unwrap_or(b',');
    let b = text.as_bytes();
    let n = b.len();
    let err = |line: u64, message: &str| DataError::Csv {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    };
    let mut records = Vec::new();
    let mut i = 0usize;
    let mut line: u64 = 1;
    // The index after the line terminator at `i` (`\r\n` counts once).
    let eol = |i: usize| -> usize {
        if b[i] == b'\r' && i + 1 < n && b[i + 1] == b'\n' {
            i + 2
        } else {
            i + 1
        }
    };
    while i < n {
        // Start of a record: blank lines produce nothing.
        if b[i] == b'\r' || b[i] == b'\n' {
            i = eol(i);
            line += 1;
            continue;
        }
        let record_line = line;
        let mut fields: Vec<String> = Vec::new();
        loop {
            // Start of a field.
            let mut field = String::new();
            if i < n && b[i] == b'"' {
                let quote_line = line;
                i += 1;
                loop {
                    let start = i;
                    while i < n && !matches!(b[i], b'"' | b'\r' | b'\n' | 0) {
                        i += 1;
                    }
                    field.push_str(&text[start..i]);
                    if i >= n {
                        return Err(err(quote_line, "quoted field opened here is never closed (unterminated '\"' at end of file)"));
                    }
                    match b[i] {
                        0 => return Err(err(line, "line contains NUL")),
                        b'\r' | b'\n' => {
                            let next = eol(i);
                            field.push_str(&text[i..next]);
                            i = next;
                            line += 1;
                        }
                        _ if i + 1 < n && b[i + 1] == b'"' => {
                            // a doubled quote is one literal quote
                            field.push('"');
                            i += 2;
                        }
                        _ => {
                            // the quoted part ends
                            i += 1;
                            break;
                        }
                    }
                }
                // After the closing quote (Python's QUOTE_IN_QUOTED_FIELD with strict=False), anything but a
                // delimiter or a line end is appended and the field goes on unquoted (quotes then literal).
            }
            let start = i;
            while i < n && b[i] != delim && !matches!(b[i], b'\r' | b'\n' | 0) {
                i += 1;
            }
            field.push_str(&text[start..i]);
            fields.push(field);
            if i >= n {
                break;
            }
            match b[i] {
                0 => return Err(err(line, "line contains NUL")),
                b'\r' | b'\n' => {
                    i = eol(i);
                    line += 1;
                    break;
                }
                _ => i += 1, // the delimiter: another field follows
            }
        }
        records.push(CsvRecord {
            line: record_line,
            fields,
        });
    }
    Ok(records)
}

/// pandas' default `na_values` (pandas 2.x/3.x `_NA_VALUES`): cells that `read_csv` turns into NaN.
const PANDAS_NA_VALUES: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

fn is_na(s: &str) -> bool {
    PANDAS_NA_VALUES.contains(&s)
}

fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn parse_float(s: &str) -> Option<f64> {
    // Decimal literals only: [sign] digits [. digits] [e[sign]digits] (or .digits ...). pandas also reads
    // "inf"/"infinity"; they are so rare in eval data that we leave them as strings.
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int_part = parts.next().unwrap_or("");
    let frac_part = parts.next();
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !frac_part.is_none_or(all_digits) {
        return None;
    }
    if int_part.is_empty() && frac_part.is_none_or(str::is_empty) {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !all_digits(e) {
            return None;
        }
    }
    s.parse::<f64>().ok()
}

/// The dtype pandas infers for one column (before Arrow conversion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// Every cell is NA: float64 all-NaN, i.e. nulls.
    AllNull,
    /// int64: every cell an integer literal, none missing.
    Int,
    /// float64: every non-missing cell a number (ints with missing cells end up here too).
    Float,
    /// bool: every cell True/False (pandas' default true/false values), none missing.
    Bool,
    /// object/str: anything else; missing cells are null.
    Str,
}

pub(crate) fn infer_column<'a>(cells: impl Iterator<Item = Option<&'a str>> + Clone) -> ColumnKind {
    let mut any_value = false;
    let mut any_missing = false;
    let mut all_int = true;
    let mut all_float = true;
    let mut all_bool = true;
    for cell in cells {
        match cell {
            None => any_missing = true,
            Some(s) if is_na(s) => any_missing = true,
            Some(s) => {
                any_value = true;
                if all_int && parse_int(s).is_none() {
                    all_int = false;
                }
                if all_float && parse_float(s).is_none() {
                    all_float = false;
                }
                if all_bool && !matches!(s, "True" | "TRUE" | "true" | "False" | "FALSE" | "false")
                {
                    all_bool = false;
                }
                if !all_int && !all_float && !all_bool {
                    return ColumnKind::Str;
                }
            }
        }
    }
    if !any_value {
        ColumnKind::AllNull
    } else if all_int && !any_missing {
        ColumnKind::Int
    } else if all_int || all_float {
        ColumnKind::Float
    } else if all_bool && !any_missing {
        ColumnKind::Bool
    } else {
        ColumnKind::Str
    }
}

/// The JSON value pandas + `pa.Table.from_pandas` + `datasets` give a cell of a column of `kind`.
pub(crate) fn typed_cell(kind: ColumnKind, cell: Option<&str>) -> Value {
    let Some(s) = cell.filter(|s| !is_na(s)) else {
        return Value::Null;
    };
    match kind {
        ColumnKind::AllNull => Value::Null,
        ColumnKind::Int => parse_int(s)
            .map(|i| Value::Number(i.into()))
            .unwrap_or(Value::Null),
        ColumnKind::Float => parse_float(s)
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        ColumnKind::Bool => Value::Bool(matches!(s, "True" | "TRUE" | "true")),
        ColumnKind::Str => Value::String(s.to_string()),
    }
}

/// The string a cell becomes when a pandas-inferred column is cast to an Arrow `string` feature (what the
/// `datasets` ArrowWriter does for a script that declares `Value("string")` but yields pandas numbers, e.g.
/// the CMMLU loader on an all-numeric choice column).
pub(crate) fn cell_as_feature_string(kind: ColumnKind, cell: Option<&str>) -> Value {
    match typed_cell(kind, cell) {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::String(if b { "true" } else { "false" }.into()),
        Value::Number(n) => Value::String(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if kind == ColumnKind::Int => i.to_string(),
            (_, Some(f)) => arrow_f64_to_string(f),
            _ => n.to_string(),
        }),
        other => other,
    }
}

/// Arrow's double → string cast (`arrow::internal::FloatToStringFormatter`, double-conversion shortest
/// representation): plain decimal for exponents in [-6, 15), otherwise `d.ddde+N` / `d.ddde-N`; no
/// trailing `.0`; `inf`, `-inf`, `nan`; `-0` for negative zero.
pub(crate) fn arrow_f64_to_string(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    // Rust's `{:e}` is the shortest round-trip representation: "d[.ddd]e[-]N".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-6..15).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if (point as usize) >= digits.len() {
            format!(
                "{sign}{digits}{}",
                "0".repeat(point as usize - digits.len())
            )
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let exp_sign = if exp >= 0 { "+" } else { "-" };
        format!("{sign}{mantissa}e{exp_sign}{}", exp.abs())
    }
}

/// pandas' column naming for a header row: empty names become `Unnamed: {i}`, repeated names get `.1`,
/// `.2`, ... suffixes.
pub(crate) fn pandas_column_names(header: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let base = if h.is_empty() {
            format!("Unnamed: {i}")
        } else {
            h.clone()
        };
        let mut name = base.clone();
        let mut k = 1;
        while names.contains(&name) {
            name = format!("{base}.{k}");
            k += 1;
        }
        names.push(name);
    }
    names
}

/// A CSV with a header row, typed as HF's `csv` loader (`pandas.read_csv` defaults, then
/// `pa.Table.from_pandas`) types it. See [`infer_column`] for the rule.
pub(crate) fn csv_to_docs(
    text: &str,
    delimiter: char,
    path: &Path,
) -> Result<Vec<yardstick_core::Doc>, DataError> {
    let records = parse_python_csv(strip_bom(text), delimiter, path)?;
    let Some((header, rows)) = records.split_first() else {
        return Ok(Vec::new());
    };
    let names = pandas_column_names(&header.fields);
    for r in rows {
        if r.fields.len() > names.len() {
            return Err(DataError::Csv {
                path: path.to_path_buf(),
                line: r.line,
                message: format!(
                    "expected {} fields (the header's), saw {}",
                    names.len(),
                    r.fields.len()
                ),
            });
        }
    }
    let kinds: Vec<ColumnKind> = (0..names.len())
        .map(|c| {
            infer_column(
                rows.iter()
                    .map(move |r| r.fields.get(c).map(String::as_str)),
            )
        })
        .collect();
    Ok(rows
        .iter()
        .map(|r| {
            names
                .iter()
                .zip(&kinds)
                .enumerate()
                .map(|(c, (name, kind))| {
                    (
                        name.clone(),
                        typed_cell(*kind, r.fields.get(c).map(String::as_str)),
                    )
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Vec<Vec<String>> {
        parse_python_csv(s, ',', Path::new("t.csv"))
            .unwrap()
            .into_iter()
            .map(|r| r.fields)
            .collect()
    }

    #[test]
    fn python_csv_edge_cases() {
        assert_eq!(parse("a,b\n"), vec![vec!["a", "b"]]);
        assert_eq!(parse("a,b"), vec![vec!["a", "b"]]);
        assert_eq!(parse("a,,\n"), vec![vec!["a", "", ""]]);
        assert_eq!(
            parse("\"x,y\",\"he said \"\"hi\"\"\"\n"),
            vec![vec!["x,y", "he said \"hi\""]]
        );
        // embedded newlines are kept byte for byte, \r\n included
        assert_eq!(
            parse("\"l1\r\nl2\nl3\",z\r\n"),
            vec![vec!["l1\r\nl2\nl3", "z"]]
        );
        // a quote inside an unquoted field is literal; text after a closing quote is appended
        assert_eq!(parse("ab\"c,\"q\"x\n"), vec![vec!["ab\"c", "qx"]]);
        // no stripping
        assert_eq!(parse(" a , b \n"), vec![vec![" a ", " b "]]);
        // blank lines are skipped; lone \r ends a line
        assert_eq!(
            parse("a\n\nb\rc\r\n"),
            vec![vec!["a"], vec!["b"], vec!["c"]]
        );
        // empty quoted field
        assert_eq!(parse("\"\",x\n"), vec![vec!["", "x"]]);
    }

    #[test]
    fn record_lines_and_errors() {
        let recs = parse_python_csv("a\n\"b\nc\"\nd\n", ',', Path::new("t.csv")).unwrap();
        assert_eq!(
            recs.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![1, 2, 4]
        );
        let err = parse_python_csv("a\n\"open\nx\n", ',', Path::new("t.csv")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:2: quoted field opened here is never closed (unterminated '\"' at end of file)"
        );
        let err = parse_python_csv("a\nb\0\n", ',', Path::new("t.csv")).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:2: line contains NUL");
    }

    #[test]
    fn pandas_inference() {
        let docs = csv_to_docs(
            "\u{feff}i,f,s,b,m,e,,i\n1,1.5,x,True,1,,u,7\n-2,2,3,false,,,v,8\n",
            ',',
            Path::new("t.csv"),
        )
        .unwrap();
        let j = serde_json::to_string(&docs).unwrap();
        assert_eq!(
            j,
            r#"[{"i":1,"f":1.5,"s":"x","b":true,"m":1.0,"e":null,"Unnamed: 6":"u","i.1":7},{"i":-2,"f":2.0,"s":"3","b":false,"m":null,"e":null,"Unnamed: 6":"v","i.1":8}]"#
        );
    }

    #[test]
    fn arrow_float_strings() {
        let cases = [
            (1.0, "1"),
            (0.23, "0.23"),
            (1e-7, "1e-7"),
            (1e21, "1e+21"),
            (1e16, "1e+16"),
            (123456789.0, "123456789"),
            (-0.05, "-0.05"),
            (1e-5, "0.00001"),
            (1e-6, "0.000001"),
            (1.25e-7, "1.25e-7"),
            (1e15, "1e+15"),
            (1e14, "100000000000000"),
            (1234567890123456.0, "1.234567890123456e+15"),
            (-0.0, "-0"),
            (100.0, "100"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (x, want) in cases {
            assert_eq!(arrow_f64_to_string(x), want, "{x}");
        }
    }
}
