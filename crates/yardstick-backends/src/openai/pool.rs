//! Several OpenAI-compatible endpoints serving the same model behind one run: each request goes to the
//! least-loaded healthy endpoint (requests in flight over its own adaptive concurrency limit), an endpoint
//! that fails (unreachable, timing out, 5xx/429 after its own retries) is drained for a cool-down that
//! doubles while it keeps failing, and its request is sent to another endpoint — the run goes on as long
//! as one endpoint answers. Endpoints must be the same model: their fingerprints (model identity and
//! tokenizer) are compared when connecting.

use super::{OpenAiBackend, OpenAiOptions};
use crate::backend::{
    Backend, BoxFuture, GenPrompt, GenerationOutcome, LoglikelihoodOutcome, RequestPolicy,
};
use crate::error::BackendError;
use crate::probe::ProbeReport;
use crate::tokenizer::Tokenizer;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yardstick_core::{redact_url, GenerationParams, ModelRef};

/// First cool-down of a failing endpoint; doubled per consecutive failure up to [`MAX_COOL_DOWN`].
const COOL_DOWN: Duration = Duration::from_secs(2);
const MAX_COOL_DOWN: Duration = Duration::from_secs(60);
/// Retries inside one endpoint's client when there are others to turn to (the pool retries across them).
const RETRIES_PER_ENDPOINT: u32 = 1;

#[derive(Default)]
struct Health {
    consecutive_failures: u32,
    down_until: Option<Instant>,
}

struct Endpoint {
    backend: Arc<OpenAiBackend>,
    url: String,
    in_flight: AtomicUsize,
    answered: AtomicU64,
    failures: AtomicU64,
    health: Mutex<Health>,
}

impl Endpoint {
    fn is_up(&self, now: Instant) -> bool {
        self.health
            .lock()
            .map(|h| h.down_until.is_none_or(|t| t <= now))
            .unwrap_or(true)
    }

    /// In flight over the endpoint's current concurrency limit: the lower, the more room it has.
    fn load(&self) -> f64 {
        let (limit, _) = self.backend.concurrency_now();
        self.in_flight.load(Ordering::Relaxed) as f64 / limit.max(1) as f64
    }

    fn succeeded(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = self.health.lock() {
            h.consecutive_failures = 0;
            h.down_until = None;
        }
    }

    fn failed(&self, error: &BackendError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = self.health.lock() {
            h.consecutive_failures += 1;
            let factor = 1u32 << h.consecutive_failures.saturating_sub(1).min(5);
            let wait = (COOL_DOWN * factor).min(MAX_COOL_DOWN);
            h.down_until = Some(Instant::now() + wait);
            tracing::warn!(endpoint = %self.url, cool_down_s = wait.as_secs(), %error, "endpoint failed: drained");
        }
    }
}

/// What one endpoint did during a run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EndpointStats {
    pub url: String,
    pub answered: u64,
    pub failures: u64,
    pub http_calls: u64,
}

/// One model behind several endpoints.
pub struct EndpointPool {
    endpoints: Vec<Endpoint>,
    /// Attempts of one request across endpoints.
    attempts: u32,
    /// Endpoints that could not be connected at the start (URL, why).
    left_out: Vec<(String, String)>,
}

/// Whether an error says the endpoint (not the request) is at fault: worth another endpoint.
fn endpoint_failure(e: &BackendError) -> bool {
    match e {
        BackendError::Unreachable { .. }
        | BackendError::Timeout { .. }
        | BackendError::RetriesExhausted { .. } => true,
        BackendError::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
        _ => false,
    }
}

