//! Errors of the web UI. Each says what was wrong and, where the user can act, what to do.

use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A request's parameters are not valid (shown on the page with status 400).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing with this id or name.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Analysis(#[from] yardstick_analysis::AnalysisError),
    #[error(transparent)]
    Store(#[from] yardstick_store::StoreError),
    #[error("rendering page {page}: {source}")]
    Template {
        page: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("refusing to bind {addr}: it is not a loopback address and the server has no access control; pass --allow-remote to serve every client that can reach {addr}")]
    NotLoopback { addr: std::net::SocketAddr },
    #[error("cannot listen on {addr}: {source} (is another server using the port? pass --bind 127.0.0.1:PORT)")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("serving HTTP: {0}")]
    Serve(#[source] std::io::Error),
    #[error("a page computation stopped unexpectedly: {0}")]
    Task(String),
}

impl WebError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            // Analysis errors are mostly about the question asked (unknown benchmark, empty group).
            WebError::Analysis(
                yardstick_analysis::AnalysisError::Usage(_)
                | yardstick_analysis::AnalysisError::Query { .. },
            ) => StatusCode::BAD_REQUEST,
            WebError::Analysis(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub type Result<T> = std::result::Result<T, WebError>;
