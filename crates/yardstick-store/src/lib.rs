//! The ledger: every run, request, response, sample and score Yardstick has seen, plus results imported from
//! elsewhere. Embedded SQLite (WAL) by default, or a PostgreSQL database ([`Store::open_location`] with a
//! `postgres://` URL): the same tables, the same semantics ([`db`] is the layer that makes them one).
//!
//! Modules own their tables: [`ledger`] holds Yardstick's own runs (runs, responses keyed by request key,
//! samples, aggregates); [`observations`] holds results imported from other tools and leaderboards
//! (model × benchmark scores and per-item scores with provenance). Each module contributes named
//! migrations, applied once, in order, and recorded in `schema_migrations`.
//!
//! # Adding a table (or a column) that works on both backends
//! 1. A [`Migration`] at the end of its module's list (`ledger::MIGRATIONS`, `observations::MIGRATIONS`, or
//!    a new module's, chained in `open::migrations`): `sql` is SQLite DDL with upper-case types (`TEXT`,
//!    `INTEGER`, `REAL`, `BLOB`) and `pg: PgSchema::Translate`, which runs the same DDL on PostgreSQL with
//!    its types translated ([`db::pg_ddl`]). Its name is recorded on both.
//! 2. Methods on [`Store`] written against [`Db`]: `let conn = self.conn();` then `conn.execute(sql,
//!    vals![…])`, `conn.query(…)` / `query_opt` / `query_one` (rows read with `row.get::<T>(i)`), or, for
//!    several statements at once, `let tx = self.write_transaction(&conn, "what")?; …; tx.commit()`. SQL in
//!    the shared dialect ([`db`]): `?N` placeholders, `ON CONFLICT` instead of `INSERT OR …`, no
//!    SQLite-only functions.
//! 3. A `TableSpec` in [`copy`]'s list, so `store copy` (and a merge built on it) carries the new table; a
//!    test fails until it is there.

mod browse;
mod codec;
mod compact;
pub mod copy;
pub mod db;
mod delta;
mod executions;
pub mod ledger;
pub mod observations;
mod open;
mod pg;
pub mod shards;
pub use browse::{RunDetail, SampleRow, TaskProgress};
pub use copy::CopyStats;
pub use db::{Db, DbError, Row, Tx, TxKind, Val};
pub use pg::is_url as is_postgres_url;

/// `location` as messages show it: a file path as it is, a PostgreSQL URL without its password.
pub fn display_location(location: &str) -> String {
    pg::redact(location)
}

use parking_lot::{ReentrantMutex, ReentrantMutexGuard};
use std::path::{Path, PathBuf};

