//! Simulation coverage tests: nominal 95% intervals must cover the true value in 94–96% of 2,000
//! simulated data sets. Every data set draws from its own seeded stream, so the measured coverage is
//! deterministic (and identical for any number of threads). Run with `--nocapture` to see the figures;
//! `YARDSTICK_COVERAGE_DATASETS=N` changes the number of data sets (the 94–96% band is asserted only for
//! N ≥ 2,000).
//!
//! With 2,000 data sets the binomial SE of a coverage of 95% is 0.49 pp, so the 94–96% band is about
//! ±2 SE: a design whose true coverage is 95% lands outside it ~5% of the time. The designs below were
//! chosen for a true coverage close to 95%, measured once with 20,000 data sets (same seeds; the first
//! 2,000 are the ones the test uses), release build:
//!
//! | test | 20,000 data sets | the 2,000 asserted here |
//! |---|---|---|
//! | mean, t-interval | 94.97% | 95.15% |
//! | paired difference, t-interval | 95.03% | 95.20% |
//! | cluster bootstrap, percentile | 94.87% | 94.00% |
//! | two-way group gap, percentile | 95.23% | 94.80% |
//!
//! If a change to the resampling code re-draws the data sets and a test leaves the band, rerun with
//! `YARDSTICK_COVERAGE_DATASETS=20000` before concluding that the interval is miscalibrated.
//!
//! Each truth is the exact population value of the estimand, computed by numerical integration:
//! with item difficulty b ~ N(0, σ_b²) and ability θ ~ N(μ, σ_θ²), the expected score of a random
//! (model, item) pair is E[σ(θ − b)] = E[σ(Z)], Z ~ N(μ, σ_θ² + σ_b²).

use rayon::prelude::*;
use yardstick_stats::*;

const SEED: u64 = 20_250_101;
const NOMINAL: f64 = 0.95;

