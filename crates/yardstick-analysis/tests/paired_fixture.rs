//! Paired gap on per-item data, checked against a hand computation.
//!
//! Fixture (`tests/fixtures/lm_eval/`): lm-eval results + samples of four fake models on task `mmlu_anatomy`
//! (benchmark `mmlu`, metric `acc`), documents h1…h6:
//!
//! ```text
//!                                   h1 h2 h3 h4 h5 h6   group
//! Qwen/Qwen2.5-7B-Instruct           1  1  0  1  1  1   CN (Hugging Face org Qwen → Alibaba)
//! deepseek-ai/deepseek-llm-7b-chat   1  0  0  1  1  -   CN
//! meta-llama/Llama-3.1-8B-Instruct   1  0  0  0  1  -   US
//! google/gemma-2-9b-it               0  1  0  0  1  -   US
//! ```
//!
//! h6 was answered by one model only, so the paired comparison uses h1…h5. A = CN, B = US.
//! Per-item contrasts gᵢ = mean_A − mean_B: h1 1 − 0.5 = 0.5; h2 0.5 − 0.5 = 0; h3 0; h4 1 − 0 = 1; h5 1 − 1 = 0.
//! Δ = (0.5 + 0 + 0 + 1 + 0)/5 = 0.3.
//! Deviations from 0.3: 0.2, −0.3, −0.3, 0.7, −0.3; squares sum to 0.04 + 0.09 + 0.09 + 0.49 + 0.09 = 0.80.
//! Sample variance 0.80/4 = 0.2; SE = √(0.2/5) = 0.2. t = 1.5 with 4 df: two-sided p = 0.2080 (numerical
//! integration of the t₄ density); 95% CI = 0.3 ± t₀.₉₇₅,₄·0.2 = 0.3 ± 2.776445·0.2 = [−0.25529, 0.85529].

use std::path::PathBuf;
use yardstick_analysis::attribution::AttributionMode;
use yardstick_analysis::dataset::Dataset;
use yardstick_analysis::gap::{gap, Estimand, GapOptions, GapTarget, Method};
use yardstick_analysis::groups::GroupSpec;
use yardstick_analysis::import::import_paths;
use yardstick_analysis::items::load_item_tables;
use yardstick_analysis::query::Query;
use yardstick_analysis::Registry;
use yardstick_store::Store;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lm_eval")
}

fn options(estimand: Estimand) -> GapOptions {
    GapOptions {
        groups: GroupSpec {
            a: Query::parse("country=CN").unwrap(),
            b: Query::parse("country=US").unwrap(),
            attribution: AttributionMode::Developer,
            official_only: false,
            as_of: None,
        },
        target: GapTarget::Benchmarks(vec!["mmlu".into()]),
        estimand,
        source: None,
        metric: None,
        replicates: 2000,
        seed: 7,
        level: 0.95,
    }
}

#[test]
fn paired_gap_matches_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    let report = import_paths(&store, &reg, &[fixture()]).unwrap();
    // 4 results files + 4 samples files, all attributed (Qwen, deepseek-ai, meta-llama, google).
    assert_eq!(
        report.files.len(),
        8,
        "{:?}",
        report.files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
    assert_eq!(report.unattributed_total(), 0);
    assert_eq!(
        report.files.iter().map(|f| f.items_added).sum::<u64>(),
        6 + 5 + 5 + 5
    );

    let data = Dataset::load(&store, &reg).unwrap();
    let tables = load_item_tables(&store, None, &|b| b == "mmlu", None).unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(
        (tables[0].metric.as_str(), tables[0].filter.as_str()),
        ("acc", "none")
    );

    let r = gap(&reg, &data, &tables, &options(Estimand::Roster)).unwrap();
    assert_eq!(r.rows.len(), 1);
    let row = &r.rows[0];
    assert_eq!(row.method, Method::PairedItemsFixedRoster);
    assert_eq!(
        (row.n_models_a, row.n_models_b, row.n_items),
        (2, 2, Some(5))
    );
    assert!((row.estimate - 0.3).abs() < 1e-12, "Δ = {}", row.estimate);
    assert!((row.se - 0.2).abs() < 1e-12, "SE = {}", row.se);
    let t975_4 = 2.776_445_105_197_799;
    assert!(
        (row.ci_lower - (0.3 - t975_4 * 0.2)).abs() < 1e-9,
        "{}",
        row.ci_lower
    );
    assert!(
        (row.ci_upper - (0.3 + t975_4 * 0.2)).abs() < 1e-9,
        "{}",
        row.ci_upper
    );
    assert!((row.p.unwrap() - 0.2080).abs() < 5e-4, "p = {:?}", row.p);
    assert!(
        row.notes.iter().any(|n| n.contains("5 of 6 items")),
        "{:?}",
        row.notes
    );
    // Group means on the shared items: CN (0.8 + 0.6)/2 = 0.7 on h1…h5 → Qwen 4/5, DeepSeek 3/5; US 2/5, 2/5.
    assert!((row.mean_a - 0.7).abs() < 1e-12 && (row.mean_b - 0.4).abs() < 1e-12);

    // Population estimand: two-way bootstrap around the same point estimate, wider than the roster CI.
    let p = gap(&reg, &data, &tables, &options(Estimand::Population)).unwrap();
    let prow = &p.rows[0];
    assert_eq!(prow.method, Method::PairedItemsTwoWayBootstrap);
    assert!((prow.estimate - 0.3).abs() < 1e-12);
    assert!(prow.low_precision);
    assert!(prow.ci_lower <= 0.3 && prow.ci_upper >= 0.3);

    // Importing the same directory again adds nothing and says so.
    let again = import_paths(&store, &reg, &[fixture()]).unwrap();
    assert!(
        again.files.iter().all(|f| !f.imported),
        "re-import must add nothing"
    );
    assert_eq!(
        again
            .files
            .iter()
            .map(|f| f.items_added + f.scores_added)
            .sum::<u64>(),
        0
    );
}

#[test]
fn swapping_groups_flips_the_sign() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    import_paths(&store, &reg, &[fixture()]).unwrap();
    let data = Dataset::load(&store, &reg).unwrap();
    let tables = load_item_tables(&store, None, &|b| b == "mmlu", None).unwrap();
    let mut o = options(Estimand::Roster);
    std::mem::swap(&mut o.groups.a, &mut o.groups.b);
    let r = gap(&reg, &data, &tables, &o).unwrap();
    assert!((r.rows[0].estimate + 0.3).abs() < 1e-12);
    assert!((r.rows[0].se - 0.2).abs() < 1e-12);
}
