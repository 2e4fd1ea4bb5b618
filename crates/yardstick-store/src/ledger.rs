//! Yardstick's own runs: the request-key → response map (so nothing is computed twice), per-sample records
//! (exact prompt, token ids sent, raw response, metric values, few-shot ids) and aggregates.

mod schema;
pub use schema::MIGRATIONS;

use crate::db::{Db, TxKind};
use crate::{vals, Result, Store, StoreError};
use std::collections::HashMap;

/// What a run is, recorded when it starts.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub command: String,
    pub model_name: String,
    pub model_location: String,
    pub model_fingerprint: String,
    pub config: serde_json::Value,
    pub tool_version: String,
    pub lm_eval_compat: String,
    pub git_rev: Option<String>,
    pub hardware: serde_json::Value,
}

/// One row of `yardstick runs`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub model_name: String,
    pub model_location: String,
    pub tasks: Vec<String>,
    pub n_samples: i64,
    pub stats: Option<serde_json::Value>,
    pub command: String,
}

/// A task evaluated within a run.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunTaskRecord {
    pub task: String,
    pub version: Option<String>,
    pub num_fewshot: i64,
    pub task_hash: String,
    pub dataset_hash: String,
    pub n_docs: i64,
    pub config: serde_json::Value,
}

/// A stored model response.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    pub request_key: String,
    pub model_fingerprint: String,
    pub kind: String,
    pub request: serde_json::Value,
    pub response: serde_json::Value,
    pub raw: Option<String>,
    pub latency_ms: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
}

/// A scored sample, lm-eval compatible record plus Yardstick's trace fields.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SampleRecord {
    pub task: String,
    pub doc_id: i64,
    pub filter: String,
    pub doc_hash: String,
    pub prompt_hash: String,
    pub target_hash: String,
    pub record: serde_json::Value,
    pub request_keys: Vec<String>,
    pub fewshot_ids: Vec<i64>,
    pub metrics: serde_json::Value,
}

/// An aggregate score of a task or group.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AggregateRecord {
    pub task: String,
    pub metric: String,
    pub filter: String,
    pub value: Option<f64>,
    pub stderr: Option<f64>,
    pub n: i64,
    pub is_group: bool,
}

/// One cell of `yardstick results`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ResultRow {
    pub run_id: String,
    pub model_name: String,
    pub finished_at: Option<String>,
    pub task: String,
    pub metric: String,
    pub filter: String,
    pub value: Option<f64>,
    pub stderr: Option<f64>,
    pub n: i64,
    pub is_group: bool,
}

/// Where a run stands. Stored as its lower-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Requests are being sent (or the process died while they were: rerun the command to resume).
    Running,
    /// Every task was scored; its results are complete.
    Finished,
    /// Stopped by a signal; what was answered is stored, rerunning resumes.
    Interrupted,
    /// Stopped by an error (in `stats_json.error`); what was answered is stored, rerunning resumes.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }

    /// Read a stored status; `None` for a value this version does not know.
    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Finished,
            RunStatus::Interrupted,
            RunStatus::Failed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `samples` table's columns, in order (what `put_scores` writes and `store copy` copies).
