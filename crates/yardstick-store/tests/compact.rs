//! The compact ledger: what is written is read back exactly (requests with their context joined again,
//! raw excerpts, sample records), a question's shared context is stored once, and a store written in the
//! old layout is converted on open with nothing lost.

use rusqlite::{params, Connection};
use serde_json::json;
use yardstick_store::ledger::{
    AggregateRecord, RunRecord, SampleRecord, StoredResponse, MIGRATIONS as LEDGER,
};
use yardstick_store::observations::MIGRATIONS as OBSERVATIONS;
use yardstick_store::Store;

fn key(i: usize) -> String {
    format!("{:064x}", i + 1)
}

/// The four choices of one question (shared context of 300 tokens), and a generation.
fn responses() -> Vec<StoredResponse> {
    let context: Vec<u32> = (0..300u32).map(|i| (i * 7919) % 49_152).collect();
    let mut out: Vec<StoredResponse> = (0..4u32)
        .map(|c| {
            let mut prompt = context.clone();
            prompt.push(330 + c);
            StoredResponse {
                request_key: key(c as usize),
                model_fingerprint: "f".repeat(64),
                kind: "loglikelihood".into(),
                request: json!({"prompt": prompt, "ctxlen": 300, "path": "grouped", "lm_eval_slice": null}),
                response: json!({"logprob": -1.5 - f64::from(c), "is_greedy": c == 0}),
                raw: Some(format!(r#"{{"choices":[{{"logprobs":{{"token_logprobs":[null,{}]}}}}]}}"#, -0.25 * f64::from(c)).repeat(30)),
                latency_ms: Some(12.5),
                prompt_tokens: Some(301),
                completion_tokens: Some(0),
            }
        })
        .collect();
    out.push(StoredResponse {
        request_key: key(9),
        model_fingerprint: "f".repeat(64),
        kind: "generate_until".into(),
        request: json!({"prompt": "Question: 2+2?\nAnswer:", "params": {"until": ["\n\n"], "max_gen_toks": 256}}),
        response: json!({"text": " 4", "finish_reason": "stop"}),
        raw: None,
        latency_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
    });
    out
}

fn sample() -> SampleRecord {
    SampleRecord {
        task: "mmlu_anatomy".into(),
        doc_id: 3,
        filter: "none".into(),
        doc_hash: "d".into(),
        prompt_hash: "p".into(),
        target_hash: "t".into(),
        record: json!({"doc_id": 3, "arguments": {"gen_args_0": {"arg_0": "Q ".repeat(200), "arg_1": " A"}}, "acc": 1.0}),
        request_keys: (0..4).map(key).collect(),
        fewshot_ids: vec![1, 4],
        metrics: json!({"acc": 1.0}),
    }
}

fn run_record() -> RunRecord {
    RunRecord {
        run_id: "r1".into(),
        command: "yardstick run".into(),
        model_name: "m".into(),
        model_location: "http://x".into(),
        model_fingerprint: "f".repeat(64),
        config: json!({}),
        tool_version: "0".into(),
        lm_eval_compat: "0.4.13".into(),
        git_rev: None,
        hardware: json!({}),
    }
}

fn assert_same(got: &[StoredResponse], want: &[StoredResponse]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            serde_json::to_value(g).unwrap(),
            serde_json::to_value(w).unwrap(),
            "{}",
            w.request_key
        );
    }
}

#[test]
fn responses_and_samples_read_back_exactly_with_the_context_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "s.db")).unwrap();
    let rs = responses();
    store.put_responses(&rs).unwrap();
    store.put_responses(&rs[..1]).unwrap(); // a key stored twice is kept once
    store
        .put_responses(&[rs[1].clone(), rs[1].clone()])
        .unwrap(); // twice in one batch too
    let keys: Vec<String> = rs.iter().map(|r| r.request_key.clone()).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_same(&store.get_response_records(&keys).unwrap(), &rs);
    assert_eq!(store.get_responses(&keys).unwrap().len(), rs.len());

    let count = |sql: &str| -> i64 {
        store
            .conn()
            .query_one(sql, yardstick_store::vals![])
            .and_then(|r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        count("SELECT count(*) FROM contexts"),
        1,
        "four choices, one context"
    );
    let request_bytes =
        count("SELECT sum(length(request)) FROM responses WHERE kind = 'loglikelihood'");
    assert!(
        request_bytes < 4 * 80,
        "the choices' own requests are small: {request_bytes} bytes"
    );

    store.begin_run(&run_record()).unwrap();
    let agg = AggregateRecord {
        task: "mmlu_anatomy".into(),
        metric: "acc".into(),
        filter: "none".into(),
        value: Some(1.0),
        stderr: None,
        n: 1,
        is_group: false,
    };
    store
        .put_scores("r1", "mmlu_anatomy", &[sample()], &[agg])
        .unwrap();
    let back = store.samples_of("r1", Some("mmlu_anatomy")).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json!([sample()]));
    assert!(store.samples_of("r1", Some("other")).unwrap().is_empty());
}

/// Apply the migrations a store had before the compact layout, as an older Yardstick did (SQLite only: a
/// PostgreSQL store never had the old layout).
fn old_store(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .unwrap();
    for m in LEDGER
        .iter()
        .chain(OBSERVATIONS)
        .filter(|m| m.name != "ledger_0003_compact")
    {
        conn.execute_batch(m.sql).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, 'then')",
            [m.name],
        )
        .unwrap();
    }
    conn
}

#[test]
fn an_old_store_is_converted_on_open_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let conn = old_store(&path);
    let rs = responses();
    for r in &rs {
        conn.execute(
            "INSERT INTO responses VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '2026-01-01T00:00:00')",
            params![
                r.request_key,
                r.model_fingerprint,
                r.kind,
                r.request.to_string(),
                r.response.to_string(),
                r.raw,
                r.latency_ms,
                r.prompt_tokens,
                r.completion_tokens
            ],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO runs (run_id, created_at, status, command, model_name, model_location, model_fingerprint, \
         config_json, tool_version, lm_eval_compat, hardware_json) \
         VALUES ('r1', 'then', 'finished', 'c', 'm', 'l', 'f', '{}', '0', '0.4.13', '{}')",
        [],
    )
    .unwrap();
    let s = sample();
    conn.execute(
        "INSERT INTO samples VALUES ('r1', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            s.task,
            s.doc_id,
            s.filter,
            s.doc_hash,
            s.prompt_hash,
            s.target_hash,
            s.record.to_string(),
            serde_json::to_string(&s.request_keys).unwrap(),
            serde_json::to_string(&s.fewshot_ids).unwrap(),
            s.metrics.to_string()
        ],
    )
    .unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    let keys: Vec<String> = rs.iter().map(|r| r.request_key.clone()).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_same(&store.get_response_records(&keys).unwrap(), &rs);
    assert_eq!(
        serde_json::to_value(store.samples_of("r1", None).unwrap()).unwrap(),
        json!([sample()])
    );
    assert_eq!(
        store.count_responses(&"f".repeat(64)).unwrap(),
        rs.len() as i64
    );
    // Opened again: nothing more to convert.
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(again.get_response_records(&keys).unwrap().len(), rs.len());
}
