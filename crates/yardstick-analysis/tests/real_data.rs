//! Import and analyse the real leaderboard data in `../shared/data/leaderboards` (env
//! `YARDSTICK_SHARED_DATA` overrides the location). Without the data these tests print `SKIP: …` and pass,
//! except under CI (env `CI` set), where they fail.

use std::path::PathBuf;
use yardstick_analysis::attribution::AttributionMode;
use yardstick_analysis::dataset::Dataset;
use yardstick_analysis::gap::{gap, Estimand, GapOptions, GapTarget, Method};
use yardstick_analysis::groups::GroupSpec;
use yardstick_analysis::import::import_paths;
use yardstick_analysis::query::Query;
use yardstick_analysis::trend::{arena_trend, trend, TrendOptions};
use yardstick_analysis::Registry;
use yardstick_stats::{TrendVerdict, DAYS_PER_MONTH};
use yardstick_store::Store;

fn shared_data() -> Option<PathBuf> {
    yardstick_testkit::require_shared_data_with("leaderboards")
}

fn spec(a: &str, b: &str, attribution: AttributionMode, official_only: bool) -> GroupSpec {
    GroupSpec {
        a: Query::parse(a).unwrap(),
        b: Query::parse(b).unwrap(),
        attribution,
        official_only,
        as_of: None,
    }
}

