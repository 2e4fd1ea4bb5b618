//! The ledger writer reports the store's own error when it cannot persist (disk full, a read-only store):
//! what failed and where, not "see the error above" with nothing above (issue 8, item 9).

use std::sync::Arc;
use yardstick_engine::ledger_writer::{LedgerError, LedgerWriter};
use yardstick_store::ledger::StoredResponse;
use yardstick_store::Store;

fn row(key: &str) -> StoredResponse {
    StoredResponse {
        request_key: key.into(),
        model_fingerprint: "fp".into(),
        kind: "loglikelihood".into(),
        request: serde_json::json!({"prompt": [1, 2]}),
        response: serde_json::json!({"logprob": -1.0, "is_greedy": false}),
        raw: None,
        latency_ms: Some(1.0),
        prompt_tokens: Some(2),
        completion_tokens: Some(1),
    }
}

#[test]
fn a_store_that_refuses_writes_is_reported_with_its_reason_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = yardstick_testkit::test_store(dir.path(), "ro.db");
    drop(Store::open_location(&path).unwrap());
    let store = Arc::new(Store::open_location_read_only(&path).unwrap());
    let mut writer = LedgerWriter::start(store).unwrap();
    // The first batch is queued; the writer thread fails on it and stops. Whichever call notices first
    // (a later send, or finish) must carry the store's error.
    let mut error = None;
    for i in 0..50 {
        if let Err(e) = writer.send(vec![row(&format!("k{i}"))]) {
            error = Some(e);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let error = match error {
        Some(e) => e,
        None => writer
            .finish()
            .expect_err("a read-only store cannot take responses"),
    };
    assert!(matches!(error, LedgerError::Store(_)), "{error:?}");
    let msg = error.to_string();
    assert!(
        msg.contains("readonly") || msg.contains("read-only transaction"),
        "the database's reason: {msg}"
    );
    assert!(
        msg.contains(&yardstick_store::display_location(&path)),
        "the store's location: {msg}"
    );
}

#[test]
fn responses_are_persisted_and_counted() {
    let store = Arc::new(fresh_store());
    let mut writer = LedgerWriter::start(store.clone()).unwrap();
    for i in 0..10 {
        writer
            .send(vec![row(&format!("k{i}")), row(&format!("j{i}"))])
            .unwrap();
    }
    assert_eq!(writer.finish().unwrap(), 20);
    assert_eq!(store.count_responses("fp").unwrap(), 20);
}

/// A fresh store: in memory, or a new PostgreSQL database when `YARDSTICK_TEST_PG_URL` is set.
fn fresh_store() -> Store {
    match yardstick_testkit::test_database() {
        Some(url) => Store::open_location(&url).unwrap(),
        None => Store::open_in_memory().unwrap(),
    }
}
