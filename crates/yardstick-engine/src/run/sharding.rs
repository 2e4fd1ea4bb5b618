//! A run cut into shards for many workers: the plan (every task, document and request key of a run, decided
//! once, content-hashed and immutable), which shard each document belongs to, and the three ways a run can
//! go — whole, one shard (responses only, no scoring), or finalised from the ledger (scoring only, nothing
//! sent).
//!
//! Shard membership depends on the plan alone: a document belongs to shard `h(task, doc id) mod n`, and a
//! request shared by documents of several shards is sent by the shard of the first of them in plan order.
//! Every write is keyed by request key, so a shard computed twice (retried, preempted, or claimed again
//! after its worker died) writes nothing new. Scoring happens once, from the ledger, after every shard is
//! in ([`RunMode::Finalize`]); the results are those of a plain run because the responses are.

use super::plan::{prepare_task, EvalOptions, PreparedRun};
use super::requests::{keys_of, Encoder, TaskKeys};
use super::EvalError;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use yardstick_backends::{
    Backend, BackendError, BoxFuture, GenPrompt, GenerationOutcome, LoglikelihoodOutcome,
    ProbeReport, RequestPolicy, Tokenizer,
};
use yardstick_core::{GenerationParams, ModelRef, RequestKey};
use yardstick_store::Store;

/// The plan file's format tag.
pub const PLAN_FORMAT: &str = "yardstick-plan/1";

/// Every request of a run, cut into shards. Written by `yardstick plan`, read by workers and `finalize`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunPlan {
    pub format: String,
    /// sha256 of the plan's JSON with this field empty: workers check it, and shard records name it.
    pub plan_id: String,
    /// The run id a plain `run` of the same options computes (the finalised run's id).
    pub run_id: String,
    /// The `yardstick run` arguments the plan was made from (what decides the requests).
    pub run_args: Vec<String>,
    pub model: ModelRef,
    pub fingerprint: String,
    pub probe: ProbeReport,
    pub policy: RequestPolicy,
    pub n_shards: usize,
    /// Distinct requests of the plan.
    pub requests: u64,
    pub tasks: Vec<PlanTask>,
}

/// One task of a plan: its documents in evaluation order.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PlanTask {
    pub name: String,
    pub task_hash: String,
    pub dataset_hash: String,
    pub docs: Vec<PlanDoc>,
}

/// One document: its shard and, per instance, the keys of the requests it needs.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PlanDoc {
    pub doc_id: usize,
    pub shard: usize,
    pub keys: Vec<Vec<String>>,
}

/// How a plan is cut.
#[derive(Clone, Copy, Debug)]
pub enum ShardCount {
    /// Exactly this many shards.
    Shards(usize),
    /// About this many requests per shard.
    Size(usize),
}

/// Errors reading or checking a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read the plan {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a Yardstick plan ({detail}); make one with `yardstick plan … --out {path}`"
    )]
    Invalid { path: String, detail: String },
    #[error(
        "the plan {path} was changed after it was made (its content hash is {actual}, it says {stated}); a \
         plan is immutable: make a new one with `yardstick plan`"
    )]
    Tampered {
        path: String,
        stated: String,
        actual: String,
    },
    #[error("cannot write the plan {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The shard of document `doc_id` of `task` among `n_shards`.
pub fn shard_of(task: &str, doc_id: usize, n_shards: usize) -> usize {
    let h = yardstick_core::sha256_hex(format!("{task}\0{doc_id}"));
    let top = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
    (top % n_shards.max(1) as u64) as usize
}

impl RunPlan {
    fn content_hash(&self) -> String {
        let mut body = self.clone();
        body.plan_id = String::new();
        let json = serde_json::to_vec(&body).unwrap_or_default();
        yardstick_core::sha256_hex(&json)
    }

