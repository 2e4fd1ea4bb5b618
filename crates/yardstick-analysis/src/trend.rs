//! `yardstick trend`: each group's frontier F_G(t) (best score among its models released on or before t), the
//! frontier gap F_A(t) − F_B(t), the lag of group B behind group A in months, and the slope of the gap over
//! release date with a verdict. For arena leaderboards (`--metric arena-elo`), the gap between the best model
//! of each group in every snapshot.
//!
//! Lag: for each day t from `--since`, target = F_B(t); τ = the first date on which F_A reached the target;
//! lag(t) = (t − τ) in days / 30.4375 ([`DAYS_PER_MONTH`] = 365.25 / 12). A negative lag means group A
//! reached that score only after t (B was ahead at t); when A never reached it, B leads and the lag is
//! undefined for that day.
//!
//! Slope (eval-anchors §4.8): weighted least squares over the models of both groups released in the window,
//! score = α + γ·[A] + β·date + δ·date·[A], weights 1/SE² when every model has a standard error, cluster-robust
//! (CR1) standard errors by developer organization; δ is the change of the A − B gap per day (reported per
//! month). Verdict: widening / narrowing when the CI of δ lies on one side of 0 (relative to which group is
//! ahead at the window's centre, γ), otherwise no evidence either way.

use crate::catalog::Dimension;
use crate::dataset::{Dataset, ModelInfo};
use crate::error::{AnalysisError, Result};
use crate::gap::{fmt_p, truncate};
use crate::groups::{split, GroupSpec};
use crate::registry::Registry;
use chrono::{Duration, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;
use yardstick_stats::{
    percentile_interval, verdict_from_interval, TrendConvention, TrendVerdict, Xoshiro256PlusPlus,
    DAYS_PER_MONTH,
};
use yardstick_store::observations::ScoreRow;

/// Longest daily series (20 years).
const MAX_WINDOW_DAYS: i64 = 7305;

/// Options of `yardstick trend`.
#[derive(Debug, Clone)]
pub struct TrendOptions {
    pub groups: GroupSpec,
    /// `ECI`, a benchmark id, or `arena-elo` (also `arena-elo-vision`, `arena-elo-image`).
    pub metric: String,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub source: Option<String>,
    pub replicates: usize,
    pub seed: u64,
    pub level: f64,
}

/// A point where a group's frontier rose.
#[derive(Debug, Clone, Serialize)]
pub struct FrontierStep {
    pub date: NaiveDate,
    pub score: f64,
    pub model: String,
}

/// One day of the series.
#[derive(Debug, Clone, Serialize)]
pub struct DayPoint {
    pub date: NaiveDate,
    pub frontier_a: Option<f64>,
    pub frontier_b: Option<f64>,
    pub gap: Option<f64>,
    pub gap_lower: Option<f64>,
    pub gap_upper: Option<f64>,
    /// Months B is behind A (negative: B ahead; None: B ahead and A never reached B's score, or no B model yet).
    pub lag_months: Option<f64>,
    /// B's frontier exceeds anything A released in the data.
    pub b_ahead_unreached: bool,
}

/// Summary of the lag series.
#[derive(Debug, Clone, Serialize)]
pub struct LagSummary {
    pub mean_months: Option<f64>,
    pub min_months: Option<f64>,
    pub max_months: Option<f64>,
    pub current_months: Option<f64>,
    pub days: usize,
    pub days_b_ahead_unreached: usize,
    /// Bootstrap interval of the mean lag (when per-model uncertainty is known).
    pub mean_ci: Option<(f64, f64)>,
}

/// Slope of the gap over release date.
#[derive(Debug, Clone, Serialize)]
pub struct GapTrend {
    pub method: String,
    pub slope_per_month: f64,
    pub ci_lower_per_month: f64,
    pub ci_upper_per_month: f64,
    pub p: f64,
    /// Modelled A − B gap at the centre of the window.
    pub gap_at_centre: f64,
    pub centre: NaiveDate,
    pub verdict: TrendVerdict,
    pub verdict_text: String,
    pub n: usize,
    pub n_clusters: usize,
}

/// Result of `yardstick trend` on a release-dated metric.
#[derive(Debug, Clone, Serialize)]
pub struct TrendReport {
    pub group_a: String,
    pub group_b: String,
    /// The metric as the user wrote it (`ECI`).
    pub metric: String,
    /// The benchmark it resolves to (`eci`).
    pub benchmark: String,
    pub source: String,
    pub attribution: String,
    pub since: NaiveDate,
    pub until: NaiveDate,
    pub n_models_a: usize,
    pub n_models_b: usize,
    pub frontier_a: Vec<FrontierStep>,
    pub frontier_b: Vec<FrontierStep>,
    pub current_gap: Option<f64>,
    pub lag: LagSummary,
    pub trend: Option<GapTrend>,
    /// How the gap band was computed, if any.
    pub band: Option<String>,
    pub series: Vec<DayPoint>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
struct Point {
    date: NaiveDate,
    score: f64,
    se: Option<f64>,
    model: String,
    cluster: String,
}

/// Resolve the metric to a benchmark id.
pub fn metric_benchmark(metric: &str) -> String {
    let m = metric.trim().to_lowercase();
    match m.as_str() {
        "eci" | "epoch-capabilities-index" => "eci".into(),
        "arena" | "elo" | "arena-elo" | "arena_elo" => "arena-elo".into(),
        _ => Dimension::parse(&m)
            .filter(|d| *d == Dimension::Overall)
            .map(|_| "eci".to_string())
            .unwrap_or(m),
    }
}

/// Frontier trend of a release-dated metric.
pub fn trend(registry: &Registry, data: &Dataset, opts: &TrendOptions) -> Result<TrendReport> {
    crate::groups::check_replicates(opts.replicates)?;
    crate::groups::check_not_nested(registry, &opts.groups, &data.models)?;
    let bench = metric_benchmark(&opts.metric);
    let source = dated_source(data, opts, &bench)?;
    let mut notes = Vec::new();
    let (pa, pb) = group_points(registry, data, opts, &source, &bench, &mut notes)?;
    let (since, until, days) = window_days(&pa, &pb, opts)?;
    let scores_a: Vec<f64> = pa.iter().map(|p| p.score).collect();
    let scores_b: Vec<f64> = pb.iter().map(|p| p.score).collect();
    let series = frontier_series(&pa, &scores_a, &pb, &scores_b, &days);
    let frontier_a = steps(&pa);
    let frontier_b = steps(&pb);
    let boot = bootstrap_band(&pa, &pb, &days, opts);
    if boot.band.is_none() {
        notes.push(format!(
            "no model has a standard error for '{bench}': the frontier gap has no bootstrap band"
        ));
    }
    let series: Vec<DayPoint> = series
        .into_iter()
        .zip(boot.gap_bands)
        .map(|(mut d, b)| {
            if let Some((l, u)) = b {
                d.gap_lower = Some(l);
                d.gap_upper = Some(u);
            }
            d
        })
        .collect();
    let lag = lag_summary(&series, boot.lag_mean_ci);
    let window: Vec<(&Point, f64)> = pa
        .iter()
        .map(|p| (p, 1.0))
        .chain(pb.iter().map(|p| (p, 0.0)))
        .filter(|(p, _)| p.date >= since && p.date <= until)
        .collect();
    let trend = match gap_trend(&window, opts.level) {
        Ok(t) => Some(t),
        Err(e) => {
            notes.push(format!("no trend estimate: {e}"));
            None
        }
    };
    Ok(TrendReport {
        group_a: opts.groups.a.text.clone(),
        group_b: opts.groups.b.text.clone(),
        metric: opts.metric.trim().to_string(),
        benchmark: bench,
        source,
        attribution: opts.groups.attribution.id().to_string(),
        since,
        until,
        n_models_a: pa.len(),
        n_models_b: pb.len(),
        frontier_a,
        frontier_b,
        current_gap: series.last().and_then(|d| d.gap),
        lag,
        trend,
        band: boot.band,
        series,
        notes,
    })
}

/// The one source of `bench` (after `--source`) whose models carry release dates.
fn dated_source(data: &Dataset, opts: &TrendOptions, bench: &str) -> Result<String> {
    let mut sources = data.sources_with(bench);
    if sources.is_empty() {
        let mut all: Vec<String> = data.scores.iter().map(|s| s.benchmark.clone()).collect();
        all.sort();
        all.dedup();
        return Err(AnalysisError::NoData(format!(
            "no scores for metric '{}' in the store; metrics present: {}",
            opts.metric,
            if all.is_empty() {
                "none (run `yardstick import` first)".into()
            } else {
                all.join(", ")
            }
        )));
    }
    if let Some(s) = &opts.source {
        sources.retain(|x| x == s);
        if sources.is_empty() {
            return Err(AnalysisError::NoData(format!(
                "source '{s}' has no scores for '{}'",
                opts.metric
            )));
        }
    }
    // Prefer sources whose models carry release dates.
    let dated: Vec<String> = sources
        .iter()
        .filter(|s| {
            data.models
                .iter()
                .any(|m| &m.source == *s && m.release_date.is_some())
        })
        .cloned()
        .collect();
    match dated.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(AnalysisError::NoData(format!(
            "no model with a release date has '{}' (sources: {}); a frontier needs release dates",
            opts.metric,
            sources.join(", ")
        ))),
        many => Err(AnalysisError::invalid(
            "--metric",
            format!(
                "'{}' is in several sources with release dates ({}); choose one with --source",
                opts.metric,
                many.join(", ")
            ),
        )),
    }
}

/// The dated, scored models of `source` split into groups A and B, as points sorted by release date (best
/// score first on a date). Notes the models left out; errors when a group has none.
fn group_points(
    registry: &Registry,
    data: &Dataset,
    opts: &TrendOptions,
    source: &str,
    bench: &str,
    notes: &mut Vec<String>,
) -> Result<(Vec<Point>, Vec<Point>)> {
    let scores = data.latest_scores(source, bench, None);
    let candidates: Vec<&ModelInfo> = data
        .models
        .iter()
        .filter(|m| m.source == source)
        .filter(|m| scores.iter().any(|s| s.model == m.name))
        .collect();
    let undated = candidates
        .iter()
        .filter(|m| m.release_date.is_none())
        .count();
    if undated > 0 {
        notes.push(format!(
            "{undated} model(s) with a '{bench}' score have no release date and are left out"
        ));
    }
    let dated_candidates: Vec<&ModelInfo> = candidates
        .into_iter()
        .filter(|m| m.release_date.is_some())
        .collect();
    let mut spec = opts.groups.clone();
    spec.as_of = spec.as_of.or(opts.until);
    let (a, b, ex) = split(registry, &spec, dated_candidates);
    notes.extend(ex.describe());
    let pa = release_points(&a, &scores, opts);
    let pb = release_points(&b, &scores, opts);
    if pa.is_empty() || pb.is_empty() {
        return Err(AnalysisError::NoData(format!(
            "group {} has no model with a '{}' score and a release date in {source}{}",
            if pa.is_empty() {
                format!("A ({})", opts.groups.a.text)
            } else {
                format!("B ({})", opts.groups.b.text)
            },
            bench,
            if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            }
        )));
    }
    Ok((pa, pb))
}

