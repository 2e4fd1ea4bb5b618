//! The model page: registry metadata and lineage, the model's scores from every source with their
//! intervals, and its runs here with their efficiency (throughput, latency, hardware) where measured.

use crate::error::{Result, WebError};
use crate::state::AppState;
use crate::table::{Cell, Row};
use crate::urls;
use serde::{Deserialize, Serialize};
use yardstick_analysis::models::ModelDetail;
use yardstick_store::ledger::RunSummary;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ModelParams {
    pub name: Option<String>,
    pub source: Option<String>,
}

/// One score of the dimension profile.
#[derive(Debug, Serialize)]
pub struct ProfileLine {
    pub source: String,
    pub column: String,
    pub cell: Cell,
    /// Right end of the whisker's axis (1 or 100; 0 when the scale has no fixed top, e.g. Elo).
    pub top: f64,
}

/// One run of this model, with its statistics and hardware.
#[derive(Debug, Serialize)]
pub struct ModelRun {
    pub link: String,
    pub run: RunSummary,
    pub hardware: serde_json::Value,
    pub efficiency: Efficiency,
}

/// What a run's statistics say about speed (None where the run did not record it).
#[derive(Debug, Default, Serialize)]
pub struct Efficiency {
    pub requests_sent: Option<u64>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// Seconds spent sending requests and receiving answers.
    pub dispatch_seconds: Option<f64>,
    pub requests_per_second: Option<f64>,
    /// Prompt and completion tokens per second of dispatch.
    pub tokens_per_second: Option<f64>,
}

impl Efficiency {
    fn of(stats: Option<&serde_json::Value>) -> Efficiency {
        let Some(s) = stats else {
            return Efficiency::default();
        };
        let count = |k: &str| s.get(k).and_then(|v| v.as_u64());
        let seconds = s
            .get("dispatch_seconds")
            .and_then(|v| v.as_f64())
            .filter(|x| *x > 0.0);
        let tokens = match (count("prompt_tokens"), count("completion_tokens")) {
            (None, None) => None,
            (p, c) => Some(p.unwrap_or(0) + c.unwrap_or(0)),
        };
        let rate = |n: Option<u64>| Some(n? as f64 / seconds?);
        Efficiency {
            requests_sent: count("requests_sent"),
            prompt_tokens: count("prompt_tokens"),
            completion_tokens: count("completion_tokens"),
            dispatch_seconds: seconds,
            requests_per_second: rate(count("requests_sent")),
            tokens_per_second: rate(tokens),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ModelPage {
    pub name: String,
    pub source: Option<String>,
    pub detail: ModelDetail,
    pub rows: Vec<Row>,
    pub profile: Vec<ProfileLine>,
    pub runs: Vec<ModelRun>,
}

fn top_of(c: &Cell) -> f64 {
    let hi = c.ci_upper.unwrap_or(c.value).max(c.value);
    if hi <= 1.0 + 1e-9 && c.value >= 0.0 {
        1.0
    } else if hi <= 100.0 && c.value >= 0.0 {
        100.0
    } else {
        0.0
    }
}

impl ModelPage {
    pub fn build(state: &AppState, p: &ModelParams) -> Result<ModelPage> {
        let name = p
            .name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| WebError::BadRequest("name= is missing: which model?".into()))?
            .to_string();
        let table = state.table()?;
        let rows: Vec<Row> = table
            .rows
            .iter()
            .filter(|r| r.model == name && p.source.as_ref().is_none_or(|s| *s == r.source))
            .cloned()
            .collect();
        let detail = ModelDetail::load(&state.registry, &name, Some(&state.store))?;
        if rows.is_empty() && detail.registry.is_none() && detail.observed.is_empty() {
            return Err(WebError::NotFound(format!(
                "no model {name:?} in this store or the registry; search the leaderboard for it"
            )));
        }
        let profile = rows
            .iter()
            .flat_map(|r| {
                r.cells.iter().map(|(k, c)| ProfileLine {
                    source: r.source.clone(),
                    column: k.clone(),
                    cell: c.clone(),
                    top: top_of(c),
                })
            })
            .collect();
        let mut runs = Vec::new();
        for run in state
            .store
            .list_runs()?
            .into_iter()
            .filter(|r| r.model_name == name)
        {
            let hardware = state
                .store
                .run_detail(&run.run_id)?
                .map(|d| d.record.hardware)
                .unwrap_or(serde_json::Value::Null);
            runs.push(ModelRun {
                link: urls::link("/run", &[("id", &run.run_id)]),
                efficiency: Efficiency::of(run.stats.as_ref()),
                run,
                hardware,
            });
        }
        Ok(ModelPage {
            name,
            source: p.source.clone(),
            detail,
            rows,
            profile,
            runs,
        })
    }

    pub fn html(&self, state: &AppState, api: &str) -> Result<String> {
        state.render(
            "model.html",
            minijinja::context! {
                nav => "leaderboard",
                store_name => crate::store_name(state),
                api_link => api,
                m => minijinja::Value::from_serialize(self),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Efficiency;
    use serde_json::json;

    #[test]
    fn efficiency_from_run_statistics() {
        let e = Efficiency::of(Some(&json!({
            "requests_sent": 40, "prompt_tokens": 1000, "completion_tokens": 200, "dispatch_seconds": 4.0
        })));
        assert_eq!(e.requests_per_second, Some(10.0));
        assert_eq!(e.tokens_per_second, Some(300.0));
        let none = Efficiency::of(Some(&json!({"requests_sent": 3, "dispatch_seconds": 0.0})));
        assert_eq!(none.requests_per_second, None);
        assert!(Efficiency::of(None).requests_sent.is_none());
    }
}