/// Errors from the store. Each says which store (a file, or a PostgreSQL URL without its password) and what
/// to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {}: {source}. Check that the directory exists and is writable, or pass --store PATH", path.display())]
    Open { path: PathBuf, source: DbError },
    #[error(
        "cannot connect to {location}: {source}; is the server running, and does the database exist \
         (`createdb NAME`)? Check the URL's host, port, user and password, or pass another --store"
    )]
    Connect { location: String, source: DbError },
    #[error("store {}: migration '{name}' failed: {source}", path.display())]
    Migration {
        path: PathBuf,
        name: String,
        source: DbError,
    },
    #[error("store {}: {context}: {source}", path.display())]
    Sql {
        path: PathBuf,
        context: String,
        source: DbError,
    },
    #[error("store {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "store {} was written by a newer Yardstick: it has schema migration(s) this version ({version}) does \
         not know: {}. Upgrade Yardstick to use it, or pass another --store PATH",
        path.display(), unknown.join(", ")
    )]
    NewerSchema {
        path: PathBuf,
        version: &'static str,
        unknown: Vec<String>,
    },
    #[error(
        "store {} is read-only ({reason}); `yardstick run` and `yardstick import` write to it. Make it (and its \
         directory) writable, or pass another --store PATH",
        path.display()
    )]
    ReadOnly { path: PathBuf, reason: String },
    #[error("store {}: stored JSON in {context} is invalid: {source}", path.display())]
    Json {
        path: PathBuf,
        context: String,
        source: serde_json::Error,
    },
    #[error(
        "copying {from} into {to}: {table} row {key} differs between the two stores ({column}); nothing of \
         that table's later rows was copied. Keep one of them (delete the run with `yardstick runs --delete`) \
         or copy into another store"
    )]
    CopyConflict {
        from: String,
        to: String,
        table: String,
        key: String,
        column: String,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// `context`, plus what to do when `source` says the disk is full.
fn with_disk_full_hint(context: &str, source: &DbError) -> String {
    if source.is_disk_full() {
        format!(
            "{context} (the disk holding the store is full: free space there, then rerun the same command; \
             everything stored so far is kept and reused)"
        )
    } else {
        context.to_string()
    }
}

/// How long a writer waits for another process's write to finish (SQLite).
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How a migration is applied to a PostgreSQL store.
pub enum PgSchema {
    /// `sql` with its column types translated ([`db::pg_ddl`]): for DDL both accept once translated.
    Translate,
    /// This DDL instead, written like `sql` for SQLite and translated the same way ([`db::pg_ddl`]).
    Sql(&'static str),
    /// Nothing: an earlier migration's PostgreSQL DDL already created this one's result (PostgreSQL stores
    /// start at the current schema; the name is still recorded, so versions compare alike).
    Covered,
}

/// A named schema change. Applied at most once per database, and recorded in `schema_migrations` under its
/// name on both backends.
pub struct Migration {
    pub name: &'static str,
    /// SQLite DDL.
    pub sql: &'static str,
    /// PostgreSQL DDL.
    pub pg: PgSchema,
    /// Rows to convert after `sql` ran (in the same transaction), where SQL alone cannot (SQLite only: a
    /// PostgreSQL store never held an older layout).
    pub convert: Option<fn(&Db) -> db::DbResult<()>>,
}

/// An open store: one database connection (SQLite or PostgreSQL) behind a re-entrant lock, so one `Store`
/// (in an `Arc`) serves every thread of a run — the preparing thread's look-ups, the ledger writer, scoring
/// — whether it is a file, in memory or a server. Each method takes the lock for its own statements (a
/// transaction holds it until it ends).
pub struct Store {
    conn: ReentrantMutex<Db>,
    /// Contexts this process stored whole (committed): what a new context may be stored as a delta on.
    bases: parking_lot::Mutex<delta::Bases>,
    /// The file, or the PostgreSQL URL without its password (what messages name).
    path: PathBuf,
}

impl Store {
    /// The underlying connection, locked for the caller (for modules of this crate and tests).
    pub fn conn(&self) -> ReentrantMutexGuard<'_, Db> {
        self.conn.lock()
    }

    /// Where this store lives: its file (SQLite), or its URL without the password (PostgreSQL).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where this store lives, as text (a file path, or a URL without its password).
    pub fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// A value that changes whenever a run, its aggregates or an import is written (for caches of what is
    /// computed from them: the web server's leaderboard on a PostgreSQL store, which has no file to watch).
    pub fn change_marker(&self) -> Result<String> {
        let row = self
            .conn()
            .query_one(
                "SELECT (SELECT count(*) FROM runs), (SELECT max(created_at) FROM runs), \
                 (SELECT max(finished_at) FROM runs), (SELECT count(*) FROM aggregates), \
                 (SELECT sum(value) FROM aggregates), (SELECT count(*) FROM samples), \
                 (SELECT count(*) FROM obs_files), (SELECT count(*) FROM obs_scores), \
                 (SELECT count(*) FROM obs_models)",
                vals![],
            )
            .map_err(|e| self.sql_err("read the change marker", e))?;
        Ok(format!("{:?}", row.0))
    }

    /// Whether this store is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.conn().is_postgres()
    }

    /// A transaction that takes the database's write lock when it begins (SQLite `BEGIN IMMEDIATE`, waiting
    /// up to the busy timeout for another writer; PostgreSQL: an advisory lock). Every transaction that
    /// reads before it writes must be one: a deferred SQLite transaction that has read cannot wait for the
    /// lock, and fails at once with "database is locked" when another process (a second `import`, a shard)
    /// writes at the same time.
    pub(crate) fn write_transaction<'c>(&self, conn: &'c Db, what: &str) -> Result<Tx<'c>> {
        self.transaction(conn, TxKind::Write, what)
    }

    pub(crate) fn transaction<'c>(&self, conn: &'c Db, kind: TxKind, what: &str) -> Result<Tx<'c>> {
        conn.begin(kind).map_err(|e| {
            self.sql_err(
                &format!(
                    "begin {what} (waited {} s for another process writing to this store; let it \
                     finish, or use another --store)",
                    BUSY_TIMEOUT.as_secs()
                ),
                e,
            )
        })
    }

    pub(crate) fn sql_err(&self, context: &str, source: DbError) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            context: with_disk_full_hint(context, &source),
            source,
        }
    }

    pub(crate) fn invalid(&self, message: String) -> StoreError {
        StoreError::Invalid {
            path: self.path.clone(),
            message: format!("{message} (a damaged store? `yardstick runs --delete RUN_ID` removes a run's samples)"),
        }
    }

    pub(crate) fn json_err(&self, context: &str, source: serde_json::Error) -> StoreError {
        StoreError::Json {
            path: self.path.clone(),
            context: context.into(),
            source,
        }
    }
}