/// A group's models with a score and a release date, sorted by date (best score first on a date).
fn release_points(ms: &[&ModelInfo], scores: &[&ScoreRow], opts: &TrendOptions) -> Vec<Point> {
    let mut v: Vec<Point> = ms
        .iter()
        .filter_map(|m| {
            let s = scores.iter().find(|s| s.model == m.name)?;
            Some(Point {
                date: m.release_date?,
                score: s.score,
                se: s.stderr,
                model: m.name.clone(),
                cluster: m
                    .attributed(opts.groups.attribution)
                    .org
                    .clone()
                    .unwrap_or_else(|| m.name.clone()),
            })
        })
        .collect();
    v.sort_by(|x, y| x.date.cmp(&y.date).then(y.score.total_cmp(&x.score)));
    v
}

/// The window (`--since` / `--until`, defaulting to the first and last release) and its days.
fn window_days(
    pa: &[Point],
    pb: &[Point],
    opts: &TrendOptions,
) -> Result<(NaiveDate, NaiveDate, Vec<NaiveDate>)> {
    let first_release = pa[0].date.min(pb[0].date);
    let last_release = pa
        .last()
        .map(|p| p.date)
        .unwrap_or(first_release)
        .max(pb.last().map(|p| p.date).unwrap_or(first_release));
    let since = opts.since.unwrap_or(first_release);
    let until = opts.until.unwrap_or(last_release).max(since);
    if (until - since).num_days() > MAX_WINDOW_DAYS {
        return Err(AnalysisError::invalid(
            "--since/--until",
            format!(
                "the window {since} → {until} is longer than {} years; narrow it",
                MAX_WINDOW_DAYS / 365
            ),
        ));
    }
    let mut days = Vec::new();
    let mut d = since;
    while d <= until {
        days.push(d);
        d += Duration::days(1);
    }
    Ok((since, until, days))
}

