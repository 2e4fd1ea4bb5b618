//! `yardstick-web`: the web UI of `yardstick serve` and the file of `yardstick report`.
//!
//! Server-rendered HTML (minijinja with HTML auto-escaping) and a JSON API under `/api/…` (described at
//! `/api/openapi.json`), both from one computation per page; charts are SVG from the analysis crate's
//! plot renderer (the same drawings as `--plot`). Read-only, loopback by default, a Content-Security-Policy
//! without inline script, and assets embedded in the binary.
//!
//! Pages: [`leaderboard`] (filters, sort, columns, CSV), [`model`], [`gapview`] (gap and trend), [`runs`]
//! (runs, samples, paired comparison); [`report`] writes the self-contained HTML file.

pub mod error;
pub mod gapview;
pub mod leaderboard;
pub mod model;
pub mod report;
pub mod runs;
pub mod security;
pub mod state;
pub mod table;
pub mod view;

mod api;
mod routes;
mod templates;
mod urls;

pub use error::{Result, WebError};
pub use routes::router;
pub use state::AppState;

use std::net::SocketAddr;
use std::sync::Arc;

/// The store's file name, as the pages name it (not its full path).
pub fn store_name(state: &AppState) -> String {
    state
        .store
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "the store".into())
}

/// A bound listener, ready to serve.
pub struct Listener {
    inner: tokio::net::TcpListener,
    pub addr: SocketAddr,
}

/// Bind `addr` (checked with [`security::check_bind`] first).
pub async fn bind(addr: SocketAddr) -> Result<Listener> {
    let inner = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| WebError::Bind { addr, source })?;
    let addr = inner
        .local_addr()
        .map_err(|source| WebError::Bind { addr, source })?;
    Ok(Listener { inner, addr })
}

/// Serve until `shutdown` completes.
pub async fn serve(
    state: AppState,
    listener: Listener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = router(Arc::new(state), listener.addr.ip().is_loopback());
    axum::serve(listener.inner, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(WebError::Serve)
}
