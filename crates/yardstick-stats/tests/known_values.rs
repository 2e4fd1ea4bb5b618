//! Known-value tests: every expected number here was computed independently (by hand, from published
//! tables, or with SciPy 1.x: `scipy.stats.norm.ppf`, `t.ppf`, `t.cdf`, `special.erfc`, `special.betainc`,
//! `binom.cdf`, `chi2.sf`, `binomtest`).

use yardstick_stats::*;

fn close(actual: f64, expected: f64, rel: f64) {
    let tol = rel * expected.abs().max(1e-300);
    assert!(
        (actual - expected).abs() <= tol,
        "actual {actual:e} vs expected {expected:e} (rel err {:e})",
        ((actual - expected) / expected).abs()
    );
}

fn abs_close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "actual {actual} vs expected {expected} (tol {tol})"
    );
}

#[test]
fn normal_quantile_known_values() {
    abs_close(normal_quantile(0.975).unwrap(), 1.959963984540054, 2e-15);
    abs_close(
        normal_two_sided_critical(0.95).unwrap(),
        1.959963984540054,
        2e-15,
    );
    let cases = [
        (1e-300, -37.0470962993612),
        (1e-20, -9.262340089798409),
        (1e-10, -6.361340902404056),
        (0.001, -3.090232306167813),
        (0.02, -2.053748910631823),
        (0.3, -0.5244005127080409),
        (0.5001, 0.0002506628300880075),
    ];
    for (p, x) in cases {
        close(normal_quantile(p).unwrap(), x, 1e-13);
        if p > 1e-15 {
            // 1 − p is rounded, so compare against the quantile of the rounded probability's complement
            close(
                normal_quantile(1.0 - p).unwrap(),
                -normal_quantile(1.0 - (1.0 - p)).unwrap(),
                1e-12,
            );
        }
    }
    assert_eq!(normal_quantile(0.5).unwrap(), 0.0);
    assert_eq!(normal_quantile(0.0).unwrap(), f64::NEG_INFINITY);
    assert!(normal_quantile(1.5).is_err());
    assert!(normal_quantile(f64::NAN).is_err());
}

#[test]
fn erfc_and_normal_cdf_known_values() {
    let cases = [
        (-3.0, 1.9999779095030015),
        (-1.0, 1.8427007929497148),
        (0.3, 0.6713732405408726),
        (1.5, 0.03389485352468927),
        (1.2, 0.08968602177036462),
        (1.2247, 0.08327581479808639),
        (1.23, 0.08194989587323863),
        (1.3, 0.06599205505934758),
        (1.64, 0.020378220475767997),
        (2.0, 0.004677734981047266),
        (2.4, 0.0006885138966450789),
        (3.5, 7.430983723414129e-07),
        (2.6, 0.000236034416529349),
        (5.0, 1.5374597944280347e-12),
        (10.0, 2.0884875837625446e-45),
        (26.0, 5.663192408856145e-296),
    ];
    for (x, v) in cases {
        close(erfc(x), v, 4e-15);
    }
    close(normal_cdf(1.959963984540054), 0.975, 1e-15);
    close(normal_two_sided_p(1.959963984540054), 0.05, 1e-13);
    for x in [-5.0, -1.0, 0.0, 0.7, 3.0] {
        close(
            normal_cdf(normal_quantile(normal_cdf(x)).unwrap()),
            normal_cdf(x),
            1e-14,
        );
    }
}

