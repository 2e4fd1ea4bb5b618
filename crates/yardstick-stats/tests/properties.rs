//! Property tests (proptest) and exactness checks of the GEMM-based bootstrap against naive loops.

use proptest::prelude::*;
use yardstick_stats::bootstrap::{STREAM_ITEMS, STREAM_MODELS, STREAM_MODEL_SCORES};
use yardstick_stats::*;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn random_matrix(models: usize, items: usize, seed: u64, binary: bool) -> ScoreMatrix {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let data = (0..models * items)
        .map(|_| {
            if binary {
                f64::from(u8::from(rng.bernoulli(0.6)))
            } else {
                rng.uniform()
            }
        })
        .collect();
    ScoreMatrix::new(models, items, data).expect("matrix")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn holm_and_bh_are_monotone_capped_and_at_least_raw(p in prop::collection::vec(0.0f64..=1.0, 1..40)) {
        let h = holm(&p).unwrap();
        let q = benjamini_hochberg(&p).unwrap();
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
        for w in order.windows(2) {
            prop_assert!(h[w[0]] <= h[w[1]]);
            prop_assert!(q[w[0]] <= q[w[1]]);
        }
        for i in 0..p.len() {
            prop_assert!(h[i] >= p[i] && h[i] <= 1.0);
            prop_assert!(q[i] >= p[i] && q[i] <= 1.0);
            prop_assert!(h[i] >= q[i] - 1e-15, "Holm is never less conservative than BH");
        }
    }

    #[test]
    fn wilson_stays_in_unit_interval(n in 1u64..5_000, frac in 0.0f64..=1.0, level in 0.5f64..0.999) {
        let x = ((n as f64) * frac).floor() as u64;
        let ci = wilson(x, n, level).unwrap();
        let p = x as f64 / n as f64;
        prop_assert!(0.0 <= ci.lower && ci.lower <= p + 1e-12);
        prop_assert!(p - 1e-12 <= ci.upper && ci.upper <= 1.0);
    }

    #[test]
    fn pass_at_k_is_a_probability_increasing_in_k(n in 1u64..60, c_frac in 0.0f64..=1.0) {
        let c = ((n as f64) * c_frac).floor() as u64;
        let mut last = 0.0;
        for k in 1..=n {
            let v = pass_at_k(n, c, k).unwrap();
            prop_assert!((0.0..=1.0).contains(&v) && v >= last - 1e-12);
            let hat = pass_hat_k(n, c, k).unwrap();
            prop_assert!((0.0..=1.0).contains(&hat) && hat <= v + 1e-12);
            last = v;
        }
    }

    #[test]
    fn quantiles_invert(p in 1e-12f64..(1.0 - 1e-12), df in 1.0f64..500.0) {
        let z = normal_quantile(p).unwrap();
        prop_assert!((normal_cdf(z) - p).abs() <= 1e-14 * p.max(1e-3));
        let t = t_quantile(p, df).unwrap();
        let back = t_cdf(t, df).unwrap();
        prop_assert!((back - p).abs() <= 1e-10 * p.min(1.0 - p).max(1e-6), "p {p} df {df} t {t} back {back}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Results do not depend on the number of rayon threads.
    #[test]
    fn bootstrap_is_identical_across_thread_counts(seed in any::<u64>(), models in 2usize..7, items in 5usize..300, binary in any::<bool>()) {
        let m = random_matrix(models, items, seed ^ 1, binary);
        let config = BootstrapConfig::new(300, seed, 0.9);
        let a: Vec<usize> = (0..models / 2).collect();
        let b: Vec<usize> = (models / 2..models).collect();
        let clusters: Vec<usize> = (0..items).map(|i| i / 3).collect();
        let run = || {
            let p = paired_bootstrap(&m, &config).unwrap();
            let pc = if items >= 6 { Some(paired_cluster_bootstrap(&m, &clusters, &config).unwrap()) } else { None };
            let tw = two_way_gap_bootstrap(&m, &a, &b, &config).unwrap();
            let bm = bootstrap_mean(m.row(0).unwrap(), &config).unwrap();
            (p, pc, tw, bm)
        };
        let one = pool(1).install(run);
        let three = pool(3).install(run);
        prop_assert_eq!(one, three);
    }
}

/// Naive replicate means: draw replicate r's item indices from the documented stream and average.
fn naive_replicate(m: &ScoreMatrix, seed: u64, r: usize) -> Vec<f64> {
    let n = m.n_items();
    let mut rng = Xoshiro256PlusPlus::for_stream(seed, STREAM_ITEMS, r as u64);
    let idx: Vec<usize> = (0..n).map(|_| rng.below(n as u64) as usize).collect();
    (0..m.n_models())
        .map(|k| idx.iter().map(|&i| m.row(k).unwrap()[i]).sum::<f64>() / n as f64)
        .collect()
}

#[test]
fn gemm_bootstrap_equals_naive_resampling() {
    for (binary, tol) in [(true, 0.0), (false, 1e-12)] {
        let m = random_matrix(7, 1_001, 99, binary);
        let config = BootstrapConfig::new(300, 5, 0.95);
        let boot = paired_bootstrap(&m, &config).unwrap();
        for r in [0, 1, 127, 128, 299] {
            let naive = naive_replicate(&m, config.seed, r);
            for (x, y) in boot.replicate(r).unwrap().iter().zip(&naive) {
                assert!(
                    (x - y).abs() <= tol * y.abs().max(1.0),
                    "binary={binary} r={r}: {x} vs {y}"
                );
            }
        }
        assert_eq!(boot.estimates, m.model_means());
    }
}

#[test]
fn two_way_bootstrap_equals_naive_resampling() {
    let m = random_matrix(9, 200, 3, true);
    let a = [0, 2, 4, 6];
    let b = [1, 3, 5, 7, 8];
    let config = BootstrapConfig::new(50, 11, 0.95);
    let result = two_way_gap_bootstrap(&m, &a, &b, &config).unwrap();
    for r in 0..50 {
        let means = naive_replicate(&m, config.seed, r);
        let mut rng = Xoshiro256PlusPlus::for_stream(config.seed, STREAM_MODELS, r as u64);
        let ga: f64 = (0..a.len())
            .map(|_| means[a[rng.below(a.len() as u64) as usize]])
            .sum::<f64>()
            / a.len() as f64;
        let gb: f64 = (0..b.len())
            .map(|_| means[b[rng.below(b.len() as u64) as usize]])
            .sum::<f64>()
            / b.len() as f64;
        assert!(
            (result.replicates[r] - (ga - gb)).abs() < 1e-12,
            "replicate {r}"
        );
    }
    let means = m.model_means();
    let expected = a.iter().map(|&i| means[i]).sum::<f64>() / 4.0
        - b.iter().map(|&i| means[i]).sum::<f64>() / 5.0;
    assert!((result.estimate - expected).abs() < 1e-12);
}

/// Naive model-level replicate, written from the documented draw order: stream STREAM_MODEL_SCORES, the
/// positions of A then B, each drawing its model (population only) and then one normal.
fn naive_model_level(
    a: &[ModelScore],
    b: &[ModelScore],
    population: bool,
    seed: u64,
    r: usize,
) -> f64 {
    let mut rng = Xoshiro256PlusPlus::for_stream(seed, STREAM_MODEL_SCORES, r as u64);
    let mut draw = |g: &[ModelScore]| -> f64 {
        let mut sum = 0.0;
        for i in 0..g.len() {
            let m = if population {
                &g[rng.below(g.len() as u64) as usize]
            } else {
                &g[i]
            };
            sum += m.score + m.se * rng.normal();
        }
        sum / g.len() as f64
    };
    let da = draw(a);
    da - draw(b)
}

#[test]
fn model_level_bootstrap_equals_naive_draws_for_any_thread_count() {
    // Stream 2 is part of the reproducibility contract (published gaps were computed with it).
    assert_eq!(STREAM_MODEL_SCORES, 2);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let mut models = |k: usize| -> Vec<ModelScore> {
        (0..k)
            .map(|i| {
                // Some models are exact (σ = 0), as when a source gives no standard error.
                let se = if i % 3 == 0 {
                    0.0
                } else {
                    0.05 * rng.uniform()
                };
                ModelScore::new(rng.uniform(), se)
            })
            .collect()
    };
    let a = models(7);
    let b = models(4);
    let config = BootstrapConfig::new(300, 23, 0.9);
    for (estimand, population) in [
        (GapEstimand::Roster, false),
        (GapEstimand::Population, true),
    ] {
        let run = || model_level_gap_bootstrap(&a, &b, estimand, &config).unwrap();
        let one = pool(1).install(run);
        let three = pool(3).install(run);
        assert_eq!(one, three);
        for (r, &x) in one.replicates.iter().enumerate() {
            assert_eq!(
                x,
                naive_model_level(&a, &b, population, config.seed, r),
                "replicate {r}"
            );
        }
    }
}

#[test]
fn paired_bootstrap_helpers_and_fixed_roster_gap() {
    let m = random_matrix(6, 500, 8, true);
    let boot = paired_bootstrap(&m, &BootstrapConfig::new(400, 1, 0.95)).unwrap();
    let gap = boot.group_gap(&[0, 1, 2], &[3, 4, 5]).unwrap();
    let fixed = fixed_roster_gap(&m, &[0, 1, 2], &[3, 4, 5], 0.95).unwrap();
    assert!((gap.estimate - fixed.estimate).abs() < 1e-12);
    // bootstrap SE of the gap ≈ analytic SE of the per-item contrasts (±15% with B = 400)
    assert!(
        (gap.se / fixed.se - 1.0).abs() < 0.15,
        "bootstrap {} vs analytic {}",
        gap.se,
        fixed.se
    );
    let best = boot
        .statistic(|row| row.iter().cloned().fold(f64::MIN, f64::max))
        .unwrap();
    assert!(best.replicates.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(boot.model(6).is_err());
    assert!(boot.group_gap(&[0, 1], &[1, 2]).is_err());
    assert!(boot.group_gap(&[], &[1]).is_err());
    assert!(fixed_roster_gap(&m, &[0], &[9], 0.95).is_err());
    let p = gap.p_two_sided();
    assert!((0.0..=1.0).contains(&p) && (0.0..=1.0).contains(&gap.prob_positive()));
    // clustered variants run and widen nothing absurdly
    let clusters: Vec<u32> = (0..500).map(|i| i / 5).collect();
    let fc = fixed_roster_gap_clustered(&m, &[0, 1, 2], &[3, 4, 5], &clusters, 0.95).unwrap();
    assert_eq!(fc.n_clusters, Some(100));
    let pc = paired_cluster_bootstrap(&m, &clusters, &BootstrapConfig::new(200, 1, 0.95)).unwrap();
    assert_eq!(pc.replicate_means.len(), 200 * 6);
    assert!(two_way_gap_bootstrap_clustered(
        &m,
        &[0, 1],
        &[2, 3],
        &clusters,
        &BootstrapConfig::default()
    )
    .is_ok());
}

#[test]
fn bootstrap_input_errors_are_typed() {
    assert!(matches!(
        ScoreMatrix::new(2, 3, vec![0.0; 5]),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        ScoreMatrix::new(1, 2, vec![0.0, f64::NAN]),
        Err(StatsError::NonFinite { .. })
    ));
    assert!(matches!(
        ScoreMatrix::new(0, 2, vec![]),
        Err(StatsError::Empty { .. })
    ));
    assert!(ScoreMatrix::from_rows(&[vec![1.0, 0.0], vec![1.0]]).is_err());
    let m = random_matrix(2, 10, 1, true);
    assert!(paired_bootstrap(&m, &BootstrapConfig::new(1, 0, 0.95)).is_err());
    assert!(paired_bootstrap(&m, &BootstrapConfig::new(10, 0, 1.5)).is_err());
    assert!(bootstrap_mean(&[], &BootstrapConfig::default()).is_err());
    assert!(cluster_bootstrap_mean(&[1.0, 2.0], &[0, 0], &BootstrapConfig::default()).is_err());
    assert!(paired_cluster_bootstrap(&m, &[0; 3], &BootstrapConfig::default()).is_err());
}