#[test]
fn epoch_eci_trend_reports_lag_gap_and_verdict() {
    let Some(data_dir) = shared_data() else {
        return;
    };
    let hub = data_dir.join("leaderboards/epoch/benchmark_hub_2026-04-19");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    let report = import_paths(&store, &reg, std::slice::from_ref(&hub)).unwrap();
    // Every per-benchmark CSV (own runs and _external) plus the ECI file; README and the ECI side tables are
    // skipped with a reason.
    assert!(report.files.len() >= 49, "{} files", report.files.len());
    assert!(report
        .files
        .iter()
        .any(|f| f.path.ends_with("epoch_capabilities_index.csv") && f.scores_added > 300));
    assert!(report.skipped.iter().any(|s| s.path.ends_with("README.md")));
    // Rows without organization/country are counted, never dropped silently.
    assert!(report.unattributed_total() > 0);
    let again = import_paths(&store, &reg, std::slice::from_ref(&hub)).unwrap();
    assert!(again
        .files
        .iter()
        .all(|f| !f.imported && f.scores_added == 0));

    let data = Dataset::load(&store, &reg).unwrap();
    let opts = TrendOptions {
        groups: spec(
            "country=US",
            "country=CN",
            AttributionMode::Developer,
            false,
        ),
        metric: "ECI".into(),
        since: chrono::NaiveDate::from_ymd_opt(2023, 1, 1),
        until: None,
        source: None,
        replicates: 200,
        seed: 1,
        level: 0.95,
    };
    let t = trend(&reg, &data, &opts).unwrap();
    // the user's spelling is kept for display; the benchmark it resolves to is `eci`
    assert_eq!(t.benchmark, "eci");
    assert_eq!(t.metric, "ECI");
    assert!(
        t.n_models_a > 50 && t.n_models_b > 20,
        "{} / {}",
        t.n_models_a,
        t.n_models_b
    );
    let expected_days = (t.until - t.since).num_days() as usize + 1;
    assert_eq!(t.series.len(), expected_days);
    let (mean, min, max) = (
        t.lag.mean_months.unwrap(),
        t.lag.min_months.unwrap(),
        t.lag.max_months.unwrap(),
    );
    assert!(min <= mean && mean <= max);
    // The lag series is consistent with its definition: at every day, A's frontier at (t − lag) is at least B's.
    for d in t.series.iter().step_by(97) {
        if let (Some(lag), Some(fb)) = (d.lag_months, d.frontier_b) {
            let reached = d.date - chrono::Duration::days((lag * DAYS_PER_MONTH).round() as i64);
            let fa_then = t
                .frontier_a
                .iter()
                .filter(|s| s.date <= reached)
                .map(|s| s.score)
                .fold(f64::NEG_INFINITY, f64::max);
            assert!(
                fa_then >= fb - 1e-9,
                "{}: A's frontier on {reached} is {fa_then}, B's best {fb}",
                d.date
            );
        }
    }
    assert!(t.current_gap.is_some());
    let tr = t.trend.as_ref().expect("trend estimate");
    assert!(
        tr.ci_lower_per_month <= tr.slope_per_month && tr.slope_per_month <= tr.ci_upper_per_month
    );
    match tr.verdict {
        TrendVerdict::NoEvidence => {
            assert!(tr.ci_lower_per_month <= 0.0 && tr.ci_upper_per_month >= 0.0)
        }
        _ => assert!(tr.ci_lower_per_month > 0.0 || tr.ci_upper_per_month < 0.0),
    }
    let text = t.render_text();
    println!("{text}");
    assert!(text.contains("Lag of B behind A (months): mean"), "{text}");
    // --as-of keeps only models released by then.
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
    let mut groups = spec(
        "country=US",
        "country=CN",
        AttributionMode::Developer,
        false,
    );
    groups.as_of = Some(as_of);
    let g = gap(
        &reg,
        &data,
        &[],
        &GapOptions {
            groups,
            target: GapTarget::Benchmarks(vec!["eci".into()]),
            estimand: Estimand::Population,
            source: None,
            metric: None,
            replicates: 500,
            seed: 2,
            level: 0.95,
        },
    )
    .unwrap();
    let row = &g.rows[0];
    assert!(row.n_models_a > 10 && row.n_models_a < t.n_models_a);
    for m in row.models_a.iter().chain(&row.models_b) {
        let d = data
            .model("epoch-hub", &m.name)
            .unwrap()
            .release_date
            .unwrap();
        assert!(d <= as_of, "{} released {d}", m.name);
    }
    let svg = dir.path().join("trend.svg");
    yardstick_analysis::plot::plot_trend(&svg, &t).unwrap();
    let body = std::fs::read_to_string(&svg).unwrap();
    assert!(
        body.contains("<svg") && body.contains("Frontier gap"),
        "SVG lacks the expected panels"
    );
    // The trend the text reports is drawn too, with its slope in the legend.
    if let Some(tr) = &t.trend {
        let label = format!("modelled gap (WLS trend {:+.3}/month", tr.slope_per_month);
        assert!(
            body.contains(&label),
            "SVG lacks the fitted trend {label:?}"
        );
    }
    let png = dir.path().join("trend.png");
    yardstick_analysis::plot::plot_trend(&png, &t).unwrap();
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn oll_v2_gap_per_benchmark_official_and_base_attribution() {
    let Some(data_dir) = shared_data() else {
        return;
    };
    let file =
        data_dir.join("leaderboards/open_llm_leaderboard/fboulnois_huggingface_v2_2025-03-21.csv");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    let rep = import_paths(&store, &reg, std::slice::from_ref(&file)).unwrap();
    assert_eq!(rep.files[0].rows_read, 4576);
    assert_eq!(rep.files[0].scores_added, 4576 * 6);
    let data = Dataset::load(&store, &reg).unwrap();
    let benches: Vec<String> = ["ifeval", "bbh", "math_lvl5", "gpqa", "musr", "mmlu_pro"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut opts = GapOptions {
        groups: spec("country=CN", "country=US", AttributionMode::Developer, true),
        target: GapTarget::Benchmarks(benches.clone()),
        estimand: Estimand::Population,
        source: Some("oll-v2".into()),
        metric: None,
        replicates: 1000,
        seed: 3,
        level: 0.95,
    };
    let official = gap(&reg, &data, &[], &opts).unwrap();
    println!("{}", official.render_text());
    assert_eq!(official.rows.len(), 6);
    for r in &official.rows {
        assert_eq!(r.method, Method::ModelLevelBootstrapPopulation);
        assert!(
            r.ci_lower <= r.estimate && r.estimate <= r.ci_upper,
            "{}: {} not in CI",
            r.target,
            r.estimate
        );
        assert!(r.p_holm.unwrap() >= r.p.unwrap());
        assert!(
            r.n_models_a >= 10 && r.n_models_b >= 10,
            "{}: {} / {}",
            r.target,
            r.n_models_a,
            r.n_models_b
        );
        // The item counts of the OLL v2 benchmarks give each model a binomial standard error.
        assert!(r.models_a.iter().all(|m| m.se.is_some_and(|s| s > 0.0)));
    }
    let bbh = official.rows.iter().find(|r| r.target == "bbh").unwrap();
    assert_eq!(bbh.n_items, Some(5761));
    opts.groups = spec("country=CN", "country=US", AttributionMode::Base, false);
    let base = gap(&reg, &data, &[], &opts).unwrap();
    println!("{}", base.render_text());
    assert_eq!(base.attribution, "base");
    let ifeval_off = official.rows.iter().find(|r| r.target == "ifeval").unwrap();
    let ifeval_base = base.rows.iter().find(|r| r.target == "ifeval").unwrap();
    // Fine-tunes of Qwen and Llama far outnumber the official releases.
    assert!(
        ifeval_base.n_models_a > 2 * ifeval_off.n_models_a
            && ifeval_base.n_models_b > 2 * ifeval_off.n_models_b,
        "base {}/{} vs official {}/{}",
        ifeval_base.n_models_a,
        ifeval_base.n_models_b,
        ifeval_off.n_models_a,
        ifeval_off.n_models_b
    );
    // Roster estimand on the same models: narrower than the population interval.
    opts.estimand = Estimand::Roster;
    let roster = gap(&reg, &data, &[], &opts).unwrap();
    let w = |r: &yardstick_analysis::gap::GapRow| r.ci_upper - r.ci_lower;
    let rr = roster.rows.iter().find(|r| r.target == "ifeval").unwrap();
    assert!(w(rr) < w(ifeval_base));
    assert!((rr.estimate - ifeval_base.estimate).abs() < 1e-12);
}

#[test]
fn arena_snapshots_best_cn_vs_best_us() {
    let Some(data_dir) = shared_data() else {
        return;
    };
    let hist = data_dir.join("leaderboards/lmarena/lmsys_history");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    let rep = import_paths(&store, &reg, std::slice::from_ref(&hist)).unwrap();
    assert_eq!(rep.files.len(), 88);
    assert_eq!(rep.files.iter().map(|f| f.rows_read).sum::<u64>(), 14964);
    assert!(rep.files.iter().all(|f| f.snapshot_date.is_some()));
    let data = Dataset::load(&store, &reg).unwrap();
    let opts = TrendOptions {
        groups: spec(
            "country=US",
            "country=CN",
            AttributionMode::Developer,
            false,
        ),
        metric: "arena-elo".into(),
        since: None,
        until: None,
        source: None,
        replicates: 0,
        seed: 1,
        level: 0.95,
    };
    let r = arena_trend(&reg, &data, &opts).unwrap();
    println!("{}", r.render_text());
    assert!(r.snapshots.len() >= 80, "{} snapshots", r.snapshots.len());
    for s in &r.snapshots {
        let (l, u) = (s.ci_lower.unwrap(), s.ci_upper.unwrap());
        assert!(l < s.gap && s.gap < u);
        assert!((s.gap - (s.score_a - s.score_b)).abs() < 1e-9);
    }
    assert!(r.trend.is_some());
    let svg = dir.path().join("arena.svg");
    yardstick_analysis::plot::plot_arena_trend(&svg, &r).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}
