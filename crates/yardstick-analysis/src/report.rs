//! One output story: every command's result is a report — computed here, serialised as the `--json`
//! output, rendered as text by [`Report::write_text`] and, where it has one, drawn by [`Report::plot`].
//! The CLI only chooses which of these to emit.

use crate::error::{AnalysisError, Result};
use crate::gap::GapReport;
use crate::rate::RateReport;
use crate::trend::{ArenaTrendReport, TrendReport};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// A command's result.
pub trait Report: Serialize {
    /// The human-readable rendering (tables and sentences), exactly as printed on a terminal.
    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()>;

    /// Draw the report's chart to `path` (.svg or .png). Reports without a chart say so.
    fn plot(&self, path: &Path) -> Result<()> {
        Err(AnalysisError::Plot {
            path: path.to_path_buf(),
            message: "this report has no plot".into(),
        })
    }

    /// The text rendering as a string.
    fn to_text(&self) -> String {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_text(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

impl Report for GapReport {
    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(self.render_text().as_bytes())
    }
    fn plot(&self, path: &Path) -> Result<()> {
        crate::plot::plot_gap(path, self)
    }
}

impl Report for TrendReport {
    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(self.render_text().as_bytes())
    }
    fn plot(&self, path: &Path) -> Result<()> {
        crate::plot::plot_trend(path, self)
    }
}

impl Report for ArenaTrendReport {
    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(self.render_text().as_bytes())
    }
    fn plot(&self, path: &Path) -> Result<()> {
        crate::plot::plot_arena_trend(path, self)
    }
}

impl Report for RateReport {
    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(self.render_text().as_bytes())
    }
    fn plot(&self, path: &Path) -> Result<()> {
        crate::plot::plot_ratings(path, self)
    }
}

/// A plain aligned text table: columns padded to their widest cell and two spaces apart, a rule of dashes
/// under the header, trailing spaces trimmed.
pub fn write_table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(
        out,
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    )?;
    line(
        out,
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
    )?;
    for r in rows {
        line(out, r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_and_trims_line_ends() {
        let mut out = Vec::new();
        write_table(
            &mut out,
            &["task", "model"],
            &[
                vec!["mmlu".into(), "0.5".into()],
                vec!["a".into(), String::new()],
            ],
        )
        .expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "task  model\n----  -----\nmmlu  0.5\na\n"
        );
    }
}
