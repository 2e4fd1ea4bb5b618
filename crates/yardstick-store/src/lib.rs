//! The ledger: every run, request, response, sample and score Yardstick has seen, plus results imported from
//! elsewhere. Embedded SQLite (WAL) by default.
//!
//! Modules own their tables: [`ledger`] holds Yardstick's own runs (runs, responses keyed by request key,
//! samples, aggregates); [`observations`] holds results imported from other tools and leaderboards
//! (model × benchmark scores and per-item scores with provenance). Each module contributes named
//! migrations, applied once, in order, and recorded in `schema_migrations`.

mod browse;
mod codec;
mod compact;
mod executions;
pub mod ledger;
pub mod observations;
pub mod shards;
pub use browse::{RunDetail, SampleRow, TaskProgress};

use parking_lot::{ReentrantMutex, ReentrantMutexGuard};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Errors from the store. Each says which database file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {}: {source}. Check that the directory exists and is writable, or pass --store PATH", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("store {}: migration '{name}' failed: {source}", path.display())]
    Migration {
        path: PathBuf,
        name: String,
        source: rusqlite::Error,
    },
    #[error("store {}: {context}: {source}", path.display())]
    Sql {
        path: PathBuf,
        context: String,
        source: rusqlite::Error,
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
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// `context`, plus what to do when `source` says the disk is full.
fn with_disk_full_hint(context: &str, source: &rusqlite::Error) -> String {
    if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        format!(
            "{context} (the disk holding the store is full: free space there, then rerun the same command; \
             everything stored so far is kept and reused)"
        )
    } else {
        context.to_string()
    }
}

/// How long a writer waits for another process's write to finish.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A named schema change. Applied at most once per database.
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
    /// Rows to convert after `sql` ran (in the same transaction), where SQL alone cannot.
    pub convert: Option<fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>>,
}

