//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1: forwards each request to an upstream server and, at
//! seeded random, answers HTTP 500 instead, drops the connection before forwarding, cuts the response off
//! mid-body, or delays the response. It counts what it injected. Connections and in-flight requests are
//! bounded; everything stops when the proxy is dropped.

use crate::http_util::{full, read_body, BoxBody, HandlerResult, TestHttpServer};
use bytes::Bytes;
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Fault probabilities (each request draws one of: 500, drop, slow, or clean forwarding).
#[derive(Clone, Debug)]
pub struct FaultConfig {
    /// Answer HTTP 500 without forwarding.
    pub p_500: f64,
    /// Drop the connection: half of these before forwarding (the request is lost), half after
    /// forwarding with the response body cut off mid-way.
    pub p_drop: f64,
    /// Hold the (forwarded) response until `slow` after the request began (its slot taken): at least `slow`
    /// per request, however long the upstream took.
    pub p_slow: f64,
    pub slow: Duration,
    pub seed: u64,
    /// Requests handled at once; more wait.
    pub max_in_flight: usize,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            p_500: 0.2,
            p_drop: 0.05,
            p_slow: 0.05,
            slow: Duration::from_millis(300),
            seed: 7,
            max_in_flight: 64,
        }
    }
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub requests: AtomicU64,
    pub forwarded: AtomicU64,
    pub injected_500: AtomicU64,
    pub dropped_before: AtomicU64,
    pub dropped_mid_response: AtomicU64,
    pub slowed: AtomicU64,
    pub upstream_errors: AtomicU64,
    /// Completions answered by the upstream (HTTP 200 to a POST …/completions), by request body: how many
    /// times each distinct request was computed.
    pub answered_bodies: Mutex<std::collections::HashMap<Bytes, u64>>,
}

/// A snapshot of [`FaultCounts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultSummary {
    pub requests: u64,
    pub forwarded: u64,
    pub injected_500: u64,
    pub dropped_before: u64,
    pub dropped_mid_response: u64,
    pub slowed: u64,
    pub upstream_errors: u64,
}

impl FaultSummary {
    /// Faults that make a client retry (500s and drops).
    pub fn failures(&self) -> u64 {
        self.injected_500 + self.dropped_before + self.dropped_mid_response
    }
}

pub struct FaultProxy {
    server: TestHttpServer,
    counts: Arc<FaultCounts>,
}

enum Fault {
    Err500,
    DropBefore,
    DropMid,
    Slow,
    None,
}

impl FaultProxy {
    /// Proxy to `upstream` (`http://host:port`, any path prefix is ignored: paths are forwarded as sent).
    pub fn start(upstream: &str, config: FaultConfig) -> std::io::Result<FaultProxy> {
        let upstream_addr: SocketAddr = upstream
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("")
            .parse()
            .map_err(|e| {
                std::io::Error::other(format!("upstream {upstream:?} must be http://IP:PORT: {e}"))
            })?;
        let counts = Arc::new(FaultCounts::default());
        let rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(config.seed)));
        let sem = Arc::new(tokio::sync::Semaphore::new(config.max_in_flight.max(1)));
        let c2 = Arc::clone(&counts);
        let config = Arc::new(config);
        let server = TestHttpServer::start(move |req| {
            let counts = Arc::clone(&c2);
            let rng = Arc::clone(&rng);
            let config = Arc::clone(&config);
            let sem = Arc::clone(&sem);
            async move {
                let _permit = sem.acquire_owned().await.map_err(std::io::Error::other)?;
                proxy(req, upstream_addr, &config, &counts, &rng).await
            }
        })?;
        Ok(FaultProxy { server, counts })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Each distinct completions request the upstream answered, and how many times.
    pub fn answered_bodies(&self) -> std::collections::HashMap<Bytes, u64> {
        self.counts
            .answered_bodies
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    pub fn summary(&self) -> FaultSummary {
        let c = &self.counts;
        FaultSummary {
            requests: c.requests.load(Ordering::Relaxed),
            forwarded: c.forwarded.load(Ordering::Relaxed),
            injected_500: c.injected_500.load(Ordering::Relaxed),
            dropped_before: c.dropped_before.load(Ordering::Relaxed),
            dropped_mid_response: c.dropped_mid_response.load(Ordering::Relaxed),
            slowed: c.slowed.load(Ordering::Relaxed),
            upstream_errors: c.upstream_errors.load(Ordering::Relaxed),
        }
    }
}

