//! `yardstick models list | show | orgs`: the model registry and the models found in imported data.

use crate::attribution::AttributionMode;
use crate::dataset::{Dataset, ModelInfo};
use crate::error::{AnalysisError, Result};
use crate::gap::truncate;
use crate::query::Query;
use crate::registry::{norm_model, Org, Registry, RegistryModel};
use crate::report::Report;
use serde::Serialize;
use std::io::Write;
use yardstick_store::observations::{load_models, ModelRow, ScoreRow};
use yardstick_store::Store;

/// Result of `yardstick models list`; its JSON is the array of matching models.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ModelList {
    pub models: Vec<ModelInfo>,
    #[serde(skip)]
    pub query: String,
    #[serde(skip)]
    pub attribution: AttributionMode,
    #[serde(skip)]
    pub registry_version: String,
}

fn registry_rows(reg: &Registry) -> Vec<ModelRow> {
    reg.models
        .iter()
        .map(|m| ModelRow {
            source: "registry".into(),
            model: m.hf.clone().unwrap_or_else(|| m.name.clone()),
            release_date: m.released.map(|d| d.to_string()),
            params_b: m.params_b,
            active_params_b: m.active_params_b,
            open_weights: m.open_weights,
            license: m.license.clone(),
            base_model: m.base.clone(),
            official: Some(true),
            ..Default::default()
        })
        .collect()
}

impl ModelList {
    /// The registry's models (and, with a store, those observed in its imported data) matching `query`.
    pub fn load(
        registry: &Registry,
        query: &Query,
        attribution: AttributionMode,
        observed: Option<&Store>,
    ) -> Result<ModelList> {
        let mut rows = registry_rows(registry);
        let mut scores = Vec::new();
        if let Some(store) = observed {
            scores = Dataset::load(store, registry)?.scores;
            rows.extend(load_models(store)?);
        }
        let data = Dataset::from_rows(registry, rows, scores);
        Ok(ModelList {
            models: data
                .models
                .into_iter()
                .filter(|m| query.matches(registry, m, attribution))
                .collect(),
            query: query.text.clone(),
            attribution,
            registry_version: registry.version.clone(),
        })
    }
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "—".into())
}

impl Report for ModelList {
    fn write_text(&self, o: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            o,
            "{:<46} {:<10} {:<18} {:<7} {:<10} {:>8} {:>7} {:<5}",
            "model", "source", "org", "country", "released", "params", "active", "open"
        )?;
        for m in &self.models {
            let dev = m.attributed(self.attribution);
            writeln!(
                o,
                "{:<46} {:<10} {:<18} {:<7} {:<10} {:>8} {:>7} {:<5}",
                truncate(&m.name, 46),
                m.source,
                truncate(dev.org.as_deref().unwrap_or("—"), 18),
                dev.country.as_deref().unwrap_or("—"),
                or_dash(m.release_date),
                or_dash(m.params_b),
                or_dash(m.active_params_b),
                match m.open_weights {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "—",
                }
            )?;
        }
        writeln!(
            o,
            "{} model(s) match '{}' (attribution: {}; registry {})",
            self.models.len(),
            self.query,
            self.attribution.id(),
            self.registry_version
        )
    }
}

/// One imported score of a model, with its provenance.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedScore {
    pub benchmark: String,
    pub score: f64,
    pub stderr: Option<f64>,
    pub snapshot: String,
    pub variant: String,
    pub file_sha256: String,
    pub row: u64,
    pub column: String,
}

impl From<&ScoreRow> for ObservedScore {
    fn from(x: &ScoreRow) -> Self {
        ObservedScore {
            benchmark: x.benchmark.clone(),
            score: x.score,
            stderr: x.stderr,
            snapshot: x.snapshot.clone(),
            variant: x.variant.clone(),
            file_sha256: x.file_sha256.clone(),
            row: x.row_number,
            column: x.column_name.clone(),
        }
    }
}

/// A model as imported from one source, with its scores.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedModel {
    pub model: ModelInfo,
    pub scores: Vec<ObservedScore>,
}

/// Result of `yardstick models show NAME`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelDetail {
    pub registry: Option<RegistryModel>,
    pub organization: Option<Org>,
    pub observed: Vec<ObservedModel>,
}

/// Scores listed per model in the text (the JSON has all).
const SHOWN_SCORES: usize = 40;

impl ModelDetail {
    /// Everything known about `name`: its registry entry and, with a store, the models imported under
    /// that name (or attributed to that registry entry).
    pub fn load(registry: &Registry, name: &str, store: Option<&Store>) -> Result<ModelDetail> {
        let entry = registry.model(name).cloned();
        let mut observed = Vec::new();
        if let Some(store) = store {
            let data = Dataset::load(store, registry)?;
            let key = norm_model(name);
            for m in data.models.into_iter().filter(|m| {
                norm_model(&m.name) == key
                    || entry
                        .as_ref()
                        .is_some_and(|e| m.registry_model.as_deref() == Some(e.name.as_str()))
            }) {
                let scores = data
                    .scores
                    .iter()
                    .filter(|s| s.source == m.source && s.model == m.name)
                    .map(ObservedScore::from)
                    .collect();
                observed.push(ObservedModel { model: m, scores });
            }
        }
        if entry.is_none() && observed.is_empty() {
            let where_ = if store.is_some() { " or the store" } else { "" };
            return Err(AnalysisError::NoData(format!(
                "no model named '{name}' in the registry{where_}; try `yardstick models list --observed \"model~{name}\"`"
            )));
        }
        let organization = entry.as_ref().and_then(|e| registry.org(&e.org)).cloned();
        Ok(ModelDetail {
            registry: entry,
            organization,
            observed,
        })
    }

