//! Safety of the server: loopback by default, read-only, strict headers on every answer, and a Host check
//! against DNS rebinding while bound to loopback.

use crate::error::{Result, WebError};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// No inline script, no plugins, no framing, nothing from another origin.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Check where the server may listen. A non-loopback address serves everyone who can reach it (there is
/// no login), so it needs `allow_remote`; the returned warning is then printed.
pub fn check_bind(addr: SocketAddr, allow_remote: bool) -> Result<Option<String>> {
    if addr.ip().is_loopback() {
        return Ok(None);
    }
    if !allow_remote {
        return Err(WebError::NotLoopback { addr });
    }
    Ok(Some(format!(
        "warning: serving on {addr}, a non-loopback address: anyone who can reach it can read every model, \
         score and sample in the store (the server is read-only and has no login)"
    )))
}

/// Adds the security headers to every response.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// While bound to loopback, answer only requests addressed to a loopback host name: a page on another
/// site cannot then read this server through a DNS name it points at 127.0.0.1.
pub async fn loopback_host(req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !is_loopback_host(host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this server answers only requests to localhost, 127.0.0.1 or [::1]\n",
        )
            .into_response();
    }
    next.run(req).await
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:80",
            "127.0.0.2",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "10.0.0.1:80",
            "",
            "localhost.evil.example",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn non_loopback_bind_needs_the_flag_and_warns() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        assert!(check_bind(lo, false).expect("loopback").is_none());
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert!(matches!(
            check_bind(any, false),
            Err(WebError::NotLoopback { .. })
        ));
        assert!(check_bind(any, true).expect("allowed").is_some());
    }
}
