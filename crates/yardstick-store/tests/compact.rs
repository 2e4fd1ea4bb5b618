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
        // (0005 changes tables that 0003 creates: a store from before 0003 never had it either)
        .filter(|m| m.name != "ledger_0003_compact" && m.name != "ledger_0005_shared_prefixes")
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

/// LEB128, as the store packs token ids.
fn packed(ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    for &id in ids {
        let mut x = id;
        while x >= 0x80 {
            out.push((x as u8 & 0x7f) | 0x80);
            x >>= 7;
        }
        out.push(x as u8);
    }
    out
}

/// Ten 5-shot-like questions of one task: a 600-token few-shot prefix, then the question; four choices each.
fn few_shot_task() -> (Vec<Vec<u32>>, Vec<StoredResponse>, Vec<SampleRecord>) {
    let shots: Vec<u32> = (0..600u32).map(|i| (i * 7919) % 49_152).collect();
    let mut contexts = Vec::new();
    let mut responses = Vec::new();
    let mut samples = Vec::new();
    for q in 0..10u32 {
        let mut context = shots.clone();
        context.extend((0..40).map(|i| 1000 + q * 50 + i));
        for c in 0..4u32 {
            let mut prompt = context.clone();
            prompt.push(330 + c);
            responses.push(StoredResponse {
                request_key: key((q * 4 + c) as usize + 100),
                model_fingerprint: "f".repeat(64),
                kind: "loglikelihood".into(),
                request: json!({"prompt": prompt, "ctxlen": context.len(), "path": "grouped"}),
                response: json!({"logprob": -1.5 - f64::from(c + q), "is_greedy": c == 0}),
                raw: None,
                latency_ms: Some(1.0),
                prompt_tokens: Some(641),
                completion_tokens: Some(0),
            });
        }
        let shots_text = "The following are multiple choice questions (with answers) about anatomy.\n\n\
                          What is the largest bone of the body?\nA. femur\nB. tibia\nC. ulna\nD. radius\nAnswer: A\n\n"
            .repeat(5);
        samples.push(SampleRecord {
            task: "mmlu_anatomy".into(),
            doc_id: i64::from(q),
            filter: "none".into(),
            doc_hash: format!("{q:064x}"),
            prompt_hash: format!("{:064x}", q + 1),
            target_hash: "t".into(),
            record: json!({"doc_id": q, "arguments": (0..4).map(|c| json!({"arg_0": format!("{shots_text}Question {q}?\nAnswer:"), "arg_1": format!(" {c}")})).collect::<Vec<_>>(),
                           "resps": (0..4).map(|c| json!([[-1.5 - f64::from(c + q), c == 0]])).collect::<Vec<_>>(), "acc": 1.0}),
            request_keys: (0..4).map(|c| key((q * 4 + c) as usize + 100)).collect(),
            fewshot_ids: vec![1, 2, 3, 4, 5],
            metrics: json!({"acc": 1.0}),
        });
        contexts.push(context);
    }
    (contexts, responses, samples)
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .conn()
        .query_one(sql, yardstick_store::vals![])
        .and_then(|r| r.get(0))
        .unwrap()
}

fn check_reads(store: &Store, responses: &[StoredResponse], samples: &[SampleRecord]) {
    let keys: Vec<&str> = responses.iter().map(|r| r.request_key.as_str()).collect();
    assert_same(&store.get_response_records(&keys).unwrap(), responses);
    assert_eq!(
        serde_json::to_value(store.samples_of("r1", Some("mmlu_anatomy")).unwrap()).unwrap(),
        serde_json::to_value(samples).unwrap()
    );
}

#[test]
fn shared_prefixes_and_sample_records_are_stored_once_and_old_rows_are_converted() {
    let dir = tempfile::tempdir().unwrap();
    let location = yardstick_testkit::test_store(dir.path(), "s.db");
    let (contexts, rs, samples) = few_shot_task();
    let store = Store::open_location(&location).unwrap();
    // in three batches: a base is taken from an earlier, committed batch as well as from its own
    store.put_responses(&rs[..4]).unwrap();
    store.put_responses(&rs[4..6]).unwrap();
    store.put_responses(&rs[6..]).unwrap();
    store.begin_run(&run_record()).unwrap();
    store
        .put_scores("r1", "mmlu_anatomy", &samples, &[])
        .unwrap();
    check_reads(&store, &rs, &samples);
    assert_eq!(count(&store, "SELECT count(*) FROM contexts"), 10);
    assert_eq!(
        count(&store, "SELECT count(*) FROM contexts WHERE base IS NULL"),
        1,
        "one context whole, nine as deltas on it"
    );
    let delta_bytes = count(
        &store,
        "SELECT sum(length(tokens)) FROM contexts WHERE base IS NOT NULL",
    );
    assert!(
        delta_bytes <= 9 * 40 * 2,
        "a delta holds the question's 40 tokens (2 bytes each): {delta_bytes} B"
    );
    let record_bytes = count(&store, "SELECT sum(length(record)) FROM samples");
    let dict_bytes = count(&store, "SELECT sum(length(text)) FROM dicts");
    // (compressed alone, each record would take about what the dictionary, the first record, takes)
    assert!(
        record_bytes * 2 < 10 * dict_bytes,
        "ten records against their dictionary: {record_bytes} B, vs {dict_bytes} B for the first alone"
    );

    // The same rows as the layout before: every context whole, every record compressed on its own (format 0,
    // plain), the migration not applied. Opening the store converts them.
    {
        let conn = store.conn();
        for (c, r) in contexts.iter().zip(rs.iter().step_by(4)) {
            let stored = conn
                .query_one(
                    "SELECT context_hash FROM responses WHERE request_key = ?1",
                    yardstick_store::vals![r.request_key.clone()],
                )
                .and_then(|row| row.get::<Vec<u8>>(0))
                .unwrap();
            conn.execute(
                "UPDATE contexts SET tokens = ?1, base = NULL, shared = NULL WHERE hash = ?2",
                yardstick_store::vals![packed(c), stored],
            )
            .unwrap();
        }
        for s in &samples {
            let mut plain = vec![0u8];
            plain.extend_from_slice(s.record.to_string().as_bytes());
            conn.execute(
                "UPDATE samples SET record = ?1 WHERE doc_id = ?2",
                yardstick_store::vals![plain, s.doc_id],
            )
            .unwrap();
        }
        conn.batch(
            "DROP TABLE dicts; ALTER TABLE contexts DROP COLUMN base; ALTER TABLE contexts DROP COLUMN shared; \
             DELETE FROM schema_migrations WHERE name = 'ledger_0005_shared_prefixes'",
        )
        .unwrap();
    }
    drop(store);
    let store = Store::open_location(&location).unwrap();
    check_reads(&store, &rs, &samples);
    assert_eq!(
        count(&store, "SELECT count(*) FROM contexts WHERE base IS NULL"),
        1,
        "converted: one whole, nine deltas"
    );
    assert_eq!(
        count(&store, "SELECT sum(length(record)) FROM samples"),
        record_bytes,
        "converted records: as written by this version"
    );
}
