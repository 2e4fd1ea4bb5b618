//! `yardstick gap`: the difference in mean score between two groups of models, Δ = mean_A − mean_B, with a
//! confidence interval, per benchmark or per dimension and per source (results from different sources are
//! never mixed: their protocols differ).
//!
//! Methods (eval-anchors §4.2, §4.3, §4.8):
//! - **Per-item data** (imported lm-eval samples, Yardstick runs) on the items every selected model answered:
//!   `roster` = fixed-roster per-item contrast gᵢ = mean_A S[m,i] − mean_B S[m,i], Δ = ḡ, SE = sd(g)/√n,
//!   Student-t with n − 1 df; `population` = two-way bootstrap (items shared by all models, and models within
//!   each group, resampled independently), percentile CI.
//! - **Model-level scores** (leaderboards): each model's score carries its sampling error (the source's
//!   stderr, or the binomial SE from the benchmark's item count, Agresti–Coull form:
//!   [`yardstick_stats::agresti_coull_se`]); parametric bootstrap
//!   ([`yardstick_stats::model_level_gap_bootstrap`]): `roster` perturbs each model's score by its error;
//!   `population` also resamples models within each group. Percentile CI; two-sided bootstrap p.
//!
//! Several rows: p-values are Holm-adjusted across all rows shown.

use crate::catalog::{
    self, baseline_for, benchmarks_of, items_for, Dimension, Scale, DIMENSIONS_VERSION,
};
use crate::dataset::{Dataset, ModelInfo, SOURCE_YARDSTICK};
use crate::error::{AnalysisError, Result};
use crate::groups::{split, GroupSpec};
use crate::items::{ItemKey, ItemTable};
use crate::registry::Registry;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use yardstick_stats::{BootstrapConfig, BootstrapResult, GapEstimand, ModelScore};
use yardstick_store::Store;

/// Which gap is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Estimand {
    /// Which of *these* models are better (only item sampling / per-model error).
    Roster,
    /// Are models of group A in general better (also which models happen to be in each group).
    #[default]
    Population,
}

impl From<Estimand> for GapEstimand {
    fn from(e: Estimand) -> Self {
        match e {
            Estimand::Roster => GapEstimand::Roster,
            Estimand::Population => GapEstimand::Population,
        }
    }
}

impl Estimand {
    pub fn id(self) -> &'static str {
        match self {
            Estimand::Roster => "roster",
            Estimand::Population => "population",
        }
    }
}

/// How a row was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    PairedItemsFixedRoster,
    PairedItemsTwoWayBootstrap,
    ModelLevelBootstrapRoster,
    ModelLevelBootstrapPopulation,
}

impl Method {
    pub fn describe(self) -> &'static str {
        match self {
            Method::PairedItemsFixedRoster => "paired over items, fixed roster (t)",
            Method::PairedItemsTwoWayBootstrap => "paired over items, two-way bootstrap",
            Method::ModelLevelBootstrapRoster => "model-level bootstrap, fixed roster",
            Method::ModelLevelBootstrapPopulation => "model-level bootstrap, population",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Method::PairedItemsFixedRoster => "paired-items/roster",
            Method::PairedItemsTwoWayBootstrap => "paired-items/two-way-bootstrap",
            Method::ModelLevelBootstrapRoster => "model-level/roster",
            Method::ModelLevelBootstrapPopulation => "model-level/population",
        }
    }
}

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub enum GapTarget {
    /// Every dimension with data.
    AllDimensions,
    Dimension(Dimension),
    /// Named benchmark ids (`all` = every benchmark of the chosen source).
    Benchmarks(Vec<String>),
}