#[test]
fn student_t_known_values() {
    abs_close(t_quantile(0.975, 10.0).unwrap(), 2.228138851986274, 1e-13);
    let q = [
        (0.975, 1.0, 12.706204736174694),
        (0.975, 2.0, 4.302652729749462),
        (0.995, 3.0, 5.840909309733355),
        (0.9, 4.5, 1.5008853175085577),
        (0.975, 30.0, 2.0422724563012378),
        (0.999, 100.0, 3.173739493738783),
        (0.975, 14041.0, 1.9601329520111468),
        (1e-6, 5.0, -24.771029720515948),
        (0.6, 7.0, 0.2631668613520229),
    ];
    for (p, df, t) in q {
        close(t_quantile(p, df).unwrap(), t, 1e-11);
    }
    let c = [
        (2.0, 5.0, 0.9490302605850708, 0.050969739414929174),
        (-1.3, 12.5, 0.10853100531714449, 0.8914689946828556),
        (10.0, 3.0, 0.9989358004707929, 0.0010641995292070751),
        (0.1, 1e6, 0.5398278272539784, 0.4601721727460216),
        (50.0, 2.0, 0.9998001199200559, 0.00019988007994404028),
    ];
    for (t, df, cdf, sf) in c {
        close(t_cdf(t, df).unwrap(), cdf, 1e-11);
        close(t_sf(t, df).unwrap(), sf, 1e-9);
    }
    close(t_two_sided_p(2.228138851986274, 10.0).unwrap(), 0.05, 1e-12);
    assert_eq!(
        t_quantile(0.975, f64::INFINITY).unwrap(),
        normal_quantile(0.975).unwrap()
    );
    assert!(t_quantile(0.975, 0.0).is_err());
    assert!(t_quantile(0.975, -1.0).is_err());
}

#[test]
fn special_functions_known_values() {
    for (x, v) in [
        (0.1, 2.2527126517342055),
        (0.5, 0.5723649429247004),
        (3.7, 1.4280723266653883),
        (100.0, 359.1342053695754),
        (1e5, 1051287.7089736566),
    ] {
        close(ln_gamma(x), v, 1e-13);
    }
    abs_close(ln_gamma(1.0), 0.0, 1e-15);
    close(
        beta_inc_reg(2.5, 0.5, 0.3).unwrap(),
        0.018927124071945658,
        1e-12,
    );
    close(
        beta_inc_reg(7020.0, 0.5, 0.999).unwrap(),
        0.00017834312089922626,
        1e-9,
    );
    close(binomial_cdf(4, 14, 0.5).unwrap(), 0.08978271484375, 1e-14);
    close(
        binomial_cdf(300, 2000, 0.17).unwrap(),
        0.008589148252716897,
        1e-9,
    );
}

#[test]
fn wilson_matches_newcombe_1998_table() {
    // Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (score interval).
    let cases = [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ];
    for (x, n, lo, hi) in cases {
        let ci = wilson(x, n, 0.95).unwrap();
        abs_close(ci.lower, lo, 5e-5);
        abs_close(ci.upper, hi, 5e-5);
    }
    // 0/20 upper limit is exactly z²/(n + z²)
    let z2 = 1.959963984540054f64.powi(2);
    close(wilson(0, 20, 0.95).unwrap().upper, z2 / (20.0 + z2), 1e-14);
    assert!(wilson(3, 2, 0.95).is_err());
    assert!(wilson(0, 0, 0.95).is_err());
    assert!(wilson(1, 2, 1.0).is_err());
}

