//! Dispatch of model requests to a [`Backend`]: requests sharing a context are sent as one unit (so a
//! backend can score a multiple-choice question from one call, or evaluate its context once), with bounded
//! concurrency, each response persisted to the ledger the moment it arrives, and a clean stop on Ctrl-C that
//! loses only what is in flight.

use crate::ledger_writer::{LedgerError, LedgerWriter};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;
use yardstick_backends::{
    Backend, BackendError, GenPrompt, GenerationOutcome, LoglikelihoodOutcome,
};
use yardstick_core::{GenerationParams, LoglikelihoodResult, RequestKey};
use yardstick_store::ledger::StoredResponse;

pub use crate::workload::{Advance, TaskWorkload};

/// One unit of work for the backend.
#[derive(Clone, Debug)]
pub enum Unit {
    /// Continuations that share one context: the choices of a multiple-choice question (one result each, in
    /// order), or a single request.
    Loglikelihood {
        context: Arc<[u32]>,
        members: Vec<UnitMember>,
    },
    /// One generation.
    Generation {
        key: RequestKey,
        prompt: GenPrompt,
        params: GenerationParams,
    },
}

/// The request a unit's error names: its key (a grouped question's first choice's, with the count).
fn unit_request(unit: &Unit) -> String {
    match unit {
        Unit::Loglikelihood { members, .. } => match members.as_slice() {
            [] => "(none)".to_string(),
            [one] => one.key.0.clone(),
            [first, rest @ ..] => format!(
                "{} (and {} more choices of the question)",
                first.key.0,
                rest.len()
            ),
        },
        Unit::Generation { key, .. } => key.0.clone(),
    }
}

impl Unit {
    /// Requests answered by this unit.
    pub fn len(&self) -> usize {
        match self {
            Unit::Loglikelihood { members, .. } => members.len(),
            Unit::Generation { .. } => 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Prompt tokens of the unit's requests, each counted whole (a question's context once per choice),
    /// whatever the backend shares: the measure of work the progress line's ETA uses for planned and
    /// done work alike. A text prompt is counted at four characters a token.
    pub fn prompt_tokens(&self) -> u64 {
        match self {
            Unit::Loglikelihood { context, members } => members
                .iter()
                .map(|m| (context.len() + m.continuation.len()) as u64)
                .sum(),
            Unit::Generation { prompt, .. } => match prompt {
                GenPrompt::Tokens(t) => t.len() as u64,
                GenPrompt::Text(s) | GenPrompt::Messages(s) => {
                    (s.chars().count() as u64).div_ceil(4)
                }
            },
        }
    }
}

#[derive(Clone, Debug)]
pub struct UnitMember {
    pub key: RequestKey,
    pub continuation: Vec<u32>,
}

/// What came back for one request, as scoring reads it (and as the ledger stores it).
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Loglikelihood(LoglikelihoodResult),
    Generation {
        text: String,
        finish_reason: Option<String>,
    },
}

impl Answer {
    /// The ledger's `response_json`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Answer::Loglikelihood(r) => {
                serde_json::json!({"logprob": r.logprob, "is_greedy": r.is_greedy})
            }
            Answer::Generation {
                text,
                finish_reason,
            } => serde_json::json!({"text": text, "finish_reason": finish_reason}),
        }
    }

    /// Read a stored `response_json` back.
    pub fn from_json(v: serde_json::Value) -> Result<Answer, serde_json::Error> {
        if v.get("text").is_some() {
            #[derive(serde::Deserialize)]
            struct Gen {
                text: String,
                #[serde(default)]
                finish_reason: Option<String>,
            }
            let g: Gen = serde_json::from_value(v)?;
            return Ok(Answer::Generation {
                text: g.text,
                finish_reason: g.finish_reason,
            });
        }
        Ok(Answer::Loglikelihood(serde_json::from_value(v)?))
    }

    /// The log-likelihood result, when this is one.
    pub fn loglikelihood(&self) -> Option<LoglikelihoodResult> {
        match self {
            Answer::Loglikelihood(r) => Some(*r),
            Answer::Generation { .. } => None,
        }
    }
}

