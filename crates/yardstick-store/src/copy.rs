//! Copying one store into another, row by row and losslessly: SQLite → PostgreSQL, PostgreSQL → SQLite,
//! SQLite → SQLite (or PostgreSQL → PostgreSQL). The stored bytes are copied as they are (compressed
//! columns stay compressed), so every read-back of the destination equals the source's.

use crate::db::{Db, DbResult, Row, TxKind, Val};
use crate::{Result, Store, StoreError};

/// One table as copied: its columns, the key that identifies a row, and the columns whose values may
/// differ between two stores holding the same row (when it was written, how long it took), which a copy
/// neither compares nor overwrites.
pub(crate) struct TableSpec {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub columns: &'static [&'static str],
    pub volatile: &'static [&'static str],
}

/// Every table of the schema, parents before children (runs before what references them).
pub(crate) const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "runs",
        key: &["run_id"],
        columns: &[
            "run_id",
            "created_at",
            "finished_at",
            "status",
            "command",
            "model_name",
            "model_location",
            "model_fingerprint",
            "config_json",
            "tool_version",
            "lm_eval_compat",
            "git_rev",
            "hardware_json",
            "stats_json",
        ],
        volatile: &[],
    },
    TableSpec {
        name: "run_tasks",
        key: &["run_id", "task"],
        columns: &[
            "run_id",
            "task",
            "version",
            "num_fewshot",
            "task_hash",
            "dataset_hash",
            "n_docs",
            "config_json",
        ],
        volatile: &[],
    },
    TableSpec {
        name: "contexts",
        key: &["hash"],
        columns: &["hash", "tokens", "base", "shared"],
        // the address is the whole context's: one store may hold it whole, another as a delta on a base
        volatile: &["tokens", "base", "shared"],
    },
    TableSpec {
        name: "dicts",
        key: &["hash"],
        columns: &["hash", "text"],
        volatile: &[],
    },
    TableSpec {
        name: "excerpts",
        key: &["hash"],
        columns: &["hash", "text"],
        volatile: &[],
    },
    TableSpec {
        name: "responses",
        key: &["request_key"],
        columns: crate::compact::RESPONSE_COLUMNS,
        // the raw excerpt carries the server's own ids and clock
        volatile: &["raw_hash", "latency_ms", "created_at"],
    },
    TableSpec {
        name: "samples",
        key: &["run_id", "task", "doc_id", "filter"],
        columns: crate::ledger::SAMPLE_COLUMNS,
        volatile: &[],
    },
    TableSpec {
        name: "aggregates",
        key: &["run_id", "task", "metric", "filter"],
        columns: &[
            "run_id", "task", "metric", "filter", "value", "stderr", "n", "is_group",
        ],
        volatile: &[],
    },
    TableSpec {
        name: "executions",
        key: &["exec_key"],
        columns: &["exec_key", "result_json", "created_at"],
        // the result includes the program's wall time
        volatile: &["result_json", "created_at"],
    },
    TableSpec {
        name: "plan_shards",
        key: &["plan_id", "shard"],
        columns: &[
            "plan_id",
            "shard",
            "n_shards",
            "status",
            "worker",
            "attempts",
            "requests",
            "sent",
            "started_at",
            "updated_at",
            "lease_until",
        ],
        // where a worker stands (a shard run twice is recorded in two stores differently)
        volatile: &[
            "status",
            "worker",
            "attempts",
            "requests",
            "sent",
            "started_at",
            "updated_at",
            "lease_until",
        ],
    },
    TableSpec {
        name: "obs_files",
        key: &["sha256"],
        columns: &[
            "sha256",
            "path",
            "format",
            "source",
            "snapshot_date",
            "rows_read",
            "scores",
            "items",
            "unattributed",
            "imported_at",
        ],
        volatile: &["path", "imported_at"],
    },
    TableSpec {
        name: "obs_models",
        key: &["source", "model"],
        columns: &[
            "source",
            "model",
            "organization",
            "country",
            "release_date",
            "params_b",
            "active_params_b",
            "open_weights",
            "license",
            "base_model",
            "official",
            "extra_json",
            "file_sha256",
            "row_number",
        ],
        volatile: &["file_sha256", "row_number"],
    },
    TableSpec {
        name: "obs_scores",
        key: &["source", "model", "benchmark", "snapshot", "variant"],
        columns: &[
            "source",
            "model",
            "benchmark",
            "snapshot",
            "variant",
            "score",
            "stderr",
            "ci_lower",
            "ci_upper",
            "n_items",
            "evaluated_at",
            "file_sha256",
            "row_number",
            "column_name",
        ],
        volatile: &["file_sha256", "row_number", "column_name"],
    },
    TableSpec {
        name: "obs_items",
        key: &["source", "model", "task", "filter", "metric", "doc_id"],
        columns: &[
            "source",
            "model",
            "task",
            "filter",
            "metric",
            "doc_id",
            "doc_hash",
            "value",
            "file_sha256",
            "line_number",
        ],
        volatile: &["file_sha256", "line_number"],
    },
];