#[test]
fn descriptive_and_clustered_se_by_hand() {
    let v = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    abs_close(mean(&v).unwrap(), 0.5, 1e-15);
    abs_close(sample_variance(&v).unwrap(), 0.3, 1e-15);
    abs_close(clt_se(&v).unwrap(), (0.3f64 / 6.0).sqrt(), 1e-15);
    // clusters a,a,b,b,c,c: deviations .5,-.5,.5,.5,-.5,-.5 → cluster sums 0, 1, -1
    // SE = (1/6)·√2·√(3/2) = √3/6
    let cl = clustered_se(&v, &["a", "a", "b", "b", "c", "c"]).unwrap();
    abs_close(cl.se, 3f64.sqrt() / 6.0, 1e-15);
    assert_eq!((cl.n_clusters, cl.df), (3, 2.0));
    // singleton clusters reduce to the CLT SE
    let singles: Vec<usize> = (0..6).collect();
    abs_close(
        clustered_se(&v, &singles).unwrap().se,
        clt_se(&v).unwrap(),
        1e-15,
    );
    // typed errors instead of panics
    assert!(matches!(mean(&[]), Err(StatsError::Empty { .. })));
    assert!(matches!(
        sample_variance(&[1.0]),
        Err(StatsError::TooFew { .. })
    ));
    assert!(matches!(
        mean(&[1.0, f64::NAN]),
        Err(StatsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        clustered_se(&v, &[1, 2]),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        clustered_se(&v, &[0; 6]),
        Err(StatsError::TooFew { .. })
    ));
}

#[test]
fn agresti_coull_se_by_hand() {
    // p = 0.5, n = 100: p̃ = 0.5, SE = √(0.25/103.84) = 0.049067
    assert!(
        (agresti_coull_se(0.5, 100).unwrap()
            - (0.25f64 / (100.0 + 1.959_963_984_540_054f64.powi(2))).sqrt())
        .abs()
            < 1e-12
    );
    assert!(agresti_coull_se(0.0, 100).unwrap() > 0.0 && agresti_coull_se(1.0, 100).unwrap() > 0.0);
    // Mid-range: within 3% of the plain binomial SE for n = 1000.
    let plain = (0.3f64 * 0.7 / 1000.0).sqrt();
    assert!((agresti_coull_se(0.3, 1000).unwrap() / plain - 1.0).abs() < 0.03);
    // By hand, z² = 3.841459: p = 0, n = 10: p̃ = 1.920729/13.841459 = 0.138766,
    // SE = √(0.138766·0.861234/13.841459) = 0.092921; p = 1 mirrors it.
    abs_close(
        agresti_coull_se(0.0, 10).unwrap(),
        0.092_920_536_936_212_9,
        1e-15,
    );
    abs_close(
        agresti_coull_se(1.0, 10).unwrap(),
        0.092_920_536_936_212_9,
        1e-15,
    );
    // p = 0.8, n = 50: p̃ = (40 + 1.920729)/53.841459 = 0.778596, SE = 0.056584.
    abs_close(
        agresti_coull_se(0.8, 50).unwrap(),
        0.056_583_603_601_370_65,
        1e-15,
    );
    assert!(matches!(
        agresti_coull_se(0.5, 0),
        Err(StatsError::Empty { .. })
    ));
    assert!(agresti_coull_se(1.2, 10).is_err());
    assert!(agresti_coull_se(-0.1, 10).is_err());
    assert!(agresti_coull_se(f64::NAN, 10).is_err());
}

fn ms(score: f64, se: f64) -> ModelScore {
    ModelScore::new(score, se)
}

#[test]
fn model_level_bootstrap_roster_matches_the_closed_form() {
    // Δ = (0.6 + 0.7)/2 − 0.5 = 0.15; SE = √((0.02² + 0.02²)/4 + 0.03²) = √0.0011 = 0.033166
    let a = [ms(0.6, 0.02), ms(0.7, 0.02)];
    let b = [ms(0.5, 0.03)];
    let config = BootstrapConfig::new(20_000, 11, 0.95);
    let r = model_level_gap_bootstrap(&a, &b, GapEstimand::Roster, &config).unwrap();
    assert!((r.estimate - 0.15).abs() < 1e-12);
    assert!(
        (r.se / 0.0011f64.sqrt() - 1.0).abs() < 0.03,
        "bootstrap SE {}",
        r.se
    );
    assert!(
        (r.ci.lower - (0.15 - 1.96 * 0.0011f64.sqrt())).abs() < 0.004,
        "{:?}",
        r.ci
    );
    // Same seed, same answer (bit for bit); another seed, other replicates.
    let again = model_level_gap_bootstrap(&a, &b, GapEstimand::Roster, &config).unwrap();
    assert_eq!(r, again);
    let other = model_level_gap_bootstrap(
        &a,
        &b,
        GapEstimand::Roster,
        &BootstrapConfig::new(20_000, 12, 0.95),
    )
    .unwrap();
    assert_ne!(r.replicates, other.replicates);
}

#[test]
fn model_level_bootstrap_exact_scores_fixed_roster_is_a_point() {
    // σ = 0 and a fixed roster: every replicate is the observed gap, the interval has zero width.
    let a = [ms(0.61, 0.0), ms(0.73, 0.0), ms(0.52, 0.0)];
    let b = [ms(0.4, 0.0), ms(0.57, 0.0)];
    let observed = (0.61 + 0.73 + 0.52) / 3.0 - (0.4 + 0.57) / 2.0;
    let r = model_level_gap_bootstrap(
        &a,
        &b,
        GapEstimand::Roster,
        &BootstrapConfig::new(500, 3, 0.95),
    )
    .unwrap();
    abs_close(r.estimate, observed, 1e-15);
    assert!(r.replicates.iter().all(|&x| x == r.estimate));
    assert_eq!((r.ci.lower, r.ci.upper), (r.estimate, r.estimate));
    assert!(r.se < 1e-12, "se {}", r.se);
}

#[test]
fn model_level_bootstrap_population_adds_between_model_spread() {
    let a = [ms(0.2, 0.01), ms(0.4, 0.01), ms(0.6, 0.01), ms(0.8, 0.01)];
    let b = [ms(0.45, 0.01), ms(0.55, 0.01), ms(0.5, 0.01), ms(0.5, 0.01)];
    let config = BootstrapConfig::new(5000, 11, 0.95);
    let roster = model_level_gap_bootstrap(&a, &b, GapEstimand::Roster, &config).unwrap();
    let pop = model_level_gap_bootstrap(&a, &b, GapEstimand::Population, &config).unwrap();
    // Model resampling: SD of A's scores is 0.258, so SE ≈ √(0.258²·(3/4)/4 + …) ≈ 0.11 ≫ roster SE ≈ 0.007.
    assert!(
        pop.se > 10.0 * roster.se,
        "population {} vs roster {}",
        pop.se,
        roster.se
    );
    assert!(pop.ci.lower < 0.0 && pop.ci.upper > 0.0);
    assert_eq!(pop.estimate, roster.estimate);

    // Exact scores, A = {0, 1}, B = {0}: Δ* is the mean of two draws from {0, 1}, i.e. 0, ½, 1 with
    // probabilities ¼, ½, ¼: SD √(1/8) = 0.35355, 95% percentile interval [0, 1]. The roster interval is
    // the point ½.
    let a = [ms(0.0, 0.0), ms(1.0, 0.0)];
    let b = [ms(0.0, 0.0)];
    let config = BootstrapConfig::new(20_000, 5, 0.95);
    let pop = model_level_gap_bootstrap(&a, &b, GapEstimand::Population, &config).unwrap();
    assert_eq!(pop.estimate, 0.5);
    assert!(pop.replicates.iter().all(|&x| [0.0, 0.5, 1.0].contains(&x)));
    assert!(
        (pop.se / 0.125f64.sqrt() - 1.0).abs() < 0.03,
        "se {}",
        pop.se
    );
    assert_eq!((pop.ci.lower, pop.ci.upper), (0.0, 1.0));
    let roster = model_level_gap_bootstrap(&a, &b, GapEstimand::Roster, &config).unwrap();
    assert_eq!((roster.ci.lower, roster.ci.upper), (0.5, 0.5));
}

#[test]
fn model_level_bootstrap_input_errors_are_typed() {
    let config = BootstrapConfig::new(100, 1, 0.95);
    let ok = [ms(0.5, 0.01)];
    let roster = GapEstimand::Roster;
    assert!(matches!(
        model_level_gap_bootstrap(&[], &ok, roster, &config),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        model_level_gap_bootstrap(&ok, &[], roster, &config),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        model_level_gap_bootstrap(&ok, &[ms(0.4, 0.0), ms(f64::NAN, 0.0)], roster, &config),
        Err(StatsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        model_level_gap_bootstrap(&ok, &[ms(0.4, -0.01)], roster, &config),
        Err(StatsError::InvalidValue { index: 0, .. })
    ));
    assert!(model_level_gap_bootstrap(&ok, &[ms(0.4, f64::INFINITY)], roster, &config).is_err());
    assert!(
        model_level_gap_bootstrap(&ok, &ok, roster, &BootstrapConfig::new(1, 1, 0.95)).is_err()
    );
    assert!(
        model_level_gap_bootstrap(&ok, &ok, roster, &BootstrapConfig::new(100, 1, 1.0)).is_err()
    );
}

#[test]
fn paired_and_unpaired_differences() {
    let a = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    let b = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0];
    // d = 0,1,0,0,1,0,0,1: mean 3/8, var = (3·(5/8)² + 5·(3/8)²)/7 = (75/64 + 45/64)/7 = 120/448
    let r = paired_difference(&a, &b, 0.95).unwrap();
    abs_close(r.estimate, 0.375, 1e-15);
    let se = (120.0f64 / 448.0 / 8.0).sqrt();
    abs_close(r.se, se, 1e-15);
    abs_close(r.statistic, 0.375 / se, 1e-12);
    assert_eq!(r.df, Some(7.0));
    let t = t_quantile(0.975, 7.0).unwrap();
    abs_close(r.ci.lower, 0.375 - t * se, 1e-12);
    abs_close(r.p, t_two_sided_p(0.375 / se, 7.0).unwrap(), 1e-15);
    let u = unpaired_z_test(0.7, 0.03, 0.6, 0.04, 0.95).unwrap();
    abs_close(u.se, 0.05, 1e-15);
    abs_close(u.statistic, 2.0, 1e-12);
    abs_close(u.p, 0.04550026389635842, 1e-12);
    assert!(paired_difference(&a, &b[..3], 0.95).is_err());
    // identical vectors: zero difference, zero SE → statistic 0, p 1
    let same = paired_difference(&a, &a, 0.95).unwrap();
    assert_eq!((same.statistic, same.p), (0.0, 1.0));
}

#[test]
fn holm_and_bh_known_vector() {
    // sorted: 0.005(4) 0.01(1) 0.03(3) 0.04(2)
    // Holm: 4·0.005=0.02, 3·0.01=0.03, 2·0.03=0.06, max(0.06, 1·0.04)=0.06
    // BH: 4/1·0.005=0.02, 4/2·0.01=0.02, 4/3·0.03=0.04, 4/4·0.04=0.04 (running min from the top)
    let p = [0.01, 0.04, 0.03, 0.005];
    let h = holm(&p).unwrap();
    let q = benjamini_hochberg(&p).unwrap();
    for (x, y) in h.iter().zip([0.03, 0.06, 0.06, 0.02]) {
        abs_close(*x, y, 1e-15);
    }
    for (x, y) in q.iter().zip([0.02, 0.04, 0.04, 0.02]) {
        abs_close(*x, y, 1e-15);
    }
    assert_eq!(holm(&[0.6, 0.9]).unwrap(), vec![1.0, 1.0]);
    assert!(holm(&[]).is_err());
    assert!(benjamini_hochberg(&[0.1, 1.2]).is_err());
}

#[test]
fn mcnemar_textbook_table() {
    let m = mcnemar(10, 4).unwrap();
    abs_close(m.chi2, 36.0 / 14.0, 1e-15); // 2.5714…
    abs_close(m.chi2_corrected, 25.0 / 14.0, 1e-15); // 1.7857…
    close(m.p_chi2, 0.10880943004054605, 1e-12);
    close(m.p_corrected, 0.18144920772141646, 1e-12);
    // exact: 2·P(X ≤ 4), X ~ Bin(14, ½) = 2·1471/16384
    close(m.p_exact, 2.0 * 1471.0 / 16384.0, 1e-14);
    let a = [1.0, 1.0, 0.0, 1.0, 0.0];
    let b = [0.0, 1.0, 1.0, 0.0, 0.0];
    let s = mcnemar_scores(&a, &b).unwrap();
    assert_eq!((s.b, s.c), (2, 1));
    assert!(matches!(mcnemar(0, 0), Err(StatsError::Degenerate { .. })));
    assert!(mcnemar_scores(&[0.5], &[1.0]).is_err());
    assert_eq!(mcnemar(5, 5).unwrap().p_exact, 1.0);
}

#[test]
fn pass_at_k_small_cases() {
    abs_close(pass_at_k(5, 2, 1).unwrap(), 0.4, 1e-15);
    abs_close(pass_at_k(5, 2, 2).unwrap(), 0.7, 1e-15); // 1 − C(3,2)/C(5,2)
    abs_close(pass_at_k(10, 3, 5).unwrap(), 1.0 - 21.0 / 252.0, 1e-15); // 1 − C(7,5)/C(10,5)
    assert_eq!(pass_at_k(10, 0, 3).unwrap(), 0.0);
    assert_eq!(pass_at_k(10, 8, 3).unwrap(), 1.0);
    // n = 200 samples: product form stays accurate where binomials overflow f64 mantissas
    abs_close(pass_at_k(200, 1, 100).unwrap(), 0.5, 1e-14);
    abs_close(pass_hat_k(5, 2, 2).unwrap(), 0.1, 1e-15);
    abs_close(pass_hat_k(10, 7, 3).unwrap(), 35.0 / 120.0, 1e-15);
    assert_eq!(pass_hat_k(10, 2, 3).unwrap(), 0.0);
    assert!(pass_at_k(5, 6, 1).is_err());
    assert!(pass_at_k(5, 2, 0).is_err());
    assert!(pass_at_k(5, 2, 6).is_err());
}

#[test]
fn wls_hand_solved_with_cr1() {
    // y = [1,3,2,5] on x = [0,1,2,3], weights [1,2,1,2], clusters {0,1},{2,3}.
    // XᵀWX = [[6,10],[10,24]], XᵀWy = [19,40] → β = (1/44)[[24,-10],[-10,6]]·[19,40] = [14/11, 25/22].
    // Residuals e = [-6, 13, -34, 7]/22; cluster scores Σ wᵢxᵢeᵢ = ±[20, 26]/22;
    // bread·[20,26] = [5,-1] → V = 3 (CR1 factor 2/1·3/2) · 2 · [5,-1][5,-1]ᵀ/22² = (6/484)[[25,-5],[-5,1]].
    let y = [1.0, 3.0, 2.0, 5.0];
    let x: Vec<Vec<f64>> = [0.0, 1.0, 2.0, 3.0].iter().map(|&v| vec![1.0, v]).collect();
    let w = [1.0, 2.0, 1.0, 2.0];
    let fit = wls(&y, &x, Some(&w), Some(&[0, 0, 1, 1]), 0.95).unwrap();
    abs_close(fit.coef[0], 14.0 / 11.0, 1e-13);
    abs_close(fit.coef[1], 25.0 / 22.0, 1e-13);
    abs_close(fit.se[0], (150.0f64 / 484.0).sqrt(), 1e-12);
    abs_close(fit.se[1], (6.0f64 / 484.0).sqrt(), 1e-12);
    abs_close(fit.covariance[1], -30.0 / 484.0, 1e-12);
    assert_eq!((fit.df, fit.n, fit.n_clusters), (1.0, 4, 2));
    let t = t_quantile(0.975, 1.0).unwrap();
    abs_close(
        fit.ci[1].upper,
        25.0 / 22.0 + t * (6.0f64 / 484.0).sqrt(),
        1e-10,
    );
    abs_close(fit.residuals[2], -34.0 / 22.0, 1e-13);
    // unweighted OLS: slope 1.1, intercept 1.1 (Sxy = 5.5, Sxx = 5)
    let ols = wls(&y, &x, None, None, 0.95).unwrap();
    abs_close(ols.coef[0], 1.1, 1e-13);
    abs_close(ols.coef[1], 1.1, 1e-13);
    assert_eq!(ols.kind, RobustKind::Hc1);
    assert_eq!(ols.df, 2.0);
    // classical SE: σ̂² = Σe²/(n−2) = (0.01+0.64+1.69+0.36)/2 = 1.35; Var(slope) = σ̂²/Sxx
    abs_close(ols.classical_se[1], (1.35f64 / 5.0).sqrt(), 1e-12);
    // HC1: Var(slope) = n/(n−p) Σ (xᵢ−x̄)² eᵢ² / Sxx²
    let hc = 2.0 * (2.25 * 0.01 + 0.25 * 0.64 + 0.25 * 1.69 + 2.25 * 0.36) / 25.0;
    abs_close(ols.se[1], f64::sqrt(hc), 1e-12);
    // rank deficiency is a typed error
    let xd: Vec<Vec<f64>> = [0.0, 1.0, 2.0, 3.0]
        .iter()
        .map(|&v| vec![1.0, v, 2.0 * v])
        .collect();
    assert!(matches!(
        wls(&y, &xd, None, None, 0.95),
        Err(StatsError::Degenerate { .. })
    ));
    assert!(wls(&y, &x[..3], None, None, 0.95).is_err());
}

#[test]
fn trend_verdicts() {
    // y rises by exactly 0.01/day with small symmetric noise
    let days: Vec<f64> = (0..40).map(|d| d as f64 * 10.0).collect();
    let y: Vec<f64> = days
        .iter()
        .enumerate()
        .map(|(i, d)| 0.05 + 0.01 * d + if i % 2 == 0 { 0.1 } else { -0.1 })
        .collect();
    let t = trend(
        &y,
        &days,
        None,
        None,
        TrendConvention::IncreasingWidens,
        0.95,
    )
    .unwrap();
    abs_close(t.slope_per_day, 0.01, 1e-4);
    abs_close(t.slope_per_month, t.slope_per_day * DAYS_PER_MONTH, 1e-15);
    assert_eq!(t.verdict, TrendVerdict::Widening);
    let t2 = trend(
        &y,
        &days,
        None,
        None,
        TrendConvention::DecreasingWidens,
        0.95,
    )
    .unwrap();
    assert_eq!(t2.verdict, TrendVerdict::Narrowing);
    assert_eq!(
        TrendConvention::for_signed_gap(-0.2),
        TrendConvention::DecreasingWidens
    );
    // flat noise: no evidence
    let flat: Vec<f64> = (0..40)
        .map(|i| if i % 2 == 0 { 0.1 } else { -0.1 })
        .collect();
    let t3 = trend(
        &flat,
        &days,
        None,
        None,
        TrendConvention::IncreasingWidens,
        0.95,
    )
    .unwrap();
    assert_eq!(t3.verdict, TrendVerdict::NoEvidence);
}

#[test]
fn days_per_month_is_a_julian_year_over_twelve() {
    // The issue defines lag = days / 30.4375.
    assert_eq!(DAYS_PER_MONTH, 30.4375);
    assert_eq!(DAYS_PER_MONTH, 365.25 / 12.0);
}

#[test]
fn verdict_from_interval_table() {
    use TrendConvention::{DecreasingWidens as Dec, IncreasingWidens as Inc};
    use TrendVerdict::{Narrowing, NoEvidence, Widening};
    let ci = |lower: f64, upper: f64| Interval {
        lower,
        upper,
        level: 0.95,
    };
    let cases = [
        (ci(0.1, 0.3), Inc, Widening),
        (ci(0.1, 0.3), Dec, Narrowing),
        (ci(-0.3, -0.1), Inc, Narrowing),
        (ci(-0.3, -0.1), Dec, Widening),
        (ci(-0.1, 0.3), Inc, NoEvidence),
        (ci(-0.1, 0.3), Dec, NoEvidence),
        // an endpoint at exactly 0 is not evidence
        (ci(0.0, 0.3), Inc, NoEvidence),
        (ci(-0.3, 0.0), Dec, NoEvidence),
        (ci(0.0, 0.0), Inc, NoEvidence),
    ];
    for (interval, convention, expected) in cases {
        assert_eq!(
            verdict_from_interval(interval, convention),
            expected,
            "{interval:?} under {convention:?}"
        );
    }
}

#[test]
fn percentile_interval_and_quantile() {
    let v: Vec<f64> = (0..=100).map(|x| x as f64).collect();
    let ci = percentile_interval(&v, 0.95).unwrap();
    abs_close(ci.lower, 2.5, 1e-12);
    abs_close(ci.upper, 97.5, 1e-12);
    abs_close(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5).unwrap(), 2.5, 1e-15);
    assert!(percentile_interval(&[1.0, f64::NAN], 0.95).is_err());
    let ti = t_interval(&[1.0, 2.0, 3.0], 0.95).unwrap();
    abs_close(
        ti.upper,
        2.0 + 4.302652729749462 * (1.0f64 / 3.0).sqrt(),
        1e-12,
    );
}

