//! The preparing thread: one task after another — prepare, tokenise, look up in the ledger, cut into units —
//! handed to the dispatch loop as each is ready, so the first request goes out as soon as the first task is.

use super::plan::{prepare_task, EvalOptions};
use super::requests::{keys_of, plan_units, Encoder, TaskKeys};
use super::sharding::{self, RunMode};
use super::EvalError;
use crate::schedule::{Answer, Unit};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use yardstick_backends::Backend;
use yardstick_store::Store;
use yardstick_tasks::{DocRequests, PreparedTask, TaskConfig};

/// A task ready to run: prepared, tokenised, looked up in the ledger.
pub(crate) struct TaskWork {
    /// Its position in the run's task list.
    pub index: usize,
    pub task: PreparedTask,
    pub docs: Vec<DocRequests>,
    pub keys: TaskKeys,
    /// Responses of this task's requests found in the ledger.
    pub stored: HashMap<String, Answer>,
    /// Requests to send (those neither stored nor planned by an earlier task).
    pub units: Vec<Unit>,
    /// Distinct requests first met in this task, and how many of those were stored.
    pub new_keys: u64,
    pub new_stored: u64,
}

/// Everything the preparing thread needs.
pub(crate) struct Producer {
    pub configs: Vec<TaskConfig>,
    pub opts: EvalOptions,
    pub backend: Arc<dyn Backend>,
    pub store: Arc<Store>,
    pub cancel: Arc<AtomicBool>,
    pub rt: tokio::runtime::Handle,
    /// A shard's run: which shard sends each request of the plan (computed once, when first needed).
    pub owners: std::sync::OnceLock<HashMap<String, usize>>,
}

impl Producer {
    /// Prepare, tokenise and look up each task in turn, handing each over as it is ready; stops when the
    /// receiver is gone (the run ended or was interrupted) or at the first error (which it sends).
    pub fn run(self, tx: tokio::sync::mpsc::Sender<Result<TaskWork, EvalError>>) {
        let mut seen: HashSet<String> = HashSet::new();
        for (index, cfg) in self.configs.iter().enumerate() {
            if self.cancel.load(Ordering::SeqCst) {
                return;
            }
            let work = self.one(index, cfg, &mut seen);
            let failed = work.is_err();
            if tx.blocking_send(work).is_err() || failed {
                return;
            }
        }
    }

    fn one(
        &self,
        index: usize,
        cfg: &TaskConfig,
        seen: &mut HashSet<String>,
    ) -> Result<TaskWork, EvalError> {
        let task = prepare_task(cfg, &self.opts)?;
        let mut docs = task.all_docs()?;
        match &self.opts.mode {
            RunMode::Finalize { plan } => return self.finalising(index, task, docs, plan, seen),
            RunMode::Shard { plan, shard } => {
                sharding::shard_docs(plan, *shard, task.name(), &mut docs)?
            }
            RunMode::Whole => {}
        }
        let policy = self.backend.request_policy();
        let fingerprint = self.backend.fingerprint();
        let encoder = Encoder {
            tokenizer: self.backend.tokenizer().map(|t| t.as_ref()),
            policy: &policy,
            fingerprint: &fingerprint,
            rt: &self.rt,
        };
        let mut plan = encoder.task(task.name(), &docs)?;
        if let RunMode::Shard {
            plan: run_plan,
            shard,
        } = &self.opts.mode
        {
            let owners = self.owners.get_or_init(|| {
                run_plan
                    .owners()
                    .into_iter()
                    .map(|(k, s)| (k.to_string(), s))
                    .collect()
            });
            sharding::own_requests(run_plan, owners, *shard, task.name(), &docs, &mut plan)?;
        }
        let stored = {
            let mut uniq = HashSet::new();
            let task_keys: Vec<&str> = plan
                .iter()
                .flatten()
                .flatten()
                .map(|r| r.key().as_str())
                .filter(|k| uniq.insert(*k))
                .collect();
            self.look_up(&task_keys)?
        };
        let mut new_keys = 0;
        let mut new_stored = 0;
        let mut uniq = HashSet::new();
        for r in plan.iter().flatten().flatten() {
            let k = r.key().as_str();
            if uniq.insert(k) && !seen.contains(k) {
                new_keys += 1;
                new_stored += u64::from(stored.contains_key(k));
            }
        }
        drop(uniq);
        seen.extend(stored.keys().cloned());
        let units = plan_units(&plan, seen);
        Ok(TaskWork {
            index,
            task,
            docs,
            keys: keys_of(plan),
            stored,
            units,
            new_keys,
            new_stored,
        })
    }

    /// A task finalised from the ledger: its keys from the plan, every response stored, nothing to send.
    fn finalising(
        &self,
        index: usize,
        task: PreparedTask,
        docs: Vec<DocRequests>,
        plan: &sharding::RunPlan,
        seen: &mut HashSet<String>,
    ) -> Result<TaskWork, EvalError> {
        let keys = sharding::planned_keys(plan, task.name(), &docs)?;
        let mut uniq = HashSet::new();
        let task_keys: Vec<&str> = keys
            .iter()
            .flatten()
            .flatten()
            .map(|k| k.as_str())
            .filter(|k| uniq.insert(*k))
            .collect();
        let stored = self.look_up(&task_keys)?;
        let missing = task_keys.len() - stored.len();
        if missing > 0 {
            return Err(EvalError::Plan(format!(
                "task {}: {missing} of its {} planned responses are not in the store; run the plan's missing \
                 shards (or merge their stores) before finalising",
                task.name(),
                task_keys.len()
            )));
        }
        let new_keys = task_keys.iter().filter(|k| !seen.contains(**k)).count() as u64;
        seen.extend(task_keys.iter().map(|k| k.to_string()));
        Ok(TaskWork {
            index,
            task,
            docs,
            keys,
            stored,
            units: Vec::new(),
            new_keys,
            new_stored: new_keys,
        })
    }

    fn look_up(&self, keys: &[&str]) -> Result<HashMap<String, Answer>, EvalError> {
        let mut out = HashMap::with_capacity(keys.len());
        for (k, v) in self.store.get_responses(keys)? {
            let answer = Answer::from_json(v).map_err(|e| {
                EvalError::Internal(format!("stored response {k} cannot be read: {e}"))
            })?;
            out.insert(k, answer);
        }
        Ok(out)
    }
}
