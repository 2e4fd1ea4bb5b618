//! `yardstick rate --battles FILE`: Bradley–Terry ratings with confidence intervals from pairwise battles in
//! the LMArena battle format — a JSON array or JSON Lines of objects with `model_a`, `model_b` and `winner`
//! ∈ {`model_a`, `model_b`, `tie`, `tie (bothbad)`} (other keys are ignored).

use crate::attribution::resolve_developer;
use crate::error::{AnalysisError, Result};
use crate::gap::truncate;
use crate::registry::Registry;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use yardstick_stats::{
    aggregate_battles, bootstrap_intervals, fit_bradley_terry, sandwich_intervals, Battle,
    BootstrapConfig, BtOptions, Outcome,
};

/// Battles read from a file, with model names.
#[derive(Debug, Clone)]
pub struct BattleSet {
    pub models: Vec<String>,
    pub battles: Vec<Battle>,
    pub ties: u64,
}

/// Read a battles file (JSON array or JSON Lines). Errors name the line (JSONL) or the element index.
pub fn read_battles(path: &Path) -> Result<BattleSet> {
    let text = std::fs::read_to_string(path).map_err(|source| AnalysisError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let records: Vec<(u64, Value)> = if trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(trimmed).map_err(|e| AnalysisError::File {
            path: path.to_path_buf(),
            message: format!(
                "invalid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
        })?;
        match v {
            Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as u64 + 1, v))
                .collect(),
            _ => {
                return Err(AnalysisError::File {
                    path: path.to_path_buf(),
                    message: "expected a JSON array of battles or JSON Lines".into(),
                })
            }
        }
    } else {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).map_err(|e| AnalysisError::Field {
                path: path.to_path_buf(),
                line: i as u64 + 1,
                column: "(json)".into(),
                message: format!("invalid JSON: {e}"),
            })?;
            out.push((i as u64 + 1, v));
        }
        out
    };
    let array = trimmed.starts_with('[');
    let where_ = |n: u64| {
        if array {
            format!("element {n}")
        } else {
            format!("line {n}")
        }
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut models = Vec::new();
    let mut battles = Vec::with_capacity(records.len());
    let mut ties = 0;
    for (n, rec) in records {
        let field = |column: &str, message: String| AnalysisError::Field {
            path: path.to_path_buf(),
            line: n,
            column: column.into(),
            message: format!("{} — {message}", where_(n)),
        };
        let Value::Object(obj) = rec else {
            return Err(field(
                "(record)",
                "expected an object with model_a, model_b, winner".into(),
            ));
        };
        let get = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let a = get("model_a").ok_or_else(|| field("model_a", "missing or not a string".into()))?;
        let b = get("model_b").ok_or_else(|| field("model_b", "missing or not a string".into()))?;
        let winner =
            get("winner").ok_or_else(|| field("winner", "missing or not a string".into()))?;
        let outcome = match winner {
            "model_a" => Outcome::AWins,
            "model_b" => Outcome::BWins,
            "tie" | "tie (bothbad)" => {
                ties += 1;
                Outcome::Tie
            }
            other => {
                return Err(field(
                    "winner",
                    format!("'{other}' is not one of model_a, model_b, tie, tie (bothbad)"),
                ))
            }
        };
        if a == b {
            return Err(field("model_b", format!("model '{a}' plays itself")));
        }
        let mut id = |name: &str| -> usize {
            *index.entry(name.to_string()).or_insert_with(|| {
                models.push(name.to_string());
                models.len() - 1
            })
        };
        let (ia, ib) = (id(a), id(b));
        battles.push(Battle::new(ia, ib, outcome));
    }
    if battles.is_empty() {
        return Err(AnalysisError::File {
            path: path.to_path_buf(),
            message: "no battles in the file".into(),
        });
    }
    Ok(BattleSet {
        models,
        battles,
        ties,
    })
}

/// One model's rating.
#[derive(Debug, Clone, Serialize)]
pub struct Rating {
    pub rank: usize,
    pub model: String,
    pub rating: f64,
    pub lower: f64,
    pub upper: f64,
    pub se: f64,
    pub battles: u64,
    pub org: Option<String>,
    pub country: Option<String>,
}

/// Result of `yardstick rate`.
#[derive(Debug, Clone, Serialize)]
pub struct RateReport {
    pub file: String,
    pub battles: u64,
    pub ties: u64,
    pub models: usize,
    pub method: String,
    pub level: f64,
    /// The ridge penalty on θ (absent when 0: the plain MLE).
    #[serde(skip_serializing_if = "is_zero")]
    pub ridge: f64,
    pub ratings: Vec<Rating>,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// Options of `yardstick rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateOptions {
    /// Bootstrap intervals with this many replicates instead of sandwich intervals.
    pub bootstrap: Option<usize>,
    pub seed: u64,
    pub level: f64,
    /// Ridge penalty λ/2·Σθ² (0: the plain MLE, which is infinite when a model wins or loses everything).
    pub ridge: f64,
}

/// Model numbers named in a statistics error, as "0 = name, 1 = name, …" (at most `MAX_LEGEND`).
fn legend(models: &[String]) -> String {
    const MAX_LEGEND: usize = 12;
    let shown: Vec<String> = models
        .iter()
        .take(MAX_LEGEND)
        .enumerate()
        .map(|(i, m)| format!("{i} = {m}"))
        .collect();
    format!(
        "{}{}",
        shown.join(", "),
        if models.len() > MAX_LEGEND {
            ", …"
        } else {
            ""
        }
    )
}

