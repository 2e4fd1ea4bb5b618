//! Bradley–Terry ratings from pairwise battles (eval-anchors §1.5, §4.6), as LMArena computes them:
//! battles collapsed to unique (i, j, outcome) rows, ties counted as half a win, maximum likelihood on the
//! weighted log-likelihood, sum-to-zero identification, ratings on the scale R = 1000 + (400/ln 10)·θ
//! (so P(i ≻ j) = 1/(1 + 10^{(R_j − R_i)/400})), optionally anchored; sandwich or bootstrap CIs and
//! CI-aware ranks.
//!
//! Model: P(i ≻ j) = σ(θ_i − θ_j). For a row r = (i, j) with score y_r ∈ {1, ½, 0} (i wins, tie, j wins),
//! total weight w_r and p_r = σ(θ_i − θ_j):
//!
//! ℓ(θ) = Σ_r w_r [y_r ln p_r + (1 − y_r) ln(1 − p_r)] − (λ/2)‖θ‖².
//!
//! Fit by Newton's method with step halving. The Hessian of −ℓ, H = Σ_r w_r p_r(1 − p_r) u_r u_rᵀ + λI
//! (u_r = e_i − e_j), is singular along 1 when λ = 0; since the gradient is orthogonal to 1 the Newton
//! step solves (H + 11ᵀ/K) δ = ∇ℓ, which keeps Σθ = 0. The MLE exists iff the "beat or tied" digraph is
//! strongly connected (Ford 1957); otherwise (with λ = 0) the fit returns [`StatsError::Degenerate`].

use crate::bootstrap::BootstrapConfig;
use crate::dist::normal_two_sided_critical;
use crate::error::{check_level, Result, StatsError};
use crate::intervals::quantile_sorted;
use crate::linalg::{cholesky, cholesky_inverse, cholesky_solve, sandwich};
use crate::rng::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

/// Result of one battle, from model A's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Outcome {
    AWins,
    BWins,
    Tie,
}

/// One pairwise comparison between models `model_a` and `model_b` (dense indices 0..K).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Battle {
    pub model_a: usize,
    pub model_b: usize,
    pub outcome: Outcome,
    /// Weight of this battle (1 by default; e.g. 3 for a strong Arena-Hard verdict).
    pub weight: f64,
}

impl Battle {
    /// A battle with weight 1.
    pub fn new(model_a: usize, model_b: usize, outcome: Outcome) -> Self {
        Self {
            model_a,
            model_b,
            outcome,
            weight: 1.0,
        }
    }
}

/// A unique (i, j, outcome) row with i < j: `y` = score of i (1 win, ½ tie, 0 loss).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BattleRow {
    pub i: usize,
    pub j: usize,
    pub y: f64,
    /// Σ of battle weights.
    pub weight: f64,
    /// Σ of squared battle weights (enters the sandwich "meat").
    pub weight_sq: f64,
    /// Number of battles.
    pub count: u64,
}

