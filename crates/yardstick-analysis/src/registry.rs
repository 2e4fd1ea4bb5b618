//! The model registry: organizations (country/jurisdiction, aliases as sources write them, Hugging Face org
//! ids, model-name patterns) and well-known models (family, release date, parameters, open weights,
//! licence, base model). A built-in TOML file ships with the tool; a user TOML file is merged over it.

use crate::country::{country_code, country_name, known_codes, parse_date};
use crate::error::{AnalysisError, Result};
use chrono::NaiveDate;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The registry TOML shipped with Yardstick.
pub const BUILTIN_REGISTRY: &str = include_str!("../registry/registry.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    version: Option<String>,
    #[serde(default)]
    inference_hosts: Vec<String>,
    #[serde(default)]
    org: Vec<OrgEntry>,
    #[serde(default)]
    model: Vec<ModelEntry>,
}

/// An organization as written in a registry file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OrgEntry {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2 code (a country name is accepted and converted).
    pub country: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub hf: Vec<String>,
    #[serde(default)]
    pub model_patterns: Vec<String>,
    #[serde(default)]
    pub model_exclude: Vec<String>,
    pub parent: Option<String>,
    pub source: String,
    pub note: Option<String>,
}

/// A model as written in a registry file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub name: String,
    pub org: String,
    pub family: Option<String>,
    pub released: Option<String>,
    pub params_b: Option<f64>,
    pub active_params_b: Option<f64>,
    pub open_weights: Option<bool>,
    pub license: Option<String>,
    pub base: Option<String>,
    pub hf: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub source: String,
}

/// A validated organization.
#[derive(Debug, Clone, Serialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub country: String,
    pub aliases: Vec<String>,
    pub hf: Vec<String>,
    pub model_patterns: Vec<String>,
    pub parent: Option<String>,
    pub source: String,
    pub note: Option<String>,
    /// "built-in" or the user file it came from.
    pub origin: String,
    #[serde(skip)]
    patterns: Vec<Regex>,
    #[serde(skip)]
    exclude: Vec<Regex>,
}

/// A validated model entry.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryModel {
    pub name: String,
    pub org: String,
    pub family: Option<String>,
    pub released: Option<NaiveDate>,
    pub params_b: Option<f64>,
    pub active_params_b: Option<f64>,
    pub open_weights: Option<bool>,
    pub license: Option<String>,
    pub base: Option<String>,
    pub hf: Option<String>,
    pub aliases: Vec<String>,
    pub source: String,
    pub origin: String,
}

/// The merged, validated registry with lookup indexes.
#[derive(Debug, Clone)]
pub struct Registry {
    pub version: String,
    /// Prefixes naming an inference provider rather than a developer (`deepinfra/…`), lower case.
    pub inference_hosts: Vec<String>,
    pub orgs: Vec<Org>,
    pub models: Vec<RegistryModel>,
    by_alias: HashMap<String, usize>,
    by_hf: HashMap<String, usize>,
    model_by_name: HashMap<String, usize>,
    model_by_hf: HashMap<String, usize>,
}

/// Normalise an organization alias for matching: lower case, single spaces.
fn norm_alias(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Normalise a model name for matching: lower case, spaces and underscores as '-'.
pub fn norm_model(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '_' { '-' } else { c })
        .collect()
}

impl Registry {
    /// The built-in registry.
    pub fn builtin() -> Result<Registry> {
        let file = parse_file(BUILTIN_REGISTRY, "built-in")?;
        build(vec![(file, "built-in".to_string())])
    }

    /// The built-in registry with a user file merged over it (entries with an existing org `id` or model
    /// `name` replace the built-in ones).
    pub fn with_user_file(path: Option<&Path>) -> Result<Registry> {
        let builtin = parse_file(BUILTIN_REGISTRY, "built-in")?;
        let mut files = vec![(builtin, "built-in".to_string())];
        if let Some(p) = path {
            let text = std::fs::read_to_string(p).map_err(|source| AnalysisError::Io {
                path: p.to_path_buf(),
                source,
            })?;
            let origin = p.display().to_string();
            files.push((parse_file(&text, &origin)?, origin));
        }
        build(files)
    }

