//! Weighted least squares with cluster-robust (CR1) standard errors, and the trend-of-the-gap helper.

use crate::dist::{t_two_sided_critical, t_two_sided_p};
use crate::error::{check_level, check_same_len, Result, StatsError};
use crate::intervals::Interval;
use crate::linalg::{qr_least_squares, rinv_to_inverse, sandwich};
use serde::Serialize;

/// Which covariance estimator produced the standard errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RobustKind {
    /// Cluster-robust CR1: G/(G−1)·(n−1)/(n−p) small-sample factor, G − 1 df.
    ClusterCr1,
    /// Heteroskedasticity-robust HC1 (every observation its own cluster): n/(n−p) factor, n − p df.
    Hc1,
}

/// A WLS fit with robust inference. Vectors are indexed by design column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WlsFit {
    pub coef: Vec<f64>,
    /// Robust (CR1 or HC1) standard errors.
    pub se: Vec<f64>,
    /// coef / se.
    pub t: Vec<f64>,
    /// Two-sided p-values from Student-t with `df`.
    pub p: Vec<f64>,
    pub ci: Vec<Interval>,
    /// Residual degrees of freedom used for t: G − 1 (clustered) or n − p (HC1).
    pub df: f64,
    /// Classical model-based SEs √(σ̂²·diag (XᵀWX)⁻¹), σ̂² = Σ wᵢeᵢ²/(n − p), for reference.
    pub classical_se: Vec<f64>,
    /// Robust covariance matrix of the coefficients (p × p, row-major).
    pub covariance: Vec<f64>,
    /// yᵢ − xᵢᵀβ̂ for every observation (including zero-weight rows).
    pub residuals: Vec<f64>,
    /// Observations with positive weight.
    pub n: usize,
    /// Clusters among them (n for HC1).
    pub n_clusters: usize,
    pub kind: RobustKind,
}

/// Weighted least squares β̂ = (XᵀWX)⁻¹XᵀWy (Householder QR on √W·X) with cluster-robust standard errors
///
/// V_CR1 = c·(XᵀWX)⁻¹ [Σ_g u_g u_gᵀ] (XᵀWX)⁻¹,  u_g = Σ_{i∈g} wᵢ xᵢ eᵢ,  c = G/(G−1)·(n−1)/(n−p),
///
/// t-inference with G − 1 df. Without `clusters`, every observation is its own cluster (HC1:
/// c = n/(n−p), df = n − p). `x` holds one row of p regressors per observation (include a column of 1s
/// for an intercept). `weights` default to 1; zero weights drop an observation. Cluster ids are dense
/// labels (see [`dense_cluster_ids`]).
pub fn wls(
    y: &[f64],
    x: &[Vec<f64>],
    weights: Option<&[f64]>,
    clusters: Option<&[usize]>,
    level: f64,
) -> Result<WlsFit> {
    check_level(level)?;
    let p = check_design(y, x)?;
    let w = checked_weights(y.len(), weights)?;
    if let Some(c) = clusters {
        check_same_len("wls: y vs cluster ids", y.len(), c.len())?;
    }
    let used: Vec<usize> = (0..y.len()).filter(|&i| w[i] > 0.0).collect();
    let n = used.len();
    if n <= p {
        return Err(StatsError::TooFew {
            what: "wls: observations with positive weight (must exceed columns)",
            needed: p + 1,
            got: n,
        });
    }
    let (coef, bread) = weighted_least_squares(y, x, &w, &used, p)?;
    let residuals: Vec<f64> = y
        .iter()
        .zip(x)
        .map(|(yi, row)| yi - dot(row, &coef))
        .collect();

    let (cluster_of, g) = cluster_ids(clusters, &used)?;
    let scores = cluster_scores(x, &w, &residuals, &used, &cluster_of, g);
    let meat = outer_product_sum(&scores, p);
    let (nf, pf, gf) = (n as f64, p as f64, g as f64);
    let (kind, factor, df) = if clusters.is_some() {
        (
            RobustKind::ClusterCr1,
            gf / (gf - 1.0) * (nf - 1.0) / (nf - pf),
            gf - 1.0,
        )
    } else {
        (RobustKind::Hc1, nf / (nf - pf), nf - pf)
    };
    let mut covariance = sandwich(&bread, &meat, p);
    covariance.iter_mut().for_each(|v| *v *= factor);
    let classical_se = classical_se(&w, &residuals, &used, &bread, p);
    let inference = coefficient_inference(&coef, &covariance, df, level)?;
    Ok(WlsFit {
        coef,
        se: inference.se,
        t: inference.t,
        p: inference.p,
        ci: inference.ci,
        df,
        classical_se,
        covariance,
        residuals,
        n,
        n_clusters: g,
        kind,
    })
}

