//! A store holding a row in every table, and a comparison of two stores table by table.
#![allow(dead_code)]

use serde_json::json;
use yardstick_store::ledger::{
    AggregateRecord, RunRecord, RunStatus, RunTaskRecord, SampleRecord, StoredResponse,
};
use yardstick_store::observations::{
    insert_batch, FileRecord, ImportBatch, ItemRow, ModelRow, ScoreRow,
};
use yardstick_store::Store;

pub fn run_record(id: &str) -> RunRecord {
    RunRecord {
        run_id: id.into(),
        command: "yardstick run --model m".into(),
        model_name: "m".into(),
        model_location: "http://x".into(),
        model_fingerprint: "f".repeat(64),
        config: json!({"tasks": ["t"], "limit": 3, "é": "ünïcode"}),
        tool_version: "0.1.0".into(),
        lm_eval_compat: "0.4.13".into(),
        git_rev: Some("abc".into()),
        hardware: json!({"cpus": 2}),
    }
}

/// Responses of `run` (`tag` makes their keys distinct between fixtures): four choices sharing a context
/// (with raw excerpts) and a generation.
pub fn responses(tag: &str) -> Vec<StoredResponse> {
    let context: Vec<u32> = (0..50u32)
        .map(|i| (i * 7919) % 49_152 + 1_000_000)
        .collect();
    let mut out: Vec<StoredResponse> = (0..4u32)
        .map(|c| {
            let mut prompt = context.clone();
            prompt.push(330 + c);
            StoredResponse {
                request_key: format!("{tag}-ll-{c}"),
                model_fingerprint: "f".repeat(64),
                kind: "loglikelihood".into(),
                request: json!({"prompt": prompt, "ctxlen": 50, "path": "grouped"}),
                response: json!({"logprob": -1.5 - f64::from(c) / 3.0, "is_greedy": c == 0}),
                raw: Some(format!(r#"{{"id":"x","lp":[{}]}}"#, -0.1 * f64::from(c))),
                latency_ms: Some(12.345_678_9),
                prompt_tokens: Some(51),
                completion_tokens: Some(0),
            }
        })
        .collect();
    out.push(StoredResponse {
        request_key: format!("{tag}-gen"),
        model_fingerprint: "f".repeat(64),
        kind: "generate_until".into(),
        request: json!({"prompt": "Question: 2+2?\nAnswer:", "params": {"until": ["\n\n"]}}),
        response: json!({"text": " 4 \u{0001} 😀", "finish_reason": "stop"}),
        raw: None,
        latency_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
    });
    out
}

pub fn samples(tag: &str) -> Vec<SampleRecord> {
    (0..3)
        .map(|doc| SampleRecord {
            task: "t".into(),
            doc_id: doc,
            filter: "none".into(),
            doc_hash: format!("d{doc}"),
            prompt_hash: "p".into(),
            target_hash: "g".into(),
            record: json!({"doc_id": doc, "arguments": ["Q ".repeat(20)], "acc": 0.1 * doc as f64}),
            request_keys: vec![format!("{tag}-ll-0")],
            fewshot_ids: vec![1, 4],
            metrics: json!({"acc": doc % 2}),
        })
        .collect()
}

/// Fill `store` with one finished run `run_id` (task, responses, samples, aggregates), code executions and
/// an imported file's models, scores and items.
pub fn fill(store: &Store, run_id: &str) {
    store.begin_run(&run_record(run_id)).unwrap();
    store
        .put_run_task(
            run_id,
            &RunTaskRecord {
                task: "t".into(),
                version: Some("1".into()),
                num_fewshot: 5,
                task_hash: "th".into(),
                dataset_hash: "dh".into(),
                n_docs: 3,
                config: json!({"x": 1}),
            },
        )
        .unwrap();
    store.put_responses(&responses(run_id)).unwrap();
    let aggs = [
        AggregateRecord {
            task: "t".into(),
            metric: "acc".into(),
            filter: "none".into(),
            value: Some(1.0 / 3.0),
            stderr: Some(0.271_828),
            n: 3,
            is_group: false,
        },
        AggregateRecord {
            task: "t".into(),
            metric: "f1".into(),
            filter: "none".into(),
            value: None,
            stderr: None,
            n: 0,
            is_group: true,
        },
    ];
    store
        .put_scores(run_id, "t", &samples(run_id), &aggs)
        .unwrap();
    store
        .put_executions(&[(
            format!("{run_id}-exec"),
            json!({"result": "passed", "wall_ms": 3}),
        )])
        .unwrap();
    store
        .end_run(run_id, RunStatus::Finished, &json!({"requests_sent": 5}))
        .unwrap();
    // a shard of a plan, claimed and finished
    let plan = format!("{run_id}-plan");
    assert_eq!(
        store.claim_shard(&plan, 2, "host:1", 60.0).unwrap(),
        Some(0)
    );
    store.shard_done(&plan, 0, "host:1", 5, 5).unwrap();
    let sha = format!("{run_id}-sha");
    insert_batch(
        store,
        &ImportBatch {
            file: Some(FileRecord {
                sha256: sha.clone(),
                path: "x.csv".into(),
                format: "csv".into(),
                source: "src".into(),
                snapshot_date: Some("2026-01-01".into()),
                rows_read: 2,
                scores: 1,
                items: 1,
                unattributed: 0,
                imported_at: "2026-01-02T00:00:00Z".into(),
            }),
            models: vec![ModelRow {
                source: "src".into(),
                model: format!("{run_id}-model"),
                organization: Some("Org".into()),
                params_b: Some(7.5),
                open_weights: Some(true),
                extra_json: r#"{"a":1}"#.into(),
                file_sha256: sha.clone(),
                row_number: 1,
                ..Default::default()
            }],
            scores: vec![ScoreRow {
                source: "src".into(),
                model: format!("{run_id}-model"),
                benchmark: "mmlu".into(),
                score: 0.625,
                stderr: Some(0.01),
                n_items: Some(100),
                file_sha256: sha.clone(),
                row_number: 1,
                column_name: "MMLU".into(),
                ..Default::default()
            }],
            items: vec![ItemRow {
                source: "src".into(),
                model: format!("{run_id}-model"),
                task: "t".into(),
                filter: "none".into(),
                metric: "acc".into(),
                doc_id: 7,
                doc_hash: "d7".into(),
                value: 1.0,
                file_sha256: sha,
                line_number: 3,
            }],
        },
    )
    .unwrap();
}

/// Every table of `a` equals `b`'s, value for value (bytes for bytes).
pub fn assert_same_tables(a: &Store, b: &Store) {
    for table in Store::copied_tables() {
        let ra = a.table_rows(table).unwrap();
        let rb = b.table_rows(table).unwrap();
        assert_eq!(
            ra,
            rb,
            "table {table} differs between {} and {}",
            a.location(),
            b.location()
        );
    }
}

/// What the public read API returns, as JSON (for comparing two stores through it).
pub fn read_back(store: &Store, run_id: &str) -> serde_json::Value {
    let keys: Vec<String> = store.response_keys(None).unwrap();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let mut runs = serde_json::to_value(store.list_runs().unwrap()).unwrap();
    runs.as_array_mut()
        .unwrap()
        .iter_mut()
        .for_each(|r| r["created_at"] = json!(null));
    json!({
        "runs": runs,
        "results": serde_json::to_value(store.list_results(true).unwrap()).unwrap(),
        "detail": serde_json::to_value(store.run_detail(run_id).unwrap()).unwrap(),
        "samples": serde_json::to_value(store.samples_of(run_id, None).unwrap()).unwrap(),
        "page": serde_json::to_value(store.run_samples(run_id, "t", 2, 1).unwrap()).unwrap(),
        "responses": serde_json::to_value(store.get_response_records(&keys).unwrap()).unwrap(),
        "response_map": serde_json::to_value(store.get_responses(&keys).unwrap()).unwrap(),
        "count": store.count_responses(&"f".repeat(64)).unwrap(),
        "executions": serde_json::to_value(store.get_executions(&[&format!("{run_id}-exec")]).unwrap()).unwrap(),
        "models": format!("{:?}", yardstick_store::observations::load_models(store).unwrap()),
        "scores": format!("{:?}", yardstick_store::observations::load_scores(store, None).unwrap()),
        "items": format!("{:?}", yardstick_store::observations::load_items(store, "src", "t").unwrap()),
        "files": format!("{:?}", yardstick_store::observations::list_files(store).unwrap()),
        "item_tasks": format!("{:?}", yardstick_store::observations::item_tasks(store).unwrap()),
        "ledger": format!("{:?}", yardstick_store::observations::load_ledger_items(store).unwrap()),
        "ledger_models": yardstick_store::observations::ledger_models(store).unwrap(),
    })
}
