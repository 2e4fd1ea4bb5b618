//! Descriptive statistics and CLT inference: mean, variance, standard errors (plain and clustered),
//! paired and unpaired differences (Miller 2024, "Adding Error Bars to Evals"; eval-anchors §4.1–4.2).

use crate::dist::{normal_two_sided_p, t_two_sided_p};
use crate::error::{
    check_at_least, check_level, check_nonempty_finite, check_same_len, Result, StatsError,
};
use crate::intervals::{normal_interval, t_interval_from, Interval};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::Hash;

/// Neumaier-compensated sum (error independent of n for practical purposes).
pub(crate) fn ksum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = 0.0_f64;
    let mut c = 0.0_f64;
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            c += (sum - t) + v;
        } else {
            c += (v - t) + sum;
        }
        sum = t;
    }
    sum + c
}

/// Arithmetic mean s̄ = (1/n) Σ sᵢ.
pub fn mean(values: &[f64]) -> Result<f64> {
    check_nonempty_finite("mean", values)?;
    Ok(ksum(values.iter().copied()) / values.len() as f64)
}

/// Unbiased sample variance Σ(sᵢ − s̄)²/(n − 1); needs n ≥ 2.
pub fn sample_variance(values: &[f64]) -> Result<f64> {
    check_at_least("sample_variance", values, 2)?;
    let m = ksum(values.iter().copied()) / values.len() as f64;
    let ss = ksum(values.iter().map(|v| (v - m) * (v - m)));
    Ok(ss / (values.len() as f64 - 1.0))
}

/// Sample standard deviation √(sample_variance).
pub fn sample_sd(values: &[f64]) -> Result<f64> {
    Ok(sample_variance(values)?.sqrt())
}

/// CLT standard error of the mean: SE = √(Σ(sᵢ − s̄)² / (n(n − 1))). For 0/1 scores this is
/// √(s̄(1 − s̄)/(n − 1)), which differs from the textbook √(s̄(1−s̄)/n) by the n/(n−1) factor.
pub fn clt_se(values: &[f64]) -> Result<f64> {
    Ok((sample_variance(values)? / values.len() as f64).sqrt())
}

/// z = Φ⁻¹(0.975) used by [`agresti_coull_se`].
const Z_975: f64 = 1.959_963_984_540_054;

/// Standard error of a proportion `p` measured on `n` items, in the Agresti–Coull form (add z²/2
/// successes and z²/2 failures, z = Φ⁻¹(0.975) ≈ 1.96):
///
/// p̃ = (n·p + z²/2) / (n + z²),  SE = √(p̃(1 − p̃) / (n + z²)).
///
/// For mid-range scores it is within a few percent of the plain binomial √(p(1 − p)/n); unlike the plain
/// form it stays positive at p = 0 and p = 1, where √(p(1 − p)/n) = 0 would claim certainty (e.g. p = 0,
/// n = 10: p̃ = 0.13877, SE = 0.09292). Use it for a model's sampling error when only its score and the
/// benchmark's item count are known. Errors: `n = 0`, or `p` outside [0, 1] (or NaN).
pub fn agresti_coull_se(p: f64, n: u64) -> Result<f64> {
    if n == 0 {
        return Err(StatsError::Empty {
            what: "agresti_coull_se: number of items",
        });
    }
    if !(0.0..=1.0).contains(&p) {
        return Err(StatsError::InvalidParameter {
            name: "p",
            reason: format!("a proportion must be in [0, 1], got {p}"),
        });
    }
    let z2 = Z_975.powi(2);
    let nt = n as f64 + z2;
    let pt = (p * n as f64 + z2 / 2.0) / nt;
    Ok((pt * (1.0 - pt) / nt).sqrt())
}

/// Map arbitrary cluster labels to dense ids 0..C in order of first appearance.
pub(crate) fn dense_ids<K: Eq + Hash>(clusters: &[K]) -> (Vec<usize>, usize) {
    let mut map: HashMap<&K, usize> = HashMap::with_capacity(clusters.len().min(1 << 16));
    let ids = clusters
        .iter()
        .map(|k| {
            let next = map.len();
            *map.entry(k).or_insert(next)
        })
        .collect();
    (ids, map.len())
}

/// A standard error together with the number of observations, clusters and the degrees of freedom to
/// use for t-intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClusteredSe {
    pub se: f64,
    pub n: usize,
    pub n_clusters: usize,
    /// C − 1.
    pub df: f64,
}

/// Cluster-robust standard error of the mean (Miller 2024 / inspect_ai form):
///
/// SE_cl = (1/n)·√( Σ_c (Σ_{i∈c} (sᵢ − s̄))² ) · √(C/(C − 1)),  with C − 1 degrees of freedom.
///
/// With every item in its own cluster this equals [`clt_se`]. Needs C ≥ 2 clusters.
pub fn clustered_se<K: Eq + Hash>(values: &[f64], clusters: &[K]) -> Result<ClusteredSe> {
    check_nonempty_finite("clustered_se: values", values)?;
    check_same_len(
        "clustered_se: values vs cluster ids",
        values.len(),
        clusters.len(),
    )?;
    let (ids, c) = dense_ids(clusters);
    if c < 2 {
        return Err(StatsError::TooFew {
            what: "clustered_se: clusters",
            needed: 2,
            got: c,
        });
    }
    let n = values.len();
    let m = ksum(values.iter().copied()) / n as f64;
    let mut sums = vec![0.0; c];
    for (v, &id) in values.iter().zip(&ids) {
        sums[id] += v - m;
    }
    let ss = ksum(sums.iter().map(|s| s * s));
    let cf = c as f64;
    let se = ss.sqrt() / n as f64 * (cf / (cf - 1.0)).sqrt();
    Ok(ClusteredSe {
        se,
        n,
        n_clusters: c,
        df: cf - 1.0,
    })
}

