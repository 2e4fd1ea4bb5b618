//! The routes: each page's HTML and its JSON come from the same `build` function. Only GET (and HEAD)
//! exist: the server writes nothing.

use crate::error::{Result, WebError};
use crate::gapview::{GapPage, GapParams, TrendSection};
use crate::leaderboard::{self, LeaderboardPage};
use crate::model::{ModelPage, ModelParams};
use crate::runs::{self, CompareParams, RunParams, SamplesParams, REFRESH_SECONDS};
use crate::state::AppState;
use crate::{security, store_name, urls};
use axum::extract::{Query, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use serde::Serialize;
use std::sync::Arc;

type Shared = Arc<AppState>;

const CSS: &str = include_str!("../assets/style.css");
const FAVICON: &str = include_str!("../assets/favicon.svg");

/// The application. `loopback`: also refuse requests whose Host is not a loopback name.
pub fn router(state: Shared, loopback: bool) -> Router {
    let app = Router::new()
        .route("/", get(leaderboard_html))
        .route("/leaderboard.csv", get(leaderboard_csv))
        .route("/model", get(model_html))
        .route("/gap", get(gap_html))
        .route("/runs", get(runs_html))
        .route("/run", get(run_html))
        .route("/samples", get(samples_html))
        .route("/sample", get(sample_html))
        .route("/compare", get(compare_html))
        .route("/static/style.css", get(css))
        .route("/static/favicon.svg", get(favicon))
        .merge(crate::api::routes())
        .with_state(state)
        .fallback(not_found);
    let app = if loopback {
        app.layer(middleware::from_fn(security::loopback_host))
    } else {
        app
    };
    app.layer(middleware::from_fn(security::headers))
}

/// Run a page's computation off the async workers (SQLite and the bootstrap are blocking work).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Task(e.to_string()))?
}

fn error_page(state: &AppState, e: &WebError) -> Response {
    let status = e.status();
    let body = state
        .render(
            "error.html",
            minijinja::context! {
                status => status.as_u16(),
                message => e.to_string(),
                store_name => store_name(state),
                api_link => "/api/openapi.json",
            },
        )
        .unwrap_or_else(|_| "error".into());
    (status, Html(body)).into_response()
}

async fn html_page(
    state: Shared,
    f: impl FnOnce(&AppState) -> Result<String> + Send + 'static,
) -> Response {
    let s = Arc::clone(&state);
    match blocking(move || f(&s)).await {
        Ok(body) => Html(body).into_response(),
        Err(e) => error_page(&state, &e),
    }
}

fn api_link(path: &'static str, raw: &Option<String>) -> String {
    match raw.as_deref().filter(|q| !q.is_empty()) {
        // Re-encoded from its parsed pairs: the raw text never reaches the page as is.
        Some(q) => {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            format!("{path}{}", urls::query(&pairs))
        }
        None => path.to_string(),
    }
}

fn ctx(
    state: &AppState,
    nav: &str,
    api: String,
    key: &str,
    value: impl Serialize,
) -> minijinja::Value {
    minijinja::context! {
        nav => nav,
        store_name => store_name(state),
        api_link => api,
        ..minijinja::Value::from_iter([(key.to_string(), minijinja::Value::from_serialize(value))])
    }
}

async fn leaderboard_html(State(state): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let s = Arc::clone(&state);
    let computed = blocking(move || {
        let table = s.table()?;
        let key = format!("html?{}", raw.as_deref().unwrap_or(""));
        s.rendered(&table, &key, || {
            LeaderboardPage::build(&s, &leaderboard::parse_query(raw.as_deref()))?.html(&s)
        })
    })
    .await;
    match computed {
        Ok(body) => Html(body.to_string()).into_response(),
        Err(e) => error_page(&state, &e),
    }
}

async fn leaderboard_csv(State(state): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let s = Arc::clone(&state);
    match blocking(move || leaderboard::csv(&s, &leaderboard::parse_query(raw.as_deref()))).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"leaderboard.csv\"",
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => error_page(&state, &e),
    }
}