async fn proxy(
    req: hyper::Request<hyper::body::Incoming>,
    upstream: SocketAddr,
    config: &FaultConfig,
    counts: &FaultCounts,
    rng: &Mutex<rand::rngs::StdRng>,
) -> HandlerResult {
    let began = tokio::time::Instant::now();
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = read_body(req).await.map_err(std::io::Error::other)?;
    let fault = {
        let x: f64 = rng.lock().map(|mut r| r.gen::<f64>()).unwrap_or(1.0);
        let mut acc = config.p_500;
        if x < acc {
            Fault::Err500
        } else if x < {
            acc += config.p_drop / 2.0;
            acc
        } {
            Fault::DropBefore
        } else if x < {
            acc += config.p_drop / 2.0;
            acc
        } {
            Fault::DropMid
        } else if x < acc + config.p_slow {
            Fault::Slow
        } else {
            Fault::None
        }
    };
    match fault {
        Fault::Err500 => {
            counts.injected_500.fetch_add(1, Ordering::Relaxed);
            return Ok(crate::http_util::json_response(
                500,
                &serde_json::json!({"error": {"message": "injected fault", "code": 500}}),
            ));
        }
        Fault::DropBefore => {
            counts.dropped_before.fetch_add(1, Ordering::Relaxed);
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "injected drop",
            ));
        }
        _ => {}
    }
    // Forward on a fresh upstream connection.
    let stream = match tokio::net::TcpStream::connect(upstream).await {
        Ok(s) => s,
        Err(e) => {
            counts.upstream_errors.fetch_add(1, Ordering::Relaxed);
            return Ok(crate::http_util::json_response(
                502,
                &serde_json::json!({"error": format!("upstream: {e}")}),
            ));
        }
    };
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut builder = hyper::Request::builder().method(parts.method.clone()).uri(
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/"),
    );
    for (k, v) in parts.headers.iter() {
        if k != hyper::header::HOST {
            builder = builder.header(k, v);
        }
    }
    builder = builder.header(hyper::header::HOST, upstream.to_string());
    let up_req = builder
        .body(full(body.clone()))
        .map_err(std::io::Error::other)?;
    let resp = match sender.send_request(up_req).await {
        Ok(r) => r,
        Err(e) => {
            counts.upstream_errors.fetch_add(1, Ordering::Relaxed);
            return Ok(crate::http_util::json_response(
                502,
                &serde_json::json!({"error": format!("upstream: {e}")}),
            ));
        }
    };
    let (rparts, rbody) = resp.into_parts();
    let bytes: Bytes = rbody
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    counts.forwarded.fetch_add(1, Ordering::Relaxed);
    if parts.method == hyper::Method::POST
        && parts.uri.path().ends_with("/completions")
        && rparts.status == hyper::StatusCode::OK
    {
        if let Ok(mut m) = counts.answered_bodies.lock() {
            *m.entry(body.clone()).or_insert(0) += 1;
        }
    }
    match fault {
        Fault::Slow => {
            counts.slowed.fetch_add(1, Ordering::Relaxed);
            // held until `slow` after it began (its slot taken): a server that takes `slow` per request,
            // however long the upstream took (so endpoints sharing one upstream keep their own capacity)
            tokio::time::sleep_until(began + config.slow).await;
        }
        Fault::DropMid => {
            counts.dropped_mid_response.fetch_add(1, Ordering::Relaxed);
            // Announce the full length, send half, then fail the body: hyper aborts the connection.
            let half = bytes.slice(..bytes.len() / 2);
            let stream = futures_like_stream(half);
            let mut r = hyper::Response::from_parts(rparts, stream);
            r.headers_mut().insert(
                hyper::header::CONTENT_LENGTH,
                hyper::header::HeaderValue::from(bytes.len()),
            );
            return Ok(r);
        }
        _ => {}
    }
    let mut r = hyper::Response::from_parts(rparts, full(bytes.clone()));
    r.headers_mut().insert(
        hyper::header::CONTENT_LENGTH,
        hyper::header::HeaderValue::from(bytes.len()),
    );
    r.headers_mut().remove(hyper::header::TRANSFER_ENCODING);
    Ok(r)
}