/// Collapse battles to unique (i, j, outcome) rows with i < j (sides swapped where needed), sorted by
/// (i, j, y). Errors on out-of-range indices, self-battles, and non-finite or negative weights.
pub fn aggregate_battles(n_models: usize, battles: &[Battle]) -> Result<Vec<BattleRow>> {
    if n_models < 2 {
        return Err(StatsError::TooFew {
            what: "bradley_terry: models",
            needed: 2,
            got: n_models,
        });
    }
    if battles.is_empty() {
        return Err(StatsError::Empty {
            what: "bradley_terry: battles",
        });
    }
    // key: (i, j, outcome code 0 = j wins, 1 = tie, 2 = i wins)
    let mut keyed: Vec<(usize, usize, u8, f64)> = Vec::with_capacity(battles.len());
    for (index, b) in battles.iter().enumerate() {
        if b.model_a >= n_models || b.model_b >= n_models {
            return Err(StatsError::InvalidParameter {
                name: "battle",
                reason: format!(
                    "battle {index}: model index ({}, {}) out of range (0..{n_models})",
                    b.model_a, b.model_b
                ),
            });
        }
        if b.model_a == b.model_b {
            return Err(StatsError::InvalidParameter {
                name: "battle",
                reason: format!("battle {index}: model {} plays itself", b.model_a),
            });
        }
        if !(b.weight.is_finite() && b.weight >= 0.0) {
            return Err(StatsError::InvalidValue {
                what: "battle weights",
                index,
                value: b.weight,
                reason: "must be finite and >= 0",
            });
        }
        let code_a = match b.outcome {
            Outcome::AWins => 2u8,
            Outcome::Tie => 1,
            Outcome::BWins => 0,
        };
        if b.model_a < b.model_b {
            keyed.push((b.model_a, b.model_b, code_a, b.weight));
        } else {
            keyed.push((b.model_b, b.model_a, 2 - code_a, b.weight));
        }
    }
    keyed.sort_by_key(|x| (x.0, x.1, x.2));
    let mut rows: Vec<BattleRow> = Vec::new();
    let mut last: Option<(usize, usize, u8)> = None;
    for (i, j, code, w) in keyed {
        if last == Some((i, j, code)) {
            if let Some(r) = rows.last_mut() {
                r.weight += w;
                r.weight_sq += w * w;
                r.count += 1;
            }
        } else {
            rows.push(BattleRow {
                i,
                j,
                y: code as f64 * 0.5,
                weight: w,
                weight_sq: w * w,
                count: 1,
            });
            last = Some((i, j, code));
        }
    }
    rows.retain(|r| r.weight > 0.0);
    if rows.is_empty() {
        return Err(StatsError::Degenerate {
            what: "bradley_terry",
            reason: "all battle weights are zero".into(),
        });
    }
    Ok(rows)
}

/// Options of the Bradley–Terry fit and its rating scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BtOptions {
    /// L2 penalty λ ≥ 0 on θ (0 = plain MLE).
    pub ridge: f64,
    /// Rating of a model with θ = 0 (1000).
    pub base: f64,
    /// Rating points per logit (400/ln 10 ≈ 173.72, the Elo scale).
    pub scale: f64,
    /// Shift all ratings so that model `.0` has rating `.1` (FastChat anchors a reference model). CIs then
    /// describe differences to the anchor, whose own interval has width 0.
    pub anchor: Option<(usize, f64)>,
    /// Confidence level of intervals.
    pub level: f64,
    pub max_iterations: usize,
    /// Convergence tolerance on the largest Newton step (logits).
    pub tolerance: f64,
}

impl Default for BtOptions {
    fn default() -> Self {
        Self {
            ridge: 0.0,
            base: 1000.0,
            scale: 400.0 / std::f64::consts::LN_10,
            anchor: None,
            level: 0.95,
            max_iterations: 100,
            tolerance: 1e-10,
        }
    }
}

impl BtOptions {
    fn validate(&self, n_models: usize) -> Result<()> {
        check_level(self.level)?;
        if !(self.ridge.is_finite() && self.ridge >= 0.0) {
            return Err(StatsError::InvalidParameter {
                name: "ridge",
                reason: format!("must be >= 0, got {}", self.ridge),
            });
        }
        if !(self.scale.is_finite() && self.scale > 0.0 && self.base.is_finite()) {
            return Err(StatsError::InvalidParameter {
                name: "scale/base",
                reason: format!(
                    "need finite base and positive scale, got {} and {}",
                    self.base, self.scale
                ),
            });
        }
        if let Some((m, v)) = self.anchor {
            if m >= n_models || !v.is_finite() {
                return Err(StatsError::InvalidParameter {
                    name: "anchor",
                    reason: format!(
                        "anchor model {m} out of range (0..{n_models}) or rating {v} not finite"
                    ),
                });
            }
        }
        if self.max_iterations == 0 || self.tolerance.is_nan() || self.tolerance <= 0.0 {
            return Err(StatsError::InvalidParameter {
                name: "max_iterations/tolerance",
                reason: "need max_iterations >= 1 and tolerance > 0".into(),
            });
        }
        Ok(())
    }