/// Progress events for a terminal bar or plain log lines.
pub trait Progress: Send + Sync {
    /// The work as now known: `total` requests of which `cached` were found in the ledger. Called again as
    /// the run goes (tasks are prepared while earlier ones are being sent): `total` may start as an
    /// estimate and is exact once `exact` is true.
    fn planned(&self, total: u64, cached: u64, exact: bool);
    /// The run's tasks in order, each estimated from its first document (called once, before any is sent).
    fn tasks(&self, _estimates: &[TaskWorkload]) {}
    /// Task `index` is prepared: `to_send` is exactly what it will send (the ledger's answers excluded).
    fn task_admitted(&self, _index: usize, _to_send: &TaskWorkload) {}
    /// Task `index` has every answer and is scored.
    fn task_scored(&self, _index: usize) {}
    /// More requests answered, and what they cost.
    fn advanced(&self, done: &Advance);
    /// A line of information shown above the bar.
    fn note(&self, line: &str);
    fn finish(&self);
}

/// A progress sink that shows nothing (tests, `--json`).
pub struct NoProgress;
impl Progress for NoProgress {
    fn planned(&self, _: u64, _: u64, _: bool) {}
    fn advanced(&self, _: &Advance) {}
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

impl ExecStats {
    /// The same counts, marked interrupted or not.
    pub fn with_interrupted(self, interrupted: bool) -> ExecStats {
        ExecStats {
            interrupted,
            ..self
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("model call for request {request} failed: {source}")]
    Model {
        /// The request key (the first of a grouped question's), as `yardstick runs`/the ledger name it.
        request: String,
        source: Box<BackendError>,
    },
    #[error("backend returned {got} results for {expected} continuations (a backend bug)")]
    Arity { expected: usize, got: usize },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("a request task panicked: {0}")]
    Panicked(String),
}

/// What a backend returned for one unit.
enum Returned {
    Loglikelihood(Vec<LoglikelihoodOutcome>),
    Generation(GenerationOutcome),
}

type UnitOutcome = (Unit, Result<Returned, BackendError>);

/// Sends units, at most `concurrency` at a time, and persists each response the moment it arrives. Units
/// are queued as their task is prepared ([`Dispatcher::push`]), so a run streams: the first request goes
/// out as soon as the first task is ready, and only the tasks in flight are held in memory.
pub struct Dispatcher {
    backend: Arc<dyn Backend>,
    fingerprint: String,
    concurrency: usize,
    queue: VecDeque<Unit>,
    set: tokio::task::JoinSet<UnitOutcome>,
    stats: ExecStats,
    start: Instant,
}

async fn send(backend: Arc<dyn Backend>, unit: Unit) -> UnitOutcome {
    let res = match &unit {
        Unit::Loglikelihood { context, members } => {
            let conts: Vec<Vec<u32>> = members.iter().map(|m| m.continuation.clone()).collect();
            backend
                .loglikelihood_group(context, &conts)
                .await
                .map(Returned::Loglikelihood)
        }
        Unit::Generation { prompt, params, .. } => backend
            .generate(prompt, params)
            .await
            .map(Returned::Generation),
    };
    (unit, res)
}

/// The ledger row of one answered request.
struct Row {
    key: RequestKey,
    kind: &'static str,
    answer: Answer,
    request: serde_json::Value,
    raw: Arc<str>,
    stats: yardstick_backends::CallStats,
}

/// Log-likelihood outcomes as ledger rows (what was sent, how it was read, what came back).
fn loglikelihood_rows(
    members: Vec<UnitMember>,
    outcomes: Vec<LoglikelihoodOutcome>,
) -> Result<Vec<Row>, ExecError> {
    if outcomes.len() != members.len() {
        return Err(ExecError::Arity {
            expected: members.len(),
            got: outcomes.len(),
        });
    }
    Ok(members
        .into_iter()
        .zip(outcomes)
        .map(|(m, o)| Row {
            key: m.key,
            kind: "loglikelihood",
            answer: Answer::Loglikelihood(o.result),
            request: serde_json::json!({
                "prompt": &*o.sent, "ctxlen": o.ctxlen, "path": o.path,
                "lm_eval_slice": o.lm_eval_slice.map(|r| serde_json::json!({"logprob": r.logprob, "is_greedy": r.is_greedy})),
            }),
            raw: o.raw_response,
            stats: o.stats,
        })
        .collect())
}

impl Dispatcher {
    pub fn new(backend: Arc<dyn Backend>, concurrency: usize) -> Self {
        Dispatcher {
            fingerprint: backend.fingerprint(),
            backend,
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
            self.set.spawn(send(self.backend.clone(), unit));
            self.stats.units_sent += 1;
        }
    }