/// Check `y` (non-empty, finite) against the design `x` (one finite row of the same p > 0 regressors per
/// observation). Returns p.
fn check_design(y: &[f64], x: &[Vec<f64>]) -> Result<usize> {
    if y.is_empty() {
        return Err(StatsError::Empty { what: "wls: y" });
    }
    check_same_len("wls: y vs rows of X", y.len(), x.len())?;
    crate::error::check_finite("wls: y", y)?;
    let p = x[0].len();
    if p == 0 {
        return Err(StatsError::Empty {
            what: "wls: design columns",
        });
    }
    for (i, row) in x.iter().enumerate() {
        check_same_len("wls: row length of X vs first row", row.len(), p)?;
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::NonFinite {
                what: "wls: X",
                index: i * p + j,
                value: row[j],
            });
        }
    }
    Ok(p)
}

/// The weights of `n` observations (finite and >= 0), 1 each when not given.
fn checked_weights(n: usize, weights: Option<&[f64]>) -> Result<Vec<f64>> {
    let Some(w) = weights else {
        return Ok(vec![1.0; n]);
    };
    check_same_len("wls: y vs weights", n, w.len())?;
    for (index, &v) in w.iter().enumerate() {
        if !(v.is_finite() && v >= 0.0) {
            return Err(StatsError::InvalidValue {
                what: "wls: weights",
                index,
                value: v,
                reason: "weights must be finite and >= 0",
            });
        }
    }
    Ok(w.to_vec())
}

/// β̂ by Householder QR on √W·X over the `used` observations, and the bread (XᵀWX)⁻¹ (p × p, row-major).
fn weighted_least_squares(
    y: &[f64],
    x: &[Vec<f64>],
    w: &[f64],
    used: &[usize],
    p: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = used.len();
    // √W X and √W y
    let mut a = Vec::with_capacity(n * p);
    let mut b = Vec::with_capacity(n);
    for &i in used {
        let sw = w[i].sqrt();
        a.extend(x[i].iter().map(|v| v * sw));
        b.push(y[i] * sw);
    }
    let (coef, rinv) = qr_least_squares(&a, n, p, &b).map_err(|col| StatsError::Degenerate {
        what: "wls",
        reason: format!("design matrix is rank-deficient: column {col} is (numerically) a linear combination of earlier columns or zero"),
    })?;
    let bread = rinv_to_inverse(&rinv, p);
    Ok((coef, bread))
}

/// The dense cluster id of each `used` observation and the number of clusters G (at least 2); without
/// `clusters`, every observation is its own cluster.
fn cluster_ids(clusters: Option<&[usize]>, used: &[usize]) -> Result<(Vec<usize>, usize)> {
    let n = used.len();
    let (cluster_of, g) = match clusters {
        Some(c) => {
            let (ids, g) =
                crate::descriptive::dense_ids(&used.iter().map(|&i| c[i]).collect::<Vec<_>>());
            (ids, g)
        }
        None => ((0..n).collect(), n),
    };
    if g < 2 {
        return Err(StatsError::TooFew {
            what: "wls: clusters",
            needed: 2,
            got: g,
        });
    }
    Ok((cluster_of, g))
}

