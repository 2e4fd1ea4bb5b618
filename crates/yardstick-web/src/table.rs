//! The leaderboard's data: one row per (source, model) — imported leaderboards and Yardstick's own finished
//! runs — with one cell per benchmark (imported) or task (measured here), each with its interval where the
//! source gives one.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use yardstick_analysis::catalog::{self, Dimension};
use yardstick_analysis::dataset::{Dataset, SOURCE_YARDSTICK};
use yardstick_analysis::gap::dimension_score;
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

/// The binomial (Agresti–Coull, as the gap uses) standard error of a proportion score over its items: the
/// source's count, else the benchmark's.
fn binomial_se(s: &ScoreRow) -> Option<f64> {
    let b = catalog::benchmark(&s.benchmark)?;
    if b.scale != catalog::Scale::Proportion || !(0.0..=1.0).contains(&s.score) {
        return None;
    }
    let n = s
        .n_items
        .or_else(|| catalog::items_for(&s.benchmark, &s.source).map(u64::from))?;
    yardstick_stats::agresti_coull_se(s.score, n).ok()
}

fn cell_of(s: &ScoreRow) -> Cell {
    let around = |se: f64| (Some(s.score - Z95 * se), Some(s.score + Z95 * se));
    let binomial = binomial_se(s);
    let ((lo, hi), basis) = match (s.ci_lower, s.ci_upper, s.stderr, binomial) {
        (Some(lo), Some(hi), _, _) => ((Some(lo), Some(hi)), Some("source")),
        (_, _, Some(se), _) => (around(se), Some("stderr")),
        (_, _, None, Some(se)) => (around(se), Some("binomial")),
        _ => ((None, None), None),
    };
    Cell {
        value: s.score,
        stderr: s.stderr.or(binomial),
        ci_lower: lo,
        ci_upper: hi,
        basis,
    }
}

/// Dimension cells (`dim:ID`): per imported row and dimension, the dimension score of the gap
/// ([`dimension_score`]) over the dimension's benchmarks that the row's source reports, when the row has
/// them all.
fn add_dimensions(rows: &mut [Row]) {
    let mut reported: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in rows.iter().filter(|r| !r.measured) {
        reported
            .entry(r.source.clone())
            .or_default()
            .extend(r.cells.keys().cloned());
    }
    for r in rows.iter_mut().filter(|r| !r.measured) {
        let Some(have) = reported.get(&r.source) else {
            continue;
        };
        for dim in Dimension::ALL
            .into_iter()
            .filter(|d| *d != Dimension::Overall)
        {
            let benches: Vec<&str> = catalog::benchmarks_of(dim)
                .into_iter()
                .map(|b| b.id)
                .filter(|id| have.contains(*id))
                .collect();
            let parts: Option<Vec<(f64, Option<f64>, f64)>> = benches
                .iter()
                .map(|b| {
                    let c = r.cells.get(*b)?;
                    Some((c.value, c.stderr, catalog::baseline_for(b, &r.source)))
                })
                .collect();
            let Some(parts) = parts.filter(|p| !p.is_empty()) else {
                continue;
            };
            let (value, se) = dimension_score(&parts);
            r.cells.insert(
                format!("{DIMENSION_PREFIX}{}", dim.id()),
                Cell {
                    value,
                    stderr: se,
                    ci_lower: se.map(|se| value - Z95 * se),
                    ci_upper: se.map(|se| value + Z95 * se),
                    basis: Some("dimension"),
                },
            );
        }
    }
}

/// Column ids of dimensions start with this.
pub const DIMENSION_PREFIX: &str = "dim:";

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
        add_dimensions(&mut rows);
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
    let dims: Vec<(String, String)> = Dimension::ALL
        .iter()
        .map(|d| {
            let id = d.id();
            let mut name = id.replace('_', " ");
            name[..1].make_ascii_uppercase();
            (
                format!("{DIMENSION_PREFIX}{id}"),
                format!("{name} (dimension)"),
            )
        })
        .collect();
    let mut named: Vec<(String, String)> = dims
        .into_iter()
        .chain(cat.iter().map(|b| (b.id.to_string(), b.name.to_string())))
        .filter(|(id, _)| counts.contains_key(id.as_str()))
        .collect();
    let known: BTreeSet<String> = named.iter().map(|(id, _)| id.clone()).collect();
    named.extend(
        counts
            .keys()
            .filter(|k| !known.contains(**k))
            .map(|k| (k.to_string(), k.to_string())),
    );
    named
        .into_iter()
        .map(|(id, name)| Column {
            count: counts.get(id.as_str()).copied().unwrap_or(0),
            id,
            name,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(source: &str, model: &str, cells: &[(&str, f64, Option<f64>)]) -> Row {
        Row {
            source: source.into(),
            model: model.into(),
            measured: source == SOURCE_YARDSTICK,
            org: None,
            org_name: None,
            country: None,
            release_date: None,
            params_b: None,
            open_weights: None,
            cells: cells
                .iter()
                .map(|(k, v, se)| {
                    (
                        k.to_string(),
                        Cell {
                            value: *v,
                            stderr: *se,
                            ci_lower: None,
                            ci_upper: None,
                            basis: None,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn dimension_cells_need_every_benchmark_the_source_reports() {
        let mut rows = vec![
            row(
                "s",
                "full",
                &[
                    ("mmlu", 0.85, Some(0.01)),
                    ("arc_challenge", 0.5, Some(0.02)),
                    ("winogrande", 0.75, None),
                ],
            ),
            row(
                "s",
                "partial",
                &[
                    ("mmlu", 0.55, Some(0.01)),
                    ("arc_challenge", 0.4, Some(0.02)),
                ],
            ),
        ];
        add_dimensions(&mut rows);
        let k = &rows[0].cells["dim:knowledge"];
        assert!((k.value - (0.85 - 0.25) / 0.75).abs() < 1e-12);
        assert!((k.stderr.expect("se") - 0.01 / 0.75).abs() < 1e-12);
        let r = &rows[0].cells["dim:reasoning"];
        let expected = ((0.5 - 0.25) / 0.75 + (0.75 - 0.5) / 0.5) / 2.0;
        assert!((r.value - expected).abs() < 1e-12, "{}", r.value);
        assert!(r.stderr.is_none(), "one part has no SE");
        // `partial` lacks winogrande, which its source reports: no reasoning score.
        assert!(rows[1].cells.contains_key("dim:knowledge"));
        assert!(!rows[1].cells.contains_key("dim:reasoning"));
    }

    #[test]
    fn columns_put_dimensions_first_then_catalog_order() {
        let rows = vec![row(
            "s",
            "m",
            &[
                ("zzz", 1.0, None),
                ("gsm8k", 0.5, None),
                ("mmlu", 0.5, None),
                ("dim:math", 0.5, None),
            ],
        )];
        let ids: Vec<String> = columns_of(&rows).into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["dim:math", "mmlu", "gsm8k", "zzz"]);
    }
}
