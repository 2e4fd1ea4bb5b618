//! The HTTP side shared by the OpenAI-compatible backend and the server tokenizer: one pooled `reqwest`
//! client, the API key, an adaptive concurrency limiter (AIMD: halve on 429/503, honour `Retry-After`,
//! grow back by one slot per window of successes) and retries with exponential backoff and full jitter.

use crate::error::{excerpt, BackendError};
use rand::Rng;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Notify;
use yardstick_core::redact::percent_decode;

mod retry_after;
pub use retry_after::parse_retry_after;

/// Where the server lives: `api` is the OpenAI base (`…/v1`), `root` the server root (for `/tokenize`,
/// `/props`, `/health`). A query given with the URL (`…/v1?api-version=…&key=…`) is kept apart in
/// `query`: the client appends it to every request, and the URLs that messages show do not carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    pub api: String,
    pub root: String,
    pub query: Option<String>,
}

/// Credentials given in a URL's userinfo (`http://user:pass@host/…`), percent-decoded; sent as HTTP Basic
/// authentication. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub user: String,
    pub password: Option<String>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl ServerUrl {
    /// The URL without its userinfo, and the credentials it held. Every URL built from the result (and so
    /// every message and record naming it) is free of the password; the client sends the credentials as
    /// a header.
    pub fn split_credentials(&self) -> (ServerUrl, Option<BasicAuth>) {
        let (api, auth) = strip_userinfo(&self.api);
        let (root, _) = strip_userinfo(&self.root);
        let query = self.query.clone();
        (ServerUrl { api, root, query }, auth)
    }

    /// Accepts `http://host:port`, `http://host:port/v1`, or a full endpoint URL as lm-eval takes it
    /// (`…/v1/completions`, `…/v1/chat/completions`).
    pub fn parse(url: &str) -> Result<ServerUrl, BackendError> {
        let full = url.trim();
        let without_fragment = full.split('#').next().unwrap_or(full);
        let (base, query) = match without_fragment.split_once('?') {
            Some((b, q)) => (b, Some(q.to_string()).filter(|q| !q.is_empty())),
            None => (without_fragment, None),
        };
        let mut u = base.trim_end_matches('/').to_string();
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(BackendError::Config(format!(
                "model server URL {url:?} must start with http:// or https:// (e.g. http://127.0.0.1:8080/v1)"
            )));
        }
        for suffix in ["/chat/completions", "/completions"] {
            if let Some(s) = u.strip_suffix(suffix) {
                u = s.to_string();
                break;
            }
        }
        if let Some(root) = u.strip_suffix("/v1") {
            Ok(ServerUrl {
                api: u.clone(),
                root: root.to_string(),
                query,
            })
        } else {
            Ok(ServerUrl {
                api: format!("{u}/v1"),
                root: u,
                query,
            })
        }
    }
}

/// `url` without `user:pass@`, and the decoded credentials.
fn strip_userinfo(url: &str) -> (String, Option<BasicAuth>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_string(), None);
    };
    let after = &url[scheme_end + 3..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let Some(at) = after[..authority_end].rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &after[..at];
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(percent_decode(p))),
        None => (userinfo, None),
    };
    let stripped = format!("{}{}", &url[..scheme_end + 3], &after[at + 1..]);
    (
        stripped,
        Some(BasicAuth {
            user: percent_decode(user),
            password,
        }),
    )
}

/// Retry behaviour.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// First backoff ceiling; doubles per retry (full jitter: the sleep is uniform in [0, ceiling]).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured (a server asking for more is waited for this long, then retried);
    /// it caps both the retry's sleep and the limiter's pause of new requests. The client lowers it further
    /// to its per-request timeout (`--timeout`): no pause is longer than one request may take.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (1-based): uniform in [0, min(max, base·2^(retry−1))], or the
    /// server's `Retry-After` when it gave one.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_retry_after);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (retry.saturating_sub(1)).min(20));
        let ceiling = exp.min(self.max_delay);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        Duration::from_nanos(if nanos == 0 {
            0
        } else {
            rng.gen_range(0..=nanos)
        })
    }
}

#[derive(Debug)]
struct LimiterState {
    limit: f64,
    in_flight: usize,
    paused_until: Option<Instant>,
    last_decrease: Option<Instant>,
    decreases: u64,
}