/// Rows read from the source at a time (and written in one destination transaction).
const PAGE: i64 = 500;

/// What [`Store::copy_into`] did to one table.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableCopy {
    pub table: String,
    /// Rows of the source inserted into the destination.
    pub copied: u64,
    /// Rows of the source the destination already held with the same content (left as they were).
    pub present: u64,
}

/// What [`Store::copy_into`] did: per table of the schema, in copy order, how many source rows were
/// inserted and how many were already there. `copied + present` of a table is its number of rows in the
/// source.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CopyStats {
    pub tables: Vec<TableCopy>,
}

impl CopyStats {
    /// Rows inserted, all tables together.
    pub fn copied(&self) -> u64 {
        self.tables.iter().map(|t| t.copied).sum()
    }

    /// Rows already present, all tables together.
    pub fn present(&self) -> u64 {
        self.tables.iter().map(|t| t.present).sum()
    }

    /// The counts of one table.
    pub fn table(&self, name: &str) -> Option<&TableCopy> {
        self.tables.iter().find(|t| t.table == name)
    }
}

impl Store {
    /// Copy every row of every table of this store into `dest` (which may be of the other backend):
    /// runs, their tasks, responses with their stored contexts and raw excerpts, samples, aggregates,
    /// code-execution results and imported observations. Idempotent: a row whose key `dest` already holds
    /// with the same content is skipped (counted as present), so a copy can be rerun or resumed after a
    /// failure. A key `dest` holds with different content is an error ([`StoreError::CopyConflict`],
    /// naming the table, the key and the column); rows copied before it stay. Columns that legitimately
    /// differ between two stores holding the same row — when a response was stored, its latency and raw
    /// server excerpt; an execution's measured result; where an imported row was read from — are neither
    /// compared nor overwritten: `dest` keeps its own.
    ///
    /// Rows are read in pages of a few hundred, each written in one transaction of `dest`.
    pub fn copy_into(&self, dest: &Store) -> Result<CopyStats> {
        let mut stats = CopyStats::default();
        for spec in TABLES {
            stats.tables.push(self.copy_table(dest, spec)?);
        }
        Ok(stats)
    }

    fn copy_table(&self, dest: &Store, spec: &TableSpec) -> Result<TableCopy> {
        let columns = spec.columns.join(", ");
        let order = spec.key.join(", ");
        let read = format!(
            "SELECT {columns} FROM {} ORDER BY {order} LIMIT ?1 OFFSET ?2",
            spec.name
        );
        let placeholders: Vec<String> = (1..=spec.columns.len()).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {} ({columns}) VALUES ({}) ON CONFLICT DO NOTHING",
            spec.name,
            placeholders.join(", ")
        );
        let key_match: Vec<String> = spec
            .key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k} = ?{}", i + 1))
            .collect();
        let existing = format!(
            "SELECT {columns} FROM {} WHERE {}",
            spec.name,
            key_match.join(" AND ")
        );
        let key_idx: Vec<usize> = spec
            .key
            .iter()
            .map(|k| spec.columns.iter().position(|c| c == k).unwrap_or(0))
            .collect();
        let mut out = TableCopy {
            table: spec.name.to_string(),
            ..TableCopy::default()
        };
        let mut offset = 0i64;
        loop {
            let page = self
                .conn()
                .query(&read, crate::vals![PAGE, offset])
                .map_err(|e| self.sql_err(&format!("read {}", spec.name), e))?;
            if page.is_empty() {
                break;
            }
            offset += page.len() as i64;
            let conn = dest.conn();
            let tx = dest.transaction(&conn, TxKind::Write, &format!("copy into {}", spec.name))?;
            for row in &page {
                let inserted = tx
                    .execute(&insert, &row.0)
                    .map_err(|e| dest.sql_err(&format!("copy into {}", spec.name), e))?;
                if inserted == 1 {
                    out.copied += 1;
                    continue;
                }
                let key: Vec<Val> = key_idx.iter().map(|&i| row.0[i].clone()).collect();
                let theirs = tx
                    .query_opt(&existing, &key)
                    .map_err(|e| dest.sql_err(&format!("read {}", spec.name), e))?;
                let differs = match &theirs {
                    None => Some("the row is missing although its key is taken"),
                    Some(theirs) => first_difference(spec, row, theirs),
                };
                if let Some(column) = differs {
                    return Err(StoreError::CopyConflict {
                        from: self.location(),
                        to: dest.location(),
                        table: spec.name.to_string(),
                        key: describe_key(spec, &key),
                        column: column.to_string(),
                    });
                }
                out.present += 1;
            }
            tx.commit()
                .map_err(|e| dest.sql_err(&format!("commit copy into {}", spec.name), e))?;
        }
        Ok(out)
    }
}