    fn write_entry(&self, e: &RegistryModel, o: &mut dyn Write) -> std::io::Result<()> {
        writeln!(o, "{} (registry, {})", e.name, e.origin)?;
        if let Some(org) = &self.organization {
            writeln!(
                o,
                "  developer: {} [{}], {}  — source {}",
                org.name,
                org.id,
                Registry::country_label(&org.country),
                org.source
            )?;
        }
        for (k, v) in [
            ("family", e.family.clone()),
            ("released", e.released.map(|d| d.to_string())),
            ("params (B)", e.params_b.map(|p| p.to_string())),
            (
                "active params (B)",
                e.active_params_b.map(|p| p.to_string()),
            ),
            ("open weights", e.open_weights.map(|b| b.to_string())),
            ("licence", e.license.clone()),
            ("base model", e.base.clone()),
            ("Hugging Face id", e.hf.clone()),
        ] {
            if let Some(v) = v {
                writeln!(o, "  {k}: {v}")?;
            }
        }
        if !e.aliases.is_empty() {
            writeln!(o, "  aliases: {}", e.aliases.join(", "))?;
        }
        writeln!(o, "  source: {}", e.source)
    }

    fn write_observed(m: &ObservedModel, o: &mut dyn Write) -> std::io::Result<()> {
        let (m, scores) = (&m.model, &m.scores);
        writeln!(o, "\n{} as imported from {}", m.name, m.source)?;
        for (mode, label) in [
            (AttributionMode::Developer, "developer"),
            (AttributionMode::Base, "base"),
        ] {
            let d = m.attributed(mode);
            writeln!(
                o,
                "  attribution ({label}): {} / {} via {}",
                d.org_name.as_deref().unwrap_or("—"),
                d.country.as_deref().unwrap_or("—"),
                serde_json::to_string(&d.attribution).unwrap_or_default()
            )?;
        }
        if m.lineage.chain.len() > 1 {
            writeln!(o, "  lineage: {}", m.lineage.chain.join(" → "))?;
        }
        if let Some(d) = m.release_date {
            writeln!(
                o,
                "  released: {d} ({})",
                m.release_basis.as_deref().unwrap_or("?")
            )?;
        }
        for s in scores.iter().take(SHOWN_SCORES) {
            writeln!(
                o,
                "  {:<22} {:>10.4}{}{}",
                s.benchmark,
                s.score,
                s.stderr.map(|e| format!(" ± {e:.4}")).unwrap_or_default(),
                if s.snapshot.is_empty() {
                    String::new()
                } else {
                    format!("  (snapshot {})", s.snapshot)
                }
            )?;
        }
        if scores.len() > SHOWN_SCORES {
            writeln!(
                o,
                "  … {} more scores (--json shows all)",
                scores.len() - SHOWN_SCORES
            )?;
        }
        Ok(())
    }
}

impl Report for ModelDetail {
    fn write_text(&self, o: &mut dyn Write) -> std::io::Result<()> {
        if let Some(e) = &self.registry {
            self.write_entry(e, o)?;
        }
        for m in &self.observed {
            Self::write_observed(m, o)?;
        }
        Ok(())
    }
}

/// Result of `yardstick models orgs`; its JSON is the array of organizations.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct OrgList {
    pub orgs: Vec<Org>,
    #[serde(skip)]
    pub registry_version: String,
}

impl OrgList {
    /// The registry's organizations, only those of `country` (an ISO code or a country name) if given.
    pub fn load(registry: &Registry, country: Option<&str>) -> Result<OrgList> {
        let want = match country {
            Some(c) => Some(
                crate::country::country_code(c)
                    .ok_or_else(|| AnalysisError::NoData(format!("unknown country '{c}'")))?,
            ),
            None => None,
        };
        Ok(OrgList {
            orgs: registry
                .orgs
                .iter()
                .filter(|o| want.is_none_or(|w| o.country == w))
                .cloned()
                .collect(),
            registry_version: registry.version.clone(),
        })
    }
}

impl Report for OrgList {
    fn write_text(&self, o: &mut dyn Write) -> std::io::Result<()> {
        for org in &self.orgs {
            writeln!(
                o,
                "{:<18} {:<3} {:<42} hf: {:<32} aliases: {}",
                org.id,
                org.country,
                truncate(&org.name, 42),
                org.hf.join(","),
                org.aliases.join(", ")
            )?;
        }
        writeln!(
            o,
            "{} organization(s); registry {}",
            self.orgs.len(),
            self.registry_version
        )
    }
}