/// Adaptive concurrency limiter (additive increase, multiplicative decrease). At most `max` requests are
/// in flight; an overload signal (429/503) halves the allowed number (at most once per `cooldown`, so a
/// burst of rejections of requests that were already in flight counts once) and, with a `Retry-After`,
/// pauses new requests until then; each success adds `1/limit`, so the limit grows by about one slot per
/// window of successful requests.
#[derive(Debug)]
pub struct AdaptiveLimiter {
    max: usize,
    cooldown: Duration,
    /// Longest pause an overload signal can impose (a longer `Retry-After` is capped to it).
    max_pause: Duration,
    state: Mutex<LimiterState>,
    notify: Notify,
}

/// A slot of the limiter; released on drop.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<AdaptiveLimiter>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut s) = self.limiter.state.lock() {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        self.limiter.notify.notify_waiters();
    }
}

impl AdaptiveLimiter {
    pub fn new(max: usize) -> Arc<AdaptiveLimiter> {
        AdaptiveLimiter::with_max_pause(max, RetryPolicy::default().max_retry_after)
    }

    /// A limiter whose pauses (from `Retry-After`) last at most `max_pause`.
    pub fn with_max_pause(max: usize, max_pause: Duration) -> Arc<AdaptiveLimiter> {
        let max = max.max(1);
        Arc::new(AdaptiveLimiter {
            max,
            cooldown: Duration::from_millis(500),
            max_pause,
            state: Mutex::new(LimiterState {
                limit: max as f64,
                in_flight: 0,
                paused_until: None,
                last_decrease: None,
                decreases: 0,
            }),
            notify: Notify::new(),
        })
    }

    /// The configured maximum.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The current allowed concurrency.
    pub fn limit(&self) -> usize {
        self.state
            .lock()
            .map(|s| s.limit.floor() as usize)
            .unwrap_or(1)
            .max(1)
    }

    /// How many times the limit was decreased.
    pub fn decreases(&self) -> u64 {
        self.state.lock().map(|s| s.decreases).unwrap_or(0)
    }

    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait_until = {
                let mut s = match self.state.lock() {
                    Ok(s) => s,
                    Err(p) => p.into_inner(),
                };
                let now = Instant::now();
                match s.paused_until {
                    Some(t) if t > now => Some(t),
                    _ => {
                        s.paused_until = None;
                        if s.in_flight < (s.limit.floor() as usize).max(1) {
                            s.in_flight += 1;
                            return Permit {
                                limiter: Arc::clone(self),
                            };
                        }
                        None
                    }
                }
            };
            match wait_until {
                Some(t) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(t.into()) => {}
                        _ = &mut notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    pub fn on_success(&self) {
        if let Ok(mut s) = self.state.lock() {
            let max = self.max as f64;
            s.limit = (s.limit + 1.0 / s.limit.max(1.0)).min(max);
        }
        self.notify.notify_waiters();
    }

    /// The longest pause [`AdaptiveLimiter::on_overload`] imposes.
    pub fn max_pause(&self) -> Duration {
        self.max_pause
    }

    /// The server said it is overloaded (429/503). `retry_after`: pause new requests that long, but at most
    /// [`AdaptiveLimiter::max_pause`]. Returns the pause imposed (`None` without a `Retry-After`).
    pub fn on_overload(&self, retry_after: Option<Duration>) -> Option<Duration> {
        let pause = retry_after.map(|ra| ra.min(self.max_pause));
        if let Ok(mut s) = self.state.lock() {
            let now = Instant::now();
            if s.last_decrease
                .is_none_or(|t| now.duration_since(t) >= self.cooldown)
            {
                s.limit = (s.limit / 2.0).max(1.0);
                s.last_decrease = Some(now);
                s.decreases += 1;
            }
            if let Some(until) = pause.and_then(|p| now.checked_add(p)) {
                if s.paused_until.is_none_or(|p| p < until) {
                    s.paused_until = Some(until);
                }
            }
        }
        pause
    }
}

/// Timing and retry facts of one logical call (all its attempts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallMeta {
    /// From the first attempt's start to the final answer, including backoff sleeps.
    pub latency: Duration,
    /// Duration of the final (successful) attempt.
    pub last_attempt: Duration,
    pub attempts: u32,
}

