//! Results imported from other tools and leaderboards (lm-eval results/samples, Open LLM Leaderboard,
//! Epoch Benchmarking Hub, LMArena), with provenance. Owned by the analysis layer.
//!
//! Tables:
//! - `obs_files`: one row per imported file, keyed by the sha256 of its bytes (importing the same bytes
//!   twice adds nothing), with its path, detected format and counts.
//! - `obs_models`: what a source says about a model (organization and country strings as written, release
//!   date, parameters, licence, base model, …). Attribution to an organization/country happens at analysis
//!   time against the model registry, so a registry update needs no re-import.
//! - `obs_scores`: model × benchmark scores (0–1 for accuracies; Elo for arenas) with their standard error or
//!   interval when the source gives one, and the file/row/column they came from.
//! - `obs_items`: per-item scores (lm-eval `samples_*.jsonl`), keyed by task and `doc_hash`.
//!
//! This module also reads Yardstick's own per-sample ledger ([`load_ledger_items`]) so the analysis layer
//! needs no SQL of its own.

use crate::db::{DbResult, Row};
use crate::{vals, Migration, Result, Store};

pub const MIGRATIONS: &[Migration] = &[Migration {
    name: "observations_0001_init",
    sql: r#"
CREATE TABLE obs_files (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    source TEXT NOT NULL,
    snapshot_date TEXT,
    rows_read INTEGER NOT NULL,
    scores INTEGER NOT NULL,
    items INTEGER NOT NULL,
    unattributed INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE obs_models (
    source TEXT NOT NULL,
    model TEXT NOT NULL,
    organization TEXT,
    country TEXT,
    release_date TEXT,
    params_b REAL,
    active_params_b REAL,
    open_weights INTEGER,
    license TEXT,
    base_model TEXT,
    official INTEGER,
    extra_json TEXT NOT NULL DEFAULT '{}',
    file_sha256 TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    PRIMARY KEY (source, model)
);
CREATE TABLE obs_scores (
    source TEXT NOT NULL,
    model TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    snapshot TEXT NOT NULL DEFAULT '',
    variant TEXT NOT NULL DEFAULT '',
    score REAL NOT NULL,
    stderr REAL,
    ci_lower REAL,
    ci_upper REAL,
    n_items INTEGER,
    evaluated_at TEXT,
    file_sha256 TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    PRIMARY KEY (source, model, benchmark, snapshot, variant)
);
CREATE INDEX obs_scores_by_benchmark ON obs_scores(benchmark, source);
CREATE TABLE obs_items (
    source TEXT NOT NULL,
    model TEXT NOT NULL,
    task TEXT NOT NULL,
    filter TEXT NOT NULL,
    metric TEXT NOT NULL,
    doc_id INTEGER NOT NULL,
    doc_hash TEXT NOT NULL,
    value REAL NOT NULL,
    file_sha256 TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    PRIMARY KEY (source, model, task, filter, metric, doc_id)
);
CREATE INDEX obs_items_by_task ON obs_items(task, source);
"#,
    pg: crate::PgSchema::Translate,
    convert: None,
}];

/// One imported file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    pub sha256: String,
    pub path: String,
    pub format: String,
    pub source: String,
    pub snapshot_date: Option<String>,
    pub rows_read: u64,
    pub scores: u64,
    pub items: u64,
    pub unattributed: u64,
    pub imported_at: String,
}

/// What one source says about one model. `None` = the source does not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelRow {
    pub source: String,
    pub model: String,
    pub organization: Option<String>,
    pub country: Option<String>,
    pub release_date: Option<String>,
    pub params_b: Option<f64>,
    pub active_params_b: Option<f64>,
    pub open_weights: Option<bool>,
    pub license: Option<String>,
    pub base_model: Option<String>,
    pub official: Option<bool>,
    pub extra_json: String,
    pub file_sha256: String,
    pub row_number: u64,
}

/// One model × benchmark score.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreRow {
    pub source: String,
    pub model: String,
    pub benchmark: String,
    /// Leaderboard snapshot date (arenas), '' otherwise.
    pub snapshot: String,
    /// Distinguishes several evaluations of one model (precision, revision, run id), '' if none.
    pub variant: String,
    pub score: f64,
    pub stderr: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub n_items: Option<u64>,
    pub evaluated_at: Option<String>,
    pub file_sha256: String,
    pub row_number: u64,
    pub column_name: String,
}