/// A body that yields `first` and then an error (so the connection is cut mid-response).
fn futures_like_stream(first: Bytes) -> BoxBody {
    struct Cut {
        first: Option<Bytes>,
    }
    impl hyper::body::Body for Cut {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
            match self.first.take() {
                Some(b) => std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(b)))),
                None => std::task::Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected cut",
                )))),
            }
        }
    }
    Cut { first: Some(first) }.boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_util::{blocking_get, json_response};

    fn upstream() -> TestHttpServer {
        TestHttpServer::start(|_req| async {
            Ok(json_response(
                200,
                &serde_json::json!({"ok": true, "pad": "x".repeat(4000)}),
            ))
        })
        .expect("upstream")
    }

    #[test]
    fn forwards_cleanly_and_injects_what_it_is_told() {
        let up = upstream();
        let clean = FaultProxy::start(
            &up.url(),
            FaultConfig {
                p_500: 0.0,
                p_drop: 0.0,
                p_slow: 0.0,
                ..FaultConfig::default()
            },
        )
        .expect("proxy");
        let (status, body) =
            blocking_get(clean.server.addr, "/x", Duration::from_secs(5)).expect("get");
        assert_eq!(status, 200);
        assert!(body.contains("\"ok\":true"));
        assert_eq!(clean.summary().forwarded, 1);

        let always500 = FaultProxy::start(
            &up.url(),
            FaultConfig {
                p_500: 1.0,
                ..FaultConfig::default()
            },
        )
        .expect("proxy");
        let (status, _) =
            blocking_get(always500.server.addr, "/x", Duration::from_secs(5)).expect("get");
        assert_eq!(status, 500);
        assert_eq!(always500.summary().injected_500, 1);
        assert_eq!(always500.summary().forwarded, 0);

        let drops = FaultProxy::start(
            &up.url(),
            FaultConfig {
                p_500: 0.0,
                p_drop: 1.0,
                p_slow: 0.0,
                seed: 1,
                ..FaultConfig::default()
            },
        )
        .expect("proxy");
        for _ in 0..6 {
            // either no response at all or a body cut short of its content-length
            match blocking_get(drops.server.addr, "/x", Duration::from_secs(5)) {
                Ok((200, body)) => {
                    assert!(!body.contains("\"ok\":true}"), "a cut body is incomplete")
                }
                Ok((s, _)) => panic!("unexpected status {s}"),
                Err(_) => {}
            }
        }
        let s = drops.summary();
        assert_eq!(s.dropped_before + s.dropped_mid_response, 6, "{s:?}");

        let slow = FaultProxy::start(
            &up.url(),
            FaultConfig {
                p_500: 0.0,
                p_drop: 0.0,
                p_slow: 1.0,
                slow: Duration::from_millis(200),
                ..FaultConfig::default()
            },
        )
        .expect("proxy");
        let t0 = std::time::Instant::now();
        let (status, _) =
            blocking_get(slow.server.addr, "/x", Duration::from_secs(5)).expect("get");
        assert_eq!(status, 200);
        assert!(t0.elapsed() >= Duration::from_millis(190));
        assert_eq!(slow.summary().slowed, 1);
    }
}