    /// Read a plan and check its format and content hash.
    pub fn load(path: &Path) -> Result<RunPlan, PlanError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| PlanError::Read {
            path: shown.clone(),
            source,
        })?;
        let plan: RunPlan = serde_json::from_slice(&bytes).map_err(|e| PlanError::Invalid {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
        if plan.format != PLAN_FORMAT {
            return Err(PlanError::Invalid {
                path: shown,
                detail: format!(
                    "format {:?}, this Yardstick reads {PLAN_FORMAT:?}",
                    plan.format
                ),
            });
        }
        let actual = plan.content_hash();
        if actual != plan.plan_id {
            return Err(PlanError::Tampered {
                path: shown,
                stated: plan.plan_id,
                actual,
            });
        }
        Ok(plan)
    }

    /// Write the plan (to a temporary file renamed into place: a reader never sees half a plan).
    pub fn write(&self, path: &Path) -> Result<(), PlanError> {
        let err = |source| PlanError::Write {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec(self).map_err(|e| err(std::io::Error::other(e)))?;
        let tmp = path.with_extension("json.partial");
        std::fs::write(&tmp, json).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// The plan's short id (for file names and messages).
    pub fn short_id(&self) -> &str {
        &self.plan_id[..self.plan_id.len().min(12)]
    }

    /// Which shard sends each request: the shard of the first document (in plan order) that needs it.
    pub fn owners(&self) -> HashMap<&str, usize> {
        let mut owner = HashMap::new();
        for t in &self.tasks {
            for d in &t.docs {
                for k in d.keys.iter().flatten() {
                    owner.entry(k.as_str()).or_insert(d.shard);
                }
            }
        }
        owner
    }

    /// Requests each shard sends.
    pub fn shard_sizes(&self) -> Vec<u64> {
        let mut sizes = vec![0u64; self.n_shards];
        for s in self.owners().into_values() {
            if let Some(n) = sizes.get_mut(s) {
                *n += 1;
            }
        }
        sizes
    }

    /// Planned requests missing from `store`, counted per owning shard (empty when the plan is complete).
    /// Reads the store's keys of the plan's model only, not the responses.
    pub fn missing(&self, store: &Store) -> Result<BTreeMap<usize, u64>, EvalError> {
        let stored: std::collections::HashSet<String> = store
            .response_keys(Some(&self.fingerprint))?
            .into_iter()
            .collect();
        let mut missing = BTreeMap::new();
        for (k, shard) in self.owners() {
            if !stored.contains(k) {
                *missing.entry(shard).or_insert(0) += 1;
            }
        }
        Ok(missing)
    }

    fn task(&self, name: &str) -> Result<&PlanTask, EvalError> {
        self.tasks.iter().find(|t| t.name == name).ok_or_else(|| {
            EvalError::Plan(format!(
                "task {name} is not in plan {} (the task list resolved differently from when the plan was made)",
                self.short_id()
            ))
        })
    }
}

/// How this evaluation uses a plan.
#[derive(Clone, Debug, Default)]
pub enum RunMode {
    /// A whole run: send what the ledger lacks, score every task.
    #[default]
    Whole,
    /// One shard: send what the shard owns and the ledger lacks; score nothing.
    Shard { plan: Arc<RunPlan>, shard: usize },
    /// Score every task from the ledger, where every planned response must be; send nothing.
    Finalize { plan: Arc<RunPlan> },
}

impl RunMode {
    pub fn is_shard(&self) -> bool {
        matches!(self, RunMode::Shard { .. })
    }
}

/// Cut a task's documents to one shard's, before they are encoded.
pub(crate) fn shard_docs(
    plan: &RunPlan,
    shard: usize,
    task: &str,
    docs: &mut Vec<yardstick_tasks::DocRequests>,
) -> Result<(), EvalError> {
    let planned = plan.task(task)?;
    let shards: HashMap<usize, usize> = planned.docs.iter().map(|d| (d.doc_id, d.shard)).collect();
    if docs.len() != planned.docs.len() || docs.iter().any(|d| !shards.contains_key(&d.doc_id)) {
        return Err(mismatch(
            plan,
            task,
            "its documents differ (data or --limit changed)",
        ));
    }
    docs.retain(|d| shards.get(&d.doc_id) == Some(&shard));
    Ok(())
}

/// Check a shard's encoded keys against the plan's and keep only the requests the shard owns.
pub(crate) fn own_requests(
    plan: &RunPlan,
    owners: &HashMap<String, usize>,
    shard: usize,
    task: &str,
    docs: &[yardstick_tasks::DocRequests],
    encoded: &mut super::requests::TaskPlan,
) -> Result<(), EvalError> {
    let planned = plan.task(task)?;
    let by_id: HashMap<usize, &PlanDoc> = planned.docs.iter().map(|d| (d.doc_id, d)).collect();
    for (doc, requests) in docs.iter().zip(encoded.iter_mut()) {
        let expect = by_id.get(&doc.doc_id).map(|d| &d.keys);
        let got: Vec<Vec<&str>> = requests
            .iter()
            .map(|inst| inst.iter().map(|r| r.key().as_str()).collect())
            .collect();
        let same = expect.is_some_and(|e| {
            e.len() == got.len()
                && e.iter()
                    .zip(&got)
                    .all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y))
        });
        if !same {
            return Err(mismatch(
                plan,
                task,
                &format!(
                    "document {}'s requests differ (another model, tokenizer or prompt format than the plan's)",
                    doc.doc_id
                ),
            ));
        }
        for inst in requests.iter_mut() {
            inst.retain(|r| owners.get(r.key().as_str()) == Some(&shard));
        }
    }
    Ok(())
}