/// The bootstrap band of the frontier gap and the interval of the mean lag.
struct BootstrapBand {
    /// How the band was computed; `None` when no model has a standard error (or under 2 replicates).
    band: Option<String>,
    /// Per day of the series.
    gap_bands: Vec<Option<(f64, f64)>>,
    lag_mean_ci: Option<(f64, f64)>,
}

/// Parametric bootstrap where per-model uncertainty is known: each model's score perturbed by its standard
/// error, frontiers recomputed.
fn bootstrap_band(
    pa: &[Point],
    pb: &[Point],
    days: &[NaiveDate],
    opts: &TrendOptions,
) -> BootstrapBand {
    let with_se = pa
        .iter()
        .chain(pb.iter())
        .filter(|p| p.se.is_some())
        .count();
    let total = pa.len() + pb.len();
    let mut out = BootstrapBand {
        band: None,
        gap_bands: vec![None; days.len()],
        lag_mean_ci: None,
    };
    if with_se == 0 || opts.replicates < 2 {
        return out;
    }
    let reps: Vec<(Vec<Option<f64>>, Option<f64>)> = (0..opts.replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = Xoshiro256PlusPlus::for_stream(opts.seed, 3, r as u64);
            let mut perturb = |pts: &[Point]| -> Vec<f64> {
                pts.iter()
                    .map(|p| p.score + p.se.unwrap_or(0.0) * rng.normal())
                    .collect()
            };
            let sa = perturb(pa);
            let sb = perturb(pb);
            let s = frontier_series(pa, &sa, pb, &sb, days);
            let lags: Vec<f64> = s.iter().filter_map(|d| d.lag_months).collect();
            let mean_lag = (!lags.is_empty()).then(|| lags.iter().sum::<f64>() / lags.len() as f64);
            (s.into_iter().map(|d| d.gap).collect(), mean_lag)
        })
        .collect();
    for (di, slot) in out.gap_bands.iter_mut().enumerate() {
        let vals: Vec<f64> = reps.iter().filter_map(|(g, _)| g[di]).collect();
        if vals.len() == reps.len() {
            if let Ok(ci) = percentile_interval(&vals, opts.level) {
                *slot = Some((ci.lower, ci.upper));
            }
        }
    }
    let lag_means: Vec<f64> = reps.iter().filter_map(|(_, l)| *l).collect();
    if lag_means.len() == reps.len() {
        if let Ok(ci) = percentile_interval(&lag_means, opts.level) {
            out.lag_mean_ci = Some((ci.lower, ci.upper));
        }
    }
    out.band = Some(format!(
        "parametric bootstrap ({} replicates): each model's score perturbed by its standard error ({with_se} of {total} models have one; the others are held fixed), frontiers recomputed; {}% percentile band",
        opts.replicates,
        (opts.level * 100.0).round()
    ));
    out
}

