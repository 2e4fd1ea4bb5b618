//! The compact ledger (schema `ledger_0003_compact`): requests with their context's tokens kept once per
//! context in `contexts`, raw response excerpts kept once per distinct excerpt in `excerpts` (the choices of a
//! question scored from one call share it), and the bulky text columns (request, excerpt, sample record)
//! zstd-compressed. (Tables keep their row ids: rows of a kilobyte or more would spill into overflow pages
//! in a table without one.)
//! Stores written before it are converted when they are opened (every row, in the migration's
//! transaction: a crash leaves the old store as it was).

use crate::codec::{content_hash, pack_text, split_request};
use crate::db::{Db, DbError, DbResult, Val};
use crate::delta::{context_row, Base, Bases};
use crate::ledger::StoredResponse;
use crate::vals;
use crate::Migration;
use crate::{Result, Store};
use rusqlite::params;
use std::sync::Arc;

pub(crate) const MIGRATION: Migration = Migration {
    name: "ledger_0003_compact",
    sql: r#"
CREATE TABLE contexts (
    hash BLOB PRIMARY KEY,             -- first 16 bytes of sha256(tokens)
    tokens BLOB NOT NULL               -- token ids as LEB128 varints
);
CREATE TABLE excerpts (
    hash BLOB PRIMARY KEY,             -- first 16 bytes of sha256(text)
    text BLOB NOT NULL                 -- zstd
);
CREATE TABLE responses_compact (
    request_key TEXT PRIMARY KEY,
    model_fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    context_hash BLOB,                 -- contexts.hash: the prompt's first ctxlen tokens
    request BLOB NOT NULL,             -- zstd JSON of what was sent, `prompt` after the context
    response_json TEXT NOT NULL,       -- parsed result (logprob, is_greedy | text)
    raw_hash BLOB,                     -- excerpts.hash: the start of the raw server response
    latency_ms REAL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE samples_compact (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    task TEXT NOT NULL,
    doc_id INTEGER NOT NULL,
    filter TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    target_hash TEXT NOT NULL,
    record BLOB NOT NULL,              -- zstd of the lm-eval-compatible sample record (JSON)
    request_keys_json TEXT NOT NULL,
    fewshot_ids_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    PRIMARY KEY (run_id, task, doc_id, filter)
);
"#,
    pg: crate::PgSchema::Covered,
    convert: Some(convert),
};

/// Index and table names of the compact layout, once the old tables are gone.
const FINISH: &str = r#"
DROP TABLE responses;
DROP INDEX IF EXISTS samples_by_doc;
DROP TABLE samples;
ALTER TABLE responses_compact RENAME TO responses;
ALTER TABLE samples_compact RENAME TO samples;
CREATE INDEX samples_by_doc ON samples(task, doc_hash);
"#;

fn codec_err(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// Move every response and sample into the compact tables, then put those in the old tables' place (SQLite
/// only: PostgreSQL stores are created compact).
fn convert(db: &Db) -> DbResult<()> {
    let tx = db
        .sqlite()
        .ok_or_else(|| DbError::Other("the compact conversion is for SQLite stores".into()))?;
    {
        let mut read = tx.prepare(
            "SELECT request_key, model_fingerprint, kind, request_json, response_json, raw_json, latency_ms, \
             prompt_tokens, completion_tokens, created_at FROM responses",
        )?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let request: String = r.get(3)?;
            let request: serde_json::Value = serde_json::from_str(&request).map_err(codec_err)?;
            let raw: Option<String> = r.get(5)?;
            insert_response(
                db,
                &ResponseRow {
                    request_key: &r.get::<_, String>(0)?,
                    model_fingerprint: &r.get::<_, String>(1)?,
                    kind: &r.get::<_, String>(2)?,
                    request: &request,
                    response_json: &r.get::<_, String>(4)?,
                    raw: raw.as_deref(),
                    latency_ms: r.get(6)?,
                    prompt_tokens: r.get(7)?,
                    completion_tokens: r.get(8)?,
                    created_at: &r.get::<_, String>(9)?,
                },
            )?;
        }
    }
    {
        let mut read = tx.prepare(
            "SELECT run_id, task, doc_id, filter, doc_hash, prompt_hash, target_hash, record_json, \
             request_keys_json, fewshot_ids_json, metrics_json FROM samples",
        )?;
        let mut write = tx.prepare(
            "INSERT INTO samples_compact VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let record: String = r.get(7)?;
            write.execute(params![
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                pack_text(&record),
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, String>(10)?,
            ])?;
        }
    }
    Ok(tx.execute_batch(FINISH)?)
}

/// One response as it is written.
pub(crate) struct ResponseRow<'a> {
    pub request_key: &'a str,
    pub model_fingerprint: &'a str,
    pub kind: &'a str,
    pub request: &'a serde_json::Value,
    pub response_json: &'a str,
    pub raw: Option<&'a str>,
    pub latency_ms: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub created_at: &'a str,
}