#[test]
fn bradley_terry_closed_form_cases() {
    // A beats B 3 times, B beats A once: θ_A − θ_B = ln 3, sum-to-zero
    let battles = [
        Battle::new(0, 1, Outcome::AWins),
        Battle::new(0, 1, Outcome::AWins),
        Battle::new(1, 0, Outcome::BWins),
        Battle::new(0, 1, Outcome::BWins),
    ];
    let opts = BtOptions::default();
    let fit = bradley_terry(2, &battles, &opts).unwrap();
    abs_close(fit.theta[0] - fit.theta[1], 3f64.ln(), 1e-10);
    abs_close(fit.theta[0] + fit.theta[1], 0.0, 1e-12);
    abs_close(
        fit.ratings[0],
        1000.0 + 400.0 / std::f64::consts::LN_10 * 3f64.ln() / 2.0,
        1e-8,
    );
    // With ties as half wins: 1 win, 2 ties, 1 loss → equal strengths
    let tied = [
        Battle::new(0, 1, Outcome::AWins),
        Battle::new(0, 1, Outcome::Tie),
        Battle::new(1, 0, Outcome::Tie),
        Battle::new(0, 1, Outcome::BWins),
    ];
    let f2 = bradley_terry(2, &tied, &opts).unwrap();
    abs_close(f2.theta[0], 0.0, 1e-12);
    // anchoring moves all ratings rigidly
    let anchored = BtOptions {
        anchor: Some((1, 1114.0)),
        ..opts
    };
    let f3 = bradley_terry(2, &battles, &anchored).unwrap();
    abs_close(f3.ratings[1], 1114.0, 1e-9);
    abs_close(
        f3.ratings[0] - f3.ratings[1],
        fit.ratings[0] - fit.ratings[1],
        1e-9,
    );
    // a model that never loses has no finite MLE: typed error, or a finite fit with ridge
    let sweep = [
        Battle::new(0, 1, Outcome::AWins),
        Battle::new(0, 2, Outcome::AWins),
        Battle::new(1, 2, Outcome::Tie),
    ];
    assert!(matches!(
        bradley_terry(3, &sweep, &opts),
        Err(StatsError::Degenerate { .. })
    ));
    let ridge = BtOptions { ridge: 0.1, ..opts };
    let fr = bradley_terry(3, &sweep, &ridge).unwrap();
    assert!(fr.theta[0] > fr.theta[1] && fr.theta.iter().all(|t| t.is_finite()));
    assert!(bradley_terry(2, &[Battle::new(0, 0, Outcome::Tie)], &opts).is_err());
    assert!(bradley_terry(2, &[Battle::new(0, 5, Outcome::Tie)], &opts).is_err());
    assert_eq!(
        ci_aware_ranks(&[10.0, 5.0, 0.0], &[12.0, 11.0, 4.0]).unwrap(),
        vec![1, 1, 3]
    );
}