/// A statistics error, with the model numbers it uses named, and what to do about a non-identifiable fit
/// in terms of this command's options.
fn rate_error(e: yardstick_stats::StatsError, ridge: f64, models: &[String]) -> AnalysisError {
    match e {
        yardstick_stats::StatsError::Degenerate { .. } => AnalysisError::Usage(format!(
            "statistics: {e}{}. Models by number, in order of first appearance: {}",
            if ridge == 0.0 {
                " (here: --ridge, e.g. --ridge 0.01, which shrinks every rating slightly towards the mean)"
            } else {
                ""
            },
            legend(models)
        )),
        e => AnalysisError::Stats(e),
    }
}

/// Fit Bradley–Terry (Elo scale, 1000 + 400/ln10·θ, Σθ = 0) with sandwich CIs, or bootstrap CIs when
/// `bootstrap` replicates are asked for.
pub fn rate(
    registry: &Registry,
    set: &BattleSet,
    file: &str,
    opts: &RateOptions,
) -> Result<RateReport> {
    let RateOptions {
        bootstrap,
        seed,
        level,
        ridge,
    } = *opts;
    if let Some(b) = bootstrap {
        crate::groups::check_replicates(b)?;
    }
    let n = set.models.len();
    let rows = aggregate_battles(n, &set.battles)?;
    let options = BtOptions {
        level,
        ridge,
        ..BtOptions::default()
    };
    let fit =
        fit_bradley_terry(n, &rows, &options).map_err(|e| rate_error(e, ridge, &set.models))?;
    let estimator = if ridge > 0.0 {
        format!("Bradley–Terry with ridge penalty {ridge}")
    } else {
        "Bradley–Terry MLE".to_string()
    };
    let (ratings, method) = match bootstrap {
        Some(b) => (
            bootstrap_intervals(
                n,
                &rows,
                &fit,
                &options,
                &BootstrapConfig::new(b, seed, level),
            )
            .map_err(|e| rate_error(e, ridge, &set.models))?,
            format!("{estimator}; percentile bootstrap over battles ({b} replicates, seed {seed})"),
        ),
        None => (
            sandwich_intervals(n, &rows, &fit, &options)
                .map_err(|e| rate_error(e, ridge, &set.models))?,
            format!("{estimator}; sandwich (robust) intervals"),
        ),
    };
    let mut count = vec![0u64; n];
    for b in &set.battles {
        count[b.model_a] += 1;
        count[b.model_b] += 1;
    }
    let mut out: Vec<Rating> = (0..n)
        .map(|i| {
            let dev = resolve_developer(
                registry,
                &yardstick_store::observations::ModelRow {
                    model: set.models[i].clone(),
                    ..Default::default()
                },
            );
            Rating {
                rank: ratings.ranks[i],
                model: set.models[i].clone(),
                rating: ratings.ratings[i],
                lower: ratings.lower[i],
                upper: ratings.upper[i],
                se: ratings.se[i],
                battles: count[i],
                org: dev.org,
                country: dev.country,
            }
        })
        .collect();
    out.sort_by(|a, b| b.rating.total_cmp(&a.rating));
    Ok(RateReport {
        file: file.to_string(),
        battles: set.battles.len() as u64,
        ties: set.ties,
        models: n,
        method,
        level,
        ridge,
        ratings: out,
    })
}

impl RateReport {
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let pct = (self.level * 100.0).round();
        o.push_str(&format!("{} battles ({} ties) among {} models from {}\n{}; rank = 1 + number of models whose lower bound exceeds this model's upper bound\n\n", self.battles, self.ties, self.models, self.file, self.method));
        o.push_str(&format!(
            "{:>4}  {:<40} {:>7} {:>17} {:>8} {:<14} {}\n",
            "rank",
            "model",
            "rating",
            format!("{pct}% CI"),
            "battles",
            "org",
            "country"
        ));
        for r in &self.ratings {
            o.push_str(&format!(
                "{:>4}  {:<40} {:>7.1} {:>17} {:>8} {:<14} {}\n",
                r.rank,
                truncate(&r.model, 40),
                r.rating,
                format!("[{:.1}, {:.1}]", r.lower, r.upper),
                r.battles,
                r.org
                    .as_deref()
                    .map(|o| truncate(o, 14))
                    .unwrap_or_else(|| "—".into()),
                r.country.as_deref().unwrap_or("—")
            ));
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "top" beats both others every time: no finite MLE without a ridge.
    fn sweep() -> BattleSet {
        let mut battles = Vec::new();
        for _ in 0..5 {
            battles.push(Battle::new(0, 1, Outcome::AWins));
            battles.push(Battle::new(0, 2, Outcome::AWins));
            battles.push(Battle::new(1, 2, Outcome::AWins));
            battles.push(Battle::new(1, 2, Outcome::BWins));
        }
        BattleSet {
            models: vec!["top".into(), "mid".into(), "low".into()],
            battles,
            ties: 0,
        }
    }

    #[test]
    fn a_sweep_needs_the_ridge_option_and_names_the_models() {
        let reg = Registry::with_user_file(None).expect("built-in registry");
        let opts = RateOptions {
            bootstrap: None,
            seed: 1,
            level: 0.95,
            ridge: 0.0,
        };
        let err = rate(&reg, &sweep(), "sweep.jsonl", &opts)
            .expect_err("no finite MLE")
            .to_string();
        assert!(
            err.contains("--ridge 0.01") && err.contains("0 = top, 1 = mid, 2 = low"),
            "{err}"
        );
        let ridged = RateOptions {
            ridge: 0.01,
            ..opts
        };
        let r = rate(&reg, &sweep(), "sweep.jsonl", &ridged).expect("finite with a ridge");
        assert_eq!(r.ratings[0].model, "top");
        assert!(r.ratings.iter().all(|x| x.rating.is_finite()));
        assert!(r.method.contains("ridge penalty 0.01"), "{}", r.method);
    }
}