/// A task's keys from the plan, checked against the task's documents now (for finalising).
pub(crate) fn planned_keys(
    plan: &RunPlan,
    task: &str,
    docs: &[yardstick_tasks::DocRequests],
) -> Result<TaskKeys, EvalError> {
    let planned = plan.task(task)?;
    if docs.len() != planned.docs.len()
        || docs
            .iter()
            .zip(&planned.docs)
            .any(|(d, p)| d.doc_id != p.doc_id || d.instances.len() != p.keys.len())
    {
        return Err(mismatch(
            plan,
            task,
            "its documents differ (data or --limit changed)",
        ));
    }
    Ok(planned
        .docs
        .iter()
        .map(|d| {
            d.keys
                .iter()
                .map(|inst| inst.iter().map(|k| RequestKey(k.clone())).collect())
                .collect()
        })
        .collect())
}

fn mismatch(plan: &RunPlan, task: &str, what: &str) -> EvalError {
    EvalError::Plan(format!(
        "task {task} does not match plan {}: {what}. A plan fixes every request; make a new plan for a changed \
         run",
        plan.short_id()
    ))
}

/// Encode every task of `prepared` for `backend` and cut the requests into shards. Blocking (encoding may
/// call the server's tokenizer through `rt`): call it off the async workers.
pub fn make_plan(
    opts: &EvalOptions,
    prepared: &PreparedRun,
    backend: &dyn Backend,
    probe: ProbeReport,
    count: ShardCount,
    run_args: Vec<String>,
    rt: &tokio::runtime::Handle,
) -> Result<RunPlan, EvalError> {
    let policy = backend.request_policy();
    let fingerprint = backend.fingerprint();
    let encoder = Encoder {
        tokenizer: backend.tokenizer().map(|t| t.as_ref()),
        policy: &policy,
        fingerprint: &fingerprint,
        rt,
    };
    let mut tasks = Vec::with_capacity(prepared.configs.len());
    let mut distinct = std::collections::HashSet::new();
    let mut encoded: Vec<(String, Vec<usize>, TaskKeys)> = Vec::new();
    for (cfg, summary) in prepared.configs.iter().zip(&prepared.tasks) {
        let task = prepare_task(cfg, opts)?;
        let docs = task.all_docs()?;
        let keys = keys_of(encoder.task(task.name(), &docs)?);
        for k in keys.iter().flatten().flatten() {
            distinct.insert(k.0.clone());
        }
        encoded.push((
            summary.name.clone(),
            docs.iter().map(|d| d.doc_id).collect(),
            keys,
        ));
    }
    let requests = distinct.len() as u64;
    let n_shards = match count {
        ShardCount::Shards(n) => n.max(1),
        ShardCount::Size(s) => requests.div_ceil(s.max(1) as u64).max(1) as usize,
    };
    for ((name, doc_ids, keys), summary) in encoded.into_iter().zip(&prepared.tasks) {
        let docs = doc_ids
            .into_iter()
            .zip(keys)
            .map(|(doc_id, keys)| PlanDoc {
                doc_id,
                shard: shard_of(&name, doc_id, n_shards),
                keys: keys
                    .into_iter()
                    .map(|inst| inst.into_iter().map(|k| k.0).collect())
                    .collect(),
            })
            .collect();
        tasks.push(PlanTask {
            name,
            task_hash: summary.task_hash.clone(),
            dataset_hash: summary.dataset_hash.clone(),
            docs,
        });
    }
    let mut plan = RunPlan {
        format: PLAN_FORMAT.into(),
        plan_id: String::new(),
        run_id: prepared.run_id(&fingerprint, opts),
        run_args,
        model: backend.model_ref(),
        fingerprint,
        probe,
        policy,
        n_shards,
        requests,
        tasks,
    };
    plan.plan_id = plan.content_hash();
    Ok(plan)
}