impl CallMeta {
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// A pooled JSON-over-HTTP client with limiter and retries.
#[derive(Clone, Debug)]
pub struct ApiClient {
    pub url: ServerUrl,
    client: reqwest::Client,
    api_key: Option<String>,
    /// From the URL's userinfo, which `url` no longer holds.
    basic_auth: Option<BasicAuth>,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub limiter: Arc<AdaptiveLimiter>,
    /// The largest response body read ([`MAX_BODY_BYTES`]).
    pub max_body_bytes: u64,
}

/// The API key: `YARDSTICK_API_KEY`, else `OPENAI_API_KEY` (empty values ignored).
pub fn api_key_from_env() -> Option<String> {
    ["YARDSTICK_API_KEY", "OPENAI_API_KEY"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
}

enum Attempt {
    /// The server answered.
    Answer {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
        /// The header as sent, for messages.
        retry_after_raw: Option<String>,
        retryable: bool,
        overload: bool,
    },
    /// No answer: connection refused (`connect`), dropped, or timed out.
    Transport { err: BackendError, connect: bool },
    /// An answer that retrying cannot change (a redirect to another host, a body over the size cap).
    Fatal(BackendError),
}

/// The largest response body read (64 MiB); a larger one is an error naming the URL and the size.
pub const MAX_BODY_BYTES: u64 = 64 << 20;

/// The redirect policy: a redirect to the same host (and port) is followed, up to 10 hops; one to another
/// host is refused (the API key would follow the request there).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let (from_host, from_port) = match attempt.previous().first() {
            Some(u) => (u.host_str().map(str::to_string), u.port_or_known_default()),
            None => (None, None),
        };
        let to = attempt.url();
        if to.host_str().map(str::to_string) != from_host || to.port_or_known_default() != from_port
        {
            let location = yardstick_core::redact_url(to.as_str());
            attempt.error(CrossHostRedirect(location))
        } else if attempt.previous().len() > 10 {
            attempt.error(CrossHostRedirect(String::new()))
        } else {
            attempt.follow()
        }
    })
}

/// Carried through reqwest's error from [`redirect_policy`]: where a refused redirect pointed (empty for
/// too many redirects).
#[derive(Debug)]
struct CrossHostRedirect(String);

impl std::fmt::Display for CrossHostRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to {}", self.0)
    }
}

impl std::error::Error for CrossHostRedirect {}

/// The refused redirect inside a reqwest error, if that is what it is.
fn refused_redirect(url: &str, e: &reqwest::Error) -> Option<BackendError> {
    if !e.is_redirect() {
        return None;
    }
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(r) = s.downcast_ref::<CrossHostRedirect>() {
            return Some(if r.0.is_empty() {
                BackendError::Config(format!(
                    "{url} redirected more than 10 times; pass the final server URL with --model"
                ))
            } else {
                BackendError::CrossHostRedirect {
                    url: url.to_string(),
                    location: r.0.clone(),
                }
            });
        }
        src = s.source();
    }
    None
}

