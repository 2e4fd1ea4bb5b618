//! Who developed a model, and in which country — from the registry, the row's own organization/country
//! columns, or the Hugging Face id prefix — and, for fine-tunes, who developed the base model at the root of
//! its lineage (`--attribution base`).

use crate::country::country_list;
use crate::registry::{norm_model, Registry};
use serde::Serialize;
use std::collections::HashMap;
use yardstick_store::observations::ModelRow;

/// How models are assigned to organizations and countries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AttributionMode {
    /// The organization that published the model.
    #[default]
    Developer,
    /// The developer of the base model at the root of the model's lineage (a fine-tune of Qwen counts as
    /// Alibaba's).
    Base,
}

impl AttributionMode {
    pub fn id(self) -> &'static str {
        match self {
            AttributionMode::Developer => "developer",
            AttributionMode::Base => "base",
        }
    }
}

/// On what evidence a model was attributed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Attribution {
    /// The model is in the registry.
    RegistryModel { model: String },
    /// The row's organization name is a registry alias.
    OrganizationName { name: String },
    /// The Hugging Face id prefix is a registry organization.
    HuggingFaceOrg { hf_org: String },
    /// The organization is not in the registry, but the row states the country.
    SourceCountry { country: String },
    /// The row names no organization; the model name matches a registry pattern.
    NamePattern { org: String },
    /// Not attributable.
    Unattributed { reason: String },
}

/// A model's developer as resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Developer {
    /// Registry organization id, or the organization as the source wrote it when it is not in the registry.
    pub org: Option<String>,
    pub org_name: Option<String>,
    /// ISO country code.
    pub country: Option<String>,
    /// True when `org` is a registry id.
    pub in_registry: bool,
    pub attribution: Attribution,
}

impl Developer {
    pub fn is_attributed(&self) -> bool {
        self.country.is_some()
    }

    fn unattributed(org: Option<String>, reason: String) -> Developer {
        Developer {
            org_name: org.clone(),
            org,
            country: None,
            in_registry: false,
            attribution: Attribution::Unattributed { reason },
        }
    }
}

fn from_org(o: &crate::registry::Org, attribution: Attribution) -> Developer {
    Developer {
        org: Some(o.id.clone()),
        org_name: Some(o.name.clone()),
        country: Some(o.country.clone()),
        in_registry: true,
        attribution,
    }
}

/// The developer of one model, from the strongest evidence available: a registry model entry; the row's
/// organization name; the Hugging Face org prefix; the row's country column; a registry model-name pattern
/// (only for rows that name no organization and have no prefix).
pub fn resolve_developer(registry: &Registry, m: &ModelRow) -> Developer {
    let name = registry.strip_host(&m.model);
    if let Some(rm) = registry.model(name) {
        if let Some(o) = registry.org(&rm.org) {
            return from_org(
                o,
                Attribution::RegistryModel {
                    model: rm.name.clone(),
                },
            );
        }
    }
    let org_text = m
        .organization
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(name) = org_text {
        if let Some(o) = registry.org_by_name(name) {
            return from_org(
                o,
                Attribution::OrganizationName {
                    name: name.to_string(),
                },
            );
        }
    }
    let prefix = name
        .split_once('/')
        .map(|(p, _)| p.trim())
        .filter(|p| !p.is_empty());
    if let Some(p) = prefix {
        if let Some(o) = registry.org_by_hf(p) {
            return from_org(
                o,
                Attribution::HuggingFaceOrg {
                    hf_org: p.to_string(),
                },
            );
        }
    }
    if let Some(cell) = m.country.as_deref().filter(|c| !c.trim().is_empty()) {
        let (codes, _) = country_list(cell);
        if let Some(first) = codes.first() {
            return Developer {
                org: org_text.map(str::to_string),
                org_name: org_text.map(str::to_string),
                country: Some((*first).to_string()),
                in_registry: false,
                attribution: Attribution::SourceCountry {
                    country: cell.to_string(),
                },
            };
        }
    }
    if org_text.is_none() && prefix.is_none() {
        if let Some(o) = registry.org_by_model_pattern(name) {
            return from_org(o, Attribution::NamePattern { org: o.id.clone() });
        }
    }
    let reason = match (org_text, prefix) {
        (Some(o), _) => {
            format!("organization '{o}' is not in the registry and the row gives no country")
        }
        (None, Some(p)) => format!("Hugging Face org '{p}' is not in the registry"),
        (None, None) => {
            "no organization or country, and the name matches no registry pattern".to_string()
        }
    };
    Developer::unattributed(org_text.map(str::to_string), reason)
}

/// The lineage of a model (itself first, then each base) and the developer of its root.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lineage {
    pub chain: Vec<String>,
    pub root_developer: Developer,
}