/// A fresh store for a unit test: SQLite in a temporary directory, or a new PostgreSQL database when
/// `YARDSTICK_TEST_PG_URL` is set (see `yardstick_testkit::test_store`).
#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = yardstick_testkit::test_store(dir.path(), "s.db");
    let store = Store::open_location(&loc).expect("open test store");
    (dir, store)
}

/// SQLite-only: these look at the file itself (its permissions, raw SQL on it).
#[cfg(test)]
mod read_only_tests {
    use super::*;

    #[test]
    fn a_store_from_a_newer_yardstick_is_refused_before_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        drop(Store::open(&path).expect("create"));
        {
            let conn = rusqlite::Connection::open(&path).expect("raw open");
            conn.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_from_the_future', datetime('now'))",
                [],
            )
            .expect("insert");
        }
        for err in [
            Store::open(&path).err().expect("refused"),
            Store::open_read_only(&path)
                .err()
                .expect("refused read-only"),
        ] {
            let msg = err.to_string();
            assert!(matches!(err, StoreError::NewerSchema { .. }), "{msg}");
            assert!(
                msg.contains("newer Yardstick") && msg.contains("9999_from_the_future"),
                "{msg}"
            );
        }
        assert_eq!(Store::schema_version(), Store::known_migrations().count());
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_store_is_refused_at_open() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        drop(Store::open(&path).expect("create"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        // root writes whatever the mode says; the check is then moot
        if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
            eprintln!("skipped: this user can write read-only files (root)");
            return;
        }
        let err = Store::open(&path).err().expect("refused");
        assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");
        assert!(err.to_string().contains("read-only"), "{err}");
        assert!(Store::open_read_only(&path).is_ok());
    }

    #[test]
    fn read_only_open_never_writes_and_refuses_non_stores() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        drop(Store::open(&path).expect("create"));
        let ro = Store::open_read_only(&path).expect("open read-only");
        let err = ro
            .conn()
            .batch("CREATE TABLE t (x INTEGER)")
            .expect_err("a read-only store refuses writes");
        assert!(err.to_string().contains("readonly"), "{err}");

        let missing = dir.path().join("none.db");
        assert!(Store::open_read_only(&missing).is_err());
        assert!(!missing.exists(), "a read-only open creates nothing");

        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").expect("write");
        let err = Store::open_read_only(&empty)
            .err()
            .expect("an empty file is no store");
        assert!(err.to_string().contains("not a Yardstick store"), "{err}");
    }
}