impl EndpointPool {
    /// Connect to every URL (at once) and check they serve the same model.
    pub async fn connect(
        urls: &[String],
        opts: OpenAiOptions,
    ) -> Result<EndpointPool, BackendError> {
        if urls.is_empty() {
            return Err(BackendError::Config("no endpoint URL given".into()));
        }
        let attempts = opts.max_retries.max(1) + urls.len() as u32;
        let per_endpoint = OpenAiOptions {
            max_retries: if urls.len() > 1 {
                opts.max_retries.min(RETRIES_PER_ENDPOINT)
            } else {
                opts.max_retries
            },
            ..opts
        };
        let connected = futures::future::join_all(
            urls.iter()
                .map(|u| OpenAiBackend::connect(u, per_endpoint.clone())),
        )
        .await;
        let mut endpoints = Vec::with_capacity(urls.len());
        let mut left_out = Vec::new();
        let mut first_error = None;
        for (url, b) in urls.iter().zip(connected) {
            // An endpoint down when the run starts (a stopped server, a proxy answering 502) is left out of
            // this run with a warning, as long as another one answers: a worker started while one of the
            // fleet is down still runs.
            let b = match b {
                Ok(b) => b,
                Err(e) => {
                    left_out.push((redact_url(url), e.to_string()));
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            endpoints.push(Endpoint {
                backend: Arc::new(b),
                url: redact_url(url),
                in_flight: AtomicUsize::new(0),
                answered: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                health: Mutex::new(Health::default()),
            });
        }
        let Some(first) = endpoints.first() else {
            return Err(first_error
                .unwrap_or_else(|| BackendError::Config("no endpoint could be connected".into())));
        };
        for other in &endpoints[1..] {
            if other.backend.fingerprint() != first.backend.fingerprint() {
                return Err(BackendError::Config(format!(
                    "{} and {} do not serve the same model (model {:?} vs {:?}, or another tokenizer or server \
                     identity): one run needs one model; give the endpoints of one model only",
                    first.url,
                    other.url,
                    first.backend.model_id(),
                    other.backend.model_id()
                )));
            }
        }
        Ok(EndpointPool {
            endpoints,
            attempts,
            left_out,
        })
    }

    /// Endpoints that could not be connected when the run started (URL, why): left out of this run.
    pub fn left_out(&self) -> &[(String, String)] {
        &self.left_out
    }

    /// The endpoints' backends, first to last (the first probes, tokenizes and names the model).
    pub fn backends(&self) -> impl Iterator<Item = &Arc<OpenAiBackend>> {
        self.endpoints.iter().map(|e| &e.backend)
    }

    pub fn stats(&self) -> Vec<EndpointStats> {
        self.endpoints
            .iter()
            .map(|e| EndpointStats {
                url: e.url.clone(),
                answered: e.answered.load(Ordering::Relaxed),
                failures: e.failures.load(Ordering::Relaxed),
                http_calls: e.backend.counters().http_calls,
            })
            .collect()
    }

    /// The least-loaded endpoint that is up and not yet tried for this request; when every untried one is
    /// cooling down, the one whose cool-down ends first.
    fn pick(&self, tried: &[usize]) -> Option<usize> {
        let now = Instant::now();
        let untried = || (0..self.endpoints.len()).filter(|i| !tried.contains(i));
        let up = untried()
            .filter(|&i| self.endpoints[i].is_up(now))
            .min_by(|&a, &b| {
                self.endpoints[a]
                    .load()
                    .total_cmp(&self.endpoints[b].load())
            });
        up.or_else(|| {
            untried().min_by_key(|&i| {
                self.endpoints[i]
                    .health
                    .lock()
                    .ok()
                    .and_then(|h| h.down_until)
            })
        })
    }

    /// Send one request to the best endpoint, moving to another when an endpoint fails.
    async fn route<'a, T, F, Fut>(&'a self, call: F) -> Result<T, BackendError>
    where
        F: Fn(&'a OpenAiBackend) -> Fut,
        Fut: Future<Output = Result<T, BackendError>> + 'a,
    {
        let mut tried: Vec<usize> = Vec::new();
        let mut last: Option<BackendError> = None;
        for _ in 0..self.attempts {
            if tried.len() == self.endpoints.len() {
                tried.clear(); // every endpoint tried once: start over with the one back first
            }
            let Some(i) = self.pick(&tried) else { break };
            let e = &self.endpoints[i];
            if let Some(until) = e.health.lock().ok().and_then(|h| h.down_until) {
                tokio::time::sleep_until(until.into()).await;
            }
            e.in_flight.fetch_add(1, Ordering::Relaxed);
            let r = call(&e.backend).await;
            e.in_flight.fetch_sub(1, Ordering::Relaxed);
            match r {
                Ok(v) => {
                    e.succeeded();
                    return Ok(v);
                }
                Err(err) if endpoint_failure(&err) => {
                    e.failed(&err);
                    tried.push(i);
                    last = Some(err);
                }
                Err(err) => return Err(err),
            }
        }
        Err(last.unwrap_or_else(|| BackendError::Config("no endpoint to send to".into())))
    }

    fn first(&self) -> &OpenAiBackend {
        &self.endpoints[0].backend
    }
}

impl Backend for EndpointPool {
    fn probe(&self) -> BoxFuture<'_, Result<ProbeReport, BackendError>> {
        Box::pin(async move { self.route(|b| b.probe()).await })
    }

    fn request_policy(&self) -> RequestPolicy {
        self.first().request_policy()
    }

    fn tokenizer(&self) -> Option<&Arc<Tokenizer>> {
        self.first().tokenizer()
    }

    fn fingerprint(&self) -> String {
        self.first().fingerprint()
    }

    fn model_ref(&self) -> ModelRef {
        self.first().model_ref()
    }

    fn loglikelihood<'a>(
        &'a self,
        context: &'a [u32],
        continuation: &'a [u32],
    ) -> BoxFuture<'a, Result<LoglikelihoodOutcome, BackendError>> {
        Box::pin(self.route(move |b| b.loglikelihood(context, continuation)))
    }

    fn loglikelihood_group<'a>(
        &'a self,
        context: &'a [u32],
        continuations: &'a [Vec<u32>],
    ) -> BoxFuture<'a, Result<Vec<LoglikelihoodOutcome>, BackendError>> {
        Box::pin(self.route(move |b| b.loglikelihood_group(context, continuations)))
    }

    fn generate<'a>(
        &'a self,
        prompt: &'a GenPrompt,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationOutcome, BackendError>> {
        Box::pin(self.route(move |b| b.generate(prompt, params)))
    }
}