impl ApiClient {
    pub fn new(
        url: ServerUrl,
        api_key: Option<String>,
        concurrency: usize,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<ApiClient, BackendError> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency.max(1) * 2)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .redirect(redirect_policy())
            .build()
            .map_err(|e| BackendError::Config(format!("cannot build the HTTP client: {e}")))?;
        let (url, basic_auth) = url.split_credentials();
        // No wait on a server's say-so is longer than a request may take (--timeout).
        let mut retry = retry;
        retry.max_retry_after = retry.max_retry_after.min(timeout);
        let limiter = AdaptiveLimiter::with_max_pause(concurrency, retry.max_retry_after);
        Ok(ApiClient {
            url,
            client,
            api_key,
            basic_auth,
            retry,
            timeout,
            limiter,
            max_body_bytes: MAX_BODY_BYTES,
        })
    }

    /// `GET url` with retries on dropped connections, timeouts and retryable statuses (not on a refused
    /// connection: an unreachable server is reported at once). Returns the final status and body.
    pub async fn get_probe(&self, url: &str) -> Result<(u16, String), BackendError> {
        let (status, body, _) = self
            .exchange(reqwest::Method::GET, url, None, false, false)
            .await?;
        Ok((status, body))
    }

    /// `POST url` with a JSON body, retried like [`ApiClient::get_probe`], bypassing the limiter (for probes).
    /// Returns the final status and body whatever the status.
    pub async fn post_probe(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, String), BackendError> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| BackendError::InvalidRequest(e.to_string()))?;
        let (status, body, _) = self
            .exchange(reqwest::Method::POST, url, Some(&bytes), false, false)
            .await?;
        Ok((status, body))
    }

    /// `url` with the server URL's query (if any) appended: what is sent. Messages name `url` alone.
    fn request_url<'a>(&self, url: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.url.query {
            Some(q) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                std::borrow::Cow::Owned(format!("{url}{sep}{q}"))
            }
            None => std::borrow::Cow::Borrowed(url),
        }
    }

    async fn attempt(&self, method: &reqwest::Method, url: &str, body: Option<&[u8]>) -> Attempt {
        let mut rb = self
            .client
            .request(method.clone(), self.request_url(url).as_ref())
            .timeout(self.timeout);
        if let Some(b) = body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        if let Some(k) = &self.api_key {
            rb = rb.bearer_auth(k);
        } else if let Some(a) = &self.basic_auth {
            rb = rb.basic_auth(&a.user, a.password.as_ref());
        }
        let mut resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                if let Some(err) = refused_redirect(url, &e) {
                    return Attempt::Fatal(err);
                }
                return Attempt::Transport {
                    err: transport_error(url, &e, self.timeout, 1),
                    connect: e.is_connect(),
                };
            }
        };
        let status = resp.status().as_u16();
        let retry_after_raw = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let retry_after = retry_after_raw
            .as_deref()
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let too_large = |size: String| {
            Attempt::Fatal(BackendError::BodyTooLarge {
                url: url.to_string(),
                size,
                limit: self.max_body_bytes,
            })
        };
        if let Some(n) = resp.content_length().filter(|n| *n > self.max_body_bytes) {
            return too_large(format!("{n} bytes (its Content-Length)"));
        }
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if (bytes.len() + chunk.len()) as u64 > self.max_body_bytes {
                        return too_large(format!("more than {} bytes", self.max_body_bytes));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Attempt::Transport {
                        err: transport_error(url, &e, self.timeout, 1),
                        connect: false,
                    }
                }
            }
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let retryable = match status {
            429 | 503 | 408 => true,
            500 if is_permanent_server_error(&text) => false,
            s => s >= 500,
        };
        Attempt::Answer {
            status,
            body: text,
            retry_after,
            retry_after_raw,
            retryable,
            overload: matches!(status, 429 | 503),
        }
    }

    /// One logical call: attempts with backoff until a non-retryable answer or the retry budget is spent.
    /// Returns the last HTTP answer (any status); transport failures after the budget are errors.
    async fn exchange(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&[u8]>,
        retry_refused: bool,
        use_limiter: bool,
    ) -> Result<(u16, String, CallMeta), BackendError> {
        let start = Instant::now();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let permit = if use_limiter {
                Some(self.limiter.acquire().await)
            } else {
                None
            };
            let t0 = Instant::now();
            let outcome = self.attempt(&method, url, body).await;
            let took = t0.elapsed();
            drop(permit);
            let meta = || CallMeta {
                latency: start.elapsed(),
                last_attempt: took,
                attempts,
            };
            let (retry_after, err_for_log) = match outcome {
                Attempt::Answer {
                    status,
                    body,
                    retry_after,
                    retry_after_raw,
                    retryable,
                    overload,
                } => {
                    let pause = if overload && use_limiter {
                        self.limiter.on_overload(retry_after)
                    } else {
                        retry_after.map(|ra| ra.min(self.retry.max_retry_after))
                    };
                    if let (Some(pause), Some(raw)) = (pause, retry_after_raw.as_deref()) {
                        let capped = if retry_after.is_some_and(|ra| ra > pause) {
                            format!(
                                "(capped to --timeout / the longest honoured wait, {:.0}s) ",
                                self.retry.max_retry_after.as_secs_f64()
                            )
                        } else {
                            String::new()
                        };
                        tracing::warn!(
                            "{url} answered HTTP {status} with Retry-After: {raw}: pausing requests to it for {:.1}s \
                             {capped}(attempt {attempts} of {}); the server said: {}",
                            pause.as_secs_f64(),
                            self.retry.max_retries + 1,
                            excerpt(&body)
                        );
                    } else if let (None, Some(raw)) = (retry_after, retry_after_raw.as_deref()) {
                        tracing::warn!(
                            "{url} answered HTTP {status} with an unreadable Retry-After: {raw:?}; \
                             backing off on its own schedule"
                        );
                    }
                    if !retryable || attempts > self.retry.max_retries {
                        if use_limiter && (200..300).contains(&status) {
                            self.limiter.on_success();
                        }
                        return Ok((status, body, meta()));
                    }
                    (retry_after, format!("HTTP {status}: {}", excerpt(&body)))
                }
                Attempt::Fatal(err) => return Err(err),
                Attempt::Transport { err, connect } => {
                    if (connect && !retry_refused) || attempts > self.retry.max_retries {
                        let err = match err {
                            BackendError::Timeout { url, timeout, .. } => BackendError::Timeout {
                                url,
                                timeout,
                                attempts,
                            },
                            other => other,
                        };
                        if attempts > 1 {
                            return Err(BackendError::RetriesExhausted {
                                url: url.to_string(),
                                attempts,
                                last: Box::new(err),
                            });
                        }
                        return Err(err);
                    }
                    (None, err.to_string())
                }
            };
            let delay = self
                .retry
                .delay(attempts, retry_after, &mut rand::thread_rng());
            tracing::debug!(url, attempts, ?delay, error = %err_for_log, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// POST JSON with the limiter and retries; a non-2xx final answer is an error (status + body excerpt +
    /// what to do; wrapped in `RetriesExhausted` when it was retried).
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(String, CallMeta), BackendError> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| BackendError::InvalidRequest(e.to_string()))?;
        let (status, text, meta) = self
            .exchange(reqwest::Method::POST, url, Some(&bytes), true, true)
            .await?;
        if (200..300).contains(&status) {
            return Ok((text, meta));
        }
        let err = http_error(url, status, &text);
        if meta.attempts > 1 {
            return Err(BackendError::RetriesExhausted {
                url: url.to_string(),
                attempts: meta.attempts,
                last: Box::new(err),
            });
        }
        Err(err)
    }
}

