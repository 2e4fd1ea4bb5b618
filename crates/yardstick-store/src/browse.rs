//! Reading one run in detail, for the web UI's run and sample pages: the run's full record, its tasks
//! (config, hashes, progress), its aggregates and its samples. Read-only.

use crate::ledger::{AggregateRecord, RunStatus, RunTaskRecord};
use crate::{Result, Store, StoreError};
use rusqlite::{params, OptionalExtension};

/// Everything stored about one run, without its samples.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunDetail {
    pub run_id: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub command: String,
    pub model_name: String,
    pub model_location: String,
    pub model_fingerprint: String,
    pub config: serde_json::Value,
    pub tool_version: String,
    pub lm_eval_compat: String,
    pub git_rev: Option<String>,
    pub hardware: serde_json::Value,
    pub stats: Option<serde_json::Value>,
    pub tasks: Vec<TaskProgress>,
    pub aggregates: Vec<AggregateRecord>,
}

/// A task of a run and how many of its documents have stored samples.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TaskProgress {
    #[serde(flatten)]
    pub task: RunTaskRecord,
    /// Distinct documents with at least one stored sample.
    pub docs_done: i64,
}

/// One stored sample of a run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SampleRow {
    pub run_id: String,
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

const SAMPLE_COLUMNS: &str =
    "run_id, task, doc_id, filter, doc_hash, prompt_hash, target_hash, record_json, \
     request_keys_json, fewshot_ids_json, metrics_json";

type RawSample = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn raw_sample(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSample> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

impl Store {
    fn parse_json<T: serde::de::DeserializeOwned>(&self, what: &str, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| self.json_err(what, e))
    }

    fn sample_from_raw(&self, raw: RawSample) -> Result<SampleRow> {
        let (run_id, task, doc_id, filter, doc_hash, prompt_hash, target_hash, rec, keys, shots, m) =
            raw;
        Ok(SampleRow {
            record: self.parse_json("samples.record_json", &rec)?,
            request_keys: self.parse_json("samples.request_keys_json", &keys)?,
            fewshot_ids: self.parse_json("samples.fewshot_ids_json", &shots)?,
            metrics: self.parse_json("samples.metrics_json", &m)?,
            run_id,
            task,
            doc_id,
            filter,
            doc_hash,
            prompt_hash,
            target_hash,
        })
    }

    /// One run's record, tasks with progress and aggregates; None when no run has this id.
    pub fn run_detail(&self, run_id: &str) -> Result<Option<RunDetail>> {
        type RawRun = (
            String,
            String,
            Option<String>,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
        );
        let conn = self.conn();
        let raw: Option<RawRun> = conn
            .query_row(
                "SELECT run_id, created_at, finished_at, status, command, model_name, model_location,
                        model_fingerprint, config_json, tool_version, lm_eval_compat, git_rev, hardware_json,
                        stats_json
                 FROM runs WHERE run_id = ?1",
                [run_id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                        r.get(12)?,
                        r.get(13)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.sql_err("read run", e))?;
        let Some((
            id,
            created,
            finished,
            status,
            command,
            model,
            location,
            fp,
            config,
            tool,
            compat,
            git,
            hw,
            stats,
        )) = raw
        else {
            return Ok(None);
        };
        let status = RunStatus::parse(&status).ok_or_else(|| StoreError::Invalid {
            path: self.path().to_path_buf(),
            message: format!(
                "run {id} has status {status:?}, which this version does not know: a newer Yardstick wrote this store"
            ),
        })?;
        let stats = match stats {
            Some(s) => Some(self.parse_json("runs.stats_json", &s)?),
            None => None,
        };
        let tasks = self.run_tasks(&id)?;
        let aggregates = self.run_aggregates(&id)?;
        Ok(Some(RunDetail {
            config: self.parse_json("runs.config_json", &config)?,
            hardware: self.parse_json("runs.hardware_json", &hw)?,
            run_id: id,
            created_at: created,
            finished_at: finished,
            status,
            command,
            model_name: model,
            model_location: location,
            model_fingerprint: fp,
            tool_version: tool,
            lm_eval_compat: compat,
            git_rev: git,
            stats,
            tasks,
            aggregates,
        }))
    }

    fn run_tasks(&self, run_id: &str) -> Result<Vec<TaskProgress>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT t.task, t.version, t.num_fewshot, t.task_hash, t.dataset_hash, t.n_docs, t.config_json,
                        (SELECT count(DISTINCT s.doc_id) FROM samples s WHERE s.run_id = t.run_id AND s.task = t.task)
                 FROM run_tasks t WHERE t.run_id = ?1 ORDER BY t.task",
            )
            .map_err(|e| self.sql_err("list run tasks", e))?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .map_err(|e| self.sql_err("list run tasks", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (task, version, num_fewshot, task_hash, dataset_hash, n_docs, config, done) =
                row.map_err(|e| self.sql_err("read run task", e))?;
            out.push(TaskProgress {
                task: RunTaskRecord {
                    task,
                    version,
                    num_fewshot,
                    task_hash,
                    dataset_hash,
                    n_docs,
                    config: self.parse_json("run_tasks.config_json", &config)?,
                },
                docs_done: done,
            });
        }
        Ok(out)
    }

    fn run_aggregates(&self, run_id: &str) -> Result<Vec<AggregateRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT task, metric, filter, value, stderr, n, is_group FROM aggregates
                 WHERE run_id = ?1 ORDER BY task, metric, filter",
            )
            .map_err(|e| self.sql_err("list aggregates", e))?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok(AggregateRecord {
                    task: r.get(0)?,
                    metric: r.get(1)?,
                    filter: r.get(2)?,
                    value: r.get(3)?,
                    stderr: r.get(4)?,
                    n: r.get(5)?,
                    is_group: r.get(6)?,
                })
            })
            .map_err(|e| self.sql_err("list aggregates", e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.sql_err("read aggregate", e))
    }

    /// Samples of one task of a run in document order, `limit` from `offset`.
    pub fn run_samples(
        &self,
        run_id: &str,
        task: &str,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<SampleRow>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM samples WHERE run_id = ?1 AND task = ?2
             ORDER BY doc_id, filter LIMIT ?3 OFFSET ?4"
        );
        let mut stmt = conn
            .prepare(&sql)
            .map_err(|e| self.sql_err("list samples", e))?;
        let rows = stmt
            .query_map(
                params![run_id, task, limit as i64, offset as i64],
                raw_sample,
            )
            .map_err(|e| self.sql_err("list samples", e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.sample_from_raw(row.map_err(|e| self.sql_err("read sample", e))?)?);
        }
        Ok(out)
    }

    /// One sample of a run (every filter of the document); empty when there is none.
    pub fn run_sample(&self, run_id: &str, task: &str, doc_id: i64) -> Result<Vec<SampleRow>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM samples WHERE run_id = ?1 AND task = ?2 AND doc_id = ?3 ORDER BY filter"
        );
        let mut stmt = conn
            .prepare(&sql)
            .map_err(|e| self.sql_err("read sample", e))?;
        let rows = stmt
            .query_map(params![run_id, task, doc_id], raw_sample)
            .map_err(|e| self.sql_err("read sample", e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.sample_from_raw(row.map_err(|e| self.sql_err("read sample", e))?)?);
        }
        Ok(out)
    }
}
