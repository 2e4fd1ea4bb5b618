//! Dispatch of model requests: requests sharing a context are sent as one unit (so a backend can score a
//! single-token multiple-choice question from one call), with bounded concurrency, each response persisted
//! to the ledger the moment it arrives, and a clean stop on Ctrl-C that loses only what is in flight.

use crate::ledger_writer::LedgerWriter;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use yardstick_core::{LoglikelihoodResult, RequestKey};
use yardstick_store::ledger::StoredResponse;

/// Requests that share one context: the choices of a multiple-choice question, or a single request.
#[derive(Clone, Debug)]
pub struct Unit {
    pub context: Arc<[u32]>,
    pub members: Vec<UnitMember>,
}

#[derive(Clone, Debug)]
pub struct UnitMember {
    pub key: RequestKey,
    pub continuation: Vec<u32>,
}

/// One scored continuation as a backend returns it, with what the call cost.
#[derive(Clone, Debug)]
pub struct Scored {
    pub result: LoglikelihoodResult,
    /// What was sent, for the ledger (token ids and parameters).
    pub request: serde_json::Value,
    /// An excerpt of the raw response, for the ledger.
    pub raw: Option<String>,
    pub latency_ms: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Error from a model call after the backend's own retries.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ScoreError {
    pub message: String,
}

pub type ScoreFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Scored>, ScoreError>> + Send + 'a>>;

/// Scores continuations given a shared context. Implemented over the OpenAI-compatible backend (and later
/// the native one). Must return one `Scored` per continuation, in order.
pub trait LoglikelihoodScorer: Send + Sync + 'static {
    fn fingerprint(&self) -> &str;
    fn score<'a>(&'a self, context: &'a [u32], continuations: &'a [Vec<u32>]) -> ScoreFuture<'a>;
}

/// Progress events for a terminal bar or plain log lines.
pub trait Progress: Send + Sync {
    /// Planned work: `total` requests of which `cached` were found in the ledger; `units` calls to make.
    fn planned(&self, total: u64, cached: u64, units: u64);
    /// `requests` more requests answered, costing `tokens` prompt+completion tokens.
    fn advanced(&self, requests: u64, tokens: u64);
    /// A line of information shown above the bar.
    fn note(&self, line: &str);
    fn finish(&self);
}

/// A progress sink that shows nothing (tests, `--json`).
pub struct NoProgress;
impl Progress for NoProgress {
    fn planned(&self, _: u64, _: u64, _: u64) {}
    fn advanced(&self, _: u64, _: u64) {}
    fn note(&self, _: &str) {}
    fn finish(&self) {}
}

/// Counts of one execution.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ExecStats {
    pub units_sent: u64,
    pub requests_answered: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub wall_seconds: f64,
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("model call failed: {0}")]
    Model(#[from] ScoreError),
    #[error("backend returned {got} results for {expected} continuations (a backend bug)")]
    Arity { expected: usize, got: usize },
    #[error("ledger writer failed: {0}")]
    Ledger(String),
}

/// Send every unit, at most `concurrency` at a time, persisting each response as it arrives. Returns the
/// results by request key. When `cancel` becomes true, no new unit is started; units in flight finish.
pub async fn execute(
    units: Vec<Unit>,
    scorer: Arc<dyn LoglikelihoodScorer>,
    writer: &LedgerWriter,
    concurrency: usize,
    progress: &dyn Progress,
    cancel: Arc<AtomicBool>,
) -> Result<(Vec<(RequestKey, LoglikelihoodResult)>, ExecStats), ExecError> {
    let start = Instant::now();
    let mut stats = ExecStats::default();
    let mut out = Vec::with_capacity(units.iter().map(|u| u.members.len()).sum());
    let mut pending = units.into_iter();
    let mut set = tokio::task::JoinSet::new();
    let concurrency = concurrency.max(1);
    let fingerprint = scorer.fingerprint().to_string();
    let mut first_error: Option<ExecError> = None;
    loop {
        while set.len() < concurrency && first_error.is_none() && !cancel.load(Ordering::SeqCst) {
            let Some(unit) = pending.next() else { break };
            let scorer = scorer.clone();
            set.spawn(async move {
                let conts: Vec<Vec<u32>> = unit
                    .members
                    .iter()
                    .map(|m| m.continuation.clone())
                    .collect();
                let res = scorer.score(&unit.context, &conts).await;
                (unit, res)
            });
            stats.units_sent += 1;
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (unit, res) = match joined {
            Ok(v) => v,
            Err(e) => {
                first_error
                    .get_or_insert(ExecError::Ledger(format!("a request task panicked: {e}")));
                continue;
            }
        };
        match res {
            Ok(scored) if scored.len() == unit.members.len() => {
                let mut rows = Vec::with_capacity(scored.len());
                let mut tokens = 0;
                for (m, s) in unit.members.iter().zip(scored) {
                    tokens += s.prompt_tokens + s.completion_tokens;
                    stats.prompt_tokens += s.prompt_tokens;
                    stats.completion_tokens += s.completion_tokens;
                    rows.push(StoredResponse {
                        request_key: m.key.0.clone(),
                        model_fingerprint: fingerprint.clone(),
                        kind: "loglikelihood".into(),
                        request: s.request,
                        response: serde_json::json!({"logprob": s.result.logprob, "is_greedy": s.result.is_greedy}),
                        raw: s.raw,
                        latency_ms: Some(s.latency_ms),
                        prompt_tokens: Some(s.prompt_tokens as i64),
                        completion_tokens: Some(s.completion_tokens as i64),
                    });
                    out.push((m.key.clone(), s.result));
                }
                stats.requests_answered += rows.len() as u64;
                progress.advanced(rows.len() as u64, tokens);
                if let Err(e) = writer.send(rows) {
                    first_error.get_or_insert(ExecError::Ledger(e));
                }
            }
            Ok(scored) => {
                first_error.get_or_insert(ExecError::Arity {
                    expected: unit.members.len(),
                    got: scored.len(),
                });
            }
            Err(e) => {
                first_error.get_or_insert(ExecError::Model(e));
            }
        }
    }
    stats.wall_seconds = start.elapsed().as_secs_f64();
    stats.interrupted = cancel.load(Ordering::SeqCst);
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok((out, stats))
}
