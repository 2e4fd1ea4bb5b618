//! Results of running model-written programs (code benchmarks), keyed by what determines them — the
//! program, its tests, the harness, the interpreter and the limits — so a rerun or another run re-executes
//! nothing it has already run.

use crate::db::TxKind;
use crate::{vals, Migration, Result, Store};
use std::collections::HashMap;

pub(crate) const MIGRATION: Migration = Migration {
    name: "ledger_0002_executions",
    sql: r#"
CREATE TABLE executions (
    exec_key TEXT PRIMARY KEY,         -- sha256 of harness, interpreter, limits and program
    result_json TEXT NOT NULL,         -- verdict, failure reason, exit status, truncated output, wall time
    created_at TEXT NOT NULL
);
"#,
    pg: crate::PgSchema::Translate,
    convert: None,
};

impl Store {
    /// The stored execution results among `keys` (absent keys are missing from the map).
    pub fn get_executions(&self, keys: &[&str]) -> Result<HashMap<String, serde_json::Value>> {
        let mut out = HashMap::with_capacity(keys.len());
        let conn = self.conn();
        for k in keys {
            let v: Option<String> = conn
                .query_opt(
                    "SELECT result_json FROM executions WHERE exec_key = ?1",
                    vals![k],
                )
                .and_then(|r| r.map(|r| r.get(0)).transpose())
                .map_err(|e| self.sql_err("look up execution", e))?;
            if let Some(v) = v {
                let parsed = serde_json::from_str(&v)
                    .map_err(|e| self.json_err("executions.result_json", e))?;
                out.insert((*k).to_string(), parsed);
            }
        }
        Ok(out)
    }

    /// Keep execution results (one transaction; a key already stored keeps its first result).
    pub fn put_executions(&self, rows: &[(String, serde_json::Value)]) -> Result<()> {
        let conn = self.conn();
        let tx = self.transaction(&conn, TxKind::Plain, "write")?;
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for (k, v) in rows {
            tx.execute(
                "INSERT INTO executions (exec_key, result_json, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                vals![k, v.to_string(), ts],
            )
            .map_err(|e| self.sql_err("insert execution", e))?;
        }
        tx.commit()
            .map_err(|e| self.sql_err("commit executions", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn executions_round_trip_and_keep_the_first_result() {
        let (_dir, store) = crate::test_store();
        assert!(store.get_executions(&["a"]).unwrap().is_empty());
        store
            .put_executions(&[("a".into(), json!({"result": "passed"}))])
            .unwrap();
        store
            .put_executions(&[("a".into(), json!({"result": "failed: x"}))])
            .unwrap();
        let got = store.get_executions(&["a", "b"]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got["a"], json!({"result": "passed"}));
    }
}