    /// An organization by id, name, alias or Hugging Face org id (case-insensitive). A comma-separated list
    /// of organizations ("DeepSeek,Peking University") resolves to the first one that is known.
    pub fn org_by_name(&self, name: &str) -> Option<&Org> {
        let n = norm_alias(name);
        if n.is_empty() {
            return None;
        }
        if let Some(&i) = self.by_alias.get(&n).or_else(|| self.by_hf.get(&n)) {
            return Some(&self.orgs[i]);
        }
        if n.contains(',') {
            return n
                .split(',')
                .find_map(|part| self.by_alias.get(part.trim()).map(|&i| &self.orgs[i]));
        }
        None
    }

    /// An organization by Hugging Face org id (the `org` of `org/model`), case-insensitive.
    pub fn org_by_hf(&self, hf_org: &str) -> Option<&Org> {
        self.by_hf
            .get(&hf_org.trim().to_lowercase())
            .map(|&i| &self.orgs[i])
    }

    /// An organization by id.
    pub fn org(&self, id: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.id == id)
    }

    /// The organization whose model-name patterns match `model` (first in registry order), for rows that
    /// name no organization.
    pub fn org_by_model_pattern(&self, model: &str) -> Option<&Org> {
        let name = model.rsplit('/').next().unwrap_or(model);
        self.orgs.iter().find(|o| {
            o.patterns.iter().any(|p| p.is_match(name))
                && !o.exclude.iter().any(|p| p.is_match(name))
        })
    }

    /// A registry model by name. A name with an organization prefix (`org/model`) matches only a model's
    /// Hugging Face id, so a community re-upload is not mistaken for the original; a bare name matches the
    /// model's name or aliases (case-insensitive, '_' and ' ' read as '-').
    pub fn model(&self, name: &str) -> Option<&RegistryModel> {
        let n = norm_model(name);
        if n.contains('/') {
            return self.model_by_hf.get(&n).map(|&i| &self.models[i]);
        }
        self.model_by_name.get(&n).map(|&i| &self.models[i])
    }

    /// The model name without an inference-provider prefix (`deepinfra/Qwen3-…` → `Qwen3-…`).
    pub fn strip_host<'a>(&self, model: &'a str) -> &'a str {
        match model.split_once('/') {
            Some((p, rest))
                if self
                    .inference_hosts
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(p.trim())) =>
            {
                rest
            }
            _ => model,
        }
    }

    /// Display name of a country code.
    pub fn country_label(code: &str) -> String {
        country_name(code)
            .map(|n| format!("{code} ({n})"))
            .unwrap_or_else(|| code.to_string())
    }
}

fn parse_file(text: &str, origin: &str) -> Result<RegistryFile> {
    toml::from_str::<RegistryFile>(text).map_err(|e| AnalysisError::Registry {
        origin: origin.to_string(),
        message: e.to_string(),
    })
}

/// Lookup of a normalised key to an index.
type KeyIndex = HashMap<String, usize>;

/// The entries of all registry files, later files replacing earlier entries of the same id / model name.
struct MergedEntries {
    orgs: Vec<(OrgEntry, String)>,
    models: Vec<(ModelEntry, String)>,
    version: String,
    inference_hosts: Vec<String>,
}

fn build(files: Vec<(RegistryFile, String)>) -> Result<Registry> {
    let merged = merge_files(files);
    let (orgs, by_alias, by_hf) = build_orgs(merged.orgs)?;
    check_parents(&orgs)?;
    let (models, model_by_name, model_by_hf) = build_models(merged.models, &orgs)?;
    Ok(Registry {
        version: merged.version,
        inference_hosts: merged.inference_hosts,
        orgs,
        models,
        by_alias,
        by_hf,
        model_by_name,
        model_by_hf,
    })
}