/// Insert one response during the migration.
fn insert_response(db: &Db, row: &ResponseRow<'_>) -> DbResult<()> {
    // (every context whole: `ledger_0005_shared_prefixes`, which runs next, converts them)
    insert_responses_into(db, "responses_compact", std::slice::from_ref(row), None).map(drop)
}

/// The compact `responses` table's columns, in order (what an insert writes and `store copy` copies).
pub(crate) const RESPONSE_COLUMNS: &[&str] = &[
    "request_key",
    "model_fingerprint",
    "kind",
    "context_hash",
    "request",
    "response_json",
    "raw_hash",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
];

/// Rows per multi-row `INSERT` (a statement per chunk instead of one per row: on PostgreSQL each statement
/// is a round trip to the server).
const CHUNK: usize = 64;

/// `INSERT INTO table (columns) VALUES (…), (…) {tail}` for each chunk of `rows` (`tail`: an `ON CONFLICT`
/// clause, or nothing).
pub(crate) fn insert_many(
    db: &Db,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Val>],
    tail: &str,
) -> DbResult<()> {
    for chunk in rows.chunks(CHUNK) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("?{n}"));
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(tail);
        let params: Vec<Val> = chunk.iter().flatten().cloned().collect();
        db.execute(&sql, &params)?;
    }
    Ok(())
}

/// Insert responses (each context and raw excerpt once), ignoring keys already stored (and, within
/// `rows`, a key's later repeats): the same rows as inserting them one by one, in a few statements. A
/// context sharing a prefix with one of `bases` (or with one stored whole earlier in `rows`) is stored as a
/// delta on it ([`crate::delta`]); `bases` is `None` for the layout before `ledger_0005_shared_prefixes`
/// (every context whole, no delta columns). Returns the contexts stored whole, candidate bases once
/// committed.
pub(crate) fn insert_responses_into(
    db: &Db,
    table: &str,
    rows: &[ResponseRow<'_>],
    bases: Option<&Bases>,
) -> DbResult<Vec<Base>> {
    let mut contexts: Vec<Vec<Val>> = Vec::new();
    let mut whole: Vec<Base> = Vec::new();
    let mut batch_bases = Bases::default();
    let mut excerpts: Vec<Vec<Val>> = Vec::new();
    let mut responses: Vec<Vec<Val>> = Vec::with_capacity(rows.len());
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        if !seen.insert(("k", row.request_key.as_bytes().to_vec())) {
            continue;
        }
        let split = split_request(row.request);
        if let (Some(hash), Some(tokens)) = (&split.context_hash, &split.context_tokens) {
            if seen.insert(("c", hash.clone())) {
                let row = match bases {
                    Some(bases) => context_row(hash, tokens, &[bases, &batch_bases]),
                    // the layout before `ledger_0005_shared_prefixes`: every context whole, two columns
                    None => {
                        let mut row = context_row(hash, tokens, &[]);
                        row.values.truncate(2);
                        row
                    }
                };
                if row.whole {
                    let t: Arc<[u32]> = Arc::from(tokens.as_slice());
                    batch_bases.add(hash.clone(), t.clone());
                    whole.push((hash.clone(), t));
                }
                contexts.push(row.values);
            }
        }
        let raw_hash = row.raw.map(|text| {
            let hash = content_hash(text.as_bytes());
            if seen.insert(("e", hash.clone())) {
                excerpts.push(vec![Val::Blob(hash.clone()), Val::Blob(pack_text(text))]);
            }
            hash
        });
        responses.push(
            vals![
                row.request_key,
                row.model_fingerprint,
                row.kind,
                split.context_hash,
                pack_text(&split.rest.to_string()),
                row.response_json,
                raw_hash,
                row.latency_ms,
                row.prompt_tokens,
                row.completion_tokens,
                row.created_at,
            ]
            .to_vec(),
        );
    }
    const IGNORE: &str = "ON CONFLICT DO NOTHING";
    let context_columns: &[&str] = match bases {
        Some(_) => &["hash", "tokens", "base", "shared"],
        None => &["hash", "tokens"],
    };
    insert_many(db, "contexts", context_columns, &contexts, IGNORE)?;
    insert_many(db, "excerpts", &["hash", "text"], &excerpts, IGNORE)?;
    insert_many(db, table, RESPONSE_COLUMNS, &responses, IGNORE)?;
    Ok(whole)
}

