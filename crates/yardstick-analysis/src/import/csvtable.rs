//! A CSV file read whole, with column lookup by name and errors that name the file, line and column.

use crate::country::parse_date;
use crate::error::{AnalysisError, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// `12,345` / `-1,234,567.89`: an integer part in groups of three after a first group of one to three
/// digits not starting with 0, then an optional fraction.
fn is_thousands_grouped(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let mut groups = int.split(',');
    let first = groups.next().unwrap_or("");
    if first.is_empty()
        || first.len() > 3
        || first.starts_with('0')
        || !first.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let mut n = 0;
    for g in groups {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        n += 1;
    }
    n > 0
}

/// A parsed CSV table. Line numbers are 1-based file lines (the header is line 1).
pub struct CsvTable {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

impl CsvTable {
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<CsvTable> {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| AnalysisError::File {
                path: path.to_path_buf(),
                message: format!("cannot read the CSV header: {e}"),
            })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                AnalysisError::Field {
                    path: path.to_path_buf(),
                    line,
                    column: "(row)".into(),
                    message: format!("malformed CSV row: {e}"),
                }
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            rows.push((line, rec.iter().map(str::to_string).collect()));
        }
        Ok(CsvTable {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// Index of a column; error naming the file, the column and the columns present.
    pub fn col(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| AnalysisError::File {
                path: self.path.clone(),
                message: format!(
                    "missing column '{name}' (this file looks like {}; its columns are: {})",
                    self.kind_hint(),
                    self.header.join(", ")
                ),
            })
    }

    /// Index of a column if present.
    pub fn opt_col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn kind_hint(&self) -> &'static str {
        if self.header.iter().any(|h| h.starts_with("evaluations_")) {
            "an Open LLM Leaderboard v2 export"
        } else if self.header.iter().any(|h| h == "fullname") {
            "an Open LLM Leaderboard v1 export"
        } else if self.header.iter().any(|h| h == "Model version") {
            "an Epoch Benchmarking Hub file"
        } else {
            "an LMArena leaderboard"
        }
    }

    /// Error at a cell.
    pub fn err(&self, line: u64, col: usize, message: impl Into<String>) -> AnalysisError {
        AnalysisError::Field {
            path: self.path.clone(),
            line,
            column: self.header.get(col).cloned().unwrap_or_default(),
            message: message.into(),
        }
    }

    /// A trimmed cell; None when blank.
    pub fn cell<'a>(&self, row: &'a [String], col: usize) -> Option<&'a str> {
        row.get(col).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// A number; None when blank; error when not a number. Commas are read only as thousands separators
    /// in their usual places (`12,345`, `1,234.5`); any other comma (`0,85`, `0,850`, `1,2`) is refused
    /// naming the cell, since a decimal comma cannot be told from a thousands separator (`1,234`) and
    /// guessing would import 0.85 as 85.
    pub fn number(&self, line: u64, row: &[String], col: usize) -> Result<Option<f64>> {
        let Some(s) = self.cell(row, col) else {
            return Ok(None);
        };
        let t = s.trim_start_matches('=').trim_end_matches('%').trim();
        let cleaned = if t.contains(',') {
            if !is_thousands_grouped(t) {
                return Err(self.err(
                    line,
                    col,
                    format!(
                        "'{s}' has a decimal comma or a misplaced thousands separator; Yardstick reads \
                         decimal points only (0.85), and commas only as thousands separators (12,345). \
                         Convert the file's numbers to decimal points"
                    ),
                ));
            }
            t.replace(',', "")
        } else {
            t.to_string()
        };
        match cleaned.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(self.err(line, col, format!("'{s}' is not a number"))),
        }
    }

    /// A date; None when blank; error when it does not parse.
    pub fn date(&self, line: u64, row: &[String], col: usize) -> Result<Option<NaiveDate>> {
        let Some(s) = self.cell(row, col) else {
            return Ok(None);
        };
        parse_date(s).map(Some).ok_or_else(|| {
            self.err(
                line,
                col,
                format!("cannot parse date '{s}'; expected YYYY-MM-DD (or an RFC 3339 timestamp)"),
            )
        })
    }

    /// TRUE/FALSE (any case, also 1/0, yes/no); None when blank.
    pub fn boolean(&self, line: u64, row: &[String], col: usize) -> Result<Option<bool>> {
        let Some(s) = self.cell(row, col) else {
            return Ok(None);
        };
        match s.to_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(self.err(line, col, format!("'{s}' is not TRUE or FALSE"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators_and_decimal_commas() {
        for ok in ["12,345", "1,234.5", "-1,234,567.89", "+999,000"] {
            assert!(is_thousands_grouped(ok), "{ok}");
        }
        for bad in [
            "0,85", "0,850", "1,2", "12,34", "1234,567", ",123", "1,234.", "1,,234", "1,234,5",
            "a,bcd",
        ] {
            assert!(!is_thousands_grouped(bad), "{bad}");
        }
        let t = CsvTable {
            path: PathBuf::from("t.csv"),
            header: vec!["score".into()],
            rows: Vec::new(),
        };
        let row = |s: &str| vec![s.to_string()];
        assert_eq!(t.number(2, &row("12,345"), 0).unwrap(), Some(12345.0));
        assert_eq!(t.number(2, &row("85.0%"), 0).unwrap(), Some(85.0));
        let e = t.number(7, &row("0,85"), 0).unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:7: column 'score': '0,85' has a decimal comma"),
            "{e}"
        );
    }
}