/// An estimated difference (or mean) with its standard error, test statistic against 0, two-sided p-value
/// and confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffEstimate {
    /// The estimate (e.g. d̄ = s̄_A − s̄_B).
    pub estimate: f64,
    pub se: f64,
    /// estimate / se (a z or t statistic; ±∞ when se = 0 and estimate ≠ 0, 0 when both are 0).
    pub statistic: f64,
    /// Two-sided p-value for H₀: true value = 0 (from Student-t with `df`, or the normal when `df` is None).
    pub p: f64,
    pub ci: Interval,
    /// Degrees of freedom of the reference t distribution; `None` = standard normal.
    pub df: Option<f64>,
    /// Number of observations (items).
    pub n: usize,
    /// Number of clusters when a clustered SE was used.
    pub n_clusters: Option<usize>,
}

/// Build a [`DiffEstimate`] from an estimate, SE and reference distribution.
pub fn diff_estimate(
    estimate: f64,
    se: f64,
    df: Option<f64>,
    level: f64,
    n: usize,
    n_clusters: Option<usize>,
) -> Result<DiffEstimate> {
    check_level(level)?;
    let ci = match df {
        Some(df) => t_interval_from(estimate, se, df, level)?,
        None => normal_interval(estimate, se, level)?,
    };
    let statistic = if se > 0.0 {
        estimate / se
    } else if estimate == 0.0 {
        0.0
    } else {
        estimate.signum() * f64::INFINITY
    };
    let p = match df {
        Some(df) => t_two_sided_p(statistic, df)?,
        None => normal_two_sided_p(statistic),
    };
    Ok(DiffEstimate {
        estimate,
        se,
        statistic,
        p,
        ci,
        df,
        n,
        n_clusters,
    })
}

/// One-sample inference on the mean of `values`: x̄, CLT SE, t statistic with n − 1 df, p, CI.
pub fn mean_estimate(values: &[f64], level: f64) -> Result<DiffEstimate> {
    let m = mean(values)?;
    let se = clt_se(values)?;
    diff_estimate(
        m,
        se,
        Some(values.len() as f64 - 1.0),
        level,
        values.len(),
        None,
    )
}

/// One-sample inference on the mean with a cluster-robust SE ([`clustered_se`]) and C − 1 df.
pub fn mean_estimate_clustered<K: Eq + Hash>(
    values: &[f64],
    clusters: &[K],
    level: f64,
) -> Result<DiffEstimate> {
    let m = mean(values)?;
    let cl = clustered_se(values, clusters)?;
    diff_estimate(
        m,
        cl.se,
        Some(cl.df),
        level,
        values.len(),
        Some(cl.n_clusters),
    )
}

fn differences(a: &[f64], b: &[f64]) -> Result<Vec<f64>> {
    check_same_len("paired_difference: a vs b", a.len(), b.len())?;
    check_nonempty_finite("paired_difference: a", a)?;
    check_nonempty_finite("paired_difference: b", b)?;
    Ok(a.iter().zip(b).map(|(x, y)| x - y).collect())
}

/// Paired comparison of two models on the same items (eval-anchors §4.2):
/// dᵢ = aᵢ − bᵢ, d̄ = s̄_A − s̄_B, SE = √(Σ(dᵢ − d̄)²/(n(n − 1))), statistic d̄/SE,
/// p and CI from Student-t with n − 1 df (indistinguishable from the normal for n in the hundreds).
pub fn paired_difference(a: &[f64], b: &[f64], level: f64) -> Result<DiffEstimate> {
    let d = differences(a, b)?;
    mean_estimate(&d, level)
}

/// Paired comparison with the cluster-robust SE of the differences ([`clustered_se`] applied to dᵢ),
/// Student-t with C − 1 df.
pub fn paired_difference_clustered<K: Eq + Hash>(
    a: &[f64],
    b: &[f64],
    clusters: &[K],
    level: f64,
) -> Result<DiffEstimate> {
    let d = differences(a, b)?;
    mean_estimate_clustered(&d, clusters, level)
}

/// Unpaired z-test from two independent estimates: z = (m_A − m_B)/√(SE_A² + SE_B²), normal reference.
/// Conservative when the samples are in fact paired (positively correlated).
pub fn unpaired_z_test(
    mean_a: f64,
    se_a: f64,
    mean_b: f64,
    se_b: f64,
    level: f64,
) -> Result<DiffEstimate> {
    for (what, v) in [
        ("unpaired_z_test: mean_a", mean_a),
        ("unpaired_z_test: mean_b", mean_b),
    ] {
        if !v.is_finite() {
            return Err(StatsError::NonFinite {
                what,
                index: 0,
                value: v,
            });
        }
    }
    for (name, v) in [("se_a", se_a), ("se_b", se_b)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(StatsError::InvalidParameter {
                name,
                reason: format!("must be finite and >= 0, got {v}"),
            });
        }
    }
    diff_estimate(
        mean_a - mean_b,
        (se_a * se_a + se_b * se_b).sqrt(),
        None,
        level,
        0,
        None,
    )
}

/// Unpaired z-test from two score vectors (each SE by [`clt_se`]; lengths may differ).
pub fn unpaired_z_test_scores(a: &[f64], b: &[f64], level: f64) -> Result<DiffEstimate> {
    let ma = mean(a)?;
    let mb = mean(b)?;
    let sa = clt_se(a)?;
    let sb = clt_se(b)?;
    let mut est = unpaired_z_test(ma, sa, mb, sb, level)?;
    est.n = a.len() + b.len();
    Ok(est)
}
