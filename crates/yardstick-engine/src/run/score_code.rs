//! Scoring a code benchmark (lm-eval's humaneval `pass_at_k`, mbpp `pass_at_1`): each candidate of a
//! document — its filtered responses — followed by a newline and the document's target (the tests) is one
//! program; all programs of the task are run in the sandbox at once (or found in the ledger), then each
//! document gets code_eval's unbiased pass@k over its candidates. Each document's time limit is code_eval's
//! 3 s, raised where the benchmark's own solution runs slowly on this machine (it is run first, once, and
//! kept in the ledger like every program).

use std::cell::Cell;
use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};
use yardstick_core::Target;
use yardstick_tasks::{DocRequests, MetricFn, PreparedTask, ResolvedMetric};

use super::code_exec::{CodeExec, CodeJob, CodeVerdict};
use super::EvalError;
use crate::scoring::generation::{pass_at_k, pass_at_k_ks};
use crate::scoring::{DocMetrics, Filtered, MetricValue};

pub(super) struct CodeScorer<'a> {
    exec: &'a CodeExec,
    metrics: Vec<(ResolvedMetric, MetricFn)>,
    verdicts: HashMap<CodeJob, CodeVerdict>,
    /// Each document's time limit (by doc id), and its reference solution's time when it was measured.
    limits: HashMap<usize, (Duration, Option<f64>)>,
    ran: Cell<usize>,
}