pub(crate) const SAMPLE_COLUMNS: &[&str] = &[
    "run_id",
    "task",
    "doc_id",
    "filter",
    "doc_hash",
    "prompt_hash",
    "target_hash",
    "record",
    "request_keys_json",
    "fewshot_ids_json",
    "metrics_json",
];

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// Start (or restart, when the same run id exists: a resumed run) a run.
    pub fn begin_run(&self, run: &RunRecord) -> Result<bool> {
        // read then write: one write transaction (two shards starting the same run at once)
        let conn = self.conn();
        let tx = self.write_transaction(&conn, "run start")?;
        let existed: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM runs WHERE run_id = ?1)",
                vals![run.run_id],
            )
            .and_then(|r| r.get(0))
            .map_err(|e| self.sql_err("look up run", e))?;
        let config =
            serde_json::to_string(&run.config).map_err(|e| self.json_err("run config", e))?;
        let hardware =
            serde_json::to_string(&run.hardware).map_err(|e| self.json_err("run hardware", e))?;
        if existed {
            tx.execute(
                    "UPDATE runs SET status = CASE status WHEN 'finished' THEN 'finished' ELSE 'running' END,
                     finished_at = CASE status WHEN 'finished' THEN finished_at ELSE NULL END,
                     command = ?2, tool_version = ?3, git_rev = ?4, hardware_json = ?5 WHERE run_id = ?1",
                    vals![run.run_id, run.command, run.tool_version, run.git_rev, hardware],
                )
                .map_err(|e| self.sql_err("restart run", e))?;
        } else {
            tx.execute(
                    "INSERT INTO runs (run_id, created_at, status, command, model_name, model_location,
                     model_fingerprint, config_json, tool_version, lm_eval_compat, git_rev, hardware_json)
                     VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    vals![
                        run.run_id,
                        now(),
                        run.command,
                        run.model_name,
                        run.model_location,
                        run.model_fingerprint,
                        config,
                        run.tool_version,
                        run.lm_eval_compat,
                        run.git_rev,
                        hardware
                    ],
                )
                .map_err(|e| self.sql_err("insert run", e))?;
        }
        tx.commit()
            .map_err(|e| self.sql_err("commit run start", e))?;
        Ok(existed)
    }

    /// End a run with `status` and its statistics. A run that had already finished (its results are complete)
    /// keeps its status, its finish time and its first statistics whatever a later attempt does: that attempt's
    /// status and statistics are kept under `stats_json.last_rerun`, so a failed, interrupted or fully reused
    /// rerun neither hides valid results nor rewrites the run's history.
    pub fn end_run(
        &self,
        run_id: &str,
        status: RunStatus,
        stats: &serde_json::Value,
    ) -> Result<()> {
        // read then write: one write transaction
        let conn = self.conn();
        let tx = self.write_transaction(&conn, "run end")?;
        let previous: Option<(String, Option<String>)> = tx
            .query_opt(
                "SELECT status, stats_json FROM runs WHERE run_id = ?1",
                vals![run_id],
            )
            .and_then(|r| r.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose())
            .map_err(|e| self.sql_err("look up run", e))?;
        let Some((previous, previous_stats)) = previous else {
            return Err(StoreError::Invalid {
                path: self.path().to_path_buf(),
                message: format!("run {run_id} was never begun"),
            });
        };
        if RunStatus::parse(&previous) == Some(RunStatus::Finished) {
            let mut kept: serde_json::Value = match previous_stats {
                Some(s) => {
                    serde_json::from_str(&s).map_err(|e| self.json_err("runs.stats_json", e))?
                }
                None => serde_json::json!({}),
            };
            if let Some(obj) = kept.as_object_mut() {
                obj.insert(
                    "last_rerun".into(),
                    serde_json::json!({"status": status.as_str(), "at": now(), "stats": stats}),
                );
            }
            let kept = serde_json::to_string(&kept).map_err(|e| self.json_err("run stats", e))?;
            tx.execute(
                "UPDATE runs SET stats_json = ?2 WHERE run_id = ?1",
                vals![run_id, kept],
            )
            .map_err(|e| self.sql_err("end run", e))?;
            return tx.commit().map_err(|e| self.sql_err("commit run end", e));
        }
        let stats = serde_json::to_string(stats).map_err(|e| self.json_err("run stats", e))?;
        tx.execute(
            "UPDATE runs SET status = ?2, finished_at = ?3, stats_json = ?4 WHERE run_id = ?1",
            vals![run_id, status.as_str(), now(), stats],
        )
        .map_err(|e| self.sql_err("end run", e))?;
        tx.commit().map_err(|e| self.sql_err("commit run end", e))
    }

    /// Record (or replace) a task of a run.
    pub fn put_run_task(&self, run_id: &str, t: &RunTaskRecord) -> Result<()> {
        let config =
            serde_json::to_string(&t.config).map_err(|e| self.json_err("task config", e))?;
        self.conn()
            .execute(
                "INSERT INTO run_tasks (run_id, task, version, num_fewshot, task_hash, dataset_hash,
                 n_docs, config_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (run_id, task) DO UPDATE SET version = excluded.version,
                 num_fewshot = excluded.num_fewshot, task_hash = excluded.task_hash,
                 dataset_hash = excluded.dataset_hash, n_docs = excluded.n_docs,
                 config_json = excluded.config_json",
                vals![run_id, t.task, t.version, t.num_fewshot, t.task_hash, t.dataset_hash, t.n_docs, config],
            )
            .map_err(|e| self.sql_err("insert run task", e))?;
        Ok(())
    }

    /// Look up stored responses for the given keys (those absent are simply missing from the map).
    pub fn get_responses(&self, keys: &[&str]) -> Result<HashMap<String, serde_json::Value>> {
        let mut out = HashMap::with_capacity(keys.len());
        let conn = self.conn();
        for k in keys {
            let v: Option<String> = conn
                .query_opt(
                    "SELECT response_json FROM responses WHERE request_key = ?1",
                    vals![k],
                )
                .and_then(|r| r.map(|r| r.get(0)).transpose())
                .map_err(|e| self.sql_err("look up response", e))?;
            if let Some(v) = v {
                let parsed = serde_json::from_str(&v)
                    .map_err(|e| self.json_err("responses.response_json", e))?;
                out.insert((*k).to_string(), parsed);
            }
        }
        Ok(out)
    }

    /// Persist responses in one transaction (called as they arrive; each batch is durable on return). A key
    /// already stored keeps its first response.
    pub fn put_responses(&self, rows: &[StoredResponse]) -> Result<()> {
        let conn = self.conn();
        // idempotent inserts only: no need to wait for other writers (PostgreSQL lets them run side by side)
        let tx = self.transaction(&conn, TxKind::Plain, "write")?;
        let ts = now();
        let texts: Vec<String> = rows.iter().map(|r| r.response.to_string()).collect();
        let batch: Vec<crate::compact::ResponseRow<'_>> = rows
            .iter()
            .zip(&texts)
            .map(|(r, response)| crate::compact::ResponseRow {
                request_key: &r.request_key,
                model_fingerprint: &r.model_fingerprint,
                kind: &r.kind,
                request: &r.request,
                response_json: response,
                raw: r.raw.as_deref(),
                latency_ms: r.latency_ms,
                prompt_tokens: r.prompt_tokens,
                completion_tokens: r.completion_tokens,
                created_at: &ts,
            })
            .collect();
        let whole = {
            let bases = self.bases.lock();
            crate::compact::insert_responses_into(&tx, "responses", &batch, Some(&bases))
                .map_err(|e| self.sql_err("insert responses", e))?
        };
        tx.commit()
            .map_err(|e| self.sql_err("commit responses", e))?;
        // candidate bases only once they are in the store for good
        self.bases.lock().extend(whole);
        Ok(())
    }

    /// Delete a run: its record, tasks, samples and aggregates. The responses (and code-execution results) it
    /// used stay: they are keyed by request, not by run, and a later run reuses them. Returns the number of
    /// samples removed, or `None` when there is no such run.
    pub fn delete_run(&self, run_id: &str) -> Result<Option<u64>> {
        let conn = self.conn();
        let tx = self.write_transaction(&conn, "delete run")?;
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM runs WHERE run_id = ?1)",
                vals![run_id],
            )
            .and_then(|r| r.get(0))
            .map_err(|e| self.sql_err("look up run", e))?;
        if !exists {
            return Ok(None);
        }
        let samples = tx
            .execute("DELETE FROM samples WHERE run_id = ?1", vals![run_id])
            .map_err(|e| self.sql_err("delete samples", e))?;
        for table in ["aggregates", "run_tasks", "runs"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE run_id = ?1"),
                vals![run_id],
            )
            .map_err(|e| self.sql_err(&format!("delete from {table}"), e))?;
        }
        tx.commit()
            .map_err(|e| self.sql_err("commit run deletion", e))?;
        Ok(Some(samples))
    }

    /// Replace the samples and aggregates of one task in a run (scoring is deterministic, so a resumed run
    /// rewrites them).
    pub fn put_scores(
        &self,
        run_id: &str,
        task: &str,
        samples: &[SampleRecord],
        aggs: &[AggregateRecord],
    ) -> Result<()> {
        let conn = self.conn();
        let tx = self.write_transaction(&conn, "write")?;
        tx.execute(
            "DELETE FROM samples WHERE run_id = ?1 AND task = ?2",
            vals![run_id, task],
        )
        .map_err(|e| self.sql_err("clear samples", e))?;
        let mut rows = Vec::with_capacity(samples.len());
        // the task's records compressed against its first (they share the prompt template and few-shot
        // examples): [`crate::delta`]
        let mut dict = samples
            .first()
            .map(|s| crate::delta::Dict::new(s.record.to_string()));
        if let Some(d) = &dict {
            tx.execute(
                "INSERT INTO dicts (hash, text) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                &d.row(),
            )
            .map_err(|e| self.sql_err("insert sample dictionary", e))?;
        }
        for s in samples {
            let keys = serde_json::to_string(&s.request_keys)
                .map_err(|e| self.json_err("sample keys", e))?;
            let shots = serde_json::to_string(&s.fewshot_ids)
                .map_err(|e| self.json_err("sample shots", e))?;
            rows.push(
                vals![
                    run_id,
                    s.task,
                    s.doc_id,
                    s.filter,
                    s.doc_hash,
                    s.prompt_hash,
                    s.target_hash,
                    match &mut dict {
                        Some(d) => d.pack(&s.record.to_string()),
                        None => crate::codec::pack_text(&s.record.to_string()),
                    },
                    keys,
                    shots,
                    s.metrics.to_string()
                ]
                .to_vec(),
            );
        }
        crate::compact::insert_many(&tx, "samples", SAMPLE_COLUMNS, &rows, "")
            .map_err(|e| self.sql_err("insert samples", e))?;
        self.put_aggregates_tx(&tx, run_id, aggs)?;
        tx.commit().map_err(|e| self.sql_err("commit scores", e))?;
        Ok(())
    }

    /// Replace aggregates (used for groups, which have no samples of their own).
    pub fn put_aggregates(&self, run_id: &str, aggs: &[AggregateRecord]) -> Result<()> {
        let conn = self.conn();
        let tx = self.write_transaction(&conn, "write")?;
        self.put_aggregates_tx(&tx, run_id, aggs)?;
        tx.commit()
            .map_err(|e| self.sql_err("commit aggregates", e))?;
        Ok(())
    }

    fn put_aggregates_tx(&self, tx: &Db, run_id: &str, aggs: &[AggregateRecord]) -> Result<()> {
        for a in aggs {
            tx.execute(
                "INSERT INTO aggregates (run_id, task, metric, filter, value, stderr, n, is_group)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (run_id, task, metric, filter) DO UPDATE SET value = excluded.value,
                 stderr = excluded.stderr, n = excluded.n, is_group = excluded.is_group",
                vals![run_id, a.task, a.metric, a.filter, a.value, a.stderr, a.n, a.is_group],
            )
            .map_err(|e| self.sql_err("insert aggregate", e))?;
        }
        Ok(())
    }

    /// All runs, newest first.
    pub fn list_runs(&self) -> Result<Vec<RunSummary>> {
        let conn = self.conn();
        let tasks = if conn.is_postgres() {
            "(SELECT string_agg(task, ',' ORDER BY task) FROM run_tasks t WHERE t.run_id = r.run_id)"
        } else {
            "(SELECT group_concat(task, ',') FROM (SELECT task FROM run_tasks t WHERE t.run_id = r.run_id ORDER BY task))"
        };
        let sql = format!(
            "SELECT r.run_id, r.created_at, r.finished_at, r.status, r.model_name, r.model_location,
                    r.stats_json, r.command, {tasks},
                    (SELECT count(*) FROM samples s WHERE s.run_id = r.run_id)
             FROM runs r ORDER BY r.created_at DESC"
        );
        let rows = conn
            .query(&sql, vals![])
            .map_err(|e| self.sql_err("list runs", e))?;
        let mut out = Vec::new();
        for row in rows {
            let read = || -> crate::db::DbResult<_> {
                Ok((
                    row.get::<String>(0)?,
                    row.get::<String>(1)?,
                    row.get::<Option<String>>(2)?,
                    row.get::<String>(3)?,
                    row.get::<String>(4)?,
                    row.get::<String>(5)?,
                    row.get::<Option<String>>(6)?,
                    row.get::<String>(7)?,
                    row.get::<Option<String>>(8)?,
                    row.get::<i64>(9)?,
                ))
            };
            let (
                run_id,
                created_at,
                finished_at,
                status,
                model_name,
                model_location,
                stats,
                command,
                tasks,
                n,
            ) = read().map_err(|e| self.sql_err("read run", e))?;
            let stats = match stats {
                Some(s) => Some(
                    serde_json::from_str(&s).map_err(|e| self.json_err("runs.stats_json", e))?,
                ),
                None => None,
            };
            let status = RunStatus::parse(&status).ok_or_else(|| StoreError::Invalid {
                path: self.path().to_path_buf(),
                message: format!(
                    "run {run_id} has status {status:?}, which this version does not know: a newer Yardstick wrote this store"
                ),
            })?;
            out.push(RunSummary {
                run_id,
                created_at,
                finished_at,
                status,
                model_name,
                model_location,
                tasks: tasks
                    .map(|t| t.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
                n_samples: n,
                stats,
                command,
            });
        }
        Ok(out)
    }

    /// Aggregates of finished (or all, when `include_unfinished`) runs.
    pub fn list_results(&self, include_unfinished: bool) -> Result<Vec<ResultRow>> {
        let sql = format!(
            "SELECT a.run_id, r.model_name, r.finished_at, a.task, a.metric, a.filter, a.value, a.stderr, a.n, a.is_group
             FROM aggregates a JOIN runs r ON r.run_id = a.run_id {} ORDER BY r.model_name, a.task, a.metric",
            if include_unfinished { "" } else { "WHERE r.status = 'finished'" }
        );
        let rows = self
            .conn()
            .query(&sql, vals![])
            .map_err(|e| self.sql_err("list results", e))?;
        rows.iter()
            .map(|r| {
                Ok(ResultRow {
                    run_id: r.get(0)?,
                    model_name: r.get(1)?,
                    finished_at: r.get(2)?,
                    task: r.get(3)?,
                    metric: r.get(4)?,
                    filter: r.get(5)?,
                    value: r.get(6)?,
                    stderr: r.get(7)?,
                    n: r.get(8)?,
                    is_group: r.get(9)?,
                })
            })
            .collect::<crate::db::DbResult<Vec<_>>>()
            .map_err(|e| self.sql_err("read result", e))
    }

    /// Number of stored responses for a model fingerprint.
    pub fn count_responses(&self, model_fingerprint: &str) -> Result<i64> {
        self.conn()
            .query_one(
                "SELECT count(*) FROM responses WHERE model_fingerprint = ?1",
                vals![model_fingerprint],
            )
            .and_then(|r| r.get(0))
            .map_err(|e| self.sql_err("count responses", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str) -> RunRecord {
        RunRecord {
            run_id: id.into(),
            command: "yardstick run".into(),
            model_name: "m".into(),
            model_location: "http://x".into(),
            model_fingerprint: "fp".into(),
            config: serde_json::json!({"tasks": ["a"]}),
            tool_version: "0".into(),
            lm_eval_compat: "0.4.13".into(),
            git_rev: None,
            hardware: serde_json::json!({}),
        }
    }

    #[test]
    fn a_rerun_of_a_finished_run_keeps_its_first_counts() {
        let (_dir, s) = crate::test_store();
        s.begin_run(&run("r1")).unwrap();
        s.end_run(
            "r1",
            RunStatus::Finished,
            &serde_json::json!({"requests_sent": 10, "requests_reused": 0}),
        )
        .unwrap();
        assert!(s.begin_run(&run("r1")).unwrap(), "a rerun");
        s.end_run(
            "r1",
            RunStatus::Finished,
            &serde_json::json!({"requests_sent": 0, "requests_reused": 10}),
        )
        .unwrap();
        let runs = s.list_runs().unwrap();
        let stats = runs[0].stats.as_ref().unwrap();
        assert_eq!(stats["requests_sent"], 10, "{stats}");
        assert_eq!(
            stats["last_rerun"]["stats"]["requests_reused"], 10,
            "{stats}"
        );
        assert!(s.delete_run("r1").unwrap().is_some());
        assert!(s.list_runs().unwrap().is_empty());
        assert!(s.delete_run("r1").unwrap().is_none());
    }

    #[test]
    fn responses_round_trip_and_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = yardstick_testkit::test_store(dir.path(), "s.db");
        {
            let s = Store::open_location(&path).unwrap();
            assert!(!s.begin_run(&run("r1")).unwrap());
            s.put_responses(&[StoredResponse {
                request_key: "k1".into(),
                model_fingerprint: "fp".into(),
                kind: "loglikelihood".into(),
                request: serde_json::json!({"prompt": [1, 2]}),
                response: serde_json::json!({"logprob": -1.5, "is_greedy": true}),
                raw: None,
                latency_ms: Some(3.0),
                prompt_tokens: Some(2),
                completion_tokens: Some(1),
            }])
            .unwrap();
        }
        let s = Store::open_location(&path).unwrap();
        assert!(
            s.begin_run(&run("r1")).unwrap(),
            "second begin of the same run id is a resume"
        );
        let got = s.get_responses(&["k1", "k2"]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got["k1"]["logprob"], -1.5);
        assert_eq!(s.count_responses("fp").unwrap(), 1);
        s.put_scores(
            "r1",
            "t",
            &[],
            &[AggregateRecord {
                task: "t".into(),
                metric: "acc".into(),
                filter: "none".into(),
                value: Some(0.5),
                stderr: Some(0.1),
                n: 10,
                is_group: false,
            }],
        )
        .unwrap();
        assert!(
            s.list_results(false).unwrap().is_empty(),
            "unfinished runs are not on the leaderboard"
        );
        s.end_run("r1", RunStatus::Finished, &serde_json::json!({}))
            .unwrap();
        let res = s.list_results(false).unwrap();
        assert_eq!(res.len(), 1);
        assert_eq!(res[0].value, Some(0.5));
        let runs = s.list_runs().unwrap();
        assert_eq!(runs[0].status, RunStatus::Finished);
    }

    /// A failed, interrupted or fully reused rerun of a finished run keeps it finished, its results listed and
    /// its first statistics; the attempt is recorded beside them.
    #[test]
    fn rerun_of_a_finished_run_keeps_its_results_and_history() {
        let (_dir, s) = crate::test_store();
        s.begin_run(&run("r1")).unwrap();
        s.put_aggregates(
            "r1",
            &[AggregateRecord {
                task: "t".into(),
                metric: "acc".into(),
                filter: "none".into(),
                value: Some(0.5),
                stderr: Some(0.1),
                n: 10,
                is_group: false,
            }],
        )
        .unwrap();
        s.end_run(
            "r1",
            RunStatus::Finished,
            &serde_json::json!({"requests_sent": 40}),
        )
        .unwrap();
        for ending in [
            RunStatus::Failed,
            RunStatus::Interrupted,
            RunStatus::Finished,
        ] {
            assert!(s.begin_run(&run("r1")).unwrap());
            assert_eq!(
                s.list_results(false).unwrap().len(),
                1,
                "results stay listed while the finished run is run again"
            );
            s.end_run("r1", ending, &serde_json::json!({"requests_sent": 0}))
                .unwrap();
            let runs = s.list_runs().unwrap();
            assert_eq!(
                runs[0].status,
                RunStatus::Finished,
                "after a {ending} rerun"
            );
            let stats = runs[0].stats.as_ref().unwrap();
            assert_eq!(stats["requests_sent"], 40, "first run's counts kept");
            assert_eq!(stats["last_rerun"]["status"], ending.as_str());
            assert_eq!(s.list_results(false).unwrap().len(), 1);
        }
        // an unfinished run does take the new status
        s.begin_run(&run("r2")).unwrap();
        s.end_run("r2", RunStatus::Interrupted, &serde_json::json!({}))
            .unwrap();
        let r2 = s
            .list_runs()
            .unwrap()
            .into_iter()
            .find(|r| r.run_id == "r2")
            .unwrap();
        assert_eq!(r2.status, RunStatus::Interrupted);
        assert!(s
            .end_run("nope", RunStatus::Failed, &serde_json::json!({}))
            .is_err());
    }
}