/// Summary of the daily lag series.
fn lag_summary(series: &[DayPoint], mean_ci: Option<(f64, f64)>) -> LagSummary {
    let lags: Vec<f64> = series.iter().filter_map(|d| d.lag_months).collect();
    LagSummary {
        mean_months: (!lags.is_empty()).then(|| lags.iter().sum::<f64>() / lags.len() as f64),
        min_months: lags.iter().copied().reduce(f64::min),
        max_months: lags.iter().copied().reduce(f64::max),
        current_months: series.last().and_then(|d| d.lag_months),
        days: lags.len(),
        days_b_ahead_unreached: series.iter().filter(|d| d.b_ahead_unreached).count(),
        mean_ci,
    }
}

/// Frontier steps (the models that raised the frontier), in date order.
fn steps(points: &[Point]) -> Vec<FrontierStep> {
    let mut out: Vec<FrontierStep> = Vec::new();
    for p in points {
        if out.last().is_none_or(|s| p.score > s.score) {
            out.push(FrontierStep {
                date: p.date,
                score: p.score,
                model: p.model.clone(),
            });
        }
    }
    out
}

/// Frontiers, gap and lag for every day. `points` are sorted by date; `scores` are their (possibly
/// perturbed) scores.
fn frontier_series(
    pa: &[Point],
    sa: &[f64],
    pb: &[Point],
    sb: &[f64],
    days: &[NaiveDate],
) -> Vec<DayPoint> {
    // A's frontier steps with perturbed scores: (date, running max).
    let mut steps_a: Vec<(NaiveDate, f64)> = Vec::new();
    for (p, &s) in pa.iter().zip(sa) {
        match steps_a.last() {
            Some(&(_, best)) if s <= best => {}
            _ => steps_a.push((p.date, s)),
        }
    }
    let mut ia = 0;
    let mut ib = 0;
    let mut fa: Option<f64> = None;
    let mut fb: Option<f64> = None;
    let mut out = Vec::with_capacity(days.len());
    for &d in days {
        while ia < pa.len() && pa[ia].date <= d {
            fa = Some(fa.map_or(sa[ia], |x: f64| x.max(sa[ia])));
            ia += 1;
        }
        while ib < pb.len() && pb[ib].date <= d {
            fb = Some(fb.map_or(sb[ib], |x: f64| x.max(sb[ib])));
            ib += 1;
        }
        let gap = match (fa, fb) {
            (Some(x), Some(y)) => Some(x - y),
            _ => None,
        };
        let (lag, unreached) = match fb {
            None => (None, false),
            Some(target) => {
                // First date A's frontier reached the target: steps are increasing in score.
                let idx = steps_a.partition_point(|&(_, s)| s < target);
                match steps_a.get(idx) {
                    Some(&(tau, _)) => (Some((d - tau).num_days() as f64 / DAYS_PER_MONTH), false),
                    None => (None, true),
                }
            }
        };
        out.push(DayPoint {
            date: d,
            frontier_a: fa,
            frontier_b: fb,
            gap,
            gap_lower: None,
            gap_upper: None,
            lag_months: lag,
            b_ahead_unreached: unreached,
        });
    }
    out
}

