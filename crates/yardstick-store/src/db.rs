//! The database layer under [`crate::Store`]: one connection to SQLite (a file or memory) or to PostgreSQL,
//! with the few operations the store needs — execute, query, a batch of DDL, a transaction — and SQL
//! written once for both.
//!
//! # The dialect
//! Statements are written in SQLite's syntax restricted to what PostgreSQL also accepts:
//! - placeholders `?1`, `?2`, … (rewritten to `$1`, `$2`, … for PostgreSQL; the same number may repeat);
//! - `INSERT … ON CONFLICT DO NOTHING` / `ON CONFLICT (key) DO UPDATE SET c = excluded.c`, never
//!   `INSERT OR IGNORE` / `OR REPLACE`;
//! - no SQLite-only functions (`datetime('now')`, `group_concat`): bind a timestamp made in Rust, or branch
//!   on [`Db::is_postgres`] for the one fragment that differs;
//! - booleans are stored as integers 0/1 on both (bind a `bool`, read a `bool` or an `i64`).
//!
//! Values cross the layer as [`Val`] (bind with the [`vals!`](crate::vals) macro, read with [`Row::get`]),
//! so a row reads back the same on both: TEXT as `String`, INTEGER/BIGINT as `i64`, REAL/DOUBLE PRECISION
//! as `f64`, BLOB/BYTEA as the same bytes.
//!
//! DDL is written for SQLite; [`pg_ddl`] translates its column types for PostgreSQL (BLOB → BYTEA,
//! INTEGER → BIGINT, REAL → DOUBLE PRECISION).

use crate::pg::PgConn;
use std::borrow::Cow;

/// A value bound to or read from a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Conversion into a bound [`Val`] (strings, integers, floats, bools, bytes, and `Option`s of them).
pub trait ToVal {
    fn to_val(&self) -> Val;
}

impl ToVal for Val {
    fn to_val(&self) -> Val {
        self.clone()
    }
}
impl ToVal for str {
    fn to_val(&self) -> Val {
        Val::Text(self.to_string())
    }
}
impl ToVal for String {
    fn to_val(&self) -> Val {
        Val::Text(self.clone())
    }
}
impl ToVal for i64 {
    fn to_val(&self) -> Val {
        Val::Int(*self)
    }
}
impl ToVal for f64 {
    fn to_val(&self) -> Val {
        Val::Real(*self)
    }
}
impl ToVal for bool {
    fn to_val(&self) -> Val {
        Val::Int(i64::from(*self))
    }
}
impl ToVal for [u8] {
    fn to_val(&self) -> Val {
        Val::Blob(self.to_vec())
    }
}
impl ToVal for Vec<u8> {
    fn to_val(&self) -> Val {
        Val::Blob(self.clone())
    }
}
impl<T: ToVal + ?Sized> ToVal for &T {
    fn to_val(&self) -> Val {
        (**self).to_val()
    }
}
impl<T: ToVal> ToVal for Option<T> {
    fn to_val(&self) -> Val {
        match self {
            Some(v) => v.to_val(),
            None => Val::Null,
        }
    }
}

/// Bound values for a statement: `vals![a, b, c]` is `&[Val]` (each argument by reference).
#[macro_export]
macro_rules! vals {
    () => { &[] as &[$crate::db::Val] };
    ($($x:expr),+ $(,)?) => { &[$($crate::db::ToVal::to_val(&$x)),+] as &[$crate::db::Val] };
}

/// Conversion of a read [`Val`] into a Rust value.
pub trait FromVal: Sized {
    fn from_val(v: Val) -> std::result::Result<Self, String>;
}

