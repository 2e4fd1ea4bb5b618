//! `yardstick-stats`: the statistics behind Yardstick's error bars and group gaps. Pure computation, no
//! IO; every fallible function returns a typed [`StatsError`] instead of panicking.
//!
//! Notation (eval-anchors §4): items i = 1..n with scores sᵢ, models m, score matrix S\[m, i\], groups A
//! and B of models.
//!
//! | area | functions |
//! |---|---|
//! | descriptive / CLT | [`mean`], [`sample_variance`], [`clt_se`], [`agresti_coull_se`], [`clustered_se`], [`paired_difference`], [`paired_difference_clustered`], [`unpaired_z_test`], [`mean_estimate`] |
//! | distributions | [`normal_cdf`], [`normal_quantile`], [`t_cdf`], [`t_quantile`], [`normal_two_sided_p`], [`t_two_sided_p`], [`beta_inc_reg`], [`binomial_cdf`] |
//! | intervals | [`wilson`], [`t_interval`], [`normal_interval`], [`percentile_interval`], [`quantile`] |
//! | bootstrap | [`bootstrap_mean`], [`cluster_bootstrap_mean`], [`paired_bootstrap`], [`paired_cluster_bootstrap`], [`two_way_gap_bootstrap`], [`fixed_roster_gap`], [`model_level_gap_bootstrap`] |
//! | multiple comparisons | [`holm`], [`benjamini_hochberg`], [`mcnemar`], [`mcnemar_scores`] |
//! | sampling metrics | [`pass_at_k`], [`pass_hat_k`] |
//! | pairwise ratings | [`aggregate_battles`], [`fit_bradley_terry`], [`sandwich_intervals`], [`bootstrap_intervals`], [`ci_aware_ranks`] |
//! | regression | [`wls`] (CR1 / HC1), [`trend`], [`verdict_from_interval`], [`DAYS_PER_MONTH`] |
//!
//! Randomised procedures take an explicit seed and derive one generator per replicate from
//! (seed, stream, replicate), so results are identical for any number of threads.

pub mod bootstrap;
pub mod bt;
pub mod descriptive;
pub mod dist;
pub mod error;
pub mod intervals;
mod linalg;
pub mod multiple;
pub mod passk;
pub mod regression;
pub mod rng;

pub use bootstrap::{
    bootstrap_as_estimate, bootstrap_mean, cluster_bootstrap_mean, fixed_roster_gap,
    fixed_roster_gap_clustered, group_contrasts, model_level_gap_bootstrap, paired_bootstrap,
    paired_cluster_bootstrap, two_way_gap_bootstrap, two_way_gap_bootstrap_clustered,
    BootstrapConfig, BootstrapResult, GapEstimand, ModelScore, PairedBootstrap, ScoreMatrix,
};
pub use bt::{
    aggregate_battles, bootstrap_intervals, bradley_terry, ci_aware_ranks, fit_bradley_terry,
    sandwich_intervals, Battle, BattleRow, BtFit, BtOptions, BtRatings, Outcome,
};
pub use descriptive::{
    agresti_coull_se, clt_se, clustered_se, diff_estimate, mean, mean_estimate,
    mean_estimate_clustered, paired_difference, paired_difference_clustered, sample_sd,
    sample_variance, unpaired_z_test, unpaired_z_test_scores, ClusteredSe, DiffEstimate,
};
pub use dist::{
    beta_inc_reg, binomial_cdf, chi2_1_sf, erf, erfc, ln_gamma, normal_cdf, normal_pdf,
    normal_quantile, normal_sf, normal_two_sided_critical, normal_two_sided_p, t_cdf, t_pdf,
    t_quantile, t_sf, t_two_sided_critical, t_two_sided_p,
};
pub use error::{Result, StatsError};
pub use intervals::{
    normal_interval, percentile_interval, quantile, t_interval, t_interval_from, wilson, Interval,
};
pub use multiple::{benjamini_hochberg, holm, mcnemar, mcnemar_scores, McNemar};
pub use passk::{pass_at_k, pass_hat_k};
pub use regression::{
    dense_cluster_ids, trend, verdict_from_interval, wls, RobustKind, Trend, TrendConvention,
    TrendVerdict, WlsFit, DAYS_PER_MONTH,
};
pub use rng::Xoshiro256PlusPlus;