async fn model_html(
    State(state): State<Shared>,
    Query(p): Query<ModelParams>,
    RawQuery(raw): RawQuery,
) -> Response {
    let api = api_link("/api/model", &raw);
    html_page(state, move |s| ModelPage::build(s, &p)?.html(s, &api)).await
}

/// What the gap template reads (the SVGs are not part of the JSON).
#[derive(Serialize)]
struct GapView<'a> {
    report: &'a yardstick_analysis::gap::GapReport,
    svg: &'a str,
    trend: Option<&'a TrendSection>,
    trend_svg: Option<&'a str>,
}

async fn gap_html(
    State(state): State<Shared>,
    Query(p): Query<GapParams>,
    RawQuery(raw): RawQuery,
) -> Response {
    let api = api_link("/api/gap", &raw);
    html_page(state, move |s| {
        let page = if p.is_empty() {
            None
        } else {
            Some(GapPage::build(s, &p)?)
        };
        let view = page.as_ref().map(|g| GapView {
            report: &g.report,
            svg: &g.svg,
            trend: g.trend.as_ref(),
            trend_svg: g.trend.as_ref().and_then(|t| t.svg.as_deref()),
        });
        s.render(
            "gap.html",
            minijinja::context! {
                nav => "gap",
                store_name => store_name(s),
                api_link => api,
                p => minijinja::Value::from_serialize(&p),
                g => minijinja::Value::from_serialize(&view),
            },
        )
    })
    .await
}

async fn runs_html(State(state): State<Shared>) -> Response {
    html_page(state, |s| {
        let c = ctx(s, "runs", "/api/runs".into(), "runs", runs::runs_list(s)?);
        s.render("runs.html", c)
    })
    .await
}

async fn run_html(
    State(state): State<Shared>,
    Query(p): Query<RunParams>,
    RawQuery(raw): RawQuery,
) -> Response {
    let api = api_link("/api/run", &raw);
    html_page(state, move |s| {
        let page = runs::run_page(s, &p)?;
        let refresh = page.running.then_some(REFRESH_SECONDS);
        let c = ctx(s, "runs", api, "r", &page);
        s.render("run.html", minijinja::context! { refresh => refresh, ..c })
    })
    .await
}

/// A page whose template reads one value, `key`, computed by `build` from the query string.
async fn data_page<P, T>(
    state: Shared,
    api: String,
    template: &'static str,
    key: &'static str,
    p: P,
    build: fn(&AppState, &P) -> Result<T>,
) -> Response
where
    P: Send + 'static,
    T: Serialize + 'static,
{
    html_page(state, move |s| {
        let c = ctx(s, "runs", api, key, build(s, &p)?);
        s.render(template, c)
    })
    .await
}

async fn samples_html(
    State(state): State<Shared>,
    Query(p): Query<SamplesParams>,
    RawQuery(raw): RawQuery,
) -> Response {
    let api = api_link("/api/samples", &raw);
    data_page(state, api, "samples.html", "s", p, runs::samples_page).await
}

async fn sample_html(
    State(state): State<Shared>,
    Query(p): Query<SamplesParams>,
    RawQuery(raw): RawQuery,
) -> Response {
    let api = api_link("/api/sample", &raw);
    data_page(state, api, "sample.html", "s", p, runs::sample_page).await
}

async fn compare_html(
    State(state): State<Shared>,
    Query(p): Query<CompareParams>,
    RawQuery(raw): RawQuery,
) -> Response {
    let api = api_link("/api/compare", &raw);
    data_page(state, api, "compare.html", "c", p, runs::compare_page).await
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn favicon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], FAVICON).into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": "no such page; see /api/openapi.json for the routes"})),
    )
        .into_response()
}

/// The stylesheet, for the self-contained report.
pub(crate) fn stylesheet() -> &'static str {
    CSS
}