fn merge_files(files: Vec<(RegistryFile, String)>) -> MergedEntries {
    let mut org_entries: Vec<(OrgEntry, String)> = Vec::new();
    let mut model_entries: Vec<(ModelEntry, String)> = Vec::new();
    let mut version = String::new();
    let mut inference_hosts: Vec<String> = Vec::new();
    for (file, origin) in files {
        for h in &file.inference_hosts {
            let h = h.trim().to_lowercase();
            if !h.is_empty() && !inference_hosts.contains(&h) {
                inference_hosts.push(h);
            }
        }
        if let Some(v) = file.version {
            version = if version.is_empty() {
                v
            } else {
                format!("{version}+{v}")
            };
        }
        for o in file.org {
            match org_entries.iter_mut().find(|(e, _)| e.id == o.id) {
                Some(slot) => *slot = (o, origin.clone()),
                None => org_entries.push((o, origin.clone())),
            }
        }
        for m in file.model {
            let key = norm_model(&m.name);
            match model_entries
                .iter_mut()
                .find(|(e, _)| norm_model(&e.name) == key)
            {
                Some(slot) => *slot = (m, origin.clone()),
                None => model_entries.push((m, origin.clone())),
            }
        }
    }
    MergedEntries {
        orgs: org_entries,
        models: model_entries,
        version,
        inference_hosts,
    }
}

/// The organizations, with their alias and Hugging Face org lookups (no key may name two organizations).
fn build_orgs(entries: Vec<(OrgEntry, String)>) -> Result<(Vec<Org>, KeyIndex, KeyIndex)> {
    let mut orgs = Vec::with_capacity(entries.len());
    let mut by_alias: KeyIndex = HashMap::new();
    let mut by_hf: KeyIndex = HashMap::new();
    for (e, origin) in entries {
        let org = org_from_entry(e, origin)?;
        let err = |message: String| AnalysisError::Registry {
            origin: org.origin.clone(),
            message,
        };
        let index = orgs.len();
        for key in std::iter::once(&org.id)
            .chain(std::iter::once(&org.name))
            .chain(org.aliases.iter())
        {
            let k = norm_alias(key);
            if let Some(&other) = by_alias.get(&k) {
                if other != index {
                    let other: &Org = &orgs[other];
                    return Err(err(format!(
                        "alias '{key}' of organization '{}' is also an alias of '{}' ({})",
                        org.id, other.id, other.origin
                    )));
                }
            }
            by_alias.insert(k, index);
        }
        for h in &org.hf {
            let k = h.trim().to_lowercase();
            if let Some(&other) = by_hf.get(&k) {
                return Err(err(format!(
                    "Hugging Face org '{h}' of organization '{}' is also listed for '{}'",
                    org.id, orgs[other].id
                )));
            }
            by_hf.insert(k, index);
        }
        orgs.push(org);
    }
    Ok((orgs, by_alias, by_hf))
}

