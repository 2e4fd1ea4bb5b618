//! The JSON API: `/api/<page>` answers what `/<page>` shows, from the same computation. `/api/gap` is the
//! JSON of `yardstick gap --json` and `/api/trend` that of `yardstick trend --json`.

use crate::error::{Result, WebError};
use crate::gapview::GapParams;
use crate::leaderboard::{self, LeaderboardPage};
use crate::model::{ModelPage, ModelParams};
use crate::routes::blocking;
use crate::runs::{self, CompareParams, RunParams, SamplesParams};
use crate::state::AppState;
use axum::extract::{Query, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;

type Shared = Arc<AppState>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/leaderboard", get(leaderboard_api))
        .route("/api/model", get(model_api))
        .route("/api/gap", get(gap_api))
        .route("/api/trend", get(trend_api))
        .route("/api/runs", get(runs_api))
        .route("/api/run", get(run_api))
        .route("/api/samples", get(samples_api))
        .route("/api/sample", get(sample_api))
        .route("/api/compare", get(compare_api))
}

async fn answer<T: Serialize + Send + 'static>(
    state: Shared,
    f: impl FnOnce(&AppState) -> Result<T> + Send + 'static,
) -> Response {
    match blocking(move || f(&state)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => (e.status(), Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

async fn leaderboard_api(State(s): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let computed = blocking(move || {
        let table = s.table()?;
        let key = format!("json?{}", raw.as_deref().unwrap_or(""));
        s.rendered(&table, &key, || {
            let page = LeaderboardPage::build(&s, &leaderboard::parse_query(raw.as_deref()))?;
            serde_json::to_string(&page).map_err(|e| WebError::Task(e.to_string()))
        })
    })
    .await;
    match computed {
        Ok(body) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
        Err(e) => (e.status(), Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

async fn model_api(State(s): State<Shared>, Query(p): Query<ModelParams>) -> Response {
    answer(s, move |s| ModelPage::build(s, &p)).await
}

async fn gap_api(State(s): State<Shared>, Query(p): Query<GapParams>) -> Response {
    answer(s, move |s| {
        let opts = p.gap_options()?;
        Ok(yardstick_analysis::gap::gap_from_store(
            &s.store,
            &s.registry,
            &opts,
        )?)
    })
    .await
}

async fn trend_api(State(s): State<Shared>, Query(p): Query<GapParams>) -> Response {
    answer(s, move |s| {
        let metric = p.trend_metric().ok_or_else(|| {
            WebError::BadRequest(
                "trend= is missing: which metric (eci, a benchmark id, arena-elo)?".into(),
            )
        })?;
        let opts = p.trend_options(metric)?;
        Ok(yardstick_analysis::trend::trend_from_store(
            &s.store,
            &s.registry,
            &opts,
        )?)
    })
    .await
}

async fn runs_api(State(s): State<Shared>) -> Response {
    answer(s, runs::runs_list).await
}

async fn run_api(State(s): State<Shared>, Query(p): Query<RunParams>) -> Response {
    answer(s, move |s| runs::run_page(s, &p)).await
}

async fn samples_api(State(s): State<Shared>, Query(p): Query<SamplesParams>) -> Response {
    answer(s, move |s| runs::samples_page(s, &p)).await
}

async fn sample_api(State(s): State<Shared>, Query(p): Query<SamplesParams>) -> Response {
    answer(s, move |s| runs::sample_page(s, &p)).await
}

async fn compare_api(State(s): State<Shared>, Query(p): Query<CompareParams>) -> Response {
    answer(s, move |s| runs::compare_page(s, &p)).await
}

/// A GET operation with string query parameters (name, description, required).
fn op(summary: &str, params: &[(&str, &str, bool)]) -> Value {
    let parameters: Vec<Value> = params
        .iter()
        .map(|(name, desc, required)| {
            json!({"name": name, "in": "query", "required": required, "description": desc, "schema": {"type": "string"}})
        })
        .collect();
    json!({"get": {
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": {"description": "the page's data", "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": {"description": "invalid parameters; `error` says which and why", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "404": {"description": "no such run, sample or model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    }})
}

const LEADERBOARD_PARAMS: &[(&str, &str, bool)] = &[
    ("q", "substring of the model name", false),
    ("country", "ISO country code of the developer, e.g. CN", false),
    ("org", "substring of the organization", false),
    ("open", "open weights: yes | no | any", false),
    ("params_min", "at least this many billion parameters", false),
    ("params_max", "at most this many billion parameters", false),
    ("released_from", "released on or after (YYYY-MM-DD)", false),
    ("released_to", "released on or before (YYYY-MM-DD)", false),
    ("source", "measured | imported | a source id (oll-v1, oll-v2, epoch-hub, lmarena, lm-eval, yardstick)", false),
    ("cols", "comma-separated column ids to show", false),
    ("sort", "model | source | org | country | released | params | b:COLUMN", false),
    ("dir", "asc | desc", false),
    ("page", "page number from 1", false),
    ("per_page", "rows per page (1-500)", false),
];

const GAP_PARAMS: &[(&str, &str, bool)] = &[
    ("between", "group A query, e.g. country=US", true),
    ("and", "group B query, e.g. country=CN & open_weights", true),
    (
        "dimension",
        "one dimension (knowledge, reasoning, math, …)",
        false,
    ),
    ("benchmark", "benchmark ids, comma-separated, or all", false),
    ("estimand", "population (default) | roster", false),
    ("attribution", "developer (default) | base", false),
    (
        "official_only",
        "1: only models published by their developer",
        false,
    ),
    (
        "as_of",
        "only models released on or before (YYYY-MM-DD)",
        false,
    ),
    ("source", "only results of this source", false),
    ("metric", "per-item metric", false),
    ("replicates", "bootstrap replicates (default 10000)", false),
    ("seed", "bootstrap seed (default 20240601)", false),
    ("level", "confidence level (default 0.95)", false),
    (
        "trend",
        "trend metric (eci, a benchmark id, arena-elo); default: the one benchmark",
        false,
    ),
    (
        "trend_replicates",
        "replicates of the frontier-gap band (default 1000)",
        false,
    ),
];

/// The OpenAPI 3.1 description of the API.
pub fn openapi_document() -> Value {
    let sample = &[
        ("run", "run id", true),
        ("task", "task name", true),
        ("doc", "document id", true),
    ];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Yardstick",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Read-only JSON of the Yardstick web UI: every page's data. /api/gap and /api/trend answer exactly what `yardstick gap --json` and `yardstick trend --json` print for the same options."
        },
        "paths": {
            "/api/leaderboard": op("Leaderboard rows (one per source and model) with 95% intervals", LEADERBOARD_PARAMS),
            "/api/model": op("A model: registry entry, lineage, scores per source, runs", &[("name", "model name", true), ("source", "only this source's row", false)]),
            "/api/gap": op("Gap between two groups with its interval (the JSON of `yardstick gap --json`)", GAP_PARAMS),
            "/api/trend": op("Frontier gap, lag and trend (the JSON of `yardstick trend --json`)", GAP_PARAMS),
            "/api/runs": op("Every run of the store", &[]),
            "/api/run": op("A run: config, hashes, progress, results", &[("id", "run id", true)]),
            "/api/samples": op("Samples of one task of a run", &[("run", "run id", true), ("task", "task name", true), ("wrong", "1: only samples scored wrong", false), ("page", "page number from 1", false)]),
            "/api/sample": op("One sample with prompt, response, filtered answer and scores", sample),
            "/api/compare": op("Two runs side by side on the same items (matched by document hash)", &[("a", "run id A", true), ("b", "run id B", true), ("task", "task name", true), ("differ", "1: only items scored differently", false)]),
            "/api/openapi.json": op("This document", &[])
        },
        "components": {"schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}}}
    })
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}
