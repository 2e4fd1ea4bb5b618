//! Reading one run in detail, for the web UI's run and sample pages: the run's full record, its tasks
//! (config, hashes, progress), its aggregates and its samples. Read-only.

use crate::db::{Db, DbResult, Row, Val};
use crate::ledger::{AggregateRecord, RunRecord, RunStatus, RunTaskRecord, SampleRecord};
use crate::{vals, Result, Store, StoreError};

/// Everything stored about one run, without its samples.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub record: RunRecord,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
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

/// One stored sample of a run: the record a run wrote, and the run it belongs to.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SampleRow {
    pub run_id: String,
    #[serde(flatten)]
    pub sample: SampleRecord,
}

/// A sample row as read, its JSON columns still text.
struct SampleText {
    row: SampleRow,
    /// The compressed record (codec).
    record: Vec<u8>,
    keys: String,
    shots: String,
    metrics: String,
}

fn sample_text(r: &Row) -> DbResult<SampleText> {
    Ok(SampleText {
        row: SampleRow {
            run_id: r.get(0)?,
            sample: SampleRecord {
                task: r.get(1)?,
                doc_id: r.get(2)?,
                filter: r.get(3)?,
                doc_hash: r.get(4)?,
                prompt_hash: r.get(5)?,
                target_hash: r.get(6)?,
                record: serde_json::Value::Null,
                request_keys: Vec::new(),
                fewshot_ids: Vec::new(),
                metrics: serde_json::Value::Null,
            },
        },
        record: r.get(7)?,
        keys: r.get(8)?,
        shots: r.get(9)?,
        metrics: r.get(10)?,
    })
}

/// A run row as read, its JSON columns still text.
struct RunText {
    detail: RunDetail,
    status: String,
    config: String,
    hardware: String,
    stats: Option<String>,
}

fn run_text(r: &Row) -> DbResult<RunText> {
    Ok(RunText {
        detail: RunDetail {
            record: RunRecord {
                run_id: r.get(0)?,
                command: r.get(4)?,
                model_name: r.get(5)?,
                model_location: r.get(6)?,
                model_fingerprint: r.get(7)?,
                config: serde_json::Value::Null,
                tool_version: r.get(9)?,
                lm_eval_compat: r.get(10)?,
                git_rev: r.get(11)?,
                hardware: serde_json::Value::Null,
            },
            created_at: r.get(1)?,
            finished_at: r.get(2)?,
            status: RunStatus::Running,
            stats: None,
            tasks: Vec::new(),
            aggregates: Vec::new(),
        },
        status: r.get(3)?,
        config: r.get(8)?,
        hardware: r.get(12)?,
        stats: r.get(13)?,
    })
}