fn datasets() -> usize {
    std::env::var("YARDSTICK_COVERAGE_DATASETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// E[σ(Z)] for Z ~ N(mu, sd²), composite Simpson over ±12 sd (error < 1e-12).
fn logistic_normal_mean(mu: f64, sd: f64) -> f64 {
    let n = 20_000;
    let (lo, hi) = (-12.0, 12.0);
    let h = (hi - lo) / n as f64;
    let f =
        |z: f64| sigmoid(mu + sd * z) * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = f(lo) + f(hi);
    for k in 1..n {
        s += f(lo + k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// Run `covers(dataset index)` over all data sets in parallel and return the coverage.
fn coverage(name: &str, covers: impl Fn(u64) -> bool + Sync + Send) -> f64 {
    let n = datasets();
    let hits = (0..n as u64).into_par_iter().filter(|&d| covers(d)).count();
    let cov = hits as f64 / n as f64;
    let se = (NOMINAL * (1.0 - NOMINAL) / n as f64).sqrt();
    println!(
        "coverage[{name}]: {hits}/{n} = {:.2}% (nominal 95%, binomial SE {:.2} pp)",
        100.0 * cov,
        100.0 * se
    );
    cov
}

fn assert_band(name: &str, cov: f64) {
    if datasets() >= 2_000 {
        assert!(
            (0.94..=0.96).contains(&cov),
            "{name}: coverage {:.2}% outside 94–96%",
            100.0 * cov
        );
    }
}

/// (a) Student-t interval for the mean. 200 items; each item's score is the share of 4 epochs answered
/// correctly with p_i = σ(0.5 − b_i), b ~ N(0, 1.5²) — Miller's epoch setting. Truth E[σ(0.5 − b)].
#[test]
fn coverage_mean_t_interval() {
    let (n, ability, sd_b) = (200, 0.5, 1.5);
    let truth = logistic_normal_mean(ability, sd_b);
    let cov = coverage("mean, t-interval", |d| {
        let mut rng = Xoshiro256PlusPlus::for_stream(SEED, 1, d);
        let scores: Vec<f64> = (0..n)
            .map(|_| {
                let p = sigmoid(ability - sd_b * rng.normal());
                (0..4).filter(|_| rng.bernoulli(p)).count() as f64 / 4.0
            })
            .collect();
        t_interval(&scores, NOMINAL)
            .map(|ci| ci.contains(truth))
            .unwrap_or(false)
    });
    assert_band("mean", cov);
}

/// (b) Paired difference of two models on 400 shared binary items: P(correct) = σ(θ − b_i) with
/// θ_A = 0.4, θ_B = 0, b ~ N(0, 1.5²). Truth E[σ(0.4 − b)] − E[σ(−b)].
#[test]
fn coverage_paired_difference() {
    let (n, ta, tb, sd_b) = (400, 0.4, 0.0, 1.5);
    let truth = logistic_normal_mean(ta, sd_b) - logistic_normal_mean(tb, sd_b);
    let cov = coverage("paired difference, t-interval", |d| {
        let mut rng = Xoshiro256PlusPlus::for_stream(SEED, 2, d);
        let mut a = Vec::with_capacity(n);
        let mut b = Vec::with_capacity(n);
        for _ in 0..n {
            let diff = sd_b * rng.normal();
            a.push(f64::from(u8::from(rng.bernoulli(sigmoid(ta - diff)))));
            b.push(f64::from(u8::from(rng.bernoulli(sigmoid(tb - diff)))));
        }
        paired_difference(&a, &b, NOMINAL)
            .map(|r| r.ci.contains(truth))
            .unwrap_or(false)
    });
    assert_band("paired difference", cov);
}

/// (c) Percentile cluster bootstrap (B = 1,000) of the mean over 400 passages of 1–6 binary items:
/// passage difficulty c ~ N(0, 1), item difficulty within passage e ~ N(0, 0.5²), score
/// Bernoulli(σ(0.5 − c − e)). Sizes are independent of content, so the item-weighted mean estimates
/// E[σ(Z)], Z ~ N(0.5, 1.25).
#[test]
fn coverage_cluster_bootstrap() {
    let (clusters, ability, sd_c, sd_e): (usize, f64, f64, f64) = (400, 0.5, 1.0, 0.5);
    let truth = logistic_normal_mean(ability, (sd_c * sd_c + sd_e * sd_e).sqrt());
    let cov = coverage("cluster bootstrap, percentile", |d| {
        let mut rng = Xoshiro256PlusPlus::for_stream(SEED, 3, d);
        let mut values = Vec::new();
        let mut ids = Vec::new();
        for c in 0..clusters {
            let size = 1 + rng.below(6) as usize;
            let passage = sd_c * rng.normal();
            for _ in 0..size {
                let p = sigmoid(ability - passage - sd_e * rng.normal());
                values.push(f64::from(u8::from(rng.bernoulli(p))));
                ids.push(c);
            }
        }
        let config = BootstrapConfig::new(1_000, d, NOMINAL);
        cluster_bootstrap_mean(&values, &ids, &config)
            .map(|r| r.ci.contains(truth))
            .unwrap_or(false)
    });
    assert_band("cluster bootstrap", cov);
}

/// (d) Two-way bootstrap (B = 400) of the population group gap.
///
/// Population model: models of group A have abilities θ ~ N(0.3, 0.5²), group B θ ~ N(0, 0.5²); items
/// have a difficulty b ~ N(0, 1) and a group affinity a ~ N(0, 1) (e.g. items that favour one
/// language) that shifts group A's logit: P(correct) = σ(θ + a − b) for A-models, σ(θ − b) for B-models.
/// 50 models per group, 300 items, binary scores. Estimand: the gap between the two model populations
/// in expected score over the item population, E[σ(Z_A)] − E[σ(Z_B)] with Z_A ~ N(0.3, 0.5² + 1 + 1)
/// and Z_B ~ N(0, 0.5² + 1).
#[test]
fn coverage_two_way_group_gap() {
    let (k, n) = (50, 300);
    let (mu_a, mu_b) = (0.3, 0.0);
    let (sd_t, sd_a, sd_b): (f64, f64, f64) = (0.5, 1.0, 1.0);
    let truth = logistic_normal_mean(mu_a, (sd_t * sd_t + sd_a * sd_a + sd_b * sd_b).sqrt())
        - logistic_normal_mean(mu_b, (sd_t * sd_t + sd_b * sd_b).sqrt());
    let group_a: Vec<usize> = (0..k).collect();
    let group_b: Vec<usize> = (k..2 * k).collect();
    let cov = coverage("two-way group-gap bootstrap, percentile", |d| {
        let mut rng = Xoshiro256PlusPlus::for_stream(SEED, 4, d);
        let abilities: Vec<f64> = (0..2 * k)
            .map(|m| if m < k { mu_a } else { mu_b } + sd_t * rng.normal())
            .collect();
        let items: Vec<(f64, f64)> = (0..n)
            .map(|_| (sd_b * rng.normal(), sd_a * rng.normal()))
            .collect();
        let mut data = Vec::with_capacity(2 * k * n);
        for (m, t) in abilities.iter().enumerate() {
            for &(b, a) in &items {
                let logit = if m < k { t + a - b } else { t - b };
                data.push(f64::from(u8::from(rng.bernoulli(sigmoid(logit)))));
            }
        }
        let Ok(matrix) = ScoreMatrix::new(2 * k, n, data) else {
            return false;
        };
        let config = BootstrapConfig::new(400, d, NOMINAL);
        two_way_gap_bootstrap(&matrix, &group_a, &group_b, &config)
            .map(|r| r.ci.contains(truth))
            .unwrap_or(false)
    });
    assert_band("two-way group gap", cov);
}

#[test]
fn logistic_normal_mean_is_accurate() {
    // E[σ(Z)] = ½ for a centred normal; σ(μ) when sd = 0.
    assert!((logistic_normal_mean(0.0, 1.3) - 0.5).abs() < 1e-13);
    assert!((logistic_normal_mean(0.7, 1e-9) - sigmoid(0.7)).abs() < 1e-9);
}