    /// θ (sum-to-zero logits) → ratings base + scale·θ, shifted so the anchor model (if any) has its
    /// anchor rating.
    pub fn ratings(&self, theta: &[f64]) -> Result<Vec<f64>> {
        let shift = match self.anchor {
            Some((m, v)) => {
                let t = theta.get(m).ok_or_else(|| StatsError::InvalidParameter {
                    name: "anchor",
                    reason: format!("anchor model {m} out of range (0..{})", theta.len()),
                })?;
                v - (self.base + self.scale * t)
            }
            None => 0.0,
        };
        Ok(theta
            .iter()
            .map(|t| self.base + self.scale * t + shift)
            .collect())
    }
}

/// A fitted Bradley–Terry model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BtFit {
    /// Logit strengths with Σθ = 0.
    pub theta: Vec<f64>,
    /// base + scale·θ (anchored if requested).
    pub ratings: Vec<f64>,
    /// Penalised log-likelihood at the optimum.
    pub log_likelihood: f64,
    pub iterations: usize,
    pub n_rows: usize,
    pub n_battles: u64,
}

fn log_sigmoid(x: f64) -> f64 {
    // ln σ(x) = −softplus(−x)
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn penalised_ll(rows: &[BattleRow], weights: &[f64], theta: &[f64], ridge: f64) -> f64 {
    let mut ll = 0.0;
    for (r, &w) in rows.iter().zip(weights) {
        let d = theta[r.i] - theta[r.j];
        ll += w * (r.y * log_sigmoid(d) + (1.0 - r.y) * log_sigmoid(-d));
    }
    ll - 0.5 * ridge * theta.iter().map(|t| t * t).sum::<f64>()
}

/// Negative Hessian H (K×K) = Σ w p(1−p) u uᵀ + λI and gradient ∇ℓ.
fn hessian_gradient(
    rows: &[BattleRow],
    weights: &[f64],
    theta: &[f64],
    ridge: f64,
) -> (Vec<f64>, Vec<f64>) {
    let k = theta.len();
    let mut h = vec![0.0; k * k];
    let mut g: Vec<f64> = theta.iter().map(|t| -ridge * t).collect();
    for (r, &w) in rows.iter().zip(weights) {
        let p = sigmoid(theta[r.i] - theta[r.j]);
        let resid = w * (r.y - p);
        g[r.i] += resid;
        g[r.j] -= resid;
        let c = w * p * (1.0 - p);
        h[r.i * k + r.i] += c;
        h[r.j * k + r.j] += c;
        h[r.i * k + r.j] -= c;
        h[r.j * k + r.i] -= c;
    }
    for i in 0..k {
        h[i * k + i] += ridge;
    }
    (h, g)
}

/// Ford's condition: with ties counting both ways, every model must be reachable from every other along
/// "beat or tied" edges. Returns a model set that never beats its complement, if any.
fn unreachable_set(n_models: usize, rows: &[BattleRow], weights: &[f64]) -> Option<Vec<usize>> {
    let mut fwd = vec![Vec::new(); n_models];
    let mut bwd = vec![Vec::new(); n_models];
    for (r, &w) in rows.iter().zip(weights) {
        if w <= 0.0 {
            continue;
        }
        if r.y > 0.0 {
            fwd[r.i].push(r.j); // i beat/tied j
            bwd[r.j].push(r.i);
        }
        if r.y < 1.0 {
            fwd[r.j].push(r.i);
            bwd[r.i].push(r.j);
        }
    }
    for adj in [&fwd, &bwd] {
        let mut seen = vec![false; n_models];
        let mut stack = vec![0usize];
        seen[0] = true;
        while let Some(v) = stack.pop() {
            for &u in &adj[v] {
                if !seen[u] {
                    seen[u] = true;
                    stack.push(u);
                }
            }
        }
        if seen.iter().any(|s| !s) {
            return Some((0..n_models).filter(|&m| !seen[m]).collect());
        }
    }
    None
}

fn fit_weights(
    n_models: usize,
    rows: &[BattleRow],
    weights: &[f64],
    options: &BtOptions,
    start: Option<&[f64]>,
) -> Result<(Vec<f64>, f64, usize)> {
    if options.ridge == 0.0 {
        if let Some(set) = unreachable_set(n_models, rows, weights) {
            let shown: Vec<String> = set.iter().take(10).map(|m| m.to_string()).collect();
            return Err(StatsError::Degenerate {
                what: "bradley_terry",
                reason: format!(
                    "ratings are not identifiable: models [{}{}] are not linked to model 0 by wins/ties in both \
                     directions (a model or group won or lost all its battles, or never played); the MLE is \
                     infinite. Add battles, drop those models, or set ridge > 0",
                    shown.join(", "),
                    if set.len() > 10 { ", …" } else { "" }
                ),
            });
        }
    }
    let k = n_models;
    let mut theta = match start {
        Some(s) => s.to_vec(),
        None => vec![0.0; k],
    };
    let mut ll = penalised_ll(rows, weights, &theta, options.ridge);
    let total_w: f64 = weights.iter().sum();
    for iter in 1..=options.max_iterations {
        let (mut h, g) = hessian_gradient(rows, weights, &theta, options.ridge);
        if options.ridge == 0.0 {
            let c = 1.0 / k as f64;
            h.iter_mut().for_each(|v| *v += c);
        }
        let l = cholesky(&h, k, 1e-14).ok_or_else(|| StatsError::Degenerate {
            what: "bradley_terry",
            reason: "Hessian is singular (comparison graph disconnected?)".into(),
        })?;
        let step = cholesky_solve(&l, k, &g);
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            let cand: Vec<f64> = theta.iter().zip(&step).map(|(a, d)| a + t * d).collect();
            let cand_ll = penalised_ll(rows, weights, &cand, options.ridge);
            if cand_ll.is_finite() && cand_ll >= ll - 1e-12 * total_w.max(1.0) {
                theta = cand;
                ll = cand_ll;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        let max_step = step.iter().fold(0.0_f64, |m, d| m.max((t * d).abs()));
        if !accepted || max_step < options.tolerance {
            if !accepted && max_step > 1e-6 {
                return Err(StatsError::NoConvergence {
                    what: "bradley_terry",
                    iterations: iter,
                    reason: "line search could not improve the log-likelihood".into(),
                });
            }
            let mean = theta.iter().sum::<f64>() / k as f64;
            theta.iter_mut().for_each(|v| *v -= mean);
            return Ok((theta, ll, iter));
        }
    }
    Err(StatsError::NoConvergence {
        what: "bradley_terry",
        iterations: options.max_iterations,
        reason: "Newton steps still above tolerance".into(),
    })
}

/// Fit Bradley–Terry by maximum likelihood on aggregated rows (see [`aggregate_battles`]).
pub fn fit_bradley_terry(
    n_models: usize,
    rows: &[BattleRow],
    options: &BtOptions,
) -> Result<BtFit> {
    options.validate(n_models)?;
    validate_rows(n_models, rows)?;
    let weights: Vec<f64> = rows.iter().map(|r| r.weight).collect();
    let (theta, ll, iterations) = fit_weights(n_models, rows, &weights, options, None)?;
    Ok(BtFit {
        ratings: options.ratings(&theta)?,
        theta,
        log_likelihood: ll,
        iterations,
        n_rows: rows.len(),
        n_battles: rows.iter().map(|r| r.count).sum(),
    })
}

/// Aggregate and fit in one call.
pub fn bradley_terry(n_models: usize, battles: &[Battle], options: &BtOptions) -> Result<BtFit> {
    let rows = aggregate_battles(n_models, battles)?;
    fit_bradley_terry(n_models, &rows, options)
}

fn validate_rows(n_models: usize, rows: &[BattleRow]) -> Result<()> {
    if rows.is_empty() {
        return Err(StatsError::Empty {
            what: "bradley_terry: rows",
        });
    }
    for (index, r) in rows.iter().enumerate() {
        if r.i >= n_models || r.j >= n_models || r.i == r.j {
            return Err(StatsError::InvalidParameter {
                name: "rows",
                reason: format!(
                    "row {index}: bad model pair ({}, {}) for {n_models} models",
                    r.i, r.j
                ),
            });
        }
        if r.count == 0 {
            return Err(StatsError::InvalidParameter {
                name: "rows",
                reason: format!("row {index}: count must be >= 1 (number of battles in the row)"),
            });
        }
        if !(r.y == 0.0 || r.y == 0.5 || r.y == 1.0) {
            return Err(StatsError::InvalidValue {
                what: "rows: y",
                index,
                value: r.y,
                reason: "must be 0, 0.5 or 1",
            });
        }
        if !(r.weight.is_finite()
            && r.weight >= 0.0
            && r.weight_sq.is_finite()
            && r.weight_sq >= 0.0)
        {
            return Err(StatsError::InvalidValue {
                what: "rows: weight",
                index,
                value: r.weight,
                reason: "must be finite and >= 0",
            });
        }
    }
    Ok(())
}

/// Ratings with confidence intervals and CI-aware ranks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BtRatings {
    /// Point ratings (from the full-data fit).
    pub ratings: Vec<f64>,
    /// Standard errors on the rating scale.
    pub se: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// rank_i = 1 + #{j : lower_j > upper_i}.
    pub ranks: Vec<usize>,
    pub level: f64,
    /// Covariance of θ (sum-to-zero logits, K×K row-major) for the sandwich method; empty for bootstrap.
    pub theta_covariance: Vec<f64>,
}

/// CI-aware ranks: rank_i = 1 + #{j : lower_j > upper_i} (LMArena's "rank (UB)").
pub fn ci_aware_ranks(lower: &[f64], upper: &[f64]) -> Result<Vec<usize>> {
    crate::error::check_same_len("ci_aware_ranks: lower vs upper", lower.len(), upper.len())?;
    Ok(upper
        .iter()
        .map(|&u| 1 + lower.iter().filter(|&&l| l > u).count())
        .collect())
}

/// Sandwich (robust) CIs: Cov(θ̂) = H⁻¹ G H⁻¹ with H = Σ_r w_r p_r(1−p_r) u_r u_rᵀ (+λI) and
/// G = Σ_r (y_r − p_r)²·(Σ_{battles∈r} w_b²)·u_r u_rᵀ, which equals Σ_r (w_r(y_r − p_r))²/count_r·u_r u_rᵀ
/// when all battles in a row have the same weight (eval-anchors §4.6). H⁻¹ is the Moore–Penrose inverse
/// (H + 11ᵀ/K)⁻¹ − 11ᵀ/K on the sum-to-zero subspace when λ = 0. CI = rating ± z·scale·√Cov_ii; with an
/// anchor a, Var_i = Cov_ii + Cov_aa − 2Cov_ia.
pub fn sandwich_intervals(
    n_models: usize,
    rows: &[BattleRow],
    fit: &BtFit,
    options: &BtOptions,
) -> Result<BtRatings> {
    options.validate(n_models)?;
    validate_rows(n_models, rows)?;
    if fit.theta.len() != n_models {
        return Err(StatsError::LengthMismatch {
            what: "sandwich_intervals: fit vs models",
            left: fit.theta.len(),
            right: n_models,
        });
    }
    let k = n_models;
    let weights: Vec<f64> = rows.iter().map(|r| r.weight).collect();
    let (mut h, _) = hessian_gradient(rows, &weights, &fit.theta, options.ridge);
    let c = 1.0 / k as f64;
    if options.ridge == 0.0 {
        h.iter_mut().for_each(|v| *v += c);
    }
    let l = cholesky(&h, k, 1e-14).ok_or_else(|| StatsError::Degenerate {
        what: "bradley_terry sandwich",
        reason: "Hessian is singular (comparison graph disconnected?)".into(),
    })?;
    let mut hinv = cholesky_inverse(&l, k);
    if options.ridge == 0.0 {
        hinv.iter_mut().for_each(|v| *v -= c);
    }
    let mut meat = vec![0.0; k * k];
    for r in rows {
        let p = sigmoid(fit.theta[r.i] - fit.theta[r.j]);
        let v = (r.y - p).powi(2) * r.weight_sq;
        meat[r.i * k + r.i] += v;
        meat[r.j * k + r.j] += v;
        meat[r.i * k + r.j] -= v;
        meat[r.j * k + r.i] -= v;
    }
    let cov = sandwich(&hinv, &meat, k);
    let z = normal_two_sided_critical(options.level)?;
    let var = |i: usize| -> f64 {
        match options.anchor {
            Some((a, _)) => cov[i * k + i] + cov[a * k + a] - 2.0 * cov[i * k + a],
            None => cov[i * k + i],
        }
        .max(0.0)
    };
    let se: Vec<f64> = (0..k).map(|i| options.scale * var(i).sqrt()).collect();
    let lower: Vec<f64> = fit
        .ratings
        .iter()
        .zip(&se)
        .map(|(r, s)| r - z * s)
        .collect();
    let upper: Vec<f64> = fit
        .ratings
        .iter()
        .zip(&se)
        .map(|(r, s)| r + z * s)
        .collect();
    let ranks = ci_aware_ranks(&lower, &upper)?;
    Ok(BtRatings {
        ratings: fit.ratings.clone(),
        se,
        lower,
        upper,
        ranks,
        level: options.level,
        theta_covariance: cov,
    })
}

/// Bootstrap CIs over battles: replicate b redraws the N battles as a multinomial over the unique rows
/// (probabilities count_r/N; seed from `(config.seed, stream 0, b)`), keeps each row's mean battle weight,
/// refits (warm-started at θ̂) and applies the anchor; percentile interval at `config.level`, SE = sd of
/// replicate ratings. A replicate in which the MLE does not exist fails the whole call (set ridge > 0).
pub fn bootstrap_intervals(
    n_models: usize,
    rows: &[BattleRow],
    fit: &BtFit,
    options: &BtOptions,
    config: &BootstrapConfig,
) -> Result<BtRatings> {
    options.validate(n_models)?;
    validate_rows(n_models, rows)?;
    check_level(config.level)?;
    if config.replicates < 2 {
        return Err(StatsError::InvalidParameter {
            name: "replicates",
            reason: "need at least 2".into(),
        });
    }
    if fit.theta.len() != n_models {
        return Err(StatsError::LengthMismatch {
            what: "bootstrap_intervals: fit vs models",
            left: fit.theta.len(),
            right: n_models,
        });
    }
    let total: u64 = rows.iter().map(|r| r.count).sum();
    let mut cumulative = Vec::with_capacity(rows.len());
    let mut acc = 0u64;
    for r in rows {
        acc += r.count;
        cumulative.push(acc);
    }
    let mean_weight: Vec<f64> = rows
        .iter()
        .map(|r| {
            if r.count > 0 {
                r.weight / r.count as f64
            } else {
                0.0
            }
        })
        .collect();
    let replicate_ratings: Vec<Vec<f64>> = (0..config.replicates)
        .into_par_iter()
        .map(|b| {
            let mut rng = Xoshiro256PlusPlus::for_stream(config.seed, 0, b as u64);
            let mut counts = vec![0u64; rows.len()];
            for _ in 0..total {
                let u = rng.below(total);
                let idx = cumulative.partition_point(|&c| c <= u);
                counts[idx] += 1;
            }
            let w: Vec<f64> = counts
                .iter()
                .zip(&mean_weight)
                .map(|(&c, &m)| c as f64 * m)
                .collect();
            fit_weights(n_models, rows, &w, options, Some(&fit.theta))
                .and_then(|(theta, _, _)| options.ratings(&theta))
                .map_err(|e| match e {
                    StatsError::Degenerate { what, reason } => StatsError::Degenerate {
                        what,
                        reason: format!("bootstrap replicate {b}: {reason}"),
                    },
                    other => other,
                })
        })
        .collect::<Vec<Result<Vec<f64>>>>()
        // The first failing replicate by index, not by thread timing: the same error on every run.
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let alpha = 1.0 - config.level;
    let mut se = Vec::with_capacity(n_models);
    let mut lower = Vec::with_capacity(n_models);
    let mut upper = Vec::with_capacity(n_models);
    for m in 0..n_models {
        let mut col: Vec<f64> = replicate_ratings.iter().map(|r| r[m]).collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (col.len() as f64 - 1.0);
        se.push(var.sqrt());
        col.sort_by(f64::total_cmp);
        lower.push(quantile_sorted(&col, 0.5 * alpha));
        upper.push(quantile_sorted(&col, 1.0 - 0.5 * alpha));
    }
    let ranks = ci_aware_ranks(&lower, &upper)?;
    Ok(BtRatings {
        ratings: fit.ratings.clone(),
        se,
        lower,
        upper,
        ranks,
        level: config.level,
        theta_covariance: Vec::new(),
    })
}