/// The verdict in words; `gap` is the A − B gap that says which group is ahead (≥ 0: A).
fn verdict_text(verdict: TrendVerdict, gap: f64) -> String {
    let leader = if gap >= 0.0 { "A" } else { "B" };
    match verdict {
        TrendVerdict::Widening => format!("widening (group {leader} ahead and pulling away)"),
        TrendVerdict::Narrowing => {
            format!("narrowing (group {leader} ahead, the other catching up)")
        }
        TrendVerdict::NoEvidence => {
            "no evidence either way (the CI of the slope includes 0)".to_string()
        }
    }
}

/// δ of score = α + γ·[A] + β·t + δ·t·[A] (t in days from the window's centre), cluster-robust by organization.
fn gap_trend(window: &[(&Point, f64)], level: f64) -> Result<GapTrend> {
    let na = window.iter().filter(|(_, g)| *g == 1.0).count();
    let nb = window.len() - na;
    if na < 2 || nb < 2 {
        return Err(AnalysisError::NoData(format!(
            "needs at least 2 models per group released in the window (A: {na}, B: {nb})"
        )));
    }
    let epoch = window.iter().map(|(p, _)| p.date).min().unwrap_or_default();
    let t: Vec<f64> = window
        .iter()
        .map(|(p, _)| (p.date - epoch).num_days() as f64)
        .collect();
    let centre_days = t.iter().sum::<f64>() / t.len() as f64;
    let x: Vec<Vec<f64>> = window
        .iter()
        .zip(&t)
        .map(|((_, g), ti)| vec![1.0, *g, ti - centre_days, g * (ti - centre_days)])
        .collect();
    let y: Vec<f64> = window.iter().map(|(p, _)| p.score).collect();
    let all_se = window.iter().all(|(p, _)| p.se.is_some_and(|s| s > 0.0));
    let weights: Option<Vec<f64>> = all_se.then(|| {
        window
            .iter()
            .map(|(p, _)| 1.0 / p.se.unwrap_or(1.0).powi(2))
            .collect()
    });
    let labels: Vec<&str> = window.iter().map(|(p, _)| p.cluster.as_str()).collect();
    let clusters = yardstick_stats::dense_cluster_ids(&labels);
    let fit = yardstick_stats::wls(&y, &x, weights.as_deref(), Some(&clusters), level)?;
    let delta = fit.coef[3];
    let ci = fit.ci[3];
    let gamma = fit.coef[1];
    let verdict = verdict_from_interval(ci, TrendConvention::for_signed_gap(gamma));
    let verdict_text = verdict_text(verdict, gamma);
    let centre = epoch + Duration::days(centre_days.round() as i64);
    Ok(GapTrend {
        method: format!(
            "WLS of score on [1, A, t, t·A] over {} models released in the window ({}), CR1 cluster-robust SE by developer ({} clusters), t with {} df",
            fit.n,
            if weights.is_some() { "weights 1/SE²" } else { "unweighted: not every model has a standard error" },
            fit.n_clusters,
            fit.df
        ),
        slope_per_month: delta * DAYS_PER_MONTH,
        ci_lower_per_month: ci.lower * DAYS_PER_MONTH,
        ci_upper_per_month: ci.upper * DAYS_PER_MONTH,
        p: fit.p[3],
        gap_at_centre: gamma,
        centre,
        verdict,
        verdict_text,
        n: fit.n,
        n_clusters: fit.n_clusters,
    })
}

