//! What the store holds: `yardstick runs` (runs, their status and size) and `yardstick results` (the
//! leaderboard: model × task).

use crate::error::Result;
use crate::report::{write_table, Report};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use yardstick_store::ledger::RunSummary;
use yardstick_store::Store;

/// Result of `yardstick runs`; its JSON is the array of runs.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct RunsReport {
    pub runs: Vec<RunSummary>,
    #[serde(skip)]
    pub store: PathBuf,
    /// What `yardstick import` put in the store, for the message when it holds no runs.
    #[serde(skip)]
    pub imported: Imported,
}

impl RunsReport {
    pub fn load(store: &Store) -> Result<RunsReport> {
        Ok(RunsReport {
            runs: store.list_runs()?,
            store: store.path().to_path_buf(),
            imported: Imported::of(store)?,
        })
    }
}

/// Scores imported from elsewhere (`yardstick import`): files and scores.
#[derive(Debug, Clone, Copy, Default)]
pub struct Imported {
    pub files: usize,
    pub scores: u64,
}

impl Imported {
    pub fn of(store: &Store) -> Result<Imported> {
        let files = yardstick_store::observations::list_files(store)?;
        Ok(Imported {
            files: files.len(),
            scores: files.iter().map(|f| f.scores).sum(),
        })
    }

    /// A line saying what the store holds instead, and which commands show it (nothing when empty).
    fn write_hint(&self, out: &mut dyn Write, store: &std::path::Path) -> std::io::Result<()> {
        if self.files == 0 {
            return Ok(());
        }
        writeln!(
            out,
            "It holds {} scores imported from {} files (yardstick import): see them with `yardstick gap`, \
             `yardstick trend`, `yardstick rate` or `yardstick models`, each with --store {}.",
            self.scores,
            self.files,
            store.display()
        )
    }
}

fn summarize_tasks(tasks: &[String]) -> String {
    if tasks.len() <= 3 {
        tasks.join(",")
    } else {
        format!("{},{} … ({} tasks)", tasks[0], tasks[1], tasks.len())
    }
}

impl Report for RunsReport {
    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.runs.is_empty() {
            writeln!(
                out,
                "The store {} holds no runs of `yardstick run`.",
                self.store.display()
            )?;
            return self.imported.write_hint(out, &self.store);
        }
        let count =
            |s: &serde_json::Value, key: &str| s.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        let rows: Vec<Vec<String>> = self
            .runs
            .iter()
            .map(|r| {
                let reqs = r
                    .stats
                    .as_ref()
                    .map(|s| {
                        format!(
                            "{} sent, {} reused",
                            count(s, "requests_sent"),
                            count(s, "requests_reused")
                        )
                    })
                    .unwrap_or_default();
                vec![
                    r.run_id.chars().take(12).collect(),
                    r.created_at.chars().take(19).collect(),
                    r.status.to_string(),
                    yardstick_core::short_model_name(&r.model_name).to_string(),
                    summarize_tasks(&r.tasks),
                    r.n_samples.to_string(),
                    reqs,
                ]
            })
            .collect();
        write_table(
            out,
            &[
                "run", "started", "status", "model", "tasks", "samples", "requests",
            ],
            &rows,
        )
    }
}

/// One model × task cell of the leaderboard.
#[derive(Debug, Clone, Serialize)]
pub struct LeaderboardCell {
    pub model: String,
    pub task: String,
    pub metric: String,
    pub value: f64,
    pub stderr: Option<f64>,
    pub n: i64,
}

/// Result of `yardstick results`: the latest value of one metric per model × task; its JSON is the array
/// of cells (by model, then task).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Leaderboard {
    pub cells: Vec<LeaderboardCell>,
    #[serde(skip)]
    pub store: PathBuf,
    /// The metric asked for (None: `acc`).
    #[serde(skip)]
    pub metric: Option<String>,
    #[serde(skip)]
    pub include_unfinished: bool,
    #[serde(skip)]
    pub imported: Imported,
}

impl Leaderboard {
    /// The latest run per (model, task) wins; `metric` None means `acc`.
    pub fn load(
        store: &Store,
        metric: Option<&str>,
        include_unfinished: bool,
    ) -> Result<Leaderboard> {
        let rows = store.list_results(include_unfinished)?;
        let mut cells: BTreeMap<(String, String), LeaderboardCell> = BTreeMap::new();
        let mut latest: BTreeMap<(String, String), String> = BTreeMap::new();
        for r in &rows {
            if r.metric != metric.unwrap_or("acc") || r.value.is_none() {
                continue;
            }
            let key = (r.model_name.clone(), r.task.clone());
            let stamp = r.finished_at.clone().unwrap_or_default();
            if latest.get(&key).is_some_and(|s| *s > stamp) {
                continue;
            }
            latest.insert(key.clone(), stamp);
            cells.insert(
                key,
                LeaderboardCell {
                    model: r.model_name.clone(),
                    task: r.task.clone(),
                    metric: r.metric.clone(),
                    value: r.value.unwrap_or(f64::NAN),
                    stderr: r.stderr,
                    n: r.n,
                },
            );
        }
        Ok(Leaderboard {
            cells: cells.into_values().collect(),
            store: store.path().to_path_buf(),
            metric: metric.map(str::to_string),
            include_unfinished,
            imported: Imported::of(store)?,
        })
    }

    fn write_empty(&self, out: &mut dyn Write) -> std::io::Result<()> {
        self.write_empty_line(out)?;
        self.imported.write_hint(out, &self.store)
    }

    fn write_empty_line(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let store = self.store.display();
        match (&self.metric, self.include_unfinished) {
            (None, false) => writeln!(
                out,
                "No finished results in {store} (use --all to include unfinished runs)."
            ),
            (Some(m), false) => writeln!(
                out,
                "No finished results with metric '{m}' in {store} (use --all to include unfinished runs)."
            ),
            (m, true) => writeln!(
                out,
                "No results with metric '{}' in {store}, finished or not.",
                m.as_deref().unwrap_or("acc")
            ),
        }
    }
}

impl Report for Leaderboard {
    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.cells.is_empty() {
            return self.write_empty(out);
        }
        let models: Vec<&str> = self
            .cells
            .iter()
            .map(|c| c.model.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let tasks: BTreeSet<&str> = self.cells.iter().map(|c| c.task.as_str()).collect();
        let by_key: BTreeMap<(&str, &str), &LeaderboardCell> = self
            .cells
            .iter()
            .map(|c| ((c.model.as_str(), c.task.as_str()), c))
            .collect();
        let mut header = vec!["task"];
        header.extend(models.iter().map(|m| yardstick_core::short_model_name(m)));
        let table: Vec<Vec<String>> = tasks
            .iter()
            .map(|t| {
                let mut row = vec![t.to_string()];
                for m in &models {
                    row.push(match by_key.get(&(*m, *t)) {
                        Some(LeaderboardCell {
                            value,
                            stderr: Some(se),
                            ..
                        }) => format!("{value:.4} ± {se:.4}"),
                        Some(c) => format!("{:.4}", c.value),
                        None => "—".into(),
                    });
                }
                row
            })
            .collect();
        write_table(out, &header, &table)
    }
}
