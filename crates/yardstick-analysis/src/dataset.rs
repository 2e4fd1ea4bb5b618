//! Everything the store holds, joined with the registry: one [`ModelInfo`] per (source, model) with its
//! developer, lineage, release date and size, and the scores. Yardstick's own runs appear as source
//! `yardstick` (per-item data read from the ledger).

use crate::attribution::{resolve_developer, resolve_lineage, AttributionMode, Developer, Lineage};
use crate::country::parse_date;
use crate::error::Result;
use crate::registry::{norm_model, Registry};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use yardstick_store::observations::{self, ModelRow, ScoreRow};
use yardstick_store::Store;

/// Source id of Yardstick's own runs.
pub const SOURCE_YARDSTICK: &str = "yardstick";

/// A model as the analysis sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub source: String,
    pub name: String,
    pub developer: Developer,
    pub lineage: Lineage,
    pub release_date: Option<NaiveDate>,
    /// Where the release date comes from: "source", "registry", "hub upload date".
    pub release_basis: Option<String>,
    pub params_b: Option<f64>,
    pub active_params_b: Option<f64>,
    pub open_weights: Option<bool>,
    pub license: Option<String>,
    pub base_model: Option<String>,
    pub official: Option<bool>,
    pub family: Option<String>,
    /// The registry entry this model matched, if any.
    pub registry_model: Option<String>,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ModelInfo {
    /// The developer under an attribution mode.
    pub fn attributed(&self, mode: AttributionMode) -> &Developer {
        match mode {
            AttributionMode::Developer => &self.developer,
            AttributionMode::Base => &self.lineage.root_developer,
        }
    }

    /// True when the model is a fine-tune or merge of another model.
    pub fn is_derived(&self) -> bool {
        self.lineage.chain.len() > 1
    }
}

/// Models and scores of the store.
pub struct Dataset {
    pub models: Vec<ModelInfo>,
    pub scores: Vec<ScoreRow>,
    index: HashMap<(String, String), usize>,
}

impl Dataset {
    /// Load every stored model and score, plus the models of Yardstick's finished runs.
    pub fn load(store: &Store, registry: &Registry) -> Result<Dataset> {
        let mut rows = observations::load_models(store)?;
        let ledger_models = observations::ledger_models(store)?;
        for name in ledger_models {
            rows.push(ModelRow {
                source: SOURCE_YARDSTICK.into(),
                model: name,
                ..Default::default()
            });
        }
        let mut scores = observations::load_scores(store, None)?;
        // efficiency: each measured model's throughput, a benchmark like any other
        scores.extend(crate::efficiency::EfficiencyReport::load(store)?.scores());
        Ok(Self::from_rows(registry, rows, scores))
    }

    /// Build from rows (also used by tests).
    pub fn from_rows(registry: &Registry, rows: Vec<ModelRow>, scores: Vec<ScoreRow>) -> Dataset {
        let mut by_source: HashMap<&str, HashMap<String, &ModelRow>> = HashMap::new();
        for r in &rows {
            by_source
                .entry(r.source.as_str())
                .or_default()
                .insert(norm_model(&r.model), r);
        }
        let empty = HashMap::new();
        let mut models = Vec::with_capacity(rows.len());
        for r in &rows {
            let same = by_source.get(r.source.as_str()).unwrap_or(&empty);
            models.push(model_info(registry, r, same));
        }
        let index = models
            .iter()
            .enumerate()
            .map(|(i, m)| ((m.source.clone(), m.name.clone()), i))
            .collect();
        Dataset {
            models,
            scores,
            index,
        }
    }

    pub fn model(&self, source: &str, name: &str) -> Option<&ModelInfo> {
        self.index
            .get(&(source.to_string(), name.to_string()))
            .map(|&i| &self.models[i])
    }

    /// Sources that hold scores for a benchmark.
    pub fn sources_with(&self, benchmark: &str) -> Vec<String> {
        let mut s: Vec<String> = self
            .scores
            .iter()
            .filter(|r| r.benchmark == benchmark)
            .map(|r| r.source.clone())
            .collect();
        s.sort();
        s.dedup();
        s
    }

    /// One score per (source, model) for a benchmark: the most recent evaluation when dates are known,
    /// otherwise the first row in file order. Arena snapshots are handled by the caller (`snapshot` filter).
    pub fn latest_scores(
        &self,
        source: &str,
        benchmark: &str,
        snapshot: Option<&str>,
    ) -> Vec<&ScoreRow> {
        let mut best: HashMap<&str, &ScoreRow> = HashMap::new();
        for s in self
            .scores
            .iter()
            .filter(|s| s.source == source && s.benchmark == benchmark)
        {
            if let Some(snap) = snapshot {
                if s.snapshot != snap {
                    continue;
                }
            }
            match best.get(s.model.as_str()) {
                None => {
                    best.insert(&s.model, s);
                }
                Some(old) => {
                    let newer = match (&s.evaluated_at, &old.evaluated_at) {
                        (Some(a), Some(b)) => a > b,
                        (Some(_), None) => true,
                        _ => false,
                    };
                    if newer {
                        best.insert(&s.model, s);
                    }
                }
            }
        }
        let mut out: Vec<&ScoreRow> = best.into_values().collect();
        out.sort_by(|a, b| a.model.cmp(&b.model));
        out
    }
}

fn model_info(
    registry: &Registry,
    r: &ModelRow,
    same_source: &HashMap<String, &ModelRow>,
) -> ModelInfo {
    let developer = resolve_developer(registry, r);
    let lineage = resolve_lineage(registry, same_source, r);
    let rm = registry.model(&r.model);
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&r.extra_json).unwrap_or_default();
    let source_date = r.release_date.as_deref().and_then(parse_date);
    let upload_basis = extra
        .get("release_date_basis")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let registry_date = rm.and_then(|m| m.released);
    let (release_date, release_basis) = match (source_date, registry_date) {
        // A curated registry date beats a missing date or a Hub upload date.
        (None, Some(reg)) => (Some(reg), Some("registry".to_string())),
        (Some(_), Some(reg)) if upload_basis.is_some() => (Some(reg), Some("registry".to_string())),
        (Some(d), _) => (
            Some(d),
            Some(upload_basis.unwrap_or_else(|| "source".into())),
        ),
        (None, None) => (None, None),
    };
    ModelInfo {
        source: r.source.clone(),
        name: r.model.clone(),
        developer,
        lineage,
        release_date,
        release_basis,
        params_b: r.params_b.or(rm.and_then(|m| m.params_b)),
        active_params_b: r.active_params_b.or(rm.and_then(|m| m.active_params_b)),
        open_weights: r.open_weights.or(rm.and_then(|m| m.open_weights)),
        license: r.license.clone().or(rm.and_then(|m| m.license.clone())),
        base_model: r.base_model.clone().or(rm.and_then(|m| m.base.clone())),
        official: r.official.or_else(|| {
            // Sources without an official flag: a model published under a registry organization's own name.
            (r.source == crate::import::SOURCE_LM_EVAL || r.source == SOURCE_YARDSTICK).then(|| {
                let prefix_org = r
                    .model
                    .split_once('/')
                    .and_then(|(p, _)| registry.org_by_hf(p))
                    .is_some();
                prefix_org || rm.is_some()
            })
        }),
        family: rm.and_then(|m| m.family.clone()),
        registry_model: rm.map(|m| m.name.clone()),
        extra,
    }
}