/// One per-item score.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemRow {
    pub source: String,
    pub model: String,
    pub task: String,
    pub filter: String,
    pub metric: String,
    pub doc_id: i64,
    pub doc_hash: String,
    pub value: f64,
    pub file_sha256: String,
    pub line_number: u64,
}

/// Everything read from one file, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub file: Option<FileRecord>,
    pub models: Vec<ModelRow>,
    pub scores: Vec<ScoreRow>,
    pub items: Vec<ItemRow>,
}

/// What [`insert_batch`] added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertSummary {
    pub new_models: u64,
    pub new_scores: u64,
    /// Scores whose key (source, model, benchmark, snapshot, variant) was already stored (from another file).
    pub duplicate_scores: u64,
    pub new_items: u64,
    pub duplicate_items: u64,
}

/// The stored record of a file with this sha256, if it was imported before.
pub fn find_file(store: &Store, sha256: &str) -> Result<Option<FileRecord>> {
    store
        .conn()
        .query_opt(
            "SELECT sha256, path, format, source, snapshot_date, rows_read, scores, items, unattributed, imported_at \
             FROM obs_files WHERE sha256 = ?1",
            vals![sha256],
        )
        .and_then(|r| r.as_ref().map(file_from_row).transpose())
        .map_err(|e| store.sql_err("read obs_files", e))
}

/// All imported files, oldest first.
pub fn list_files(store: &Store) -> Result<Vec<FileRecord>> {
    store
        .conn()
        .query(
            "SELECT sha256, path, format, source, snapshot_date, rows_read, scores, items, unattributed, imported_at \
             FROM obs_files ORDER BY imported_at, path",
            vals![],
        )
        .and_then(|rows| rows.iter().map(file_from_row).collect())
        .map_err(|e| store.sql_err("read obs_files", e))
}

fn file_from_row(r: &Row) -> DbResult<FileRecord> {
    Ok(FileRecord {
        sha256: r.get(0)?,
        path: r.get(1)?,
        format: r.get(2)?,
        source: r.get(3)?,
        snapshot_date: r.get(4)?,
        rows_read: r.get::<i64>(5)? as u64,
        scores: r.get::<i64>(6)? as u64,
        items: r.get::<i64>(7)? as u64,
        unattributed: r.get::<i64>(8)? as u64,
        imported_at: r.get(9)?,
    })
}

