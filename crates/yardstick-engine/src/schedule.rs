//! Dispatch of model requests: requests sharing a context are sent as one unit (so a backend can score a
//! single-token multiple-choice question from one call), with bounded concurrency, each response persisted
//! to the ledger the moment it arrives, and a clean stop on Ctrl-C that loses only what is in flight.

use crate::ledger_writer::LedgerWriter;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
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
    /// The work as now known: `total` requests of which `cached` were found in the ledger. Called again as
    /// the run goes (tasks are prepared while earlier ones are being sent): `total` may start as an
    /// estimate and is exact once `exact` is true.
    fn planned(&self, total: u64, cached: u64, exact: bool);
    /// `requests` more requests answered, costing `tokens` prompt+completion tokens.
    fn advanced(&self, requests: u64, tokens: u64);
    /// A line of information shown above the bar.
    fn note(&self, line: &str);
    fn finish(&self);
}

/// A progress sink that shows nothing (tests, `--json`).
pub struct NoProgress;
impl Progress for NoProgress {
    fn planned(&self, _: u64, _: u64, _: bool) {}
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

type UnitOutcome = (Unit, Result<Vec<Scored>, ScoreError>);

/// Sends units, at most `concurrency` at a time, and persists each response the moment it arrives. Units
/// are queued as their task is prepared ([`Dispatcher::push`]), so a run streams: the first request goes
/// out as soon as the first task is ready, and only the tasks in flight are held in memory.
pub struct Dispatcher {
    scorer: Arc<dyn LoglikelihoodScorer>,
    fingerprint: String,
    concurrency: usize,
    queue: VecDeque<Unit>,
    set: tokio::task::JoinSet<UnitOutcome>,
    stats: ExecStats,
    start: Instant,
}

impl Dispatcher {
    pub fn new(scorer: Arc<dyn LoglikelihoodScorer>, concurrency: usize) -> Self {
        Dispatcher {
            fingerprint: scorer.fingerprint().to_string(),
            scorer,
            concurrency: concurrency.max(1),
            queue: VecDeque::new(),
            set: tokio::task::JoinSet::new(),
            stats: ExecStats::default(),
            start: Instant::now(),
        }
    }

    /// Queue units to send.
    pub fn push(&mut self, units: impl IntoIterator<Item = Unit>) {
        self.queue.extend(units);
    }

    /// Units queued and not yet sent.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Units sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.set.len()
    }

    /// Start queued units until `concurrency` are in flight.
    pub fn fill(&mut self) {
        while self.set.len() < self.concurrency {
            let Some(unit) = self.queue.pop_front() else {
                break;
            };
            let scorer = self.scorer.clone();
            self.set.spawn(async move {
                let conts: Vec<Vec<u32>> = unit
                    .members
                    .iter()
                    .map(|m| m.continuation.clone())
                    .collect();
                let res = scorer.score(&unit.context, &conts).await;
                (unit, res)
            });
            self.stats.units_sent += 1;
        }
    }

    /// Wait for the next unit in flight to finish, queue its responses for the ledger and return them by
    /// request key. `None` when nothing is in flight. Cancel-safe (a unit is never lost by dropping this
    /// future: it stays in flight).
    pub async fn next(
        &mut self,
        writer: &LedgerWriter,
        progress: &dyn Progress,
    ) -> Option<Result<Vec<(RequestKey, LoglikelihoodResult)>, ExecError>> {
        let joined = self.set.join_next().await?;
        let (unit, res) = match joined {
            Ok(v) => v,
            Err(e) => {
                return Some(Err(ExecError::Ledger(format!(
                    "a request task panicked: {e}"
                ))))
            }
        };
        Some(self.record(unit, res, writer, progress))
    }

    fn record(
        &mut self,
        unit: Unit,
        res: Result<Vec<Scored>, ScoreError>,
        writer: &LedgerWriter,
        progress: &dyn Progress,
    ) -> Result<Vec<(RequestKey, LoglikelihoodResult)>, ExecError> {
        let scored = res?;
        if scored.len() != unit.members.len() {
            return Err(ExecError::Arity {
                expected: unit.members.len(),
                got: scored.len(),
            });
        }
        let mut rows = Vec::with_capacity(scored.len());
        let mut out = Vec::with_capacity(scored.len());
        let mut tokens = 0;
        for (m, s) in unit.members.into_iter().zip(scored) {
            tokens += s.prompt_tokens + s.completion_tokens;
            self.stats.prompt_tokens += s.prompt_tokens;
            self.stats.completion_tokens += s.completion_tokens;
            rows.push(StoredResponse {
                request_key: m.key.0.clone(),
                model_fingerprint: self.fingerprint.clone(),
                kind: "loglikelihood".into(),
                request: s.request,
                response: serde_json::json!({"logprob": s.result.logprob, "is_greedy": s.result.is_greedy}),
                raw: s.raw,
                latency_ms: Some(s.latency_ms),
                prompt_tokens: Some(s.prompt_tokens as i64),
                completion_tokens: Some(s.completion_tokens as i64),
            });
            out.push((m.key, s.result));
        }
        self.stats.requests_answered += rows.len() as u64;
        progress.advanced(rows.len() as u64, tokens);
        writer.send(rows).map_err(ExecError::Ledger)?;
        Ok(out)
    }

    /// Counts so far (wall time from the dispatcher's creation).
    pub fn stats(&self, interrupted: bool) -> ExecStats {
        ExecStats {
            wall_seconds: self.start.elapsed().as_secs_f64(),
            interrupted,
            ..self.stats.clone()
        }
    }
}
