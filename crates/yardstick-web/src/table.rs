//! The leaderboard's data: one row per (source, model) — imported leaderboards and Yardstick's own finished
//! runs — with one cell per benchmark (imported) or task (measured here), each with its interval where the
//! source gives one.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use yardstick_analysis::catalog;
use yardstick_analysis::dataset::{Dataset, SOURCE_YARDSTICK};
use yardstick_analysis::Registry;
use yardstick_store::observations::ScoreRow;
use yardstick_store::Store;

/// z for a two-sided 95% interval from a standard error.
const Z95: f64 = 1.959_963_984_540_054;

/// One score with its 95% interval (from the source's interval, or ±1.96 standard errors).
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub value: f64,
    pub stderr: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    /// Where the interval comes from: "source" (its own interval), "stderr" (±1.96 of its standard
    /// error) or "binomial" (√(p(1−p)/n) with the benchmark's item count, when the source gives none).
    pub basis: Option<&'static str>,
}

/// A model as one source reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub source: String,
    pub model: String,
    /// True for Yardstick's own runs, false for imported data.
    pub measured: bool,
    pub org: Option<String>,
    pub org_name: Option<String>,
    pub country: Option<String>,
    pub release_date: Option<NaiveDate>,
    pub params_b: Option<f64>,
    pub open_weights: Option<bool>,
    pub cells: BTreeMap<String, Cell>,
}

/// Every row of the store's leaderboard, and the columns in display order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Every source of the rows, sorted.
    pub sources: Vec<String>,
}

/// A benchmark (imported) or task (measured) column, with how many rows have a value.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub id: String,
    pub name: String,
    pub count: usize,
}

/// The binomial standard error of a proportion score over the benchmark's known number of items.
fn binomial_se(benchmark: &str, source: &str, p: f64) -> Option<f64> {
    let b = catalog::benchmark(benchmark)?;
    if b.scale != catalog::Scale::Proportion || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let n = f64::from(catalog::items_for(benchmark, source)?);
    (n > 0.0).then(|| (p * (1.0 - p) / n).sqrt())
}

fn cell_of(s: &ScoreRow) -> Cell {
    let around = |se: f64| (Some(s.score - Z95 * se), Some(s.score + Z95 * se));
    let ((lo, hi), basis) = match (s.ci_lower, s.ci_upper, s.stderr) {
        (Some(lo), Some(hi), _) => ((Some(lo), Some(hi)), Some("source")),
        (_, _, Some(se)) => (around(se), Some("stderr")),
        _ => match binomial_se(&s.benchmark, &s.source, s.score) {
            Some(se) => (around(se), Some("binomial")),
            None => ((None, None), None),
        },
    };
    Cell {
        value: s.score,
        stderr: s.stderr,
        ci_lower: lo,
        ci_upper: hi,
        basis,
    }
}

