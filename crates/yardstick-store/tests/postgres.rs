//! The PostgreSQL backend against a real server (a private cluster per test, started from the installed
//! `initdb`/`pg_ctl`; skipped with a message when PostgreSQL is not installed, never in CI): every table
//! round-trips, copies between SQLite and PostgreSQL read back identically both ways, copying is idempotent
//! and refuses a conflicting row, two writers at once, calls from inside tokio runtimes, the newer-schema
//! refusal, read-only opening, and errors that name the server without its password.

mod common;

use common::{assert_same_tables, fill, read_back};
use yardstick_store::{Store, StoreError};
use yardstick_testkit::PgCluster;

#[test]
fn every_table_round_trips_and_copies_both_ways_identically() {
    let Some(pg) = PgCluster::start_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path().join("a.db")).unwrap();
    fill(&sqlite, "r1");

    // written directly on PostgreSQL, read back as on SQLite
    let direct = Store::open_location(&pg.create_database()).unwrap();
    assert!(direct.is_postgres());
    fill(&direct, "r1");
    let mut a = read_back(&sqlite, "r1");
    let mut b = read_back(&direct, "r1");
    for v in [&mut a, &mut b] {
        // written at different instants
        v["detail"]["created_at"] = serde_json::json!(null);
        v["detail"]["finished_at"] = serde_json::json!(null);
        v["results"][0]["finished_at"] = serde_json::json!(null);
        v["results"][1]["finished_at"] = serde_json::json!(null);
        v["runs"][0]["finished_at"] = serde_json::json!(null);
        v["ledger"] = serde_json::json!(null);
    }
    assert_eq!(a, b);
    assert_eq!(direct.table_names().unwrap(), sqlite.table_names().unwrap());
    let mut copied: Vec<String> = Store::copied_tables()
        .iter()
        .map(|s| s.to_string())
        .collect();
    copied.sort();
    assert_eq!(
        sqlite.table_names().unwrap(),
        copied,
        "copy_into covers every table"
    );

    // SQLite → PostgreSQL → SQLite
    let p = Store::open_location(&pg.create_database()).unwrap();
    let stats = sqlite.copy_into(&p).unwrap();
    assert_eq!(stats.present(), 0);
    assert_eq!(stats.table("responses").unwrap().copied, 5);
    assert_eq!(stats.table("contexts").unwrap().copied, 1);
    assert_eq!(stats.table("excerpts").unwrap().copied, 4);
    assert_eq!(stats.table("samples").unwrap().copied, 3);
    assert!(stats.tables.iter().all(|t| t.copied > 0), "{stats:?}");
    assert_same_tables(&sqlite, &p);
    assert_eq!(read_back(&sqlite, "r1"), read_back(&p, "r1"));
    let back = Store::open(dir.path().join("b.db")).unwrap();
    assert_eq!(p.copy_into(&back).unwrap(), stats);
    assert_same_tables(&sqlite, &back);
    assert_eq!(read_back(&sqlite, "r1"), read_back(&back, "r1"));

    // idempotent: everything is already there
    let again = sqlite.copy_into(&p).unwrap();
    assert_eq!((again.copied(), again.present()), (0, stats.copied()));
    assert_same_tables(&sqlite, &p);

    // PostgreSQL → PostgreSQL, adding a second run to a store that has one
    let other = Store::open_location(&pg.create_database()).unwrap();
    fill(&other, "r2");
    let merged = other.copy_into(&p).unwrap();
    assert_eq!(merged.table("runs").unwrap().copied, 1);
    assert_eq!(p.list_runs().unwrap().len(), 2);
    // the two runs share a context (same tokens): stored once
    assert_eq!(merged.table("contexts").unwrap().present, 1);

    // a key with different content is refused, naming it
    back.conn()
        .execute(
            "UPDATE samples SET metrics_json = ?1 WHERE doc_id = 1",
            yardstick_store::vals!["{\"acc\":9}"],
        )
        .unwrap();
    let err = back.copy_into(&p).expect_err("conflict");
    let msg = err.to_string();
    assert!(matches!(err, StoreError::CopyConflict { .. }), "{msg}");
    assert!(
        msg.contains("samples") && msg.contains("doc_id=1") && msg.contains("metrics_json"),
        "{msg}"
    );
    assert!(!msg.contains("password"), "{msg}");
}