    /// Wait for the next unit in flight to finish, queue its responses for the ledger and return them by
    /// request key. `None` when nothing is in flight. Cancel-safe (a unit is never lost by dropping this
    /// future: it stays in flight).
    pub async fn next(
        &mut self,
        writer: &mut LedgerWriter,
        progress: &dyn Progress,
    ) -> Option<Result<Vec<(RequestKey, Answer)>, ExecError>> {
        let joined = self.set.join_next().await?;
        let (unit, res) = match joined {
            Ok(v) => v,
            Err(e) => return Some(Err(ExecError::Panicked(e.to_string()))),
        };
        Some(self.record(unit, res, writer, progress))
    }

    fn record(
        &mut self,
        unit: Unit,
        res: Result<Returned, BackendError>,
        writer: &mut LedgerWriter,
        progress: &dyn Progress,
    ) -> Result<Vec<(RequestKey, Answer)>, ExecError> {
        let res = res.map_err(|source| ExecError::Model {
            request: unit_request(&unit),
            source: Box::new(source),
        })?;
        let mut done = Advance {
            unit_prompt_tokens: unit.prompt_tokens(),
            ..Advance::default()
        };
        let rows = match (unit, res) {
            (Unit::Loglikelihood { members, .. }, Returned::Loglikelihood(outcomes)) => {
                loglikelihood_rows(members, outcomes)?
            }
            (
                Unit::Generation {
                    key,
                    prompt,
                    params,
                },
                Returned::Generation(g),
            ) => vec![Row {
                key,
                kind: "generate_until",
                answer: Answer::Generation {
                    text: g.text,
                    finish_reason: g.finish_reason,
                },
                request: serde_json::json!({"prompt": match prompt {
                    GenPrompt::Tokens(t) => serde_json::json!(t),
                    GenPrompt::Text(s) => serde_json::json!(s),
                    GenPrompt::Messages(m) => serde_json::from_str(&m)
                        .unwrap_or_else(|_| serde_json::json!(m)),
                }, "params": params}),
                raw: g.raw_response,
                stats: g.stats,
            }],
            (unit, _) => {
                return Err(ExecError::Arity {
                    expected: unit.len(),
                    got: 0,
                })
            }
        };
        let mut stored = Vec::with_capacity(rows.len());
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            // A shared call's tokens are counted once, spread over the results it answered.
            let shared = r.stats.shared_by.max(1) as u64;
            let (prompt_tokens, completion_tokens) = (
                r.stats.prompt_tokens as u64 / shared,
                r.stats.completion_tokens as u64 / shared,
            );
            done.prompt_tokens += prompt_tokens;
            done.completion_tokens += completion_tokens;
            if matches!(r.answer, Answer::Generation { .. }) {
                done.generations += 1;
            }
            self.stats.prompt_tokens += prompt_tokens;
            self.stats.completion_tokens += completion_tokens;
            stored.push(StoredResponse {
                request_key: r.key.0.clone(),
                model_fingerprint: self.fingerprint.clone(),
                kind: r.kind.into(),
                request: r.request,
                response: r.answer.to_json(),
                raw: Some(r.raw.chars().take(2000).collect()),
                latency_ms: Some(r.stats.latency.as_secs_f64() * 1000.0),
                prompt_tokens: Some(prompt_tokens as i64),
                completion_tokens: Some(completion_tokens as i64),
            });
            out.push((r.key, r.answer));
        }
        self.stats.requests_answered += stored.len() as u64;
        done.requests = stored.len() as u64;
        progress.advanced(&done);
        writer.send(stored)?;
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