impl Store {
    fn parse_json<T: serde::de::DeserializeOwned>(&self, what: &str, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| self.json_err(what, e))
    }

    fn sample_from_text(
        &self,
        conn: &Db,
        dicts: &mut crate::delta::Dicts,
        t: SampleText,
    ) -> Result<SampleRow> {
        let record = dicts.unpack(conn, &t.record).map_err(|e| {
            self.invalid(format!(
                "sample {} doc {} of run {}: {e}",
                t.row.sample.task, t.row.sample.doc_id, t.row.run_id
            ))
        })?;
        Ok(SampleRow {
            run_id: t.row.run_id,
            sample: SampleRecord {
                record: self.parse_json("samples.record", &record)?,
                request_keys: self.parse_json("samples.request_keys_json", &t.keys)?,
                fewshot_ids: self.parse_json("samples.fewshot_ids_json", &t.shots)?,
                metrics: self.parse_json("samples.metrics_json", &t.metrics)?,
                ..t.row.sample
            },
        })
    }

    /// One run's record, tasks with progress and aggregates; None when no run has this id.
    pub fn run_detail(&self, run_id: &str) -> Result<Option<RunDetail>> {
        let raw = self
            .conn()
            .query_opt(
                "SELECT run_id, created_at, finished_at, status, command, model_name, model_location,
                        model_fingerprint, config_json, tool_version, lm_eval_compat, git_rev, hardware_json,
                        stats_json
                 FROM runs WHERE run_id = ?1",
                vals![run_id],
            )
            .and_then(|r| r.as_ref().map(run_text).transpose())
            .map_err(|e| self.sql_err("read run", e))?;
        let Some(t) = raw else {
            return Ok(None);
        };
        let id = t.detail.record.run_id.clone();
        let status = RunStatus::parse(&t.status).ok_or_else(|| StoreError::Invalid {
            path: self.path().to_path_buf(),
            message: format!(
                "run {id} has status {:?}, which this version does not know: a newer Yardstick wrote this store",
                t.status
            ),
        })?;
        let stats = match &t.stats {
            Some(s) => Some(self.parse_json("runs.stats_json", s)?),
            None => None,
        };
        Ok(Some(RunDetail {
            record: RunRecord {
                config: self.parse_json("runs.config_json", &t.config)?,
                hardware: self.parse_json("runs.hardware_json", &t.hardware)?,
                ..t.detail.record
            },
            status,
            stats,
            tasks: self.run_tasks(&id)?,
            aggregates: self.run_aggregates(&id)?,
            ..t.detail
        }))
    }

    fn run_tasks(&self, run_id: &str) -> Result<Vec<TaskProgress>> {
        let rows = self
            .conn()
            .query(
                "SELECT t.task, t.version, t.num_fewshot, t.task_hash, t.dataset_hash, t.n_docs, t.config_json,
                        (SELECT count(DISTINCT s.doc_id) FROM samples s WHERE s.run_id = t.run_id AND s.task = t.task)
                 FROM run_tasks t WHERE t.run_id = ?1 ORDER BY t.task",
                vals![run_id],
            )
            .map_err(|e| self.sql_err("list run tasks", e))?;
        let rows = rows.iter().map(|r| -> DbResult<_> {
            Ok((
                r.get::<String>(0)?,
                r.get::<Option<String>>(1)?,
                r.get::<i64>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
                r.get::<i64>(5)?,
                r.get::<String>(6)?,
                r.get::<i64>(7)?,
            ))
        });
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
        Ok(self
            .list_results(true)?
            .into_iter()
            .filter(|r| r.run_id == run_id)
            .map(|r| AggregateRecord {
                task: r.task,
                metric: r.metric,
                filter: r.filter,
                value: r.value,
                stderr: r.stderr,
                n: r.n,
                is_group: r.is_group,
            })
            .collect())
    }

    fn query_samples(&self, filter: &str, params: &[Val]) -> Result<Vec<SampleRow>> {
        let sql = format!(
            "SELECT {} FROM samples WHERE {filter}",
            crate::ledger::SAMPLE_COLUMNS.join(", ")
        );
        let conn = self.conn();
        let rows = conn
            .query(&sql, params)
            .map_err(|e| self.sql_err("read samples", e))?;
        let mut out = Vec::new();
        let mut dicts = crate::delta::Dicts::default();
        for row in &rows {
            let text = sample_text(row).map_err(|e| self.sql_err("read sample", e))?;
            out.push(self.sample_from_text(&conn, &mut dicts, text)?);
        }
        Ok(out)
    }

    /// Samples of one task of a run in document order, `limit` from `offset`.
    pub fn run_samples(
        &self,
        run_id: &str,
        task: &str,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<SampleRow>> {
        let (limit, offset) = (limit as i64, offset as i64);
        self.query_samples(
            "run_id = ?1 AND task = ?2 ORDER BY doc_id, filter LIMIT ?3 OFFSET ?4",
            vals![run_id, task, limit, offset],
        )
    }

    /// The samples of a run (of one task, or all), ordered by task, doc and filter.
    pub fn samples_of(&self, run_id: &str, task: Option<&str>) -> Result<Vec<SampleRecord>> {
        Ok(self
            .query_samples(
                match task {
                    Some(_) => "run_id = ?1 AND task = ?2 ORDER BY task, doc_id, filter",
                    None => "run_id = ?1 ORDER BY task, doc_id, filter",
                },
                &match task {
                    Some(t) => vec![Val::Text(run_id.into()), Val::Text(t.into())],
                    None => vec![Val::Text(run_id.into())],
                },
            )?
            .into_iter()
            .map(|row| row.sample)
            .collect())
    }

    /// One sample of a run (every filter of the document); empty when there is none.
    pub fn run_sample(&self, run_id: &str, task: &str, doc_id: i64) -> Result<Vec<SampleRow>> {
        self.query_samples(
            "run_id = ?1 AND task = ?2 AND doc_id = ?3 ORDER BY filter",
            vals![run_id, task, doc_id],
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::{AggregateRecord, RunRecord, RunStatus, RunTaskRecord, SampleRecord};
    use serde_json::json;

    #[test]
    fn a_run_reads_back_with_tasks_progress_aggregates_and_samples() {
        let (_dir, store) = crate::test_store();
        let run = RunRecord {
            run_id: "r1".into(),
            command: "yardstick run".into(),
            model_name: "m".into(),
            model_location: "http://x".into(),
            model_fingerprint: "fp".into(),
            config: json!({"limit": 3}),
            tool_version: "0".into(),
            lm_eval_compat: "0.4.13".into(),
            git_rev: None,
            hardware: json!({"cpus": 2}),
        };
        store.begin_run(&run).expect("begin");
        let task = RunTaskRecord {
            task: "t".into(),
            version: None,
            num_fewshot: 0,
            task_hash: "th".into(),
            dataset_hash: "dh".into(),
            n_docs: 3,
            config: json!({}),
        };
        store.put_run_task("r1", &task).expect("task");
        let sample = |doc_id: i64, filter: &str| SampleRecord {
            task: "t".into(),
            doc_id,
            filter: filter.into(),
            doc_hash: format!("d{doc_id}"),
            prompt_hash: "p".into(),
            target_hash: "g".into(),
            record: json!({"doc_id": doc_id}),
            request_keys: vec!["k".into()],
            fewshot_ids: vec![],
            metrics: json!({"acc": doc_id % 2}),
        };
        let agg = AggregateRecord {
            task: "t".into(),
            metric: "acc".into(),
            filter: "none".into(),
            value: Some(0.5),
            stderr: Some(0.1),
            n: 2,
            is_group: false,
        };
        let samples = [sample(1, "b"), sample(0, "a"), sample(1, "a")];
        store
            .put_scores("r1", "t", &samples, &[agg])
            .expect("scores");

        let d = store.run_detail("r1").expect("read").expect("run exists");
        assert_eq!(d.status, RunStatus::Running);
        assert_eq!(d.record.config, json!({"limit": 3}));
        assert_eq!(d.tasks.len(), 1);
        assert_eq!((d.tasks[0].docs_done, d.tasks[0].task.n_docs), (2, 3));
        assert_eq!(d.aggregates.len(), 1);
        assert_eq!(d.aggregates[0].value, Some(0.5));
        assert!(store.run_detail("nope").expect("read").is_none());

        let all = store.run_samples("r1", "t", 10, 0).expect("samples");
        let order: Vec<(i64, &str)> = all
            .iter()
            .map(|s| (s.sample.doc_id, s.sample.filter.as_str()))
            .collect();
        assert_eq!(order, [(0, "a"), (1, "a"), (1, "b")]);
        assert_eq!(
            store.run_samples("r1", "t", 1, 1).expect("page")[0]
                .sample
                .doc_id,
            1
        );
        let one = store.run_sample("r1", "t", 1).expect("sample");
        assert_eq!(one.len(), 2);
        assert_eq!(one[0].sample.metrics, json!({"acc": 1}));
        assert!(store.run_sample("r1", "t", 9).expect("none").is_empty());
    }
}