/// Write one file's models, scores and items in a single transaction. A model already stored for the same
/// source keeps its values; fields it lacks are filled from the new row. Scores and items whose key is already
/// stored are counted as duplicates and left unchanged. The file record is written last, so an interrupted
/// import leaves no record and can simply be rerun.
pub fn insert_batch(store: &Store, batch: &ImportBatch) -> Result<InsertSummary> {
    // reads (does the model exist?) before writes: the write lock is taken up front
    let conn = store.conn();
    let tx = store.write_transaction(&conn, "import")?;
    let mut summary = InsertSummary::default();
    for m in &batch.models {
        let existed: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM obs_models WHERE source = ?1 AND model = ?2)",
                vals![m.source, m.model],
            )
            .and_then(|r| r.get(0))
            .map_err(|e| store.sql_err("read obs_models", e))?;
        tx.execute(
            "INSERT INTO obs_models (source, model, organization, country, release_date, params_b, active_params_b, \
             open_weights, license, base_model, official, extra_json, file_sha256, row_number) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT(source, model) DO UPDATE SET \
             organization = COALESCE(obs_models.organization, excluded.organization), \
             country = COALESCE(obs_models.country, excluded.country), \
             release_date = COALESCE(obs_models.release_date, excluded.release_date), \
             params_b = COALESCE(obs_models.params_b, excluded.params_b), \
             active_params_b = COALESCE(obs_models.active_params_b, excluded.active_params_b), \
             open_weights = COALESCE(obs_models.open_weights, excluded.open_weights), \
             license = COALESCE(obs_models.license, excluded.license), \
             base_model = COALESCE(obs_models.base_model, excluded.base_model), \
             official = COALESCE(obs_models.official, excluded.official)",
            vals![
                m.source,
                m.model,
                m.organization,
                m.country,
                m.release_date,
                m.params_b,
                m.active_params_b,
                m.open_weights,
                m.license,
                m.base_model,
                m.official,
                if m.extra_json.is_empty() {
                    "{}"
                } else {
                    m.extra_json.as_str()
                },
                m.file_sha256,
                m.row_number as i64,
            ],
        )
        .map_err(|e| store.sql_err("insert obs_models", e))?;
        if !existed {
            summary.new_models += 1;
        }
    }
    for s in &batch.scores {
        let n = tx
            .execute(
                "INSERT INTO obs_scores (source, model, benchmark, snapshot, variant, score, stderr, ci_lower, \
                 ci_upper, n_items, evaluated_at, file_sha256, row_number, column_name) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT DO NOTHING",
                vals![
                    s.source,
                    s.model,
                    s.benchmark,
                    s.snapshot,
                    s.variant,
                    s.score,
                    s.stderr,
                    s.ci_lower,
                    s.ci_upper,
                    s.n_items.map(|v| v as i64),
                    s.evaluated_at,
                    s.file_sha256,
                    s.row_number as i64,
                    s.column_name,
                ],
            )
            .map_err(|e| store.sql_err("insert obs_scores", e))?;
        if n == 1 {
            summary.new_scores += 1;
        } else {
            summary.duplicate_scores += 1;
        }
    }
    for it in &batch.items {
        let n = tx
            .execute(
                "INSERT INTO obs_items (source, model, task, filter, metric, doc_id, doc_hash, value, \
                 file_sha256, line_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
                vals![
                    it.source,
                    it.model,
                    it.task,
                    it.filter,
                    it.metric,
                    it.doc_id,
                    it.doc_hash,
                    it.value,
                    it.file_sha256,
                    it.line_number as i64,
                ],
            )
            .map_err(|e| store.sql_err("insert obs_items", e))?;
        if n == 1 {
            summary.new_items += 1;
        } else {
            summary.duplicate_items += 1;
        }
    }
    if let Some(f) = &batch.file {
        tx.execute(
            "INSERT INTO obs_files (sha256, path, format, source, snapshot_date, rows_read, scores, items, \
             unattributed, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
            vals![
                f.sha256,
                f.path,
                f.format,
                f.source,
                f.snapshot_date,
                f.rows_read as i64,
                f.scores as i64,
                f.items as i64,
                f.unattributed as i64,
                f.imported_at,
            ],
        )
        .map_err(|e| store.sql_err("insert obs_files", e))?;
    }
    tx.commit().map_err(|e| store.sql_err("commit import", e))?;
    Ok(summary)
}

/// Every stored model description.
pub fn load_models(store: &Store) -> Result<Vec<ModelRow>> {
    let rows = store
        .conn()
        .query(
            "SELECT source, model, organization, country, release_date, params_b, active_params_b, open_weights, \
             license, base_model, official, extra_json, file_sha256, row_number FROM obs_models ORDER BY source, model",
            vals![],
        )
        .map_err(|e| store.sql_err("read obs_models", e))?;
    rows.iter()
        .map(|r| {
            Ok(ModelRow {
                source: r.get(0)?,
                model: r.get(1)?,
                organization: r.get(2)?,
                country: r.get(3)?,
                release_date: r.get(4)?,
                params_b: r.get(5)?,
                active_params_b: r.get(6)?,
                open_weights: r.get(7)?,
                license: r.get(8)?,
                base_model: r.get(9)?,
                official: r.get(10)?,
                extra_json: r.get(11)?,
                file_sha256: r.get(12)?,
                row_number: r.get::<i64>(13)? as u64,
            })
        })
        .collect::<DbResult<Vec<_>>>()
        .map_err(|e| store.sql_err("read obs_models", e))
}

/// Stored scores, optionally only those of one benchmark id.
pub fn load_scores(store: &Store, benchmark: Option<&str>) -> Result<Vec<ScoreRow>> {
    let columns =
        "SELECT source, model, benchmark, snapshot, variant, score, stderr, ci_lower, ci_upper, \
                   n_items, evaluated_at, file_sha256, row_number, column_name FROM obs_scores";
    let order = "ORDER BY source, benchmark, model, snapshot, variant";
    let conn = store.conn();
    let rows = match benchmark {
        Some(b) => conn.query(&format!("{columns} WHERE benchmark = ?1 {order}"), vals![b]),
        None => conn.query(&format!("{columns} {order}"), vals![]),
    }
    .map_err(|e| store.sql_err("read obs_scores", e))?;
    rows.iter()
        .map(|r| {
            Ok(ScoreRow {
                source: r.get(0)?,
                model: r.get(1)?,
                benchmark: r.get(2)?,
                snapshot: r.get(3)?,
                variant: r.get(4)?,
                score: r.get(5)?,
                stderr: r.get(6)?,
                ci_lower: r.get(7)?,
                ci_upper: r.get(8)?,
                n_items: r.get::<Option<i64>>(9)?.map(|v| v as u64),
                evaluated_at: r.get(10)?,
                file_sha256: r.get(11)?,
                row_number: r.get::<i64>(12)? as u64,
                column_name: r.get(13)?,
            })
        })
        .collect::<DbResult<Vec<_>>>()
        .map_err(|e| store.sql_err("read obs_scores", e))
}