impl TrendReport {
    /// Monthly samples of the daily series (the first day of each month, and the last day).
    pub fn monthly(&self) -> Vec<&DayPoint> {
        let mut out: Vec<&DayPoint> = self
            .series
            .iter()
            .filter(|d| chrono::Datelike::day(&d.date) == 1)
            .collect();
        if let Some(last) = self.series.last() {
            if out.last().is_none_or(|l| l.date != last.date) {
                out.push(last);
            }
        }
        out
    }

    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let f = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into());
        // Proportions get three decimals, indices (ECI, Elo) two.
        let dp = if self
            .frontier_a
            .iter()
            .chain(&self.frontier_b)
            .all(|s| s.score.abs() <= 1.5)
        {
            3
        } else {
            2
        };
        let num = |x: f64| format!("{x:.dp$}");
        let signed = |x: f64| format!("{x:+.dp$}");
        o.push_str(&format!(
            "Trend of {} ({}): A = {}  vs  B = {}\n",
            self.metric, self.source, self.group_a, self.group_b
        ));
        o.push_str(&format!(
            "attribution: {} · window {} → {} · models with a release date: A {}, B {}\n\n",
            self.attribution, self.since, self.until, self.n_models_a, self.n_models_b
        ));
        o.push_str(&format!(
            "Lag of B behind A (months): mean {}, min {}, max {}, latest {}",
            f(self.lag.mean_months),
            f(self.lag.min_months),
            f(self.lag.max_months),
            f(self.lag.current_months)
        ));
        if let Some((l, u)) = self.lag.mean_ci {
            o.push_str(&format!(" (mean {:.1}–{:.1} in the bootstrap)", l, u));
        }
        o.push_str(&format!(" over {} days", self.lag.days));
        if self.lag.days_b_ahead_unreached > 0 {
            o.push_str(&format!(
                "; on {} days B's frontier was above anything A had released",
                self.lag.days_b_ahead_unreached
            ));
        }
        o.push('\n');
        if let Some(g) = self.current_gap {
            let last = self.series.last();
            let band = last
                .and_then(|d| d.gap_lower.zip(d.gap_upper))
                .map(|(l, u)| format!(" [{}, {}]", num(l), num(u)))
                .unwrap_or_default();
            o.push_str(&format!(
                "Frontier gap F_A − F_B on {}: {}{band}\n",
                self.until,
                signed(g)
            ));
        }
        match &self.trend {
            Some(t) => o.push_str(&format!(
                "Trend of the gap: {:+.4} per month [{:+.4}, {:+.4}], p {} → {}\n  ({}; modelled gap at {} {})\n",
                t.slope_per_month,
                t.ci_lower_per_month,
                t.ci_upper_per_month,
                fmt_p(Some(t.p)),
                t.verdict_text,
                t.method,
                t.centre,
                signed(t.gap_at_centre)
            )),
            None => o.push_str("Trend of the gap: not estimated (see notes)\n"),
        }
        if let Some(b) = &self.band {
            o.push_str(&format!("Band: {b}\n"));
        }
        for (label, steps) in [("A", &self.frontier_a), ("B", &self.frontier_b)] {
            o.push_str(&format!("\nFrontier {label} (models that raised it):\n"));
            // The level entering the window, then every rise inside it.
            let first_inside = steps
                .iter()
                .position(|s| s.date >= self.since)
                .unwrap_or(steps.len());
            for s in &steps[first_inside.saturating_sub(1)..] {
                o.push_str(&format!(
                    "  {}  {:>9.3}  {}\n",
                    s.date,
                    s.score,
                    truncate(&s.model, 60)
                ));
            }
        }
        o.push_str("\nSeries (first day of each month):\n");
        o.push_str(&format!(
            "  {:<10} {:>9} {:>9} {:>8} {:>17} {:>11}\n",
            "date", "F_A", "F_B", "gap", "band", "lag (mo)"
        ));
        for d in self.monthly() {
            let band = d
                .gap_lower
                .zip(d.gap_upper)
                .map(|(l, u)| format!("[{}, {}]", num(l), num(u)))
                .unwrap_or_default();
            let lag = match (d.lag_months, d.b_ahead_unreached) {
                (Some(l), _) => format!("{l:.1}"),
                (None, true) => "B ahead".into(),
                (None, false) => "—".into(),
            };
            o.push_str(&format!(
                "  {:<10} {:>9} {:>9} {:>8} {:>17} {:>11}\n",
                d.date.to_string(),
                d.frontier_a.map(num).unwrap_or_else(|| "—".into()),
                d.frontier_b.map(num).unwrap_or_else(|| "—".into()),
                d.gap.map(signed).unwrap_or_else(|| "—".into()),
                band,
                lag
            ));
        }
        for n in &self.notes {
            o.push_str(&format!("note: {n}\n"));
        }
        o
    }
}

/// The arena gap in one snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotGap {
    pub date: NaiveDate,
    pub best_a: String,
    pub score_a: f64,
    pub ci_a: Option<(f64, f64)>,
    pub best_b: String,
    pub score_b: f64,
    pub ci_b: Option<(f64, f64)>,
    pub gap: f64,
    pub se: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub n_models_a: usize,
    pub n_models_b: usize,
}

/// Result of `yardstick trend --metric arena-elo`.
#[derive(Debug, Clone, Serialize)]
pub struct ArenaTrendReport {
    pub group_a: String,
    pub group_b: String,
    pub metric: String,
    pub attribution: String,
    pub snapshots: Vec<SnapshotGap>,
    pub trend: Option<GapTrend>,
    pub method: String,
    pub notes: Vec<String>,
}

