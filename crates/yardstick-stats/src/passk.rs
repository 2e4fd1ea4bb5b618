//! Sampling-based code/math metrics (eval-anchors §4.5).

use crate::error::{Result, StatsError};

fn check(n: u64, c: u64, k: u64) -> Result<()> {
    if n == 0 {
        return Err(StatsError::InvalidParameter {
            name: "n",
            reason: "need at least one sample".into(),
        });
    }
    if c > n {
        return Err(StatsError::InvalidParameter {
            name: "c",
            reason: format!("correct samples ({c}) exceed samples ({n})"),
        });
    }
    if k == 0 || k > n {
        return Err(StatsError::InvalidParameter {
            name: "k",
            reason: format!("k must be in 1..={n}, got {k}"),
        });
    }
    Ok(())
}

/// Unbiased pass@k for one problem with n samples of which c are correct (Chen et al. 2021):
/// 1 − C(n−c, k)/C(n, k), computed in the stable product form 1 − Π_{i=n−c+1..n} (1 − k/i).
/// Needs 1 ≤ k ≤ n and c ≤ n.
pub fn pass_at_k(n: u64, c: u64, k: u64) -> Result<f64> {
    check(n, c, k)?;
    if n - c < k {
        return Ok(1.0);
    }
    let kf = k as f64;
    let mut prod = 1.0;
    for i in (n - c + 1)..=n {
        prod *= 1.0 - kf / i as f64;
    }
    Ok(1.0 - prod)
}

/// pass^k: probability that k samples drawn without replacement are all correct,
/// C(c, k)/C(n, k) = Π_{i=0..k−1} (c − i)/(n − i).
pub fn pass_hat_k(n: u64, c: u64, k: u64) -> Result<f64> {
    check(n, c, k)?;
    if c < k {
        return Ok(0.0);
    }
    let mut prod = 1.0;
    for i in 0..k {
        prod *= (c - i) as f64 / (n - i) as f64;
    }
    Ok(prod)
}
