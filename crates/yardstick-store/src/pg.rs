//! The PostgreSQL connection: a `postgres::Client` owned by a thread of its own, which runs the statements
//! it is sent. The synchronous client drives a private tokio runtime, and panics ("Cannot start a runtime
//! from within a runtime") when called on a thread that is inside another runtime — as the engine's async
//! tasks are; on its own thread it never is, whoever calls the store and from where.

use crate::db::{DbError, DbResult, Row, Val};
use postgres::types::{IsNull, ToSql, Type};
use std::collections::HashMap;
use std::sync::mpsc;

/// How long a connection attempt waits for a server that does not answer, unless the URL says
/// (`?connect_timeout=SECONDS`).
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

enum Op {
    Execute,
    Query,
    Batch,
}

struct Cmd {
    op: Op,
    sql: String,
    params: Vec<Val>,
}

enum Reply {
    Count(u64),
    Rows(Vec<Row>),
}

/// A connection to PostgreSQL on its own thread. Calls are answered in order; the store's lock makes one
/// caller at a time.
pub struct PgConn {
    tx: Option<mpsc::Sender<Cmd>>,
    rx: mpsc::Receiver<DbResult<Reply>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PgConn {
    /// Connect to `url` (`postgres://user:password@host:port/database?options`, TLS off).
    pub fn connect(url: &str) -> DbResult<PgConn> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| DbError::Other(format!("invalid URL: {e}")))?;
        // an unreachable host answers nothing: give up after a while (the URL's connect_timeout wins)
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let (cmd_tx, cmd_rx) = mpsc::channel::<Cmd>();
        let (reply_tx, reply_rx) = mpsc::channel::<DbResult<Reply>>();
        let (ready_tx, ready_rx) = mpsc::channel::<DbResult<()>>();
        let thread = std::thread::Builder::new()
            .name("yardstick-postgres".into())
            .spawn(move || {
                let mut client = match config.connect(postgres::NoTls) {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(DbError::Postgres(e)));
                        return;
                    }
                };
                let mut statements: HashMap<String, postgres::Statement> = HashMap::new();
                while let Ok(cmd) = cmd_rx.recv() {
                    let reply = run(&mut client, &mut statements, cmd);
                    if reply_tx.send(reply).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| DbError::Other(format!("cannot start the connection thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(PgConn {
                tx: Some(cmd_tx),
                rx: reply_rx,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(DbError::Other("the connection thread ended".into()))
            }
        }
    }

    fn call(&self, op: Op, sql: String, params: Vec<Val>) -> DbResult<Reply> {
        let gone = || DbError::Other("the connection to PostgreSQL was lost".into());
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send(Cmd { op, sql, params })
            .map_err(|_| gone())?;
        self.rx.recv().map_err(|_| gone())?
    }

    pub fn execute(&self, sql: String, params: Vec<Val>) -> DbResult<u64> {
        match self.call(Op::Execute, sql, params)? {
            Reply::Count(n) => Ok(n),
            Reply::Rows(_) => Err(DbError::Other("unexpected reply".into())),
        }
    }

    pub fn query(&self, sql: String, params: Vec<Val>) -> DbResult<Vec<Row>> {
        match self.call(Op::Query, sql, params)? {
            Reply::Rows(r) => Ok(r),
            Reply::Count(_) => Err(DbError::Other("unexpected reply".into())),
        }
    }

    pub fn batch(&self, sql: String) -> DbResult<()> {
        self.call(Op::Batch, sql, Vec::new()).map(|_| ())
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    client: &mut postgres::Client,
    statements: &mut HashMap<String, postgres::Statement>,
    cmd: Cmd,
) -> DbResult<Reply> {
    if let Op::Batch = cmd.op {
        client.batch_execute(&cmd.sql)?;
        return Ok(Reply::Count(0));
    }
    let stmt = match statements.get(&cmd.sql) {
        Some(s) => s.clone(),
        None => {
            let s = client.prepare(&cmd.sql)?;
            statements.insert(cmd.sql.clone(), s.clone());
            s
        }
    };
    let params: Vec<&(dyn ToSql + Sync)> = cmd
        .params
        .iter()
        .map(|v| v as &(dyn ToSql + Sync))
        .collect();
    match cmd.op {
        Op::Execute => Ok(Reply::Count(client.execute(&stmt, &params)?)),
        _ => {
            let rows = client.query(&stmt, &params)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let mut vals = Vec::with_capacity(r.len());
                for i in 0..r.len() {
                    vals.push(read(r, i)?);
                }
                out.push(Row(vals));
            }
            Ok(Reply::Rows(out))
        }
    }
}

/// Column `i` of a PostgreSQL row as a [`Val`], by its type.
fn read(r: &postgres::Row, i: usize) -> DbResult<Val> {
    let ty = r.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::Int),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(i)?
            .map_or(Val::Null, |v| Val::Int(v.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(i)?
            .map_or(Val::Null, |v| Val::Int(v.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(i)?
            .map_or(Val::Null, |v| Val::Int(v.into())),
        Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map_or(Val::Null, Val::Real),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(i)?
            .map_or(Val::Null, |v| Val::Real(v.into())),
        Type::BYTEA => r
            .try_get::<_, Option<Vec<u8>>>(i)?
            .map_or(Val::Null, Val::Blob),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => r
            .try_get::<_, Option<String>>(i)?
            .map_or(Val::Null, Val::Text),
        Type::VOID => Val::Null,
        other => {
            return Err(DbError::Type(format!(
                "column {} has type {other}, which the store does not read",
                r.columns()[i].name()
            )))
        }
    })
}

impl ToSql for Val {
    /// Written as the type PostgreSQL inferred for the parameter: an integer binds to any integer,
    /// floating-point or boolean parameter, a float to a floating-point one.
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => Err(format!("an integer cannot be bound to a {ty} parameter").into()),
            },
            Val::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("a number cannot be bound to a {ty} parameter").into()),
            },
            Val::Text(s) => s.as_str().to_sql(ty, out),
            Val::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A PostgreSQL error as the server said it (its message, detail and hint), or as the client did.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; hint: {h}"));
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(&format!(": {inner}"));
                src = inner.source();
            }
            s
        }
    }
}

/// `url` without its password (for messages).
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    let shown = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_string()
    };
    format!("{}{}@{}", &url[..scheme_end + 3], shown, &rest[at + 1..])
}

/// Whether `location` names a PostgreSQL database (a `postgres://` or `postgresql://` URL).
pub fn is_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db?sslmode=disable"),
            "postgres://u:***@h:5432/db?sslmode=disable"
        );
        assert_eq!(redact("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert!(is_url("postgresql://x") && !is_url("/tmp/postgres.db"));
    }
}