/// One organization entry, checked: id, name and source present, a known country, valid patterns.
fn org_from_entry(e: OrgEntry, origin: String) -> Result<Org> {
    let err = |message: String| AnalysisError::Registry {
        origin: origin.clone(),
        message,
    };
    if e.id.trim().is_empty() || e.name.trim().is_empty() {
        return Err(err(format!(
            "organization '{}': id and name must not be empty",
            e.id
        )));
    }
    if e.source.trim().is_empty() {
        return Err(err(format!(
            "organization '{}': every entry needs a `source` (a URL backing its country)",
            e.id
        )));
    }
    let country = country_code(&e.country).ok_or_else(|| {
        err(format!(
            "organization '{}': unknown country '{}'; use an ISO 3166-1 alpha-2 code such as {}",
            e.id,
            e.country,
            known_codes().join(", ")
        ))
    })?;
    let compile = |list: &[String], what: &str| -> Result<Vec<Regex>> {
        list.iter()
            .map(|p| {
                RegexBuilder::new(p)
                    .case_insensitive(true)
                    .build()
                    .map_err(|x| {
                        err(format!(
                            "organization '{}': {what} '{p}' is not a valid regex: {x}",
                            e.id
                        ))
                    })
            })
            .collect()
    };
    let patterns = compile(&e.model_patterns, "model_patterns")?;
    let exclude = compile(&e.model_exclude, "model_exclude")?;
    Ok(Org {
        id: e.id,
        name: e.name,
        country: country.to_string(),
        aliases: e.aliases,
        hf: e.hf,
        model_patterns: e.model_patterns,
        parent: e.parent,
        source: e.source,
        note: e.note,
        origin,
        patterns,
        exclude,
    })
}