impl GapTarget {
    /// The target of `--dimension D` or `--benchmark B,…` (`all`: every benchmark), else every dimension.
    pub fn from_args(dimension: Option<&str>, benchmarks: &[String]) -> Result<GapTarget> {
        if let Some(d) = dimension {
            return Dimension::parse(d)
                .map(GapTarget::Dimension)
                .ok_or_else(|| {
                    AnalysisError::Usage(format!(
                        "unknown dimension '{d}'; choose one of {}",
                        Dimension::ALL
                            .iter()
                            .map(|d| d.id())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                });
        }
        if benchmarks.is_empty() {
            return Ok(GapTarget::AllDimensions);
        }
        Ok(GapTarget::Benchmarks(
            benchmarks
                .iter()
                .map(|b| b.trim().to_lowercase())
                .filter(|b| !b.is_empty())
                .collect(),
        ))
    }

    /// Whether per-item data of benchmark `b` may be needed.
    pub fn wants(&self, b: &str) -> bool {
        match self {
            GapTarget::Benchmarks(list) => list.iter().any(|x| x == "all" || x == b),
            GapTarget::Dimension(d) => crate::catalog::benchmarks_of(*d).iter().any(|x| x.id == b),
            GapTarget::AllDimensions => true,
        }
    }
}

/// Options of `yardstick gap`.
#[derive(Debug, Clone)]
pub struct GapOptions {
    pub groups: GroupSpec,
    pub target: GapTarget,
    pub estimand: Estimand,
    pub source: Option<String>,
    pub metric: Option<String>,
    pub replicates: usize,
    pub seed: u64,
    pub level: f64,
}

/// A model's contribution to a row.
#[derive(Debug, Clone, Serialize)]
pub struct GapModel {
    pub name: String,
    pub score: f64,
    pub se: Option<f64>,
}

/// One gap estimate.
#[derive(Debug, Clone, Serialize)]
pub struct GapRow {
    pub source: String,
    /// "benchmark" or "dimension".
    pub kind: String,
    pub target: String,
    pub benchmarks: Vec<String>,
    pub method: Method,
    /// "raw" (per-benchmark), "normalised" (dimension: (raw − baseline)/(1 − baseline), benchmarks weighted
    /// equally) or "index" (scores on their own scale).
    pub scale: String,
    pub estimate: f64,
    pub se: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    pub p: Option<f64>,
    pub p_holm: Option<f64>,
    pub mean_a: f64,
    pub mean_b: f64,
    pub n_models_a: usize,
    pub n_models_b: usize,
    /// Items: shared items for per-item rows; per model (from the benchmark's item count) otherwise.
    pub n_items: Option<usize>,
    pub items_note: String,
    pub metric: Option<String>,
    pub low_precision: bool,
    pub models_a: Vec<GapModel>,
    pub models_b: Vec<GapModel>,
    pub notes: Vec<String>,
}

/// Result of `yardstick gap`.
#[derive(Debug, Clone, Serialize)]
pub struct GapReport {
    pub group_a: String,
    pub group_b: String,
    pub attribution: String,
    pub estimand: String,
    pub as_of: Option<String>,
    pub official_only: bool,
    pub level: f64,
    pub replicates: usize,
    pub seed: u64,
    pub dimensions_version: String,
    pub rows: Vec<GapRow>,
    pub notes: Vec<String>,
}

/// Load the scores and the per-item tables `opts` needs from `store` and compute the gap report.
pub fn gap_from_store(store: &Store, registry: &Registry, opts: &GapOptions) -> Result<GapReport> {
    let data = Dataset::load(store, registry)?;
    let tables = crate::items::load_item_tables(
        store,
        opts.source.as_deref(),
        &|b: &str| opts.target.wants(b),
        opts.metric.as_deref(),
    )?;
    gap(registry, &data, &tables, opts)
}

/// Compute the gap report. `items` are the per-item tables available (see [`crate::items::load_item_tables`]).
pub fn gap(
    registry: &Registry,
    data: &Dataset,
    items: &[ItemTable],
    opts: &GapOptions,
) -> Result<GapReport> {
    crate::groups::check_replicates(opts.replicates)?;
    crate::groups::check_not_nested(registry, &opts.groups, &data.models)?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    // Which benchmarks and dimensions to look at, per source.
    let mut sources: BTreeSet<String> = data.scores.iter().map(|s| s.source.clone()).collect();
    sources.extend(items.iter().map(|t| t.source.clone()));
    if let Some(s) = &opts.source {
        if !sources.contains(s) {
            return Err(AnalysisError::NoData(format!(
                "no results from source '{s}' in the store; sources present: {}",
                sources.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        sources.retain(|x| x == s);
    }
    let benchmarks_in = |source: &str| -> BTreeSet<String> {
        let mut b: BTreeSet<String> = data
            .scores
            .iter()
            .filter(|s| s.source == source)
            .map(|s| s.benchmark.clone())
            .collect();
        b.extend(
            items
                .iter()
                .filter(|t| t.source == source)
                .map(|t| t.benchmark.clone()),
        );
        b
    };
    for source in &sources {
        let present = benchmarks_in(source);
        let targets: Vec<(String, String, Vec<String>)> = match &opts.target {
            GapTarget::Benchmarks(list) => {
                let list: Vec<String> = if list.iter().any(|b| b == "all") {
                    present.iter().cloned().collect()
                } else {
                    list.clone()
                };
                list.into_iter()
                    .filter(|b| present.contains(b))
                    .map(|b| ("benchmark".to_string(), b.clone(), vec![b]))
                    .collect()
            }
            GapTarget::Dimension(d) => dimension_target(*d, &present).into_iter().collect(),
            GapTarget::AllDimensions => Dimension::ALL
                .iter()
                .filter_map(|d| dimension_target(*d, &present))
                .collect(),
        };
        for (kind, target, benches) in targets {
            let table: Vec<&ItemTable> = benches
                .iter()
                .filter_map(|b| {
                    items
                        .iter()
                        .find(|t| &t.source == source && &t.benchmark == b)
                })
                .collect();
            let row = if !table.is_empty() && table.len() == benches.len() {
                paired_row(registry, data, source, &kind, &target, &table, opts)?
            } else {
                model_level_row(registry, data, source, &kind, &target, &benches, opts)?
            };
            match row {
                Ok(r) => rows.push(r),
                Err(why) => notes.push(format!("{source} / {target}: {why}")),
            }
        }
    }
    if rows.is_empty() {
        let what = match &opts.target {
            GapTarget::Benchmarks(b) => format!("benchmark(s) {}", b.join(", ")),
            GapTarget::Dimension(d) => format!("dimension {}", d.id()),
            GapTarget::AllDimensions => "any dimension".to_string(),
        };
        let mut available: BTreeSet<String> = BTreeSet::new();
        for s in &sources {
            available.extend(benchmarks_in(s));
        }
        let shown: Vec<String> = available.into_iter().take(40).collect();
        let mut msg = format!("no gap could be computed for {what}");
        if !notes.is_empty() {
            msg.push_str(&format!(": {}", notes.join("; ")));
        }
        msg.push_str(&format!(
            ". Benchmarks in the store: {}",
            if shown.is_empty() {
                "none (run `yardstick import` first)".into()
            } else {
                shown.join(", ")
            }
        ));
        return Err(AnalysisError::NoData(msg));
    }
    let ps: Vec<f64> = rows.iter().filter_map(|r| r.p).collect();
    if ps.len() > 1 {
        let adj = yardstick_stats::holm(&ps)?;
        let mut it = adj.into_iter();
        for r in rows.iter_mut() {
            if r.p.is_some() {
                r.p_holm = it.next();
            }
        }
    } else {
        for r in rows.iter_mut() {
            r.p_holm = r.p;
        }
    }
    Ok(GapReport {
        group_a: opts.groups.a.text.clone(),
        group_b: opts.groups.b.text.clone(),
        attribution: opts.groups.attribution.id().to_string(),
        estimand: opts.estimand.id().to_string(),
        as_of: opts.groups.as_of.map(|d| d.to_string()),
        official_only: opts.groups.official_only,
        level: opts.level,
        replicates: opts.replicates,
        seed: opts.seed,
        dimensions_version: DIMENSIONS_VERSION.to_string(),
        rows,
        notes,
    })
}

fn dimension_target(
    d: Dimension,
    present: &BTreeSet<String>,
) -> Option<(String, String, Vec<String>)> {
    let benches: Vec<String> = benchmarks_of(d)
        .into_iter()
        .map(|b| b.id.to_string())
        .filter(|b| present.contains(b))
        .collect();
    (!benches.is_empty()).then(|| ("dimension".to_string(), d.id().to_string(), benches))
}

fn is_index(benchmark: &str) -> bool {
    benchmark.starts_with("arena-elo")
        || catalog::benchmark(benchmark).is_some_and(|b| b.scale == Scale::Index)
}

/// A model's score on one benchmark, its standard error and where the error comes from.
type ScoreWithSe = (f64, Option<f64>, &'static str);

/// Inner `Err(String)`: this (source, target) has no usable data; the reason becomes a note.
type RowResult = std::result::Result<GapRow, String>;

/// Per benchmark: model → (score, se, se basis).
type BenchScores = Vec<HashMap<String, ScoreWithSe>>;

fn model_level_row(
    registry: &Registry,
    data: &Dataset,
    source: &str,
    kind: &str,
    target: &str,
    all_benches: &[String],
    opts: &GapOptions,
) -> Result<RowResult> {
    let mut notes = Vec::new();
    let mut spec = opts.groups.clone();
    let (per_bench, items_seen) =
        model_level_scores(data, source, all_benches, opts, &mut spec, &mut notes)?;
    // Group membership does not depend on the benchmarks; split once.
    let with_any: Vec<&ModelInfo> = data
        .models
        .iter()
        .filter(|m| m.source == source && per_bench.iter().any(|pb| pb.contains_key(&m.name)))
        .collect();
    let (a_all, b_all, ex) = split(registry, &spec, with_any);
    notes.extend(ex.describe());
    let Some(mask) = benchmark_mask(&a_all, &b_all, &per_bench) else {
        return Ok(Err(format!(
            "no benchmark of {} has models of both groups",
            all_benches.join(", ")
        )));
    };
    let chosen: Vec<usize> = (0..all_benches.len())
        .filter(|i| mask & (1 << i) != 0)
        .collect();
    let benches: Vec<String> = chosen.iter().map(|&i| all_benches[i].clone()).collect();
    if benches.len() < all_benches.len() {
        let dropped: Vec<&str> = (0..all_benches.len())
            .filter(|i| mask & (1 << i) == 0)
            .map(|i| all_benches[i].as_str())
            .collect();
        notes.push(format!(
            "benchmarks used: {} (left out: {}, to compare models on the same benchmarks)",
            benches.join(", "),
            dropped.join(", ")
        ));
    }
    let a: Vec<&ModelInfo> = a_all
        .iter()
        .copied()
        .filter(|m| has_benchmarks(&per_bench, m, mask))
        .collect();
    let b: Vec<&ModelInfo> = b_all
        .iter()
        .copied()
        .filter(|m| has_benchmarks(&per_bench, m, mask))
        .collect();
    let lacking = a_all.len() + b_all.len() - a.len() - b.len();
    if lacking > 0 {
        notes.push(format!(
            "{lacking} model(s) of the groups lack one of {} and are left out",
            benches.join(", ")
        ));
    }
    if a.is_empty() || b.is_empty() {
        return Ok(Err(format!(
            "group {} has no model with {}",
            if a.is_empty() { "A" } else { "B" },
            benches.join(", ")
        )));
    }
    let index = benches.iter().any(|x| is_index(x));
    let combine =
        |m: &&ModelInfo| combined_score(m, &chosen, &per_bench, all_benches, source, index);
    let ma: Vec<GapModel> = a.iter().map(combine).collect();
    let mb: Vec<GapModel> = b.iter().map(combine).collect();
    let unknown_se = ma
        .iter()
        .chain(mb.iter())
        .filter(|m| m.se.is_none())
        .count();
    if unknown_se > 0 {
        notes.push(format!(
            "{unknown_se} model(s) have no known sampling error (treated as exact)"
        ));
    }
    let boot = model_level_bootstrap(&ma, &mb, opts)?;
    let method = match opts.estimand {
        Estimand::Roster => Method::ModelLevelBootstrapRoster,
        Estimand::Population => Method::ModelLevelBootstrapPopulation,
    };
    let all_exact = unknown_se == ma.len() + mb.len();
    let p = if opts.estimand == Estimand::Roster && all_exact {
        notes.push("no model has a known sampling error: the fixed-roster interval is zero-width and no p-value is given".into());
        None
    } else {
        Some(boot.p_two_sided())
    };
    let models: Vec<&ModelInfo> = a.iter().chain(b.iter()).copied().collect();
    let (n_items, items_note) =
        items_summary(&models, &chosen, &per_bench, &items_seen, all_benches);
    let mean = |v: &[GapModel]| v.iter().map(|m| m.score).sum::<f64>() / v.len() as f64;
    let low = opts.estimand == Estimand::Population && ma.len().min(mb.len()) < 8;
    if low {
        notes.push(
            "fewer than 8 models in a group: the population interval is low-precision".into(),
        );
    }
    Ok(Ok(GapRow {
        source: source.to_string(),
        kind: kind.to_string(),
        target: target.to_string(),
        method,
        scale: if index {
            "index".into()
        } else if benches.len() > 1 {
            "normalised".into()
        } else {
            "raw".into()
        },
        benchmarks: benches,
        estimate: boot.estimate,
        se: boot.se,
        ci_lower: boot.ci.lower,
        ci_upper: boot.ci.upper,
        p,
        p_holm: None,
        mean_a: mean(&ma),
        mean_b: mean(&mb),
        n_models_a: ma.len(),
        n_models_b: mb.len(),
        n_items,
        items_note,
        metric: None,
        low_precision: low,
        models_a: ma,
        models_b: mb,
        notes,
    }))
}

/// Every benchmark's latest scores in `source` with their standard errors, and the item counts behind the
/// binomial ones. A benchmark read from a leaderboard snapshot is noted, and clears `spec.as_of` (the
/// snapshot already holds only what existed on its date).
fn model_level_scores(
    data: &Dataset,
    source: &str,
    all_benches: &[String],
    opts: &GapOptions,
    spec: &mut GroupSpec,
    notes: &mut Vec<String>,
) -> Result<(BenchScores, Vec<Vec<u64>>)> {
    let mut per_bench: BenchScores = Vec::new();
    let mut items_seen: Vec<Vec<u64>> = Vec::new();
    for b in all_benches {
        let snapshot = latest_snapshot(data, source, b, opts.groups.as_of);
        if let Some(s) = &snapshot {
            notes.push(format!("{b}: snapshot {s}"));
            // A leaderboard snapshot already holds only what existed on its date; --as-of chose the snapshot.
            spec.as_of = None;
        }
        let mut map = HashMap::new();
        let mut seen = Vec::new();
        for s in data.latest_scores(source, b, snapshot.as_deref()) {
            let n = s.n_items.or_else(|| items_for(b, source).map(u64::from));
            let (se, basis) = match (s.stderr, n) {
                (Some(se), _) => (Some(se), "source stderr"),
                (None, Some(n)) if !is_index(b) && (0.0..=1.0).contains(&s.score) && n > 0 => {
                    seen.push(n);
                    (
                        Some(yardstick_stats::agresti_coull_se(s.score, n)?),
                        "binomial from item count",
                    )
                }
                _ => (None, "unknown"),
            };
            map.insert(s.model.clone(), (s.score, se, basis));
        }
        per_bench.push(map);
        items_seen.push(seen);
    }
    Ok((per_bench, items_seen))
}

/// Whether `m` has a score on every benchmark in `mask`.
fn has_benchmarks(per_bench: &BenchScores, m: &ModelInfo, mask: u32) -> bool {
    per_bench
        .iter()
        .enumerate()
        .all(|(i, pb)| mask & (1 << i) == 0 || pb.contains_key(&m.name))
}

/// The benchmarks (a bit mask) the groups are compared on. A dimension compares models on the same
/// benchmarks: when not every model has every benchmark of the dimension, the subset that keeps at least 3
/// models per group with the most benchmarks (then the most models). `None`: no benchmark has models of
/// both groups.
fn benchmark_mask(
    a_all: &[&ModelInfo],
    b_all: &[&ModelInfo],
    per_bench: &BenchScores,
) -> Option<u32> {
    let n = per_bench.len();
    let full: u32 = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
    // (A dimension has a handful of benchmarks; beyond 16 the subset search is skipped.)
    if n == 1 || n > 16 {
        return Some(full);
    }
    let mut best: Option<((bool, u32, usize), u32)> = None;
    for mask in 1..=full {
        let na = a_all
            .iter()
            .filter(|m| has_benchmarks(per_bench, m, mask))
            .count();
        let nb = b_all
            .iter()
            .filter(|m| has_benchmarks(per_bench, m, mask))
            .count();
        let min = na.min(nb);
        if min == 0 {
            continue;
        }
        let score = (min >= 3, mask.count_ones(), min);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, mask));
        }
    }
    best.map(|(_, m)| m)
}

/// A model's score on the chosen benchmarks: the score itself for one benchmark; for a dimension, the
/// equal-weighted mean of baseline-normalised scores (with its propagated SE when every SE is known).
fn combined_score(
    m: &ModelInfo,
    chosen: &[usize],
    per_bench: &BenchScores,
    all_benches: &[String],
    source: &str,
    index: bool,
) -> GapModel {
    if chosen.len() == 1 {
        let (s, se, _) = per_bench[chosen[0]][&m.name];
        return GapModel {
            name: m.name.clone(),
            score: s,
            se,
        };
    }
    let parts: Vec<(f64, Option<f64>, f64)> = chosen
        .iter()
        .map(|&bi| {
            let (s, se, _) = per_bench[bi][&m.name];
            let base = if index {
                0.0
            } else {
                baseline_for(&all_benches[bi], source)
            };
            (s, se, base)
        })
        .collect();
    let (score, se) = dimension_score(&parts);
    GapModel {
        name: m.name.clone(),
        score,
        se,
    }
}

/// A dimension score: the equal-weighted mean of the parts' baseline-normalised scores, with its standard
/// error propagated from theirs (None unless every part's is known). Parts: (raw score, its SE, baseline).
/// The gap's dimension rows and the web leaderboard's dimension columns both use it.
pub fn dimension_score(parts: &[(f64, Option<f64>, f64)]) -> (f64, Option<f64>) {
    let k = parts.len() as f64;
    let mut score = 0.0;
    let mut var = 0.0;
    let mut known = true;
    for &(s, se, base) in parts {
        score += crate::catalog::normalise(s, base) / k;
        match se {
            Some(se) => var += (se / (1.0 - base) / k).powi(2),
            None => known = false,
        }
    }
    (score, known.then(|| var.sqrt()))
}

/// The row's item count (summed over benchmarks) and its note: items per model, per benchmark (the median
/// count where sources vary), and how many scores' SE came from where.
fn items_summary(
    models: &[&ModelInfo],
    chosen: &[usize],
    per_bench: &BenchScores,
    items_seen: &[Vec<u64>],
    all_benches: &[String],
) -> (Option<usize>, String) {
    let mut basis_counts: HashMap<&str, usize> = HashMap::new();
    for m in models {
        for &bi in chosen {
            *basis_counts.entry(per_bench[bi][&m.name].2).or_default() += 1;
        }
    }
    let mut basis: Vec<String> = basis_counts
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    basis.sort();
    // Items per model, per benchmark (the median count where sources vary).
    let per_bench_items: Vec<(String, u64)> = chosen
        .iter()
        .filter(|&&bi| !items_seen[bi].is_empty())
        .map(|&bi| {
            (
                all_benches[bi].clone(),
                median_u64(&mut items_seen[bi].clone()),
            )
        })
        .collect();
    let n_items = (!per_bench_items.is_empty())
        .then(|| per_bench_items.iter().map(|(_, n)| *n as usize).sum());
    let items_note = match per_bench_items.as_slice() {
        [] => format!("SE basis ({})", basis.join(", ")),
        [(_, n)] => format!("{n} per model; SE basis ({})", basis.join(", ")),
        many => format!(
            "{} per model; SE basis ({})",
            many.iter()
                .map(|(b, n)| format!("{b} {n}"))
                .collect::<Vec<_>>()
                .join(" + "),
            basis.join(", ")
        ),
    };
    (n_items, items_note)
}

fn median_u64(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The latest arena snapshot on or before `as_of` (None for benchmarks without snapshots).
fn latest_snapshot(
    data: &Dataset,
    source: &str,
    benchmark: &str,
    as_of: Option<chrono::NaiveDate>,
) -> Option<String> {
    let limit = as_of.map(|d| d.to_string());
    data.scores
        .iter()
        .filter(|s| s.source == source && s.benchmark == benchmark && !s.snapshot.is_empty())
        .filter(|s| limit.as_ref().is_none_or(|l| &s.snapshot <= l))
        .map(|s| s.snapshot.clone())
        .max()
}

/// Model-level parametric bootstrap of mean_A − mean_B ([`yardstick_stats::model_level_gap_bootstrap`]):
/// a model without a known sampling error is treated as exact (SE 0).
fn model_level_bootstrap(
    a: &[GapModel],
    b: &[GapModel],
    opts: &GapOptions,
) -> Result<BootstrapResult> {
    let scores = |g: &[GapModel]| -> Vec<ModelScore> {
        g.iter()
            .map(|m| ModelScore::new(m.score, m.se.unwrap_or(0.0)))
            .collect()
    };
    Ok(yardstick_stats::model_level_gap_bootstrap(
        &scores(a),
        &scores(b),
        opts.estimand.into(),
        &BootstrapConfig::new(opts.replicates, opts.seed, opts.level),
    )?)
}

fn paired_row(
    registry: &Registry,
    data: &Dataset,
    source: &str,
    kind: &str,
    target: &str,
    tables: &[&ItemTable],
    opts: &GapOptions,
) -> Result<RowResult> {
    let mut notes = Vec::new();
    let mut fallback = Vec::new();
    let candidates = paired_candidates(registry, data, source, tables, &mut fallback);
    let (a, b, ex) = split(registry, &opts.groups, candidates);
    notes.extend(ex.describe());
    if a.is_empty() || b.is_empty() {
        return Ok(Err(format!(
            "group {} has no model with per-item data",
            if a.is_empty() { "A" } else { "B" }
        )));
    }
    let selected: Vec<&str> = a.iter().chain(b.iter()).map(|m| m.name.as_str()).collect();
    let SharedItems {
        columns,
        per_bench_n,
    } = match shared_items(tables, &selected, &mut notes) {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let order: Vec<&ModelInfo> = a.iter().chain(b.iter()).copied().collect();
    let matrix = paired_matrix(tables, source, &columns, &per_bench_n, &order)?;
    let ga: Vec<usize> = (0..a.len()).collect();
    let gb: Vec<usize> = (a.len()..order.len()).collect();
    let means = matrix.model_means();
    let to_models = |idx: &[usize]| -> Vec<GapModel> {
        idx.iter()
            .map(|&i| GapModel {
                name: order[i].name.clone(),
                score: means[i],
                se: None,
            })
            .collect()
    };
    let est = paired_estimate(&matrix, &ga, &gb, opts)?;
    let low = opts.estimand == Estimand::Population && a.len().min(b.len()) < 8;
    if low {
        notes.push(
            "fewer than 8 models in a group: the population interval is low-precision".into(),
        );
    }
    let ma = to_models(&ga);
    let mb = to_models(&gb);
    let mean = |v: &[GapModel]| v.iter().map(|m| m.score).sum::<f64>() / v.len() as f64;
    let metric = tables
        .iter()
        .map(|t| format!("{}:{}/{}", t.benchmark, t.metric, t.filter))
        .collect::<Vec<_>>()
        .join(", ");
    if source == SOURCE_YARDSTICK {
        notes.push("per-item data from Yardstick's finished runs".into());
    }
    Ok(Ok(GapRow {
        source: source.to_string(),
        kind: kind.to_string(),
        target: target.to_string(),
        benchmarks: tables.iter().map(|t| t.benchmark.clone()).collect(),
        method: est.method,
        scale: if tables.len() > 1 {
            "normalised".into()
        } else {
            "raw".into()
        },
        estimate: est.estimate,
        se: est.se,
        ci_lower: est.ci_lower,
        ci_upper: est.ci_upper,
        p: Some(est.p),
        p_holm: None,
        mean_a: mean(&ma),
        mean_b: mean(&mb),
        n_models_a: a.len(),
        n_models_b: b.len(),
        n_items: Some(columns.len()),
        items_note: format!("{} shared items", columns.len()),
        metric: Some(metric),
        low_precision: low,
        models_a: ma,
        models_b: mb,
        notes,
    }))
}

/// The models of `source` with per-item data in every table. Models that only have items (no results row)
/// are described from their name, in `fallback`.
fn paired_candidates<'a>(
    registry: &Registry,
    data: &'a Dataset,
    source: &str,
    tables: &[&ItemTable],
    fallback: &'a mut Vec<ModelInfo>,
) -> Vec<&'a ModelInfo> {
    let with_all: BTreeSet<&String> = {
        let mut it = tables
            .iter()
            .map(|t| t.scores.keys().collect::<BTreeSet<_>>());
        let first = it.next().unwrap_or_default();
        it.fold(first, |acc, s| acc.intersection(&s).copied().collect())
    };
    let known: Vec<&ModelInfo> = data
        .models
        .iter()
        .filter(|m| m.source == source && with_all.contains(&m.name))
        .collect();
    if known.len() == with_all.len() {
        return known;
    }
    *fallback = with_all
        .iter()
        .filter(|n| data.model(source, n).is_none())
        .map(|n| {
            let row = yardstick_store::observations::ModelRow {
                source: source.into(),
                model: (*n).clone(),
                ..Default::default()
            };
            Dataset::from_rows(registry, vec![row], vec![])
                .models
                .remove(0)
        })
        .collect();
    let fallback: &'a [ModelInfo] = fallback;
    known.into_iter().chain(fallback.iter()).collect()
}

/// The items every selected model answered, per benchmark.
struct SharedItems {
    /// (table index, item), table by table.
    columns: Vec<(usize, ItemKey)>,
    /// How many columns each table has.
    per_bench_n: Vec<usize>,
}

/// The items every selected model answered, per benchmark. `Err`: a table has fewer than 2 such items (the
/// reason).
fn shared_items(
    tables: &[&ItemTable],
    selected: &[&str],
    notes: &mut Vec<String>,
) -> std::result::Result<SharedItems, String> {
    let mut columns: Vec<(usize, ItemKey)> = Vec::new();
    let mut per_bench_n = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        let mut common: Option<BTreeSet<&ItemKey>> = None;
        let mut union: BTreeSet<&ItemKey> = BTreeSet::new();
        for name in selected {
            let keys: BTreeSet<&ItemKey> = t.scores[*name].keys().collect();
            union.extend(keys.iter().copied());
            common = Some(match common {
                None => keys,
                Some(c) => c.intersection(&keys).copied().collect(),
            });
        }
        let common = common.unwrap_or_default();
        if common.len() < union.len() {
            notes.push(format!(
                "{}: {} of {} items answered by every selected model are used",
                t.benchmark,
                common.len(),
                union.len()
            ));
        }
        if common.len() < 2 {
            return Err(format!(
                "{}: fewer than 2 items answered by every selected model",
                t.benchmark
            ));
        }
        per_bench_n.push(common.len());
        columns.extend(common.into_iter().map(|k| (ti, k.clone())));
    }
    Ok(SharedItems {
        columns,
        per_bench_n,
    })
}

/// The models × items score matrix, rows in `order`. Dimension rows: each item is rescaled so the plain mean
/// over all items equals the equal-weighted mean of the benchmarks' baseline-normalised means.
fn paired_matrix(
    tables: &[&ItemTable],
    source: &str,
    columns: &[(usize, ItemKey)],
    per_bench_n: &[usize],
    order: &[&ModelInfo],
) -> Result<yardstick_stats::ScoreMatrix> {
    let k = tables.len() as f64;
    let total = columns.len() as f64;
    let weight: Vec<(f64, f64)> = tables
        .iter()
        .enumerate()
        .map(|(ti, t)| {
            if tables.len() == 1 {
                (0.0, 1.0)
            } else {
                let base = baseline_for(&t.benchmark, source);
                (base, total / (k * per_bench_n[ti] as f64) / (1.0 - base))
            }
        })
        .collect();
    let mut data_m = Vec::with_capacity(order.len() * columns.len());
    for m in order {
        for (ti, key) in columns {
            let v = tables[*ti].scores[&m.name][key];
            let (base, w) = weight[*ti];
            data_m.push((v - base) * w);
        }
    }
    Ok(yardstick_stats::ScoreMatrix::new(
        order.len(),
        columns.len(),
        data_m,
    )?)
}

/// The paired gap estimate of one row.
struct PairedEstimate {
    method: Method,
    estimate: f64,
    se: f64,
    ci_lower: f64,
    ci_upper: f64,
    p: f64,
}

/// Fixed-roster per-item contrast (`roster`) or two-way bootstrap (`population`) of groups `ga` − `gb`.
fn paired_estimate(
    matrix: &yardstick_stats::ScoreMatrix,
    ga: &[usize],
    gb: &[usize],
    opts: &GapOptions,
) -> Result<PairedEstimate> {
    Ok(match opts.estimand {
        Estimand::Roster => {
            let d = yardstick_stats::fixed_roster_gap(matrix, ga, gb, opts.level)?;
            PairedEstimate {
                method: Method::PairedItemsFixedRoster,
                estimate: d.estimate,
                se: d.se,
                ci_lower: d.ci.lower,
                ci_upper: d.ci.upper,
                p: d.p,
            }
        }
        Estimand::Population => {
            let cfg = BootstrapConfig::new(opts.replicates, opts.seed, opts.level);
            let r = yardstick_stats::two_way_gap_bootstrap(matrix, ga, gb, &cfg)?;
            PairedEstimate {
                method: Method::PairedItemsTwoWayBootstrap,
                estimate: r.estimate,
                se: r.se,
                ci_lower: r.ci.lower,
                ci_upper: r.ci.upper,
                p: r.p_two_sided(),
            }
        }
    })
}

impl GapReport {
    /// Human-readable report.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let pct = (self.level * 100.0).round();
        out.push_str(&format!(
            "Gap  A = {}  vs  B = {}\n",
            self.group_a, self.group_b
        ));
        out.push_str(&format!(
            "attribution: {} · estimand: {} · {pct}% CI · {} bootstrap replicates (seed {}) · {}{}{}\n\n",
            self.attribution,
            self.estimand,
            self.replicates,
            self.seed,
            self.dimensions_version,
            if self.official_only { " · official providers only" } else { "" },
            self.as_of.as_ref().map(|d| format!(" · as of {d}")).unwrap_or_default(),
        ));
        let header = format!(
            "{:<10} {:<22} {:<31} {:>9} {:>21} {:>8} {:>8} {:>9} {:>8}  {}\n",
            "source",
            "target",
            "method",
            "Δ (A−B)",
            format!("{pct}% CI"),
            "p",
            "p(Holm)",
            "models",
            "scale",
            "items"
        );
        out.push_str(&header);
        out.push_str(&"-".repeat(header.chars().count().min(160)));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!(
                "{:<10} {:<22} {:<31} {:>+9.4} {:>21} {:>8} {:>8} {:>9} {:>8}  {}\n",
                r.source,
                truncate(&r.target, 22),
                r.method.short(),
                r.estimate,
                format!("[{:+.4}, {:+.4}]", r.ci_lower, r.ci_upper),
                fmt_p(r.p),
                fmt_p(r.p_holm),
                format!("{}/{}", r.n_models_a, r.n_models_b),
                r.scale,
                r.items_note
            ));
        }
        out.push('\n');
        // Notes every row shares are printed once.
        let common: Vec<&String> = match self.rows.split_first() {
            Some((first, rest)) if !rest.is_empty() => first
                .notes
                .iter()
                .filter(|n| rest.iter().all(|r| r.notes.contains(n)))
                .collect(),
            _ => Vec::new(),
        };
        for n in &common {
            out.push_str(&format!("all rows: {n}\n"));
        }
        for r in &self.rows {
            out.push_str(&format!(
                "{} / {}: mean A {:.4}, mean B {:.4}{}{}\n",
                r.source,
                r.target,
                r.mean_a,
                r.mean_b,
                if r.benchmarks.len() > 1 {
                    format!(" (benchmarks: {})", r.benchmarks.join(", "))
                } else {
                    String::new()
                },
                r.metric
                    .as_ref()
                    .map(|m| format!(" (metric {m})"))
                    .unwrap_or_default()
            ));
            for n in r.notes.iter().filter(|n| !common.contains(n)) {
                out.push_str(&format!("  - {n}\n"));
            }
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out.push_str(
            "\nΔ > 0: group A scores higher. Per-benchmark rows use raw scores; dimension rows use baseline-normalised scores ((raw − b)/(1 − b)), benchmarks weighted equally.\n",
        );
        out
    }
}

pub fn fmt_p(p: Option<f64>) -> String {
    match p {
        None => "—".into(),
        Some(p) if p < 0.0001 => "<0.0001".into(),
        Some(p) => format!("{p:.4}"),
    }
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::AttributionMode;
    use crate::query::Query;

    fn opts(estimand: Estimand, replicates: usize) -> GapOptions {
        GapOptions {
            groups: GroupSpec {
                a: Query::all(),
                b: Query::all(),
                attribution: AttributionMode::Developer,
                official_only: false,
                as_of: None,
            },
            target: GapTarget::AllDimensions,
            estimand,
            source: None,
            metric: None,
            replicates,
            seed: 11,
            level: 0.95,
        }
    }

    fn gm(score: f64, se: Option<f64>) -> GapModel {
        GapModel {
            name: format!("m{score}"),
            score,
            se,
        }
    }

    // The statistics (closed-form roster SE, determinism, population widening) are tested in
    // yardstick-stats (`tests/known_values.rs`); here: the options and a missing SE reach it as documented.
    #[test]
    fn model_level_bootstrap_passes_options_and_treats_unknown_se_as_exact() {
        let a = [gm(0.6, Some(0.02)), gm(0.7, None)];
        let b = [gm(0.5, Some(0.03)), gm(0.45, Some(0.01))];
        let ms = |g: &[GapModel]| -> Vec<ModelScore> {
            g.iter()
                .map(|m| ModelScore::new(m.score, m.se.unwrap_or(0.0)))
                .collect()
        };
        for (estimand, stats_estimand) in [
            (Estimand::Roster, GapEstimand::Roster),
            (Estimand::Population, GapEstimand::Population),
        ] {
            let o = opts(estimand, 500);
            let ours = model_level_bootstrap(&a, &b, &o).unwrap();
            let direct = yardstick_stats::model_level_gap_bootstrap(
                &ms(&a),
                &ms(&b),
                stats_estimand,
                &BootstrapConfig::new(500, 11, 0.95),
            )
            .unwrap();
            assert_eq!(ours, direct);
            assert!((ours.estimate - 0.175).abs() < 1e-12);
        }
        // Different estimands give different replicates.
        let roster = model_level_bootstrap(&a, &b, &opts(Estimand::Roster, 500)).unwrap();
        let pop = model_level_bootstrap(&a, &b, &opts(Estimand::Population, 500)).unwrap();
        assert_ne!(roster.replicates, pop.replicates);
    }
}