/// The first compared column whose value differs between two rows of `spec`.
fn first_difference(spec: &TableSpec, ours: &Row, theirs: &Row) -> Option<&'static str> {
    spec.columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !spec.volatile.contains(c))
        .find(|(i, _)| !same(&ours.0[*i], &theirs.0[*i]))
        .map(|(_, c)| *c)
}

fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Int(i), Val::Real(f)) | (Val::Real(f), Val::Int(i)) => *i as f64 == *f,
        _ => a == b,
    }
}

fn describe_key(spec: &TableSpec, key: &[Val]) -> String {
    spec.key
        .iter()
        .zip(key)
        .map(|(k, v)| {
            let shown = match v {
                Val::Text(s) => s.clone(),
                Val::Int(i) => i.to_string(),
                Val::Real(f) => f.to_string(),
                Val::Blob(b) => hex::encode(b),
                Val::Null => "NULL".into(),
            };
            format!("{k}={shown}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The tables [`Store::copy_into`] copies, in its order.
    pub fn copied_tables() -> Vec<&'static str> {
        TABLES.iter().map(|t| t.name).collect()
    }

    /// The tables this database holds (not `schema_migrations`), sorted by name.
    pub fn table_names(&self) -> Result<Vec<String>> {
        schema_tables(&self.conn()).map_err(|e| self.sql_err("list tables", e))
    }

    /// Every row of `table` (one of [`Store::copied_tables`]), every column as stored, ordered by its key:
    /// for comparing two stores value for value (bytes for bytes).
    pub fn table_rows(&self, table: &str) -> Result<Vec<Row>> {
        let spec = TABLES.iter().find(|t| t.name == table).ok_or_else(|| {
            self.invalid(format!(
                "no table {table} among {:?}",
                Self::copied_tables()
            ))
        })?;
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            spec.columns.join(", "),
            spec.name,
            spec.key.join(", ")
        );
        self.conn()
            .query(&sql, crate::vals![])
            .map_err(|e| self.sql_err(&format!("read {table}"), e))
    }
}

/// The names of the tables of a database (not `schema_migrations`), sorted.
fn schema_tables(db: &Db) -> DbResult<Vec<String>> {
    let sql = if db.is_postgres() {
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_name <> 'schema_migrations' ORDER BY table_name"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations' \
         AND name NOT LIKE 'sqlite_%' ORDER BY name"
    };
    db.query(sql, crate::vals![])?
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table added to the schema without a [`TableSpec`] here would be left behind by `store copy`.
    #[test]
    fn every_table_of_the_schema_is_copied() {
        let (_dir, store) = crate::test_store();
        let mut copied: Vec<String> = Store::copied_tables()
            .iter()
            .map(|s| s.to_string())
            .collect();
        copied.sort();
        assert_eq!(store.table_names().unwrap(), copied);
        for t in TABLES {
            for k in t.key.iter().chain(t.volatile) {
                assert!(t.columns.contains(k), "{}.{k}", t.name);
            }
            // every column exists (the query fails otherwise)
            store.table_rows(t.name).unwrap();
        }
    }
}