/// True when `new` should replace `old` as a model's score: a later snapshot (arena), then a later
/// evaluation date (the rule `Dataset::latest_scores` uses).
fn newer(new: &ScoreRow, old: &ScoreRow) -> bool {
    if new.snapshot != old.snapshot {
        return new.snapshot > old.snapshot;
    }
    match (&new.evaluated_at, &old.evaluated_at) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The metric of a measured task's leaderboard cell: the catalog's preference for its benchmark, then `acc`.
fn preferred_metrics(task: &str) -> Vec<String> {
    let mut out: Vec<String> = catalog::benchmark(&catalog::benchmark_of_task(task))
        .map(|b| b.metrics.iter().map(|m| m.to_string()).collect())
        .unwrap_or_default();
    for m in ["acc", "exact_match", "acc_norm"] {
        if !out.iter().any(|x| x == m) {
            out.push(m.to_string());
        }
    }
    out
}

impl Table {
    /// Read the store: every imported model with its latest score per benchmark, and every model of a
    /// finished run with its latest result per task.
    pub fn load(store: &Store, registry: &Registry) -> yardstick_analysis::Result<Table> {
        let data = Dataset::load(store, registry)?;
        let mut rows: Vec<Row> = Vec::with_capacity(data.models.len());
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        for m in &data.models {
            let key = (m.source.clone(), m.name.clone());
            if index.contains_key(&key) {
                continue;
            }
            index.insert(key, rows.len());
            rows.push(Row {
                source: m.source.clone(),
                model: m.name.clone(),
                measured: m.source == SOURCE_YARDSTICK,
                org: m.developer.org.clone(),
                org_name: m.developer.org_name.clone(),
                country: m.developer.country.clone(),
                release_date: m.release_date,
                params_b: m.params_b,
                open_weights: m.open_weights,
                cells: BTreeMap::new(),
            });
        }
        let mut chosen: HashMap<(usize, &str), &ScoreRow> = HashMap::new();
        for s in &data.scores {
            let Some(&i) = index.get(&(s.source.clone(), s.model.clone())) else {
                continue;
            };
            let key = (i, s.benchmark.as_str());
            if chosen.get(&key).is_none_or(|old| newer(s, old)) {
                chosen.insert(key, s);
            }
        }
        for ((i, bench), s) in chosen {
            rows[i].cells.insert(bench.to_string(), cell_of(s));
        }
        add_measured(store, &mut rows, &index)?;
        let columns = columns_of(&rows);
        let sources = rows
            .iter()
            .map(|r| r.source.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Ok(Table {
            columns,
            rows,
            sources,
        })
    }
}

/// Cells of finished runs: per (model, task) the latest run's value of the task's preferred metric.
fn add_measured(
    store: &Store,
    rows: &mut [Row],
    index: &HashMap<(String, String), usize>,
) -> yardstick_analysis::Result<()> {
    let results = store.list_results(false)?;
    let mut best: HashMap<(usize, String), (usize, String, Cell)> = HashMap::new();
    for r in results.iter().filter(|r| !r.is_group) {
        let Some(&i) = index.get(&(SOURCE_YARDSTICK.to_string(), r.model_name.clone())) else {
            continue;
        };
        let Some(value) = r.value else { continue };
        let prefs = preferred_metrics(&r.task);
        let Some(rank) = prefs.iter().position(|m| *m == r.metric) else {
            continue;
        };
        let stamp = r.finished_at.clone().unwrap_or_default();
        let key = (i, r.task.clone());
        let better = match best.get(&key) {
            None => true,
            Some((old_rank, old_stamp, _)) => {
                (stamp.as_str(), std::cmp::Reverse(rank))
                    > (old_stamp.as_str(), std::cmp::Reverse(*old_rank))
            }
        };
        if better {
            let (lo, hi) = match r.stderr {
                Some(se) => (Some(value - Z95 * se), Some(value + Z95 * se)),
                None => (None, None),
            };
            let cell = Cell {
                value,
                stderr: r.stderr,
                ci_lower: lo,
                ci_upper: hi,
                basis: r.stderr.map(|_| "stderr"),
            };
            best.insert(key, (rank, stamp, cell));
        }
    }
    for ((i, task), (_, _, cell)) in best {
        rows[i].cells.insert(task, cell);
    }
    Ok(())
}

/// Columns in catalog order (then the others alphabetically).
fn columns_of(rows: &[Row]) -> Vec<Column> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        for k in r.cells.keys() {
            *counts.entry(k.as_str()).or_default() += 1;
        }
    }
    let cat = catalog::catalog();
    let mut ids: Vec<&str> = cat
        .iter()
        .map(|b| b.id)
        .filter(|id| counts.contains_key(id))
        .collect();
    let known: BTreeSet<&str> = ids.iter().copied().collect();
    ids.extend(counts.keys().copied().filter(|k| !known.contains(k)));
    ids.into_iter()
        .map(|id| Column {
            id: id.to_string(),
            name: cat
                .iter()
                .find(|b| b.id == id)
                .map(|b| b.name.to_string())
                .unwrap_or_else(|| id.to_string()),
            count: counts.get(id).copied().unwrap_or(0),
        })
        .collect()
}