fn is_permanent_server_error(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("only no echo is supported") || b.contains("unsupported param")
}

pub(crate) fn http_error(url: &str, status: u16, body: &str) -> BackendError {
    let hint = match status {
        400 | 422 => "The server rejected the request as invalid; check --model-name and that the endpoint supports \
                      the parameters sent (echo, logprobs, token-id prompts)",
        401 | 403 => "Set the API key in YARDSTICK_API_KEY or OPENAI_API_KEY",
        404 => "Check the base URL (it should end in /v1) and --model-name",
        408 => "The server timed out the request; retried",
        413 => "The prompt is too large for the server; lower --max-length",
        429 => "The server is rate limiting; lower --concurrency",
        500..=599 => "The server failed; check its log",
        _ => "Check the server and the request",
    };
    BackendError::Http {
        url: url.to_string(),
        status,
        body: excerpt(body),
        hint: hint.to_string(),
    }
}

pub(crate) fn transport_error(
    url: &str,
    e: &reqwest::Error,
    timeout: Duration,
    attempts: u32,
) -> BackendError {
    if e.is_timeout() {
        return BackendError::Timeout {
            url: url.to_string(),
            timeout,
            attempts,
        };
    }
    // The innermost cause carries the OS error ("Connection refused (os error 111)").
    let mut cause = e.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        cause = s.to_string();
        src = s.source();
    }
    if e.is_connect() {
        BackendError::Unreachable {
            url: url.to_string(),
            cause,
        }
    } else {
        BackendError::Unreachable {
            url: url.to_string(),
            cause: format!("{e} ({cause})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn server_url_forms() {
        let a = ServerUrl::parse("http://127.0.0.1:8080/v1/").expect("ok");
        assert_eq!(
            a,
            ServerUrl {
                api: "http://127.0.0.1:8080/v1".into(),
                root: "http://127.0.0.1:8080".into(),
                query: None,
            }
        );
        assert_eq!(
            ServerUrl::parse("http://h:1/v1/?api-version=2&key=s#frag").expect("ok"),
            ServerUrl {
                api: "http://h:1/v1".into(),
                root: "http://h:1".into(),
                query: Some("api-version=2&key=s".into()),
            }
        );
        assert_eq!(
            ServerUrl::parse("http://h:1").expect("ok"),
            ServerUrl::parse("http://h:1/v1").expect("ok")
        );
        assert_eq!(
            ServerUrl::parse("http://h:1/v1/completions").expect("ok"),
            ServerUrl::parse("http://h:1").expect("ok")
        );
        assert!(ServerUrl::parse("h:1").is_err());
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Wed, 01 Jan 2025 00:00:00 GMT", SystemTime::UNIX_EPOCH),
            Some(Duration::from_secs(1735689600))
        );
    }

    #[test]
    fn backoff_is_full_jitter_exponential_and_honours_retry_after() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(5),
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for retry in 1..8u32 {
            let ceiling =
                Duration::from_millis(100 * (1u64 << (retry - 1))).min(Duration::from_secs(1));
            let mut max_seen = Duration::ZERO;
            for _ in 0..200 {
                let d = p.delay(retry, None, &mut rng);
                assert!(d <= ceiling, "retry {retry}: {d:?} > {ceiling:?}");
                max_seen = max_seen.max(d);
            }
            assert!(max_seen > ceiling / 2, "jitter spans the range");
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3)), &mut rng),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(300)), &mut rng),
            Duration::from_secs(5)
        );
    }

    #[tokio::test]
    async fn limiter_halves_on_overload_and_grows_back() {
        let l = AdaptiveLimiter::new(8);
        assert_eq!(l.limit(), 8);
        l.on_overload(None);
        assert_eq!(l.limit(), 4);
        l.on_overload(None); // within the cooldown: counted once
        assert_eq!(l.limit(), 4);
        for _ in 0..5 {
            l.on_success();
        }
        assert_eq!(
            l.limit(),
            5,
            "about one slot per window of `limit` successes"
        );
        for _ in 0..100 {
            l.on_success();
        }
        assert_eq!(l.limit(), 8);
        // at most `limit` permits at once
        let l = AdaptiveLimiter::new(2);
        let a = l.acquire().await;
        let _b = l.acquire().await;
        let l2 = Arc::clone(&l);
        let waiter = tokio::spawn(async move { l2.acquire().await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        drop(a);
        let _c = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("released")
            .expect("join");
    }

    /// Issue 8: these panicked (`Duration::from_secs_f64(1e30)`, `Instant + Duration::from_secs(u64::MAX)`,
    /// a 5-digit year's seconds) or were not read (the obsolete date forms RFC 9110 says to accept).
    #[test]
    fn retry_after_extremes_are_read_without_panicking() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("1e30", now), Some(Duration::MAX));
        assert_eq!(parse_retry_after("inf", now), Some(Duration::MAX));
        assert_eq!(
            parse_retry_after("18446744073709551615", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999999999", now),
            Some(Duration::MAX)
        );
        assert_eq!(parse_retry_after("-5", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1e400", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:57 1994", now),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 99999999999999999 08:49:37 GMT", now),
            None
        );
        assert!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now).is_some());
        assert_eq!(
            parse_retry_after("Mon, 01 Jan 0001 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        // the limiter takes any of them without overflowing, and caps the pause
        let l = AdaptiveLimiter::with_max_pause(4, Duration::from_millis(50));
        for ra in [Duration::MAX, Duration::from_secs(u64::MAX), Duration::ZERO] {
            assert!(l.on_overload(Some(ra)) <= Some(Duration::from_millis(50)));
        }
    }

    #[tokio::test]
    async fn limiter_pause_is_capped() {
        let l = AdaptiveLimiter::with_max_pause(4, Duration::from_millis(200));
        assert_eq!(
            l.on_overload(Some(Duration::from_secs(100_000))),
            Some(Duration::from_millis(200))
        );
        let t = Instant::now();
        let _p = tokio::time::timeout(Duration::from_secs(5), l.acquire())
            .await
            .expect("the pause is capped");
        assert!(
            t.elapsed() >= Duration::from_millis(180),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn client_caps_waits_by_its_timeout_and_keeps_credentials_out_of_its_url() {
        let url = ServerUrl::parse("http://bob:pa%3Ass@127.0.0.1:9/v1").expect("url");
        let c = ApiClient::new(url, None, 2, Duration::from_secs(3), RetryPolicy::default())
            .expect("client");
        assert_eq!(c.url.api, "http://127.0.0.1:9/v1");
        assert_eq!(c.url.root, "http://127.0.0.1:9");
        assert_eq!(c.retry.max_retry_after, Duration::from_secs(3));
        assert_eq!(c.limiter.max_pause(), Duration::from_secs(3));
        assert_eq!(
            c.basic_auth,
            Some(BasicAuth {
                user: "bob".into(),
                password: Some("pa:ss".into())
            })
        );
        assert!(!format!("{c:?}").contains("pa:ss"));
    }

    /// The credentials reach the server as `Authorization: Basic`.
    #[tokio::test]
    async fn url_credentials_are_sent_as_basic_auth() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().expect("accept");
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
            String::from_utf8_lossy(&got).into_owned()
        });
        let url = ServerUrl::parse(&format!(
            "http://bob:pa%3Ass@127.0.0.1:{port}/v1?api-version=2&key=s3"
        ))
        .expect("url");
        let c = ApiClient::new(url, None, 1, Duration::from_secs(5), RetryPolicy::default())
            .expect("client");
        let (status, _) = c
            .get_probe(&format!("{}/models", c.url.api))
            .await
            .expect("answer");
        assert_eq!(status, 200);
        let request = server.join().expect("server").to_ascii_lowercase();
        // base64("bob:pa:ss")
        assert!(
            request.contains("authorization: basic ym9ionbhonnz"),
            "{request}"
        );
        // the URL's query goes with every request, and not into the URLs messages show
        assert!(
            request.starts_with("get /v1/models?api-version=2&key=s3 "),
            "{request}"
        );
        assert!(!c.url.api.contains("s3") && !c.url.root.contains("s3"));
    }

    /// A loopback server answering each of `n` connections with `answer(request head)` (raw HTTP).
    fn raw_server(
        n: usize,
        answer: impl Fn(&str) -> Vec<u8> + Send + 'static,
    ) -> (u16, std::thread::JoinHandle<usize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handle = std::thread::spawn(move || {
            let mut served = 0;
            listener.set_nonblocking(false).expect("blocking");
            for _ in 0..n {
                let Ok((mut sock, _)) = listener.accept() else {
                    break;
                };
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => got.extend_from_slice(&buf[..k]),
                    }
                }
                let _ = sock.write_all(&answer(&String::from_utf8_lossy(&got)));
                served += 1;
            }
            served
        });
        (port, handle)
    }

    fn client(port: u16, retries: u32) -> ApiClient {
        let url = ServerUrl::parse(&format!("http://127.0.0.1:{port}/v1")).expect("url");
        let retry = RetryPolicy {
            max_retries: retries,
            ..RetryPolicy::default()
        };
        ApiClient::new(
            url,
            Some("sk-test".into()),
            1,
            Duration::from_secs(5),
            retry,
        )
        .expect("client")
    }

    #[tokio::test]
    async fn redirects_to_another_host_are_refused_and_same_host_followed() {
        let (port, server) = raw_server(1, |_| {
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.2:9/v1/models?token=t0p\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
        });
        let c = client(port, 3);
        let err = c
            .get_probe(&format!("{}/models", c.url.api))
            .await
            .expect_err("a cross-host redirect is refused");
        let msg = err.to_string();
        assert!(
            matches!(err, BackendError::CrossHostRedirect { .. }),
            "{msg}"
        );
        assert!(
            msg.contains("127.0.0.2:9") && msg.contains("--model"),
            "{msg}"
        );
        assert!(!msg.contains("t0p"), "{msg}");
        // not retried: the one connection was the only one
        assert_eq!(server.join().expect("server"), 1);

        let (port, server) = raw_server(2, |head| {
            if head.starts_with("GET /v1/models ") {
                b"HTTP/1.1 301 Moved\r\nlocation: /v1/models2\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            } else {
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_vec()
            }
        });
        let c = client(port, 0);
        let (status, body) = c
            .get_probe(&format!("{}/models", c.url.api))
            .await
            .expect("a same-host redirect is followed");
        assert_eq!((status, body.as_str()), (200, "{}"));
        assert_eq!(server.join().expect("server"), 2);
    }

    #[tokio::test]
    async fn response_bodies_are_size_capped() {
        // declared too large
        let (port, _server) = raw_server(1, |_| {
            b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n".to_vec()
        });
        let mut c = client(port, 3);
        c.max_body_bytes = 1000;
        let err = c
            .get_probe(&format!("{}/models", c.url.api))
            .await
            .expect_err("too large");
        let msg = err.to_string();
        assert!(matches!(err, BackendError::BodyTooLarge { .. }), "{msg}");
        assert!(
            msg.contains("5000 bytes") && msg.contains("/v1/models"),
            "{msg}"
        );
        // streamed without a length
        let (port, _server) = raw_server(1, |_| {
            let mut r = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
            r.extend(std::iter::repeat_n(b'x', 5000));
            r
        });
        let mut c = client(port, 3);
        c.max_body_bytes = 1000;
        let err = c
            .get_probe(&format!("{}/models", c.url.api))
            .await
            .expect_err("too large");
        assert!(err.to_string().contains("more than 1000 bytes"), "{err}");
        assert_eq!(MAX_BODY_BYTES, 64 << 20);
    }

    #[tokio::test]
    async fn server_bodies_in_errors_are_safe_to_print() {
        let (port, _server) = raw_server(1, |_| {
            let body = "{\"error\": \"bad key sk-live0123456789abcdef \x1b]0;owned\x07\x1b[2J\"}";
            format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        });
        let c = client(port, 0);
        let err = c
            .post_json(
                &format!("{}/completions", c.url.api),
                &serde_json::json!({}),
            )
            .await
            .expect_err("401");
        let msg = err.to_string();
        assert!(!msg.contains('\x1b') && !msg.contains('\x07'), "{msg:?}");
        assert!(!msg.contains("sk-live0123456789abcdef"), "{msg}");
        assert!(
            msg.contains("\\u{1b}]0;owned") && msg.contains("sk-REDACTED"),
            "{msg}"
        );
    }

    proptest::proptest! {
        /// Whatever a server sends as `Retry-After`, reading it and pausing on it never panics, and the
        /// pause is capped.
        #[test]
        fn any_retry_after_header_is_safe(v in "\\PC{0,40}", secs in proptest::num::u64::ANY) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(secs % (1u64 << 40));
            let d = parse_retry_after(&v, now);
            let l = AdaptiveLimiter::with_max_pause(2, Duration::from_secs(7));
            let p = l.on_overload(d);
            proptest::prop_assert!(p.is_none_or(|p| p <= Duration::from_secs(7)));
            let policy = RetryPolicy { max_retry_after: Duration::from_secs(7), ..RetryPolicy::default() };
            let delay = policy.delay(1, d, &mut rand::thread_rng());
            proptest::prop_assert!(delay <= Duration::from_secs(20));
        }

        #[test]
        fn numeric_and_date_shaped_retry_after_is_safe(
            n in "[-+]?[0-9]{0,30}(\\.[0-9]{0,5})?([eE][-+]?[0-9]{1,4})?",
            y in 0i64..100_000,
            d in 0u32..40,
            h in 0u32..30,
        ) {
            let now = SystemTime::now();
            let _ = parse_retry_after(&n, now);
            let _ = parse_retry_after(&format!("Sun, {d:02} Nov {y} {h:02}:00:00 GMT"), now);
            let _ = parse_retry_after(&format!("Sunday, {d:02}-Nov-{y} {h:02}:00:00 GMT"), now);
            let _ = parse_retry_after(&format!("Sun Nov {d} {h:02}:00:00 {y}"), now);
        }
    }

    #[tokio::test]
    async fn retry_after_pauses_new_requests() {
        let l = AdaptiveLimiter::new(4);
        l.on_overload(Some(Duration::from_millis(300)));
        let t = Instant::now();
        let _p = l.acquire().await;
        assert!(
            t.elapsed() >= Duration::from_millis(280),
            "{:?}",
            t.elapsed()
        );
    }
}