impl<'a> CodeScorer<'a> {
    /// The scorer of a task whose metrics run code; `None` when none does.
    pub(super) fn new(
        task: &PreparedTask,
        exec: Option<&'a CodeExec>,
    ) -> Result<Option<CodeScorer<'a>>, EvalError> {
        let metrics = task.metrics();
        let code: Vec<(ResolvedMetric, MetricFn)> = metrics
            .iter()
            .filter_map(|m| {
                m.function
                    .filter(|f| f.executes_code())
                    .map(|f| (m.clone(), f))
            })
            .collect();
        if code.is_empty() {
            return Ok(None);
        }
        if code.len() != metrics.len() {
            return Err(EvalError::Unsupported(format!(
                "task {}: metrics that run code cannot be mixed with others in one task",
                task.name()
            )));
        }
        let exec = exec.ok_or_else(|| {
            EvalError::Internal(format!(
                "task {} runs model-written code but the run has no sandbox",
                task.name()
            ))
        })?;
        Ok(Some(CodeScorer {
            exec,
            metrics: code,
            verdicts: HashMap::new(),
            limits: HashMap::new(),
            ran: Cell::new(0),
        }))
    }

    /// Run (or look up) every program of the task: `filtered[chain][doc]` are the filtered responses.
    pub(super) fn execute(
        &mut self,
        task: &PreparedTask,
        docs: &[DocRequests],
        filtered: &[Vec<Vec<Filtered>>],
    ) -> Result<(), EvalError> {
        self.measure_references(task, docs)?;
        let mut jobs = Vec::new();
        for per_doc in filtered {
            for (d, f) in docs.iter().zip(per_doc) {
                jobs.extend(self.jobs_of(task, d, f)?);
            }
        }
        jobs.sort();
        jobs.dedup();
        let verdicts = self.exec.check_all(&jobs)?;
        self.ran
            .set(self.ran.get() + verdicts.iter().filter(|v| !v.cached).count());
        self.verdicts = jobs.into_iter().zip(verdicts).collect();
        Ok(())
    }

    /// Run each document's reference solution with its tests (generously limited) and set the document's
    /// time limit from its time; a document without one, or whose reference fails, keeps code_eval's limit.
    fn measure_references(
        &mut self,
        task: &PreparedTask,
        docs: &[DocRequests],
    ) -> Result<(), EvalError> {
        let generous = Duration::from_secs(60);
        let f = self.metrics[0].1;
        let mut refs = Vec::new();
        for d in docs {
            if let (Some(solution), Target::Text(tests)) = (f.reference_solution(&d.doc), &d.target)
            {
                refs.push((
                    d.doc_id,
                    CodeJob {
                        program: format!("{solution}\n{tests}"),
                        timeout: generous,
                    },
                ));
            }
        }
        let jobs: Vec<CodeJob> = refs.iter().map(|(_, j)| j.clone()).collect();
        let verdicts = self.exec.check_all(&jobs)?;
        self.ran
            .set(self.ran.get() + verdicts.iter().filter(|v| !v.cached).count());
        let mut failing = Vec::new();
        for ((doc_id, _), v) in refs.iter().zip(&verdicts) {
            if v.passed() {
                let took = Duration::from_secs_f64(v.wall_ms / 1e3);
                let limit = self.exec.timeout_for_reference(took);
                self.limits.insert(*doc_id, (limit, Some(v.wall_ms)));
            } else {
                failing.push(*doc_id);
            }
        }
        if !failing.is_empty() {
            tracing::warn!(
                "task {}: the reference solution of {} documents fails its own tests here (docs {:?}…); they \
                 keep code_eval's fixed limit",
                task.name(),
                failing.len(),
                &failing[..failing.len().min(5)]
            );
        }
        Ok(())
    }

    fn jobs_of(
        &self,
        task: &PreparedTask,
        d: &DocRequests,
        filtered: &[Filtered],
    ) -> Result<Vec<CodeJob>, EvalError> {
        let timeout = self
            .limits
            .get(&d.doc_id)
            .map_or(self.exec.timeout(), |(t, _)| *t);
        Ok(programs_of(task, d, filtered)?
            .into_iter()
            .map(|program| CodeJob { program, timeout })
            .collect())
    }

    /// The document's jobs, each with its verdict.
    fn verdicts_of(
        &self,
        task: &PreparedTask,
        d: &DocRequests,
        filtered: &[Filtered],
    ) -> Result<Vec<(CodeJob, &CodeVerdict)>, EvalError> {
        self.jobs_of(task, d, filtered)?
            .into_iter()
            .map(|j| match self.verdicts.get(&j) {
                Some(v) => Ok((j, v)),
                None => Err(EvalError::Internal(format!(
                    "task {} doc {}: a program was not run",
                    task.name(),
                    d.doc_id
                ))),
            })
            .collect()
    }

    /// The document's metrics, as lm-eval's generic branch reports them for these functions.
    pub(super) fn score(
        &self,
        task: &PreparedTask,
        d: &DocRequests,
        filtered: &[Filtered],
    ) -> Result<DocMetrics, EvalError> {
        let verdicts = self.verdicts_of(task, d, filtered)?;
        let n = verdicts.len() as u64;
        let c = verdicts.iter().filter(|(_, v)| v.passed()).count() as u64;
        let bad = |why: String| {
            EvalError::Unsupported(format!("task {} doc {}: {why}", task.name(), d.doc_id))
        };
        let mut out = Vec::new();
        for (m, f) in &self.metrics {
            match f {
                MetricFn::CodeEvalPassAtK => {
                    // code_eval reports pass@k only for the k not above the number of candidates
                    for k in pass_at_k_ks(m).map_err(&bad)? {
                        if k <= n {
                            let v = pass_at_k(n, c, k).map_err(&bad)?;
                            out.push((format!("pass@{k}"), MetricValue::float(v)));
                        }
                    }
                }
                MetricFn::CodeEvalPassAt1 => {
                    let v = pass_at_k(n, c, 1).map_err(|_| {
                        bad("pass_at_1 needs a candidate (Python raises KeyError 'pass@1')".into())
                    })?;
                    out.push((m.name.clone(), MetricValue::float(v)));
                }
            }
        }
        Ok(out)
    }

    /// What the store keeps per sample about its programs: each candidate's verdict, why the run itself
    /// failed (if it did), exit status, time and whether the ledger had it.
    pub(super) fn record(
        &self,
        task: &PreparedTask,
        d: &DocRequests,
        filtered: &[Filtered],
    ) -> Result<Value, EvalError> {
        let verdicts = self.verdicts_of(task, d, filtered)?;
        let reference_ms = self.limits.get(&d.doc_id).and_then(|(_, r)| *r);
        Ok(Value::Array(
            verdicts
                .iter()
                .map(|(j, v)| {
                    json!({
                        "exec_key": self.exec.key(j),
                        "result": v.result,
                        "failure": v.failure,
                        "exit_code": v.exit_code,
                        "signal": v.signal,
                        "stderr": v.stderr,
                        "wall_ms": v.wall_ms,
                        "timeout_s": j.timeout.as_secs_f64(),
                        "reference_ms": reference_ms,
                    })
                })
                .collect(),
        ))
    }

    pub(super) fn report(&self, task: &PreparedTask) {
        let total = self.verdicts.len();
        let passed = self.verdicts.values().filter(|v| v.passed()).count();
        let refs = self.limits.len();
        tracing::info!(
            "task {}: {total} distinct candidate programs, {passed} passed; {refs} reference solutions timed; \
             {} programs run now in the sandbox, the rest found in the ledger",
            task.name(),
            self.ran.get(),
        );
    }
}

/// The programs of one document: each candidate, a newline, the target (code_eval's `check_program`).
fn programs_of(
    task: &PreparedTask,
    d: &DocRequests,
    filtered: &[Filtered],
) -> Result<Vec<String>, EvalError> {
    let tests = match &d.target {
        Target::Text(t) => t,
        other => {
            return Err(EvalError::Unsupported(format!(
                "task {} doc {}: a code metric needs the tests as one text target, got {other:?}",
                task.name(),
                d.doc_id
            )))
        }
    };
    let candidates: Vec<&String> = match filtered.first() {
        Some(Filtered::One(s)) => vec![s],
        Some(Filtered::Many(v)) => v.iter().collect(),
        None => Vec::new(),
    };
    Ok(candidates
        .into_iter()
        .map(|c| format!("{c}\n{tests}"))
        .collect())
}