impl Store {
    /// The stored responses among `keys`, whole: the request as it was sent (its context joined back), the
    /// parsed response and the raw excerpt. Absent keys are missing from the result.
    pub fn get_response_records(&self, keys: &[&str]) -> Result<Vec<StoredResponse>> {
        let conn = self.conn();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let row = conn
                .query_opt(
                    "SELECT model_fingerprint, kind, context_hash, request, response_json, raw_hash, latency_ms, \
                     prompt_tokens, completion_tokens FROM responses WHERE request_key = ?1",
                    vals![k],
                )
                .map_err(|e| self.sql_err("read response", e))?;
            let Some(r) = row else {
                continue;
            };
            let read = || -> DbResult<_> {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<Option<Vec<u8>>>(2)?,
                    r.get::<Vec<u8>>(3)?,
                    r.get::<String>(4)?,
                    r.get::<Option<Vec<u8>>>(5)?,
                    (r.get(6)?, r.get(7)?, r.get(8)?),
                ))
            };
            let (fingerprint, kind, ctx, request, response, raw, counts) =
                read().map_err(|e| self.sql_err("read response", e))?;
            let decode = |e: crate::codec::CodecError| self.invalid(format!("response {k}: {e}"));
            out.push(StoredResponse {
                request_key: (*k).to_string(),
                model_fingerprint: fingerprint,
                kind,
                request: crate::codec::read_request(&conn, &request, ctx.as_deref())
                    .map_err(decode)?,
                response: serde_json::from_str(&response)
                    .map_err(|e| self.json_err("responses.response_json", e))?,
                raw: raw
                    .map(|h| crate::codec::read_excerpt(&conn, &h))
                    .transpose()
                    .map_err(decode)?,
                latency_ms: counts.0,
                prompt_tokens: counts.1,
                completion_tokens: counts.2,
            });
        }
        Ok(out)
    }

    /// The keys of every stored response (of one model fingerprint, or all), in key order.
    pub fn response_keys(&self, model_fingerprint: Option<&str>) -> Result<Vec<String>> {
        let (sql, params) = match model_fingerprint {
            Some(fp) => (
                "SELECT request_key FROM responses WHERE model_fingerprint = ?1 ORDER BY request_key",
                vec![crate::Val::Text(fp.to_string())],
            ),
            None => ("SELECT request_key FROM responses ORDER BY request_key", vec![]),
        };
        self.conn()
            .query(sql, &params)
            .and_then(|rows| rows.iter().map(|r| r.get(0)).collect())
            .map_err(|e| self.sql_err("list response keys", e))
    }
}