impl FromVal for Val {
    fn from_val(v: Val) -> std::result::Result<Self, String> {
        Ok(v)
    }
}
impl FromVal for String {
    fn from_val(v: Val) -> std::result::Result<Self, String> {
        match v {
            Val::Text(s) => Ok(s),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl FromVal for i64 {
    fn from_val(v: Val) -> std::result::Result<Self, String> {
        match v {
            Val::Int(i) => Ok(i),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}
impl FromVal for f64 {
    fn from_val(v: Val) -> std::result::Result<Self, String> {
        match v {
            Val::Real(f) => Ok(f),
            Val::Int(i) => Ok(i as f64),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}
impl FromVal for bool {
    fn from_val(v: Val) -> std::result::Result<Self, String> {
        match v {
            Val::Int(i) => Ok(i != 0),
            other => Err(format!("expected a boolean (0 or 1), found {other:?}")),
        }
    }
}
impl FromVal for Vec<u8> {
    fn from_val(v: Val) -> std::result::Result<Self, String> {
        match v {
            Val::Blob(b) => Ok(b),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}
impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: Val) -> std::result::Result<Self, String> {
        match v {
            Val::Null => Ok(None),
            other => T::from_val(other).map(Some),
        }
    }
}

/// One result row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row(pub Vec<Val>);

impl Row {
    /// Column `i` as a `T` (an error names the column and what it held).
    pub fn get<T: FromVal>(&self, i: usize) -> std::result::Result<T, DbError> {
        let v = self
            .0
            .get(i)
            .cloned()
            .ok_or_else(|| DbError::Type(format!("no column {i}")))?;
        T::from_val(v).map_err(|e| DbError::Type(format!("column {i}: {e}")))
    }
}

/// An error of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// (Described in full here — the server's message, detail and hint — and not chained as a source,
    /// whose own text is only "db error".)
    #[error("{}", crate::pg::describe(.0))]
    Postgres(postgres::Error),
    #[error("unexpected value: {0}")]
    Type(String),
    #[error("{0}")]
    Other(String),
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        DbError::Postgres(e)
    }
}

impl DbError {
    /// Whether the database said its disk is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            DbError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            DbError::Postgres(e) => {
                e.code() == Some(&postgres::error::SqlState::DISK_FULL)
                    || e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_RESOURCES)
            }
            _ => false,
        }
    }
}

pub type DbResult<T> = std::result::Result<T, DbError>;

/// A connection to one database.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(PgConn),
}

/// How a transaction begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxKind {
    /// Takes the database's write lock at once (SQLite `BEGIN IMMEDIATE`; on PostgreSQL a transaction-level
    /// advisory lock shared by every Yardstick writer of the database): writers run one at a time, so a
    /// transaction that reads before it writes sees no other writer's changes in between.
    Write,
    /// A plain transaction (SQLite `BEGIN`; PostgreSQL `BEGIN`, read committed): for idempotent inserts
    /// (`ON CONFLICT DO NOTHING`) that need atomicity but no serialisation against other writers.
    Plain,
}

/// The advisory lock key of [`TxKind::Write`] on PostgreSQL ("yardstic" in ASCII).
pub(crate) const PG_WRITE_LOCK: i64 = 0x7961_7264_7374_6963;

impl Db {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// The SQLite connection, when this is one (SQLite-only code: legacy migrations, file checks).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    /// Run one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[Val]) -> DbResult<u64> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            Db::Postgres(p) => p.execute(pg_sql(sql).into_owned(), params.to_vec()),
        }
    }

    /// Every row of a query.
    pub fn query(&self, sql: &str, params: &[Val]) -> DbResult<Vec<Row>> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let n = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        vals.push(sqlite_val(r.get_ref(i)?));
                    }
                    out.push(Row(vals));
                }
                Ok(out)
            }
            Db::Postgres(p) => p.query(pg_sql(sql).into_owned(), params.to_vec()),
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt(&self, sql: &str, params: &[Val]) -> DbResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query, which must return one.
    pub fn query_one(&self, sql: &str, params: &[Val]) -> DbResult<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| DbError::Other(format!("no row returned by: {sql}")))
    }

    /// Several statements without parameters (DDL; the text is sent as it is).
    pub fn batch(&self, sql: &str) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(p) => p.batch(sql.to_string()),
        }
    }

    /// Begin a transaction; it rolls back when dropped without [`Tx::commit`].
    pub fn begin(&self, kind: TxKind) -> DbResult<Tx<'_>> {
        match (self, kind) {
            (Db::Sqlite(_), TxKind::Write) => self.batch("BEGIN IMMEDIATE")?,
            (Db::Sqlite(_), TxKind::Plain) => self.batch("BEGIN")?,
            (Db::Postgres(_), TxKind::Write) => {
                self.batch("BEGIN")?;
                let locked = self.execute("SELECT pg_advisory_xact_lock(?1)", vals![PG_WRITE_LOCK]);
                if let Err(e) = locked {
                    let _ = self.batch("ROLLBACK");
                    return Err(e);
                }
            }
            (Db::Postgres(_), TxKind::Plain) => self.batch("BEGIN")?,
        }
        Ok(Tx {
            db: self,
            done: false,
        })
    }

    /// Whether a table of this name exists.
    pub fn has_table(&self, name: &str) -> DbResult<bool> {
        let sql = if self.is_postgres() {
            "SELECT EXISTS(SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_name = ?1)"
        } else {
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)"
        };
        self.query_one(sql, vals![name])?.get(0)
    }
}

