//! The state of a run in flight: which responses are known (from the ledger or answered now), which tasks
//! wait for which requests, the counts the progress line shows, and the scoring of each task as soon as its
//! last response arrives.

use super::producer::TaskWork;
use super::score::{score_task_with, DocResults};
use super::EvalError;
use crate::output;
use crate::schedule::{Answer, Progress, TaskWorkload, Unit};
use crate::scoring::NumericEnv;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use yardstick_core::{LoglikelihoodResult, RequestArgs, RequestKey};
use yardstick_store::ledger::AggregateRecord;
use yardstick_store::Store;

/// A task admitted to the dispatcher, waiting for its last responses.
struct Admitted {
    work: TaskWork,
    outstanding: usize,
}

/// Responses known to this run, tasks waiting for some, and the request counts.
pub(crate) struct RunState {
    known: HashMap<String, Answer>,
    admitted: HashMap<usize, Admitted>,
    waiters: HashMap<String, Vec<usize>>,
    /// Estimated requests of each task (from its first document), and of the tasks not yet prepared.
    estimates: Vec<u64>,
    estimate_left: u64,
    /// Distinct requests of the tasks prepared so far, and how many of them the ledger held.
    pub total: u64,
    pub reused: u64,
    /// Whether the last task has been prepared.
    pub all_prepared: bool,
}

impl RunState {
    pub fn new(estimates: Vec<u64>) -> RunState {
        RunState {
            known: HashMap::new(),
            admitted: HashMap::new(),
            waiters: HashMap::new(),
            estimate_left: estimates.iter().sum(),
            all_prepared: estimates.is_empty(),
            estimates,
            total: 0,
            reused: 0,
        }
    }

    /// Requests expected in all: those of the prepared tasks plus the estimate of the rest.
    pub fn expected(&self) -> u64 {
        self.total + self.estimate_left
    }

    /// Take a prepared task: count it, remember what the ledger had, and return the units to send and the
    /// task itself when nothing of it is outstanding (then it can be scored at once).
    pub fn admit(
        &mut self,
        mut work: TaskWork,
        progress: &dyn Progress,
    ) -> (Vec<Unit>, Option<TaskWork>) {
        self.total += work.new_keys;
        self.reused += work.new_stored;
        let estimate = self.estimates.get(work.index).copied().unwrap_or(0);
        self.estimate_left = self.estimate_left.saturating_sub(estimate);
        self.all_prepared = work.index + 1 >= self.estimates.len();
        progress.planned(self.expected(), self.reused, self.all_prepared);
        progress.task_admitted(
            work.index,
            &TaskWorkload::of_units(work.task.name(), &work.units),
        );
        self.known.extend(work.stored.drain());
        let mut outstanding = 0;
        let mut counted = HashSet::new();
        for k in work.keys.iter().flatten().flatten() {
            if !self.known.contains_key(k.as_str()) && counted.insert(k.as_str()) {
                self.waiters
                    .entry(k.0.clone())
                    .or_default()
                    .push(work.index);
                outstanding += 1;
            }
        }
        drop(counted);
        let units = std::mem::take(&mut work.units);
        if outstanding == 0 {
            return (units, Some(work));
        }
        self.admitted
            .insert(work.index, Admitted { work, outstanding });
        (units, None)
    }

    /// Record answered requests; returns the tasks that now have every response.
    pub fn answered(&mut self, answers: Vec<(RequestKey, Answer)>) -> Vec<TaskWork> {
        for (key, answer) in answers {
            for w in self.waiters.remove(key.as_str()).unwrap_or_default() {
                if let Some(a) = self.admitted.get_mut(&w) {
                    a.outstanding -= 1;
                }
            }
            self.known.insert(key.0, answer);
        }
        let ready: Vec<usize> = self
            .admitted
            .iter()
            .filter(|(_, a)| a.outstanding == 0)
            .map(|(i, _)| *i)
            .collect();
        ready
            .into_iter()
            .filter_map(|i| self.admitted.remove(&i).map(|a| a.work))
            .collect()
    }

