//! Multiple comparisons (Holm, Benjamini–Hochberg) and McNemar's paired test for binary outcomes.

use crate::dist::{binomial_cdf, chi2_1_sf};
use crate::error::{check_same_len, Result, StatsError};
use serde::Serialize;

fn check_p_values(p: &[f64]) -> Result<()> {
    if p.is_empty() {
        return Err(StatsError::Empty { what: "p-values" });
    }
    for (index, &v) in p.iter().enumerate() {
        if !(0.0..=1.0).contains(&v) || v.is_nan() {
            return Err(StatsError::InvalidValue {
                what: "p-values",
                index,
                value: v,
                reason: "must be in [0, 1]",
            });
        }
    }
    Ok(())
}

/// Indices that sort `p` ascending (stable, so ties keep their input order).
fn ascending_order(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    order
}

/// Holm's step-down adjusted p-values (family-wise error control), in the input order.
///
/// With p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ₖ₎ = min(1, max_{j ≤ k} (m − j + 1)·p₍ⱼ₎). Rejecting p̃ ≤ α is the Holm
/// procedure at level α. Example: [0.01, 0.04, 0.03, 0.005] → [0.03, 0.06, 0.06, 0.02].
pub fn holm(p: &[f64]) -> Result<Vec<f64>> {
    check_p_values(p)?;
    let m = p.len();
    let order = ascending_order(p);
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0_f64;
    for (k, &i) in order.iter().enumerate() {
        let v = ((m - k) as f64 * p[i]).min(1.0);
        running = running.max(v);
        adjusted[i] = running;
    }
    Ok(adjusted)
}

/// Benjamini–Hochberg adjusted p-values (q-values, false-discovery-rate control), in the input order.
///
/// With p₍₁₎ ≤ … ≤ p₍ₘ₎: q₍ₖ₎ = min(1, min_{j ≥ k} m·p₍ⱼ₎/j). Rejecting q ≤ α is the BH step-up
/// procedure at FDR α. Example: [0.01, 0.04, 0.03, 0.005] → [0.02, 0.04, 0.04, 0.02].
pub fn benjamini_hochberg(p: &[f64]) -> Result<Vec<f64>> {
    check_p_values(p)?;
    let m = p.len();
    let order = ascending_order(p);
    let mut adjusted = vec![0.0; m];
    let mut running = 1.0_f64;
    for (k, &i) in order.iter().enumerate().rev() {
        // (m/k)·p rather than m·p/k: m/k ≥ 1 is rounded first, so the product never drops below p.
        let v = (m as f64 / (k + 1) as f64 * p[i]).min(1.0);
        running = running.min(v);
        adjusted[i] = running;
    }
    Ok(adjusted)
}

/// McNemar's test on the discordant pairs of two paired binary outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct McNemar {
    /// Items where A is right and B is wrong.
    pub b: u64,
    /// Items where A is wrong and B is right.
    pub c: u64,
    /// χ² = (b − c)²/(b + c), 1 df.
    pub chi2: f64,
    pub p_chi2: f64,
    /// Edwards' continuity-corrected χ² = (max(0, |b − c| − 1))²/(b + c).
    pub chi2_corrected: f64,
    pub p_corrected: f64,
    /// Exact two-sided p: min(1, 2·P(X ≤ min(b, c))), X ~ Bin(b + c, ½).
    pub p_exact: f64,
}

/// McNemar's test from the discordant counts b (A right, B wrong) and c (A wrong, B right).
/// Errors when b + c = 0 (no discordant pairs: the test is undefined).
pub fn mcnemar(b: u64, c: u64) -> Result<McNemar> {
    let n = b
        .checked_add(c)
        .ok_or_else(|| StatsError::InvalidParameter {
            name: "b + c",
            reason: "discordant counts overflow u64".into(),
        })?;
    if n == 0 {
        return Err(StatsError::Degenerate {
            what: "mcnemar",
            reason: "no discordant pairs (b = c = 0): the two models agree on every item".into(),
        });
    }
    let (bf, cf, nf) = (b as f64, c as f64, n as f64);
    let chi2 = (bf - cf).powi(2) / nf;
    let corr = ((bf - cf).abs() - 1.0).max(0.0);
    let chi2_corrected = corr * corr / nf;
    let p_exact = (2.0 * binomial_cdf(b.min(c), n, 0.5)?).min(1.0);
    Ok(McNemar {
        b,
        c,
        chi2,
        p_chi2: chi2_1_sf(chi2),
        chi2_corrected,
        p_corrected: chi2_1_sf(chi2_corrected),
        p_exact,
    })
}

/// McNemar's test from two paired 0/1 score vectors (every value must be exactly 0 or 1).
pub fn mcnemar_scores(a: &[f64], b: &[f64]) -> Result<McNemar> {
    check_same_len("mcnemar_scores: a vs b", a.len(), b.len())?;
    if a.is_empty() {
        return Err(StatsError::Empty {
            what: "mcnemar_scores",
        });
    }
    let (mut n10, mut n01) = (0u64, 0u64);
    for (index, (&x, &y)) in a.iter().zip(b).enumerate() {
        for (what, v) in [("mcnemar_scores: a", x), ("mcnemar_scores: b", y)] {
            if v != 0.0 && v != 1.0 {
                return Err(StatsError::InvalidValue {
                    what,
                    index,
                    value: v,
                    reason: "must be exactly 0 or 1",
                });
            }
        }
        if x == 1.0 && y == 0.0 {
            n10 += 1;
        } else if x == 0.0 && y == 1.0 {
            n01 += 1;
        }
    }
    mcnemar(n10, n01)
}