/// An open transaction: use it as the [`Db`] (it derefs to it), then [`Tx::commit`].
pub struct Tx<'c> {
    db: &'c Db,
    done: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> DbResult<()> {
        self.done = true;
        self.db.batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.db.batch("ROLLBACK");
        }
    }
}

fn sqlite_val(v: rusqlite::types::ValueRef<'_>) -> Val {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Real(f),
        ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Val::Blob(b.to_vec()),
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(f) => ValueRef::Real(*f),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// A statement in the shared dialect, for PostgreSQL: `?N` placeholders become `$N` (outside quotes).
pub fn pg_sql(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// SQLite DDL translated for PostgreSQL: the column types BLOB → BYTEA, INTEGER → BIGINT,
/// REAL → DOUBLE PRECISION, and TEXT → TEXT COLLATE "C" (so text compares and sorts by its bytes, as in
/// SQLite, whatever the database's locale). Whole upper-case words outside quotes; `--` comments are
/// dropped. Write types in upper case and column names in lower case.
pub fn pg_ddl(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    for line in sql.lines() {
        let code = match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            out.push_str(match word.as_str() {
                "BLOB" => "BYTEA",
                "INTEGER" => "BIGINT",
                "REAL" => "DOUBLE PRECISION",
                "TEXT" => "TEXT COLLATE \"C\"",
                w => w,
            });
            word.clear();
        };
        let mut quoted = false;
        for c in code.chars() {
            if c == '\'' {
                quoted = !quoted;
            }
            if !quoted && (c.is_ascii_alphanumeric() || c == '_') {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_types_are_translated_outside_quotes() {
        assert_eq!(
            pg_sql("SELECT a FROM t WHERE b = ?1 AND c = '?2' OR d = ?12 OR ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' OR d = $12 OR ?"
        );
        let ddl = pg_ddl(
            "CREATE TABLE t (\n  hash BLOB PRIMARY KEY, -- a BLOB\n  n INTEGER NOT NULL, x REAL, s TEXT DEFAULT 'REAL',\n  text INTEGER\n);",
        );
        assert_eq!(
            ddl,
            "CREATE TABLE t (\n  hash BYTEA PRIMARY KEY, \n  n BIGINT NOT NULL, x DOUBLE PRECISION, s TEXT COLLATE \"C\" DEFAULT 'REAL',\n  text BIGINT\n);\n"
        );
    }

    #[test]
    fn values_round_trip_through_sqlite() {
        let db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.batch("CREATE TABLE t (a TEXT, b INTEGER, c REAL, d BLOB, e INTEGER)")
            .unwrap();
        let tx = db.begin(TxKind::Write).unwrap();
        tx.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
            vals!["x", 7i64, 0.1f64, vec![0u8, 255], Option::<i64>::None],
        )
        .unwrap();
        tx.commit().unwrap();
        let r = db.query_one("SELECT * FROM t", vals![]).unwrap();
        assert_eq!(r.get::<String>(0).unwrap(), "x");
        assert_eq!(r.get::<i64>(1).unwrap(), 7);
        assert_eq!(r.get::<f64>(2).unwrap(), 0.1);
        assert_eq!(r.get::<Vec<u8>>(3).unwrap(), vec![0, 255]);
        assert_eq!(r.get::<Option<i64>>(4).unwrap(), None);
        assert!(r.get::<i64>(0).is_err());
        {
            let _tx = db.begin(TxKind::Plain).unwrap();
            db.execute("DELETE FROM t", vals![]).unwrap();
        }
        assert_eq!(
            db.query("SELECT * FROM t", vals![]).unwrap().len(),
            1,
            "rolled back"
        );
    }
}
