//! `yardstick import`: what each file added, what was skipped, what could not be attributed.

use crate::error::Result;
use crate::import::{import_paths, ImportReport};
use crate::registry::Registry;
use crate::report::Report;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use yardstick_store::Store;

/// Result of `yardstick import`; its JSON is the [`ImportReport`].
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ImportSummary {
    pub report: ImportReport,
    /// Wall time of the import (text only).
    #[serde(skip)]
    pub elapsed: Duration,
    /// List every unattributed row in the text.
    #[serde(skip)]
    pub show_unattributed: bool,
}

impl ImportSummary {
    /// Import `paths` (files or directories) into `store`.
    pub fn run(
        store: &Store,
        registry: &Registry,
        paths: &[PathBuf],
        show_unattributed: bool,
    ) -> Result<ImportSummary> {
        let started = Instant::now();
        let report = import_paths(store, registry, paths)?;
        Ok(ImportSummary {
            report,
            elapsed: started.elapsed(),
            show_unattributed,
        })
    }

    fn write_files(&self, o: &mut dyn Write) -> std::io::Result<()> {
        let extra = |n: u64, what: &str| {
            if n > 0 {
                format!(" ({n} {what})")
            } else {
                String::new()
            }
        };
        for f in &self.report.files {
            if f.imported {
                writeln!(
                    o,
                    "imported {} ({}): {} rows, {} scores added{}, {} items added{}, {} new models, {} unattributed{}",
                    f.path,
                    f.format.name(),
                    f.rows_read,
                    f.scores_added,
                    extra(f.scores_duplicate, "already stored from another file"),
                    f.items_added,
                    extra(f.items_duplicate, "already stored"),
                    f.models_added,
                    f.unattributed_count,
                    if f.rows_without_score > 0 {
                        format!(", {} rows without a score", f.rows_without_score)
                    } else {
                        String::new()
                    },
                )?;
            } else {
                writeln!(
                    o,
                    "already imported {} ({}) on {} as {} (same sha256 {}…): nothing added",
                    f.path,
                    f.format.name(),
                    f.previously_imported_at.as_deref().unwrap_or("?"),
                    f.previously_imported_as.as_deref().unwrap_or("?"),
                    f.sha256.get(..12).unwrap_or(&f.sha256)
                )?;
            }
        }
        Ok(())
    }
}

impl Report for ImportSummary {
    fn write_text(&self, o: &mut dyn Write) -> std::io::Result<()> {
        let report = &self.report;
        self.write_files(o)?;
        for s in &report.skipped {
            writeln!(o, "skipped {}: {}", s.path, s.reason)?;
        }
        if self.show_unattributed {
            for f in &report.files {
                for u in &f.unattributed {
                    writeln!(
                        o,
                        "unattributed {}:{}  {}{}  — {}",
                        f.path,
                        u.line,
                        u.model,
                        u.organization
                            .as_ref()
                            .map(|x| format!(" (organization '{x}')"))
                            .unwrap_or_default(),
                        u.reason
                    )?;
                }
            }
        }
        let added: u64 = report.files.iter().map(|f| f.scores_added).sum();
        let items_added: u64 = report.files.iter().map(|f| f.items_added).sum();
        let imported = report.files.iter().filter(|f| f.imported).count();
        writeln!(
            o,
            "{} file(s) imported, {} already present, {} skipped; {} scores and {} items added in {:.2} s",
            imported,
            report.files.len() - imported,
            report.skipped.len(),
            added,
            items_added,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            o,
            "Unattributed rows (no organization/country under developer attribution): {}{}",
            report.unattributed_total(),
            if self.show_unattributed || report.unattributed_total() == 0 {
                String::new()
            } else {
                " — list them with --show-unattributed".into()
            }
        )
    }
}