/// Per snapshot: best model of each group, Elo gap with CI from the snapshot's `95_pct_ci` column.
pub fn arena_trend(
    registry: &Registry,
    data: &Dataset,
    opts: &TrendOptions,
) -> Result<ArenaTrendReport> {
    crate::groups::check_not_nested(registry, &opts.groups, &data.models)?;
    let bench = metric_benchmark(&opts.metric);
    let source = opts
        .source
        .clone()
        .unwrap_or_else(|| crate::import::SOURCE_ARENA.to_string());
    let mut snaps: Vec<String> = data
        .scores
        .iter()
        .filter(|s| s.source == source && s.benchmark == bench)
        .map(|s| s.snapshot.clone())
        .collect();
    snaps.sort();
    snaps.dedup();
    if snaps.is_empty() {
        return Err(AnalysisError::NoData(format!(
            "no '{bench}' snapshots from {source} in the store; import the LMArena CSVs first"
        )));
    }
    let z = yardstick_stats::normal_two_sided_critical(opts.level)?;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut skipped = 0;
    let mut spec = opts.groups.clone();
    spec.as_of = None; // arena models rarely have release dates; snapshots are filtered by date instead
    for snap in snaps {
        let Some(date) = crate::country::parse_date(&snap) else {
            continue;
        };
        if opts.since.is_some_and(|s| date < s) || opts.until.is_some_and(|u| date > u) {
            continue;
        }
        let scores = data.latest_scores(&source, &bench, Some(&snap));
        match snapshot_gap(registry, data, &spec, &source, &scores, date, z) {
            Some(g) => out.push(g),
            None => skipped += 1,
        }
    }
    if skipped > 0 {
        notes.push(format!(
            "{skipped} snapshot(s) without a model of both groups are left out"
        ));
    }
    if out.is_empty() {
        return Err(AnalysisError::NoData(
            "no snapshot has a model of both groups".into(),
        ));
    }
    let trend = if out.len() >= 3 {
        arena_gap_trend(&out, opts.level, &mut notes)
    } else {
        None
    };
    Ok(ArenaTrendReport {
        group_a: opts.groups.a.text.clone(),
        group_b: opts.groups.b.text.clone(),
        metric: bench,
        attribution: opts.groups.attribution.id().to_string(),
        snapshots: out,
        trend,
        method: "per snapshot: best-rated model of each group; gap CI = gap ± z·√(SE_A² + SE_B²), SE = half-width of the snapshot's 95% interval / 1.96 (treats the two ratings as independent; the max over models is biased upward when many models are close)".into(),
        notes,
    })
}

/// The gap between the best-rated model of each group in one snapshot (`scores`); `None` when a group has
/// no model in it.
fn snapshot_gap(
    registry: &Registry,
    data: &Dataset,
    spec: &GroupSpec,
    source: &str,
    scores: &[&ScoreRow],
    date: NaiveDate,
    z: f64,
) -> Option<SnapshotGap> {
    let models: Vec<&ModelInfo> = scores
        .iter()
        .filter_map(|s| data.model(source, &s.model))
        .collect();
    let (a, b, _) = split(registry, spec, models);
    let best = |g: &[&ModelInfo]| {
        g.iter()
            .filter_map(|m| scores.iter().find(|s| s.model == m.name).copied())
            .max_by(|x, y| x.score.total_cmp(&y.score))
    };
    let (Some(ba), Some(bb)) = (best(&a), best(&b)) else {
        return None;
    };
    let se = match (ba.stderr, bb.stderr) {
        (Some(x), Some(y)) => Some((x * x + y * y).sqrt()),
        _ => None,
    };
    let gap = ba.score - bb.score;
    Some(SnapshotGap {
        date,
        best_a: ba.model.clone(),
        score_a: ba.score,
        ci_a: ba.ci_lower.zip(ba.ci_upper),
        best_b: bb.model.clone(),
        score_b: bb.score,
        ci_b: bb.ci_lower.zip(bb.ci_upper),
        gap,
        se,
        ci_lower: se.map(|s| gap - z * s),
        ci_upper: se.map(|s| gap + z * s),
        n_models_a: a.len(),
        n_models_b: b.len(),
    })
}