/// An open store: one SQLite connection behind a re-entrant lock, so one `Store` (in an `Arc`) serves every
/// thread of a run — the preparing thread's look-ups, the ledger writer, scoring — whether it is a file or
/// in memory. Each method takes the lock for its own statements (a transaction holds it until it ends).
pub struct Store {
    conn: ReentrantMutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Open (creating if needed) the SQLite store at `path`, switch it to WAL and apply pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Self::init(conn, path)
    }

    /// Open an existing store for reading only (the reporting commands: `runs`, `results`, `gap`, `trend`,
    /// …): nothing is created, and the database is never written — it may sit on a read-only filesystem or
    /// be shared with a run in progress. A store whose schema lacks migrations of this version (written by
    /// an older Yardstick) is upgraded first through a short writable connection, as [`Store::open`] would.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        use rusqlite::OpenFlags;
        let path = path.as_ref().to_path_buf();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = || {
            Connection::open_with_flags(&path, flags).map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })
        };
        let store = Store {
            conn: ReentrantMutex::new(open()?),
            path: path.clone(),
        };
        store
            .conn()
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| store.sql_err("busy_timeout", e))?;
        store.check_not_newer()?;
        if store.pending_migrations()? == 0 {
            return Ok(store);
        }
        drop(store);
        drop(Self::open(&path)?);
        Ok(Store {
            conn: ReentrantMutex::new(open()?),
            path,
        })
    }

    /// Names of every migration this version knows, in order.
    pub fn known_migrations() -> impl Iterator<Item = &'static str> {
        ledger::MIGRATIONS
            .iter()
            .chain(observations::MIGRATIONS.iter())
            .map(|m| m.name)
    }

    /// The schema version: the applied migrations this version knows (a store is refused when it holds
    /// one this version does not know: written by a newer Yardstick).
    pub fn schema_version() -> usize {
        Self::known_migrations().count()
    }

    /// Refuse a store written by a newer Yardstick: one whose `schema_migrations` names a migration this
    /// version does not know. Its tables may have changed meaning, so neither reading nor writing is safe.
    fn check_not_newer(&self) -> Result<()> {
        let conn = self.conn();
        let has_table: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err("read the schema", e))?;
        if !has_table {
            return Ok(());
        }
        let mut stmt = conn
            .prepare("SELECT name FROM schema_migrations ORDER BY rowid")
            .map_err(|e| self.sql_err("read schema_migrations", e))?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.sql_err("read schema_migrations", e))?;
        let known: Vec<&str> = Self::known_migrations().collect();
        let unknown: Vec<String> = names
            .into_iter()
            .filter(|n| !known.contains(&n.as_str()))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(StoreError::NewerSchema {
                path: self.path.clone(),
                version: env!("CARGO_PKG_VERSION"),
                unknown,
            })
        }
    }

    /// Refuse a store that cannot be written (a read-only file or filesystem) before anything is sent.
    fn check_writable(&self) -> Result<()> {
        let conn = self.conn();
        if conn
            .is_readonly(rusqlite::DatabaseName::Main)
            .unwrap_or(false)
        {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
                reason: "the file or its filesystem does not allow writing".into(),
            });
        }
        // A write lock taken and released: fails now on a directory where the journal cannot be created.
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")
            .map_err(|e| StoreError::ReadOnly {
                path: self.path.clone(),
                reason: e.to_string(),
            })
    }

    /// How many of this version's migrations the database has not had yet.
    fn pending_migrations(&self) -> Result<usize> {
        let has_table: bool = self
            .conn()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err("read the schema", e))?;
        if !has_table {
            return Err(StoreError::Invalid {
                path: self.path.clone(),
                message:
                    "not a Yardstick store (it has no schema_migrations table); pass the store \
                          `yardstick run` or `yardstick import` wrote with --store PATH"
                        .into(),
            });
        }
        let mut pending = 0;
        for m in ledger::MIGRATIONS
            .iter()
            .chain(observations::MIGRATIONS.iter())
        {
            let done: bool = self
                .conn()
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
                    [m.name],
                    |r| r.get(0),
                )
                .map_err(|e| self.sql_err("read schema_migrations", e))?;
            pending += usize::from(!done);
        }
        Ok(pending)
    }

    /// An in-memory store (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Self::init(conn, path)
    }

    fn init(conn: Connection, path: PathBuf) -> Result<Self> {
        let sql_err = |context: &str, source| StoreError::Sql {
            path: path.clone(),
            context: with_disk_full_hint(context, &source),
            source,
        };
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_err("busy_timeout", e))?;
        // WAL lets readers (e.g. `yardstick runs` while a run is going) proceed alongside the writer, and
        // synchronous=NORMAL keeps every committed response durable across a process crash.
        set_wal(&conn).map_err(|e| sql_err("journal_mode=WAL", e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| sql_err("synchronous", e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| sql_err("foreign_keys", e))?;
        let store = Store {
            conn: ReentrantMutex::new(conn),
            path,
        };
        store.check_not_newer()?;
        store.check_writable()?;
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<()> {
        let conn = self.conn();
        conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            .map_err(|e| self.sql_err("create schema_migrations", e))?;
        for m in ledger::MIGRATIONS
            .iter()
            .chain(observations::MIGRATIONS.iter())
        {
            // Checked inside the write transaction: another process opening the same new store at the same
            // time applies each migration once, and this one then sees it done.
            let tx = self.write_transaction(&conn, "migration")?;
            let done: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
                    [m.name],
                    |r| r.get(0),
                )
                .map_err(|e| self.sql_err("read schema_migrations", e))?;
            if done {
                continue;
            }
            let migration_err = |source| StoreError::Migration {
                path: self.path.clone(),
                name: m.name.into(),
                source,
            };
            tx.execute_batch(m.sql).map_err(migration_err)?;
            if let Some(convert) = m.convert {
                convert(&tx).map_err(migration_err)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, datetime('now'))",
                [m.name],
            )
            .map_err(|e| self.sql_err("record migration", e))?;
            tx.commit()
                .map_err(|e| self.sql_err("commit migration", e))?;
        }
        Ok(())
    }

    /// A transaction that takes the database's write lock when it begins (`BEGIN IMMEDIATE`), waiting up to
    /// the busy timeout for another writer. Every transaction that reads before it writes must be one: a
    /// deferred transaction that has read cannot wait for the lock, and fails at once with "database is
    /// locked" when another process (a second `import`, a shard) writes at the same time.
    pub(crate) fn write_transaction<'c>(
        &self,
        conn: &'c Connection,
        what: &str,
    ) -> Result<rusqlite::Transaction<'c>> {
        rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| {
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

    /// The underlying connection, locked for the caller (for modules of this crate and tests).
    pub fn conn(&self) -> ReentrantMutexGuard<'_, Connection> {
        self.conn.lock()
    }

    /// Where this store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn sql_err(&self, context: &str, source: rusqlite::Error) -> StoreError {
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

/// `PRAGMA journal_mode=WAL`, retried while another connection holds the lock it needs: SQLite does not call
/// the busy handler for this pragma, so two processes opening the same new store at once would otherwise fail
/// with "database is locked" instead of waiting.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}
#[cfg(test)]
mod read_only_tests {
    use super::*;

    #[test]
    fn a_store_from_a_newer_yardstick_is_refused_before_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        drop(Store::open(&path).expect("create"));
        {
            let conn = Connection::open(&path).expect("raw open");
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
            .execute_batch("CREATE TABLE t (x INTEGER)")
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
