//! Confidence intervals: Wilson score, Student-t, normal (Wald) and bootstrap percentile.

use crate::descriptive::{clt_se, mean};
use crate::dist::{normal_two_sided_critical, t_two_sided_critical};
use crate::error::{check_level, check_nonempty_finite, Result, StatsError};
use serde::Serialize;

/// A two-sided confidence interval `[lower, upper]` at confidence `level` (e.g. 0.95).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
    pub level: f64,
}

impl Interval {
    /// Whether `x` lies in the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// Whether the interval excludes zero (both ends on the same side, neither equal to 0).
    pub fn excludes_zero(&self) -> bool {
        self.lower > 0.0 || self.upper < 0.0
    }

    /// upper − lower.
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }
}

/// Wilson score interval for a binomial proportion x/n:
///
/// (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n),  z = Φ⁻¹((1 + level)/2).
///
/// Always inside [0, 1], sensible at x = 0 and x = n (where the percentile bootstrap degenerates).
pub fn wilson(successes: u64, n: u64, level: f64) -> Result<Interval> {
    check_level(level)?;
    if n == 0 {
        return Err(StatsError::Empty {
            what: "wilson: number of trials",
        });
    }
    if successes > n {
        return Err(StatsError::InvalidParameter {
            name: "successes",
            reason: format!("successes ({successes}) exceed trials ({n})"),
        });
    }
    let z = normal_two_sided_critical(level)?;
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    let mut lower = (center - half).max(0.0);
    let mut upper = (center + half).min(1.0);
    if successes == 0 {
        lower = 0.0;
    }
    if successes == n {
        upper = 1.0;
    }
    Ok(Interval {
        lower,
        upper,
        level,
    })
}

/// Normal (Wald) interval estimate ± z·se.
pub fn normal_interval(estimate: f64, se: f64, level: f64) -> Result<Interval> {
    check_estimate_se(estimate, se)?;
    let z = normal_two_sided_critical(level)?;
    Ok(Interval {
        lower: estimate - z * se,
        upper: estimate + z * se,
        level,
    })
}

/// Student-t interval estimate ± t_{(1+level)/2, df}·se (`df = +∞` is the normal interval).
pub fn t_interval_from(estimate: f64, se: f64, df: f64, level: f64) -> Result<Interval> {
    check_estimate_se(estimate, se)?;
    let t = t_two_sided_critical(level, df)?;
    Ok(Interval {
        lower: estimate - t * se,
        upper: estimate + t * se,
        level,
    })
}

/// Student-t interval for the mean of `values`: x̄ ± t_{(1+level)/2, n−1}·√(Σ(x−x̄)²/(n(n−1))).
pub fn t_interval(values: &[f64], level: f64) -> Result<Interval> {
    check_level(level)?;
    let m = mean(values)?;
    let se = clt_se(values)?;
    t_interval_from(m, se, values.len() as f64 - 1.0, level)
}

fn check_estimate_se(estimate: f64, se: f64) -> Result<()> {
    if !estimate.is_finite() {
        return Err(StatsError::NonFinite {
            what: "interval estimate",
            index: 0,
            value: estimate,
        });
    }
    if !(se.is_finite() && se >= 0.0) {
        return Err(StatsError::InvalidParameter {
            name: "se",
            reason: format!("standard error must be finite and >= 0, got {se}"),
        });
    }
    Ok(())
}

/// Sample quantile with linear interpolation between order statistics (Hyndman–Fan type 7, NumPy's
/// default): h = (n−1)q, Q = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎).
pub fn quantile(values: &[f64], q: f64) -> Result<f64> {
    check_nonempty_finite("quantile", values)?;
    if !(0.0..=1.0).contains(&q) || q.is_nan() {
        return Err(StatsError::InvalidParameter {
            name: "q",
            reason: format!("must be in [0, 1], got {q}"),
        });
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Ok(quantile_sorted(&sorted, q))
}

pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile interval from bootstrap replicates: the (1−level)/2 and (1+level)/2 sample quantiles
/// (type 7).
pub fn percentile_interval(replicates: &[f64], level: f64) -> Result<Interval> {
    check_level(level)?;
    check_nonempty_finite("percentile_interval: replicates", replicates)?;
    let mut sorted = replicates.to_vec();
    sorted.sort_by(f64::total_cmp);
    let alpha = 1.0 - level;
    Ok(Interval {
        lower: quantile_sorted(&sorted, 0.5 * alpha),
        upper: quantile_sorted(&sorted, 1.0 - 0.5 * alpha),
        level,
    })
}