    /// Each document's results, from the known responses (a rolling request's windows summed, a
    /// generation's repeats in order).
    pub fn results_of(&self, work: &TaskWork) -> Result<Vec<DocResults>, EvalError> {
        work.keys
            .iter()
            .zip(&work.docs)
            .map(|(doc, d)| {
                let mut out = DocResults::default();
                for (reqs, inst) in doc.iter().zip(&d.instances) {
                    if let RequestArgs::GenerateUntil { .. } = inst.args {
                        out.generations.push(self.texts(reqs)?);
                        out.request_keys.extend(reqs.iter().map(|k| k.0.clone()));
                        continue;
                    }
                    let mut sum = LoglikelihoodResult {
                        logprob: 0.0,
                        is_greedy: true,
                    };
                    for k in reqs {
                        let r = self
                            .known
                            .get(k.as_str())
                            .and_then(Answer::loglikelihood)
                            .ok_or_else(|| {
                                EvalError::Internal(format!(
                                    "no log-likelihood response for request {k}"
                                ))
                            })?;
                        sum.logprob += r.logprob;
                        sum.is_greedy &= r.is_greedy;
                        out.request_keys.push(k.0.clone());
                    }
                    out.instances.push(sum);
                }
                Ok(out)
            })
            .collect()
    }

    fn texts(&self, keys: &[RequestKey]) -> Result<Vec<String>, EvalError> {
        keys.iter()
            .map(|k| match self.known.get(k.as_str()) {
                Some(Answer::Generation { text, .. }) => Ok(text.clone()),
                _ => Err(EvalError::Internal(format!(
                    "no generation response for request {k}"
                ))),
            })
            .collect()
    }
}

/// Scores tasks off the async workers, storing each task's samples and aggregates and writing its samples
/// file (as a `.partial` file until the run finishes).
pub(crate) struct TaskScorer {
    pub store: Arc<Store>,
    pub run_id: String,
    pub partial_dir: Option<PathBuf>,
    pub bootstrap_iters: i64,
    pub env: NumericEnv,
    /// The sandbox for tasks whose metrics run code.
    pub code: Option<Arc<super::code_exec::CodeExec>>,
}

pub(crate) type ScoringSet = tokio::task::JoinSet<Result<(usize, output::TaskOutput), EvalError>>;

/// Where a task's samples wait until the run finishes.
pub(crate) fn partial_file(dir: &std::path::Path, task: &str) -> PathBuf {
    dir.join(format!(".samples_{task}.jsonl.partial"))
}

impl TaskScorer {
    pub fn spawn(&self, set: &mut ScoringSet, work: TaskWork, results: Vec<DocResults>) {
        let store = self.store.clone();
        let run_id = self.run_id.clone();
        let partial = self
            .partial_dir
            .as_ref()
            .map(|d| partial_file(d, work.task.name()));
        let (bootstrap_iters, env, code) = (self.bootstrap_iters, self.env, self.code.clone());
        set.spawn_blocking(move || {
            let task = &work.task;
            let scored = score_task_with(
                task,
                &work.docs,
                &results,
                bootstrap_iters,
                env,
                code.as_deref(),
            )?;
            let aggs: Vec<AggregateRecord> = scored
                .output
                .aggregate
                .metrics
                .iter()
                .map(|m| AggregateRecord {
                    task: task.name().to_string(),
                    metric: m.metric.clone(),
                    filter: m.filter.clone(),
                    value: Some(m.value),
                    stderr: m.stderr.value(),
                    n: m.count as i64,
                    is_group: false,
                })
                .collect();
            store.put_scores(&run_id, task.name(), &scored.samples, &aggs)?;
            if let Some(path) = partial {
                output::write_lines(&path, scored.lines)?;
            }
            Ok((work.index, scored.output))
        });
    }
}