/// Cluster scores u_g = Σ_{i∈g} wᵢ xᵢ eᵢ (G × p, row-major).
fn cluster_scores(
    x: &[Vec<f64>],
    w: &[f64],
    residuals: &[f64],
    used: &[usize],
    cluster_of: &[usize],
    g: usize,
) -> Vec<f64> {
    let p = x[0].len();
    let mut scores = vec![0.0; g * p];
    for (t, &i) in used.iter().enumerate() {
        let f = w[i] * residuals[i];
        let base = cluster_of[t] * p;
        for j in 0..p {
            scores[base + j] += f * x[i][j];
        }
    }
    scores
}

/// The meat Σ_g u_g u_gᵀ (p × p, row-major) of the scores (rows of p).
fn outer_product_sum(scores: &[f64], p: usize) -> Vec<f64> {
    let mut meat = vec![0.0; p * p];
    for u in scores.chunks(p) {
        for j in 0..p {
            for k in 0..p {
                meat[j * p + k] += u[j] * u[k];
            }
        }
    }
    meat
}

/// Classical SEs √(σ̂²·diag (XᵀWX)⁻¹), σ̂² = Σ wᵢeᵢ²/(n − p) over the `used` observations.
fn classical_se(w: &[f64], residuals: &[f64], used: &[usize], bread: &[f64], p: usize) -> Vec<f64> {
    let (nf, pf) = (used.len() as f64, p as f64);
    let sigma2 = used
        .iter()
        .map(|&i| w[i] * residuals[i] * residuals[i])
        .sum::<f64>()
        / (nf - pf);
    (0..p)
        .map(|j| (sigma2 * bread[j * p + j]).max(0.0).sqrt())
        .collect()
}

/// Per-coefficient robust inference.
struct Inference {
    se: Vec<f64>,
    t: Vec<f64>,
    p: Vec<f64>,
    ci: Vec<Interval>,
}

/// SEs from the diagonal of `covariance`, t-statistics, two-sided p-values and `level` intervals from
/// Student-t with `df`.
fn coefficient_inference(
    coef: &[f64],
    covariance: &[f64],
    df: f64,
    level: f64,
) -> Result<Inference> {
    let p = coef.len();
    let tcrit = t_two_sided_critical(level, df)?;
    let mut se = Vec::with_capacity(p);
    let mut tstat = Vec::with_capacity(p);
    let mut pval = Vec::with_capacity(p);
    let mut ci = Vec::with_capacity(p);
    for j in 0..p {
        let s = covariance[j * p + j].max(0.0).sqrt();
        let t = if s > 0.0 {
            coef[j] / s
        } else if coef[j] == 0.0 {
            0.0
        } else {
            coef[j].signum() * f64::INFINITY
        };
        se.push(s);
        tstat.push(t);
        pval.push(t_two_sided_p(t, df)?);
        ci.push(Interval {
            lower: coef[j] - tcrit * s,
            upper: coef[j] + tcrit * s,
            level,
        });
    }
    Ok(Inference {
        se,
        t: tstat,
        p: pval,
        ci,
    })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Map arbitrary labels (model family names, ...) to dense ids 0..G in order of first appearance.
pub fn dense_cluster_ids<K: Eq + std::hash::Hash>(labels: &[K]) -> Vec<usize> {
    crate::descriptive::dense_ids(labels).0
}

/// What a rising y means for the gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TrendConvention {
    /// y is a gap in which larger means wider (e.g. the gap A − B while A is ahead, or |gap|).
    IncreasingWidens,
    /// y is a gap in which smaller (more negative) means wider (e.g. A − B while B is ahead).
    DecreasingWidens,
}