/// The backend a finalising run scores with: the plan's model, probe and request policy, and no model at
/// all — every response must already be in the ledger, so a request reaching it is an error.
pub struct PlannedBackend {
    plan: Arc<RunPlan>,
}

impl PlannedBackend {
    pub fn new(plan: Arc<RunPlan>) -> PlannedBackend {
        PlannedBackend { plan }
    }

    fn refuse<T>(&self) -> BoxFuture<'_, Result<T, BackendError>>
    where
        T: Send + 'static,
    {
        let msg = format!(
            "finalising plan {} sends no requests, but one was not in the store: run the plan's missing \
             shards first",
            self.plan.short_id()
        );
        Box::pin(async move { Err(BackendError::Config(msg)) })
    }
}

impl Backend for PlannedBackend {
    fn probe(&self) -> BoxFuture<'_, Result<ProbeReport, BackendError>> {
        let probe = self.plan.probe.clone();
        Box::pin(async move { Ok(probe) })
    }
    fn request_policy(&self) -> RequestPolicy {
        self.plan.policy.clone()
    }
    fn tokenizer(&self) -> Option<&Arc<Tokenizer>> {
        None
    }
    fn fingerprint(&self) -> String {
        self.plan.fingerprint.clone()
    }
    fn model_ref(&self) -> ModelRef {
        self.plan.model.clone()
    }
    fn loglikelihood<'a>(
        &'a self,
        _context: &'a [u32],
        _continuation: &'a [u32],
    ) -> BoxFuture<'a, Result<LoglikelihoodOutcome, BackendError>> {
        self.refuse()
    }
    fn loglikelihood_group<'a>(
        &'a self,
        _context: &'a [u32],
        _continuations: &'a [Vec<u32>],
    ) -> BoxFuture<'a, Result<Vec<LoglikelihoodOutcome>, BackendError>> {
        self.refuse()
    }
    fn generate<'a>(
        &'a self,
        _prompt: &'a GenPrompt,
        _params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationOutcome, BackendError>> {
        self.refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_membership_depends_on_the_item_alone_and_spreads_documents() {
        let n = 7;
        let mut counts = vec![0; n];
        for doc in 0..7000 {
            let s = shard_of("mmlu_anatomy", doc, n);
            assert_eq!(s, shard_of("mmlu_anatomy", doc, n));
            counts[s] += 1;
        }
        // each shard gets about 1000 of 7000 documents
        assert!(
            counts.iter().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
        assert_ne!(
            (0..20).map(|d| shard_of("a", d, n)).collect::<Vec<_>>(),
            (0..20).map(|d| shard_of("b", d, n)).collect::<Vec<_>>()
        );
        assert!((0..100).all(|d| shard_of("a", d, 1) == 0));
    }
}