#[test]
fn two_writers_at_once_and_calls_from_inside_tokio_runtimes() {
    let Some(pg) = PgCluster::start_or_skip() else {
        return;
    };
    let url = pg.create_database();
    drop(Store::open_location(&url).unwrap());
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let store = Store::open_location(&url).map_err(|e| e.to_string())?;
                barrier.wait();
                for i in 0..20 {
                    // the same run begun by both (two shards), overlapping responses
                    store
                        .begin_run(&common::run_record("shared"))
                        .map_err(|e| format!("thread {t}: {e}"))?;
                    let mut rs = common::responses(&format!("k{}", i % 10));
                    rs.truncate(2 + t);
                    store
                        .put_responses(&rs)
                        .map_err(|e| format!("thread {t}: {e}"))?;
                    store
                        .put_scores("shared", "t", &common::samples("x"), &[])
                        .map_err(|e| format!("thread {t}: {e}"))?;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let store = Store::open_location(&url).unwrap();
    assert_eq!(store.list_runs().unwrap().len(), 1);
    assert_eq!(store.response_keys(None).unwrap().len(), 30);
    assert_eq!(store.samples_of("shared", None).unwrap().len(), 3);

    // the synchronous client must not be driven from a runtime's thread: the store hands it its own
    for flavor in ["current_thread", "multi_thread"] {
        let rt = match flavor {
            "current_thread" => tokio::runtime::Builder::new_current_thread().build(),
            _ => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build(),
        }
        .unwrap();
        let url = url.clone();
        let n = rt.block_on(async move {
            let store = std::sync::Arc::new(Store::open_location(&url).unwrap());
            store.put_responses(&common::responses(flavor)).unwrap();
            let s = store.clone();
            let spawned = tokio::spawn(async move { s.response_keys(None).unwrap().len() });
            spawned.await.unwrap()
        });
        assert!(n >= 35, "{flavor}: {n}");
    }
}

#[test]
fn schema_versions_read_only_opening_and_errors() {
    let Some(pg) = PgCluster::start_or_skip() else {
        return;
    };
    let url = pg.create_database();
    let store = Store::open_location(&url).unwrap();
    let migrations: Vec<String> = store
        .conn()
        .query(
            "SELECT name FROM schema_migrations ORDER BY name",
            yardstick_store::vals![],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    let mut known: Vec<String> = Store::known_migrations().map(str::to_string).collect();
    known.sort();
    assert_eq!(migrations, known, "the same migration names as SQLite");
    fill(&store, "r1");

    // read-only: reads work, writes are refused by the server
    let ro = Store::open_location_read_only(&url).unwrap();
    assert_eq!(ro.list_runs().unwrap().len(), 1);
    assert!(ro.delete_run("r1").is_err());
    assert_eq!(ro.list_runs().unwrap().len(), 1);

    // a store written by a newer Yardstick is refused
    store
        .conn()
        .execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_from_the_future', 'later')",
            yardstick_store::vals![],
        )
        .unwrap();
    for err in [
        Store::open_location(&url).err().expect("refused"),
        Store::open_location_read_only(&url).err().expect("refused"),
    ] {
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
        assert!(err.to_string().contains("9999_from_the_future"), "{err}");
    }

    // no server there: the message names it (without the password) and says what to check
    let port = pg.port();
    drop(pg);
    let err = Store::open_location(&format!("postgres://me:s3cret@127.0.0.1:{port}/db"))
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{msg}");
    assert!(
        msg.contains(&format!("postgres://me:***@127.0.0.1:{port}/db"))
            && msg.contains("is the server running")
            && !msg.contains("s3cret"),
        "{msg}"
    );
}