impl TrendConvention {
    /// Convention for a signed gap A − B whose typical value is `typical_gap`: when A is ahead (≥ 0) a
    /// rising gap widens, when B is ahead a falling gap widens.
    pub fn for_signed_gap(typical_gap: f64) -> Self {
        if typical_gap >= 0.0 {
            TrendConvention::IncreasingWidens
        } else {
            TrendConvention::DecreasingWidens
        }
    }
}

/// The trend verdict: the CI of the slope excludes 0 on the widening or narrowing side, or it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TrendVerdict {
    Widening,
    Narrowing,
    NoEvidence,
}

/// Days per month, 365.25 / 12 = 30.4375 (a Julian year over twelve), the definition of a month used by
/// Yardstick for per-month slopes and for lags in months (lag = days / 30.4375).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// The trend verdict from the confidence interval of a slope (change of the gap per unit time):
/// Widening when the interval lies entirely on the widening side of 0 under `convention` (above 0 for
/// [`TrendConvention::IncreasingWidens`], below 0 for [`TrendConvention::DecreasingWidens`]), Narrowing
/// when it lies entirely on the other side, NoEvidence when it contains 0 (including an endpoint at
/// exactly 0).
pub fn verdict_from_interval(ci: Interval, convention: TrendConvention) -> TrendVerdict {
    let up = ci.lower > 0.0;
    let down = ci.upper < 0.0;
    match (convention, up, down) {
        (TrendConvention::IncreasingWidens, true, _)
        | (TrendConvention::DecreasingWidens, _, true) => TrendVerdict::Widening,
        (TrendConvention::IncreasingWidens, _, true)
        | (TrendConvention::DecreasingWidens, true, _) => TrendVerdict::Narrowing,
        _ => TrendVerdict::NoEvidence,
    }
}

/// Slope of y over time with a robust CI and a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// Change in y per day.
    pub slope_per_day: f64,
    pub se_per_day: f64,
    pub ci_per_day: Interval,
    /// Change in y per month (× [`DAYS_PER_MONTH`] = 30.4375).
    pub slope_per_month: f64,
    pub ci_per_month: Interval,
    /// Fitted y at day 0.
    pub intercept: f64,
    pub p: f64,
    pub df: f64,
    pub n: usize,
    pub n_clusters: usize,
    pub verdict: TrendVerdict,
    pub kind: RobustKind,
}

/// Trend of y (e.g. a gap, or a per-model gap contribution) over time in days: WLS of y on [1, day]
/// with CR1 (or HC1 without clusters) standard errors, t with G − 1 (or n − 2) df. Verdict:
/// [`verdict_from_interval`] of the slope's CI under `convention` (Widening when it lies entirely on the
/// widening side of 0, Narrowing when entirely on the other side, NoEvidence otherwise).
pub fn trend(
    y: &[f64],
    days: &[f64],
    weights: Option<&[f64]>,
    clusters: Option<&[usize]>,
    convention: TrendConvention,
    level: f64,
) -> Result<Trend> {
    check_same_len("trend: y vs days", y.len(), days.len())?;
    crate::error::check_nonempty_finite("trend: days", days)?;
    // Centre time for conditioning; the slope is unchanged.
    let center = days.iter().sum::<f64>() / days.len() as f64;
    let x: Vec<Vec<f64>> = days.iter().map(|d| vec![1.0, d - center]).collect();
    let fit = wls(y, &x, weights, clusters, level)?;
    let slope = fit.coef[1];
    let ci = fit.ci[1];
    let verdict = verdict_from_interval(ci, convention);
    Ok(Trend {
        slope_per_day: slope,
        se_per_day: fit.se[1],
        ci_per_day: ci,
        slope_per_month: slope * DAYS_PER_MONTH,
        ci_per_month: Interval {
            lower: ci.lower * DAYS_PER_MONTH,
            upper: ci.upper * DAYS_PER_MONTH,
            level,
        },
        intercept: fit.coef[0] - slope * center,
        p: fit.p[1],
        df: fit.df,
        n: fit.n,
        n_clusters: fit.n_clusters,
        verdict,
        kind: fit.kind,
    })
}
