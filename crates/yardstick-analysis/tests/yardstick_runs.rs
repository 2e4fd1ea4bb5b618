//! Paired gap on Yardstick's own runs (ledger tables `runs` + `samples`), written through the store's API.
//!
//! Same numbers as `paired_fixture.rs` on metric `acc_norm` (ARC-Challenge's usual metric): per-item contrasts
//! 0.5, 0, 0, 1, 0 → Δ = 0.3, SE = 0.2. The `acc` values differ, so choosing the wrong metric fails the test; an
//! older run of one model and an unfinished run of another must be ignored.

use serde_json::json;
use yardstick_analysis::attribution::AttributionMode;
use yardstick_analysis::dataset::{Dataset, SOURCE_YARDSTICK};
use yardstick_analysis::gap::{gap, Estimand, GapOptions, GapTarget, Method};
use yardstick_analysis::groups::GroupSpec;
use yardstick_analysis::items::load_item_tables;
use yardstick_analysis::query::Query;
use yardstick_analysis::Registry;
use yardstick_store::ledger::{RunRecord, SampleRecord};
use yardstick_store::Store;

fn run(store: &Store, run_id: &str, model: &str, acc_norm: &[f64], status: &str) {
    store
        .begin_run(&RunRecord {
            run_id: run_id.into(),
            command: "yardstick run".into(),
            model_name: model.into(),
            model_location: "http://127.0.0.1:8080/v1".into(),
            model_fingerprint: format!("fp-{model}"),
            config: json!({}),
            tool_version: "test".into(),
            lm_eval_compat: "0.4.13".into(),
            git_rev: None,
            hardware: json!({}),
        })
        .unwrap();
    let samples: Vec<SampleRecord> = acc_norm
        .iter()
        .enumerate()
        .map(|(i, &v)| SampleRecord {
            task: "arc_challenge".into(),
            doc_id: i as i64,
            filter: "none".into(),
            doc_hash: format!("doc{i}"),
            prompt_hash: "p".into(),
            target_hash: "t".into(),
            record: json!({}),
            request_keys: vec![],
            fewshot_ids: vec![],
            // As `yardstick run` stores them (tagged: loglikelihood acc an int, acc_norm a float), except
            // for the model whose id starts with "deepseek": plain numbers, as older stores hold them.
            metrics: if model.starts_with("deepseek") {
                json!({"acc": 1.0 - v, "acc_norm": v})
            } else {
                json!({"acc": {"kind": "int", "value": (1.0 - v) as i64},
                       "acc_norm": {"kind": "float", "value": v}})
            },
        })
        .collect();
    store
        .put_scores(run_id, "arc_challenge", &samples, &[])
        .unwrap();
    if status != "running" {
        let status = yardstick_store::ledger::RunStatus::parse(status).unwrap();
        store.end_run(run_id, status, &json!({})).unwrap();
    }
}

#[test]
fn paired_gap_on_yardstick_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    run(
        &store,
        "r1",
        "Qwen/Qwen2.5-7B-Instruct",
        &[1.0, 1.0, 0.0, 1.0, 1.0],
        "finished",
    );
    run(
        &store,
        "r2",
        "deepseek-ai/deepseek-llm-7b-chat",
        &[1.0, 0.0, 0.0, 1.0, 1.0],
        "finished",
    );
    run(
        &store,
        "r3-old",
        "meta-llama/Llama-3.1-8B-Instruct",
        &[0.0; 5],
        "finished",
    );
    run(
        &store,
        "r4-new",
        "meta-llama/Llama-3.1-8B-Instruct",
        &[1.0, 0.0, 0.0, 0.0, 1.0],
        "finished",
    );
    run(
        &store,
        "r5",
        "google/gemma-2-9b-it",
        &[0.0, 1.0, 0.0, 0.0, 1.0],
        "finished",
    );
    run(
        &store,
        "r6",
        "Qwen/Qwen2.5-72B-Instruct",
        &[1.0; 5],
        "running",
    );

    let reg = Registry::builtin().unwrap();
    let data = Dataset::load(&store, &reg).unwrap();
    assert!(
        data.model(SOURCE_YARDSTICK, "Qwen/Qwen2.5-72B-Instruct")
            .is_none(),
        "unfinished runs are not analysed"
    );
    let tables = load_item_tables(
        &store,
        Some(SOURCE_YARDSTICK),
        &|b| b == "arc_challenge",
        None,
    )
    .unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].metric, "acc_norm");
    let opts = GapOptions {
        groups: GroupSpec {
            a: Query::parse("country=CN").unwrap(),
            b: Query::parse("country=US").unwrap(),
            attribution: AttributionMode::Developer,
            official_only: false,
            as_of: None,
        },
        target: GapTarget::Benchmarks(vec!["arc_challenge".into()]),
        estimand: Estimand::Roster,
        source: None,
        metric: None,
        replicates: 1000,
        seed: 1,
        level: 0.95,
    };
    let r = gap(&reg, &data, &tables, &opts).unwrap();
    let row = &r.rows[0];
    assert_eq!(row.source, SOURCE_YARDSTICK);
    assert_eq!(row.method, Method::PairedItemsFixedRoster);
    assert_eq!(
        (row.n_models_a, row.n_models_b, row.n_items),
        (2, 2, Some(5))
    );
    assert!((row.estimate - 0.3).abs() < 1e-12, "{}", row.estimate);
    assert!((row.se - 0.2).abs() < 1e-12, "{}", row.se);
}
