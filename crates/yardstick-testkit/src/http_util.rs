//! Small HTTP helpers shared by the test servers: a hyper HTTP/1.1 server loop that stops on drop, and
//! a one-shot blocking GET for readiness checks.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub type BoxBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// A full response body.
pub fn full(b: impl Into<Bytes>) -> BoxBody {
    Full::new(b.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// A JSON response with `content-length`.
pub fn json_response(status: u16, body: &serde_json::Value) -> Response<BoxBody> {
    let text = body.to_string();
    let mut r = Response::new(full(text));
    *r.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Collect a request body (bounded to 64 MiB).
pub async fn read_body(
    req: Request<Incoming>,
) -> Result<(hyper::http::request::Parts, Bytes), String> {
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, 64 << 20);
    let bytes = limited
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((parts, bytes))
}

/// An HTTP/1.1 server on 127.0.0.1 (ephemeral port) running `handler` for every request, on its own
/// Tokio runtime thread, so it works from sync and async tests alike. Stops when dropped.
pub struct TestHttpServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What a handler returns: a response, or an error that makes hyper close the connection without one.
pub type HandlerResult = Result<Response<BoxBody>, std::io::Error>;

impl TestHttpServer {
    pub fn start<H, F>(handler: H) -> std::io::Result<TestHttpServer>
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = HandlerResult> + Send + 'static,
    {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let handler = Arc::new(handler);
        let thread = std::thread::Builder::new().name(format!("test-http-{}", addr.port())).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("test server runtime: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("test server listener: {e}");
                        return;
                    }
                };
                let mut conns = tokio::task::JoinSet::new();
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let handler = Arc::clone(&handler);
                            conns.spawn(async move {
                                let io = hyper_util::rt::TokioIo::new(stream);
                                let svc = hyper::service::service_fn(move |req| {
                                    let h = Arc::clone(&handler);
                                    async move { h(req).await }
                                });
                                let _ = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, svc).await;
                            });
                        }
                        Some(_) = conns.join_next(), if !conns.is_empty() => {}
                    }
                }
                conns.abort_all();
            });
        })?;
        Ok(TestHttpServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestHttpServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Blocking `GET http://host:port/path` with a timeout; returns (status, body).
pub fn blocking_get(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            std::io::Error::other(format!(
                "no HTTP status in {:?}",
                text.chars().take(80).collect::<String>()
            ))
        })?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