/// Every `parent` names a known organization.
fn check_parents(orgs: &[Org]) -> Result<()> {
    for o in orgs {
        if let Some(p) = &o.parent {
            if !orgs.iter().any(|x| &x.id == p) {
                return Err(AnalysisError::Registry {
                    origin: o.origin.clone(),
                    message: format!(
                        "organization '{}': parent '{p}' is not a known organization id",
                        o.id
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The models, with their name/alias and Hugging Face id lookups.
fn build_models(
    entries: Vec<(ModelEntry, String)>,
    orgs: &[Org],
) -> Result<(Vec<RegistryModel>, KeyIndex, KeyIndex)> {
    let mut models = Vec::with_capacity(entries.len());
    let mut model_by_name: KeyIndex = HashMap::new();
    let mut model_by_hf: KeyIndex = HashMap::new();
    for (e, origin) in entries {
        let model = model_from_entry(e, origin, orgs)?;
        let index = models.len();
        for key in std::iter::once(&model.name).chain(model.aliases.iter()) {
            model_by_name.insert(norm_model(key), index);
        }
        if let Some(h) = &model.hf {
            model_by_hf.insert(norm_model(h), index);
        }
        models.push(model);
    }
    Ok((models, model_by_name, model_by_hf))
}

/// One model entry, checked: a known org, a source, a valid release date and positive sizes.
fn model_from_entry(e: ModelEntry, origin: String, orgs: &[Org]) -> Result<RegistryModel> {
    let err = |message: String| AnalysisError::Registry {
        origin: origin.clone(),
        message,
    };
    if !orgs.iter().any(|o| o.id == e.org) {
        return Err(err(format!(
            "model '{}': org '{}' is not a known organization id",
            e.name, e.org
        )));
    }
    if e.source.trim().is_empty() {
        return Err(err(format!(
            "model '{}': every entry needs a `source`",
            e.name
        )));
    }
    let released = match &e.released {
        Some(d) => Some(parse_date(d).ok_or_else(|| {
            err(format!(
                "model '{}': released '{d}' is not a date; write YYYY-MM-DD",
                e.name
            ))
        })?),
        None => None,
    };
    for (what, v) in [
        ("params_b", e.params_b),
        ("active_params_b", e.active_params_b),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0) {
                return Err(err(format!(
                    "model '{}': {what} must be a positive number of billions, got {v}",
                    e.name
                )));
            }
        }
    }
    Ok(RegistryModel {
        name: e.name,
        org: e.org,
        family: e.family,
        released,
        params_b: e.params_b,
        active_params_b: e.active_params_b,
        open_weights: e.open_weights,
        license: e.license,
        base: e.base,
        hf: e.hf,
        aliases: e.aliases,
        source: e.source,
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_is_valid_and_resolves_aliases() {
        let r = Registry::builtin().unwrap();
        assert!(r.orgs.len() > 50, "{} orgs", r.orgs.len());
        assert_eq!(r.org_by_name("DeepSeek AI").unwrap().id, "deepseek");
        assert_eq!(r.org_by_name("deepseek").unwrap().id, "deepseek");
        assert_eq!(
            r.org_by_name("DeepSeek,Peking University").unwrap().id,
            "deepseek"
        );
        assert_eq!(
            r.org_by_name("Z.ai (Zhipu AI),Tsinghua University")
                .unwrap()
                .id,
            "zhipu"
        );
        assert_eq!(r.org_by_name("Meta AI").unwrap().country, "US");
        assert_eq!(r.org_by_hf("qwen").unwrap().id, "alibaba");
        assert_eq!(r.org_by_hf("zai-org").unwrap().country, "CN");
        assert!(r.org_by_name("Some Person").is_none());
        assert_eq!(
            r.org_by_model_pattern("Qwen2.5-Coder-3B").unwrap().id,
            "alibaba"
        );
        assert_eq!(
            r.org_by_model_pattern("gpt-5.4-mini-2026-03-17_high")
                .unwrap()
                .id,
            "openai"
        );
        assert!(r.org_by_model_pattern("llava-v1.5-7b").is_none());
        assert_eq!(
            r.org_by_model_pattern("llama3-llava-next-8b")
                .map(|o| o.id.as_str()),
            None
        );
        // Every org and model cites a source.
        assert!(r.orgs.iter().all(|o| !o.source.is_empty()));
        assert!(r.models.iter().all(|m| !m.source.is_empty()));
    }

    #[test]
    fn model_lookup_respects_org_prefix() {
        let r = Registry::builtin().unwrap();
        assert_eq!(
            r.model("Qwen/Qwen2.5-72B-Instruct").unwrap().name,
            "Qwen2.5-72B-Instruct"
        );
        assert_eq!(
            r.model("qwen2.5-72b-instruct").unwrap().name,
            "Qwen2.5-72B-Instruct"
        );
        assert!(r.model("someone/Qwen2.5-72B-Instruct").is_none());
        assert_eq!(r.model("deepseek-v3").unwrap().active_params_b, Some(37.0));
    }

    #[test]
    fn user_file_overrides_and_validates() {
        let dir = std::env::temp_dir().join(format!("ys-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            r#"
[[org]]
id = "deepseek"
name = "DeepSeek (overridden)"
country = "China"
aliases = ["DeepSeek"]
source = "https://example.org"

[[org]]
id = "acme"
name = "Acme Labs"
country = "FR"
hf = ["acme"]
source = "https://example.org/acme"
"#,
        )
        .unwrap();
        let r = Registry::with_user_file(Some(&good)).unwrap();
        assert_eq!(r.org("deepseek").unwrap().name, "DeepSeek (overridden)");
        assert_eq!(r.org_by_hf("ACME").unwrap().country, "FR");
        let bad = dir.join("bad.toml");
        std::fs::write(
            &bad,
            "[[org]]\nid = \"x\"\nname = \"X\"\ncountry = \"Atlantis\"\nsource = \"s\"\n",
        )
        .unwrap();
        let e = Registry::with_user_file(Some(&bad))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml") && e.contains("Atlantis"), "{e}");
        let dup = dir.join("dup.toml");
        std::fs::write(&dup, "[[org]]\nid = \"y\"\nname = \"Y\"\ncountry = \"US\"\naliases = [\"OpenAI\"]\nsource = \"s\"\n").unwrap();
        let e = Registry::with_user_file(Some(&dup))
            .unwrap_err()
            .to_string();
        assert!(e.contains("OpenAI") && e.contains("openai"), "{e}");
        let typo = dir.join("typo.toml");
        std::fs::write(&typo, "[[org]]\nid = \"y\"\nnmae = \"Y\"\n").unwrap();
        assert!(Registry::with_user_file(Some(&typo))
            .unwrap_err()
            .to_string()
            .contains("typo.toml"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