/// Trend of the per-snapshot gap over snapshot date. Consecutive snapshots share most battles, so they are
/// clustered by calendar quarter; weights 1/SE². A failed fit is noted and gives `None`.
fn arena_gap_trend(out: &[SnapshotGap], level: f64, notes: &mut Vec<String>) -> Option<GapTrend> {
    let epoch = out[0].date;
    let days: Vec<f64> = out
        .iter()
        .map(|s| (s.date - epoch).num_days() as f64)
        .collect();
    let y: Vec<f64> = out.iter().map(|s| s.gap).collect();
    let all_se = out.iter().all(|s| s.se.is_some_and(|x| x > 0.0));
    let w: Option<Vec<f64>> = all_se.then(|| {
        out.iter()
            .map(|s| 1.0 / s.se.unwrap_or(1.0).powi(2))
            .collect()
    });
    let quarters: Vec<String> = out
        .iter()
        .map(|s| {
            format!(
                "{}Q{}",
                chrono::Datelike::year(&s.date),
                (chrono::Datelike::month(&s.date) - 1) / 3 + 1
            )
        })
        .collect();
    let clusters = yardstick_stats::dense_cluster_ids(&quarters);
    let mean_gap = y.iter().sum::<f64>() / y.len() as f64;
    match yardstick_stats::trend(
        &y,
        &days,
        w.as_deref(),
        Some(&clusters),
        TrendConvention::for_signed_gap(mean_gap),
        level,
    ) {
        Ok(t) => {
            let verdict_text = verdict_text(t.verdict, mean_gap);
            Some(GapTrend {
                method: format!(
                    "WLS of the snapshot gap on snapshot date ({}), CR1 SE clustered by calendar quarter ({} clusters)",
                    if w.is_some() { "weights 1/SE²" } else { "unweighted" },
                    t.n_clusters
                ),
                slope_per_month: t.slope_per_month,
                ci_lower_per_month: t.ci_per_month.lower,
                ci_upper_per_month: t.ci_per_month.upper,
                p: t.p,
                gap_at_centre: mean_gap,
                centre: epoch + Duration::days((days.iter().sum::<f64>() / days.len() as f64).round() as i64),
                verdict: t.verdict,
                verdict_text,
                n: t.n,
                n_clusters: t.n_clusters,
            })
        }
        Err(e) => {
            notes.push(format!("no trend estimate: {e}"));
            None
        }
    }
}

impl ArenaTrendReport {
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        o.push_str(&format!(
            "Arena trend ({}): A = {}  vs  B = {}  (attribution: {})\n",
            self.metric, self.group_a, self.group_b, self.attribution
        ));
        o.push_str(&format!("{}\n\n", self.method));
        o.push_str(&format!(
            "{:<10} {:<34} {:>6} {:<34} {:>6} {:>7} {:>17}\n",
            "snapshot", "best A", "Elo", "best B", "Elo", "gap", "95% CI"
        ));
        for s in &self.snapshots {
            o.push_str(&format!(
                "{:<10} {:<34} {:>6.0} {:<34} {:>6.0} {:>+7.0} {:>17}\n",
                s.date.to_string(),
                truncate(&s.best_a, 34),
                s.score_a,
                truncate(&s.best_b, 34),
                s.score_b,
                s.gap,
                s.ci_lower
                    .zip(s.ci_upper)
                    .map(|(l, u)| format!("[{l:+.0}, {u:+.0}]"))
                    .unwrap_or_default()
            ));
        }
        if let Some(t) = &self.trend {
            o.push_str(&format!(
                "\nTrend of the gap: {:+.2} Elo per month [{:+.2}, {:+.2}], p {} → {}\n  ({})\n",
                t.slope_per_month,
                t.ci_lower_per_month,
                t.ci_upper_per_month,
                fmt_p(Some(t.p)),
                t.verdict_text,
                t.method
            ));
        }
        for n in &self.notes {
            o.push_str(&format!("note: {n}\n"));
        }
        o
    }
}

/// Whether a metric is an arena rating (per-snapshot analysis).
pub fn is_arena_metric(metric: &str) -> bool {
    metric_benchmark(metric).starts_with("arena-elo")
}

/// Result of `yardstick trend`: a frontier trend of a release-dated metric, or the arena gap per
/// leaderboard snapshot. Its JSON is that of the report inside.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TrendOutput {
    Release(Box<TrendReport>),
    Arena(Box<ArenaTrendReport>),
}

impl crate::report::Report for TrendOutput {
    fn write_text(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            TrendOutput::Release(r) => r.write_text(w),
            TrendOutput::Arena(r) => r.write_text(w),
        }
    }
    fn plot(&self, path: &std::path::Path) -> Result<()> {
        match self {
            TrendOutput::Release(r) => r.plot(path),
            TrendOutput::Arena(r) => r.plot(path),
        }
    }
}

/// Load the store's scores and compute the trend of `opts.metric` (an arena metric gives the per-snapshot
/// arena trend).
pub fn trend_from_store(
    store: &yardstick_store::Store,
    registry: &Registry,
    opts: &TrendOptions,
) -> Result<TrendOutput> {
    if let (Some(s), Some(u)) = (opts.since, opts.until) {
        if u < s {
            return Err(AnalysisError::Usage(format!(
                "--until {u} is before --since {s}"
            )));
        }
    }
    let data = Dataset::load(store, registry)?;
    if is_arena_metric(&opts.metric) {
        arena_trend(registry, &data, opts).map(|r| TrendOutput::Arena(Box::new(r)))
    } else {
        trend(registry, &data, opts).map(|r| TrendOutput::Release(Box::new(r)))
    }
}