/// Follow `base_model` links (the source's own rows first, then the registry) to the root and resolve its
/// developer. A model without a base is its own root. When the root's developer is unknown, a registry
/// model-name pattern on the root's name (without its uploader prefix) attributes it (`NamePattern`).
pub fn resolve_lineage(
    registry: &Registry,
    same_source: &HashMap<String, &ModelRow>,
    m: &ModelRow,
) -> Lineage {
    let mut chain = vec![m.model.clone()];
    let base_of = |name: &str| -> Option<String> {
        let row = same_source.get(&norm_model(name));
        row.and_then(|r| r.base_model.clone())
            .or_else(|| registry.model(name).and_then(|rm| rm.base.clone()))
            .filter(|b| !b.trim().is_empty())
    };
    let mut next = m
        .base_model
        .clone()
        .filter(|b| !b.trim().is_empty())
        .or_else(|| registry.model(&m.model).and_then(|rm| rm.base.clone()));
    for _ in 0..16 {
        let Some(b) = next.take() else { break };
        let nb = norm_model(&b);
        if chain.iter().any(|c| norm_model(c) == nb) {
            break;
        }
        chain.push(b.clone());
        next = base_of(&b);
    }
    let root = chain.last().cloned().unwrap_or_default();
    let root_developer = if chain.len() == 1 {
        resolve_developer(registry, m)
    } else {
        match same_source.get(&norm_model(&root)) {
            Some(row) => resolve_developer(registry, row),
            None => resolve_developer(
                registry,
                &ModelRow {
                    model: root.clone(),
                    ..Default::default()
                },
            ),
        }
    };
    let root_developer = match root_developer.attribution {
        // The lineage stops at a model whose uploader is not in the registry (a community re-upload or merge):
        // its name usually names the family it derives from ("someone/Qwen2.5-7B-merge"). Under base
        // attribution that name is the remaining evidence; the attribution says so.
        Attribution::Unattributed { reason } => match registry.org_by_model_pattern(&root) {
            Some(o) => from_org(o, Attribution::NamePattern { org: o.id.clone() }),
            None if chain.len() > 1 => Developer::unattributed(
                root_developer.org,
                format!("lineage ends at '{root}': {reason}"),
            ),
            None => Developer::unattributed(root_developer.org, reason),
        },
        _ => root_developer,
    };
    Lineage {
        chain,
        root_developer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str) -> ModelRow {
        ModelRow {
            source: "s".into(),
            model: model.into(),
            ..Default::default()
        }
    }

    #[test]
    fn developer_evidence_order() {
        let r = Registry::builtin().unwrap();
        let d = resolve_developer(
            &r,
            &ModelRow {
                organization: Some("DeepSeek AI".into()),
                ..row("DeepSeek-Coder")
            },
        );
        assert_eq!(d.country.as_deref(), Some("CN"));
        let d = resolve_developer(&r, &row("Qwen/Qwen2.5-0.5B"));
        assert_eq!(
            (d.org.as_deref(), d.country.as_deref()),
            (Some("alibaba"), Some("CN"))
        );
        // A community re-upload is the uploader's, not Alibaba's.
        let d = resolve_developer(&r, &row("someuser/Qwen2.5-7B-Instruct-abliterated"));
        assert!(!d.is_attributed());
        // An unknown organization with a country column keeps the row's country.
        let d = resolve_developer(
            &r,
            &ModelRow {
                organization: Some("Some Lab".into()),
                country: Some("China".into()),
                ..row("x")
            },
        );
        assert_eq!(d.country.as_deref(), Some("CN"));
        assert!(!d.in_registry);
        // An inference-provider prefix is not a developer.
        let d = resolve_developer(&r, &row("deepinfra/Qwen3-Next-80B-A3B-Instruct"));
        assert_eq!(d.org.as_deref(), Some("alibaba"));
        // Name pattern only without organization.
        let d = resolve_developer(&r, &row("gpt-5.4-nano-2026-03-17_high"));
        assert_eq!(d.org.as_deref(), Some("openai"));
    }

    #[test]
    fn lineage_follows_base_models() {
        let r = Registry::builtin().unwrap();
        let ft = ModelRow {
            base_model: Some("mid/merge-7b".into()),
            ..row("someuser/finetune-7b")
        };
        let mid = ModelRow {
            base_model: Some("Qwen/Qwen2.5-7B-Instruct".into()),
            ..row("mid/merge-7b")
        };
        let mut map = HashMap::new();
        map.insert(norm_model(&ft.model), &ft);
        map.insert(norm_model(&mid.model), &mid);
        let l = resolve_lineage(&r, &map, &ft);
        assert_eq!(
            l.chain,
            vec![
                "someuser/finetune-7b",
                "mid/merge-7b",
                "Qwen/Qwen2.5-7B-Instruct",
                "Qwen2.5-7B"
            ]
        );
        assert_eq!(l.root_developer.country.as_deref(), Some("CN"));
        // Under base attribution, a community model named after its family falls back to the name pattern.
        let merge = ModelRow {
            base_model: Some("other/Qwen2.5-7B-slerp".into()),
            ..row("someuser/my-merge")
        };
        let l = resolve_lineage(&r, &HashMap::new(), &merge);
        assert_eq!(
            l.root_developer.attribution,
            Attribution::NamePattern {
                org: "alibaba".into()
            }
        );
        assert!(!resolve_developer(&r, &merge).is_attributed());
        let unknown = ModelRow {
            base_model: Some("other/mystery-7b".into()),
            ..row("someuser/my-merge")
        };
        let l = resolve_lineage(&r, &HashMap::new(), &unknown);
        assert!(
            matches!(&l.root_developer.attribution, Attribution::Unattributed { reason } if reason.contains("lineage ends at 'other/mystery-7b'"))
        );
        // Self-reference (the OLL lists originals as their own base) ends the chain.
        let own = ModelRow {
            base_model: Some("meta-llama/Llama-3.1-8B".into()),
            ..row("meta-llama/Llama-3.1-8B")
        };
        let l = resolve_lineage(&r, &HashMap::new(), &own);
        assert_eq!(l.chain.len(), 1);
        assert_eq!(l.root_developer.country.as_deref(), Some("US"));
    }
}
