//! Opening a store — a SQLite file, memory, or a PostgreSQL URL — and bringing its schema up to date.

use crate::db::{pg_ddl, Db};
use crate::pg::{is_url, redact, PgConn};
use crate::{ledger, observations, vals, PgSchema, Result, Store, StoreError, BUSY_TIMEOUT};
use parking_lot::ReentrantMutex;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

impl Store {
    /// Open (creating if needed) the store at `location`: a SQLite file path, or a PostgreSQL database
    /// named by a `postgres://` or `postgresql://` URL (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`; the
    /// database must exist, its tables are created). Pending migrations are applied.
    pub fn open_location(location: &str) -> Result<Self> {
        if is_url(location) {
            Self::open_postgres(location)
        } else {
            Self::open(location)
        }
    }

    /// [`Store::open_read_only`] for a file path or a PostgreSQL URL (see [`Store::open_location`]).
    pub fn open_location_read_only(location: &str) -> Result<Self> {
        if is_url(location) {
            Self::open_postgres_read_only(location)
        } else {
            Self::open_read_only(location)
        }
    }

    /// Open (creating if needed) the SQLite store at `path`, switch it to WAL and apply pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source: source.into(),
        })?;
        Self::init_sqlite(conn, path)
    }

    /// Open an existing store for reading only (the reporting commands: `runs`, `results`, `gap`, `trend`,
    /// …): nothing is created, and the database is never written — it may sit on a read-only filesystem or
    /// be shared with a run in progress. A store whose schema lacks migrations of this version (written by
    /// an older Yardstick) is upgraded first through a short writable connection, as [`Store::open`] would.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        use rusqlite::OpenFlags;
        let path = path.as_ref().to_path_buf();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = || -> Result<Store> {
            let conn =
                Connection::open_with_flags(&path, flags).map_err(|source| StoreError::Open {
                    path: path.clone(),
                    source: source.into(),
                })?;
            let store = Store {
                conn: ReentrantMutex::new(Db::Sqlite(conn)),
                bases: Default::default(),
                path: path.clone(),
            };
            if let Some(c) = store.conn().sqlite() {
                c.busy_timeout(BUSY_TIMEOUT)
                    .map_err(|e| store.sql_err("busy_timeout", e.into()))?;
            }
            Ok(store)
        };
        let store = open()?;
        store.check_not_newer()?;
        if store.pending_migrations()? == 0 {
            return Ok(store);
        }
        drop(store);
        drop(Self::open(&path)?);
        open()
    }

    /// An in-memory store (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source: source.into(),
        })?;
        Self::init_sqlite(conn, path)
    }

    fn connect_postgres(url: &str) -> Result<Store> {
        let shown = redact(url);
        let conn = PgConn::connect(url).map_err(|source| StoreError::Connect {
            location: shown.clone(),
            source,
        })?;
        Ok(Store {
            conn: ReentrantMutex::new(Db::Postgres(conn)),
            bases: Default::default(),
            path: PathBuf::from(shown),
        })
    }

    fn open_postgres(url: &str) -> Result<Self> {
        let store = Self::connect_postgres(url)?;
        store.check_not_newer()?;
        store.migrate()?;
        Ok(store)
    }

    fn open_postgres_read_only(url: &str) -> Result<Self> {
        let store = Self::connect_postgres(url)?;
        store.check_not_newer()?;
        if store.pending_migrations()? != 0 {
            store.migrate()?;
        }
        store
            .conn()
            .batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            .map_err(|e| store.sql_err("make the session read-only", e))?;
        Ok(store)
    }

    /// Names of every migration this version knows, in order.
    pub fn known_migrations() -> impl Iterator<Item = &'static str> {
        migrations().map(|m| m.name)
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
        let has_table = conn
            .has_table("schema_migrations")
            .map_err(|e| self.sql_err("read the schema", e))?;
        if !has_table {
            return Ok(());
        }
        let names: Vec<String> = conn
            .query("SELECT name FROM schema_migrations ORDER BY name", vals![])
            .and_then(|rows| rows.iter().map(|r| r.get::<String>(0)).collect())
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

    /// Refuse a SQLite store that cannot be written (a read-only file or filesystem) before anything is sent.
    fn check_writable(&self) -> Result<()> {
        let guard = self.conn();
        let Some(conn) = guard.sqlite() else {
            return Ok(());
        };
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
        let conn = self.conn();
        let has_table = conn
            .has_table("schema_migrations")
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
        for m in migrations() {
            let done: bool = conn
                .query_one(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
                    vals![m.name],
                )
                .and_then(|r| r.get(0))
                .map_err(|e| self.sql_err("read schema_migrations", e))?;
            pending += usize::from(!done);
        }
        Ok(pending)
    }

    fn init_sqlite(conn: Connection, path: PathBuf) -> Result<Self> {
        let sql_err = |context: &str, source: rusqlite::Error| {
            let source = source.into();
            StoreError::Sql {
                path: path.clone(),
                context: crate::with_disk_full_hint(context, &source),
                source,
            }
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
            conn: ReentrantMutex::new(Db::Sqlite(conn)),
            bases: Default::default(),
            path,
        };
        store.check_not_newer()?;
        store.check_writable()?;
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<()> {
        let conn = self.conn();
        {
            let tx = self.write_transaction(&conn, "migration")?;
            let ddl = "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)";
            if conn.is_postgres() {
                tx.batch(&pg_ddl(ddl))
            } else {
                tx.batch(ddl)
            }
            .map_err(|e| self.sql_err("create schema_migrations", e))?;
            tx.commit()
                .map_err(|e| self.sql_err("create schema_migrations", e))?;
        }
        let pg = conn.is_postgres();
        for m in migrations() {
            // Checked inside the write transaction: another process opening the same new store at the same
            // time applies each migration once, and this one then sees it done.
            let tx = self.write_transaction(&conn, "migration")?;
            let done: bool = tx
                .query_one(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
                    vals![m.name],
                )
                .and_then(|r| r.get(0))
                .map_err(|e| self.sql_err("read schema_migrations", e))?;
            if done {
                continue;
            }
            let migration_err = |source| StoreError::Migration {
                path: self.path.clone(),
                name: m.name.into(),
                source,
            };
            if pg {
                match m.pg {
                    PgSchema::Translate => tx.batch(&pg_ddl(m.sql)),
                    PgSchema::Sql(sql) => tx.batch(&pg_ddl(sql)),
                    PgSchema::Covered => Ok(()),
                }
                .map_err(migration_err)?;
                // rows in an older layout: only where the layout changed on PostgreSQL too
                if !matches!(m.pg, PgSchema::Covered) {
                    if let Some(convert) = m.convert {
                        convert(&tx).map_err(migration_err)?;
                    }
                }
            } else {
                tx.batch(m.sql).map_err(migration_err)?;
                if let Some(convert) = m.convert {
                    convert(&tx).map_err(migration_err)?;
                }
            }
            let applied_at = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
                vals![m.name, applied_at],
            )
            .map_err(|e| self.sql_err("record migration", e))?;
            tx.commit()
                .map_err(|e| self.sql_err("commit migration", e))?;
        }
        Ok(())
    }
}

/// Every migration this version knows, in order.
fn migrations() -> impl Iterator<Item = &'static crate::Migration> {
    ledger::MIGRATIONS
        .iter()
        .chain(observations::MIGRATIONS.iter())
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