/// Distinct (source, task) pairs with per-item data, and how many models each has.
pub fn item_tasks(store: &Store) -> Result<Vec<(String, String, u64)>> {
    store
        .conn()
        .query(
            "SELECT source, task, COUNT(DISTINCT model) FROM obs_items GROUP BY source, task ORDER BY source, task",
            vals![],
        )
        .and_then(|rows| {
            rows.iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?, r.get::<i64>(2)? as u64)))
                .collect()
        })
        .map_err(|e| store.sql_err("read obs_items", e))
}

/// Imported per-item scores of one source and task.
pub fn load_items(store: &Store, source: &str, task: &str) -> Result<Vec<ItemRow>> {
    store
        .conn()
        .query(
            "SELECT source, model, task, filter, metric, doc_id, doc_hash, value, file_sha256, line_number \
             FROM obs_items WHERE source = ?1 AND task = ?2 ORDER BY model, doc_id",
            vals![source, task],
        )
        .and_then(|rows| {
            rows.iter()
                .map(|r| {
                    Ok(ItemRow {
                        source: r.get(0)?,
                        model: r.get(1)?,
                        task: r.get(2)?,
                        filter: r.get(3)?,
                        metric: r.get(4)?,
                        doc_id: r.get(5)?,
                        doc_hash: r.get(6)?,
                        value: r.get(7)?,
                        file_sha256: r.get(8)?,
                        line_number: r.get::<i64>(9)? as u64,
                    })
                })
                .collect()
        })
        .map_err(|e| store.sql_err("read obs_items", e))
}

/// Models of Yardstick's finished runs that have per-sample records.
pub fn ledger_models(store: &Store) -> Result<Vec<String>> {
    store
        .conn()
        .query(
            "SELECT DISTINCT r.model_name FROM runs r WHERE r.status = 'finished' \
             AND EXISTS (SELECT 1 FROM samples s WHERE s.run_id = r.run_id) ORDER BY r.model_name",
            vals![],
        )
        .and_then(|rows| rows.iter().map(|r| r.get(0)).collect())
        .map_err(|e| store.sql_err("read ledger runs", e))
}

/// One per-sample record of a Yardstick run (ledger tables `runs` + `samples`).
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerItem {
    pub run_id: String,
    pub model_name: String,
    pub created_at: String,
    pub task: String,
    pub doc_id: i64,
    pub filter: String,
    pub doc_hash: String,
    /// `{metric: value}` as stored by the run.
    pub metrics: serde_json::Map<String, serde_json::Value>,
}

/// Per-sample records of Yardstick's own finished runs, oldest run first. A sample whose `metrics_json` is not
/// a JSON object is reported as an error naming the run, task and doc.
pub fn load_ledger_items(store: &Store) -> Result<Vec<LedgerItem>> {
    let raw = store
        .conn()
        .query(
            "SELECT r.run_id, r.model_name, r.created_at, s.task, s.doc_id, s.filter, s.doc_hash, s.metrics_json \
             FROM samples s JOIN runs r ON r.run_id = s.run_id WHERE r.status = 'finished' \
             ORDER BY r.created_at, r.run_id, s.task, s.doc_id",
            vals![],
        )
        .and_then(|rows| {
            rows.iter()
                .map(|r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<String>(1)?,
                        r.get::<String>(2)?,
                        r.get::<String>(3)?,
                        r.get::<i64>(4)?,
                        r.get::<String>(5)?,
                        r.get::<String>(6)?,
                        r.get::<String>(7)?,
                    ))
                })
                .collect::<DbResult<Vec<_>>>()
        })
        .map_err(|e| store.sql_err("read ledger samples", e))?;
    let mut out = Vec::with_capacity(raw.len());
    for (run_id, model_name, created_at, task, doc_id, filter, doc_hash, metrics_json) in raw {
        let metrics = match serde_json::from_str::<serde_json::Value>(&metrics_json) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                return Err(crate::StoreError::Invalid {
                    path: store.path().to_path_buf(),
                    message: format!(
                        "samples.metrics_json of run {run_id}, task {task}, doc {doc_id} is not a JSON object"
                    ),
                })
            }
            Err(e) => {
                return Err(store.json_err(&format!("samples.metrics_json of run {run_id}, task {task}, doc {doc_id}"), e))
            }
        };
        out.push(LedgerItem {
            run_id,
            model_name,
            created_at,
            task,
            doc_id,
            filter,
            doc_hash,
            metrics,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sha: &str) -> FileRecord {
        FileRecord {
            sha256: sha.into(),
            path: "x.csv".into(),
            format: "test".into(),
            source: "test".into(),
            snapshot_date: None,
            rows_read: 1,
            scores: 1,
            items: 0,
            unattributed: 0,
            imported_at: "2025-01-01T00:00:00Z".into(),
        }
    }

    /// Issue 8: two `import`s into one store at once: the second failed at once with "database is locked"
    /// (a deferred transaction that read before writing cannot wait for the write lock; nor could two
    /// processes opening a fresh store both apply its migrations).
    #[test]
    fn concurrent_imports_into_one_store_file_both_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = yardstick_testkit::test_store(dir.path(), "yardstick.db");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let path = path.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || -> std::result::Result<(), String> {
                    barrier.wait();
                    let store =
                        Store::open_location(&path).map_err(|e| format!("thread {t} open: {e}"))?;
                    for i in 0..30 {
                        let batch = ImportBatch {
                            file: Some(file(&format!("{t}-{i}"))),
                            models: (0..20)
                                .map(|m| ModelRow {
                                    source: "s".into(),
                                    model: format!("m{m}"),
                                    ..Default::default()
                                })
                                .collect(),
                            scores: (0..20)
                                .map(|m| ScoreRow {
                                    source: "s".into(),
                                    model: format!("m{m}"),
                                    benchmark: format!("b{t}-{i}"),
                                    score: 0.5,
                                    ..Default::default()
                                })
                                .collect(),
                            items: vec![],
                        };
                        insert_batch(&store, &batch)
                            .map_err(|e| format!("thread {t} batch {i}: {e}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        for r in &results {
            assert!(r.is_ok(), "{results:?}");
        }
        let store = Store::open_location(&path).unwrap();
        assert_eq!(list_files(&store).unwrap().len(), 60);
        assert_eq!(load_scores(&store, None).unwrap().len(), 1200);
        assert_eq!(load_models(&store).unwrap().len(), 20);
    }

    #[test]
    fn batch_roundtrip_and_duplicates() {
        let (_dir, store) = crate::test_store();
        let model = ModelRow {
            source: "s".into(),
            model: "m".into(),
            organization: Some("Org".into()),
            ..Default::default()
        };
        let score = ScoreRow {
            source: "s".into(),
            model: "m".into(),
            benchmark: "b".into(),
            score: 0.5,
            ..Default::default()
        };
        let batch = ImportBatch {
            file: Some(file("aa")),
            models: vec![model.clone()],
            scores: vec![score.clone()],
            items: vec![],
        };
        let s1 = insert_batch(&store, &batch).unwrap();
        assert_eq!(
            (s1.new_models, s1.new_scores, s1.duplicate_scores),
            (1, 1, 0)
        );
        assert!(find_file(&store, "aa").unwrap().is_some());
        // Same keys from another file: nothing new; a missing field gets filled.
        let model2 = ModelRow {
            country: Some("China".into()),
            organization: Some("Other".into()),
            ..model
        };
        let batch2 = ImportBatch {
            file: Some(file("bb")),
            models: vec![model2],
            scores: vec![score],
            items: vec![],
        };
        let s2 = insert_batch(&store, &batch2).unwrap();
        assert_eq!(
            (s2.new_models, s2.new_scores, s2.duplicate_scores),
            (0, 0, 1)
        );
        let models = load_models(&store).unwrap();
        assert_eq!(models.len(), 1);
        assert_eq!(models[0].organization.as_deref(), Some("Org"));
        assert_eq!(models[0].country.as_deref(), Some("China"));
        assert_eq!(list_files(&store).unwrap().len(), 2);
        assert_eq!(load_scores(&store, Some("b")).unwrap().len(), 1);
        assert_eq!(load_scores(&store, Some("zz")).unwrap().len(), 0);
    }
}
