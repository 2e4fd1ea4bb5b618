//! Splitting models into the two groups of a comparison.

use crate::attribution::AttributionMode;
use crate::dataset::ModelInfo;
use crate::error::{AnalysisError, Result};
use crate::query::Query;
use crate::registry::Registry;
use chrono::NaiveDate;
use serde::Serialize;

/// The two groups being compared and how their members are chosen.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    pub a: Query,
    pub b: Query,
    pub attribution: AttributionMode,
    pub official_only: bool,
    /// Only models released on or before this date.
    pub as_of: Option<NaiveDate>,
}

/// Why candidate models were left out of both groups.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Exclusions {
    /// Models matching both queries (left out of both).
    pub in_both: Vec<String>,
    /// Models whose organization/country is unknown under the attribution mode.
    pub unattributed: usize,
    /// Models left out by --official-only.
    pub not_official: usize,
    /// Models left out by --as-of (released later, or release date unknown).
    pub after_as_of: usize,
    pub unknown_release: usize,
}

impl Exclusions {
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.in_both.is_empty() {
            let shown: Vec<&str> = self.in_both.iter().take(5).map(String::as_str).collect();
            out.push(format!(
                "{} model(s) match both queries and are left out of both: {}{}",
                self.in_both.len(),
                shown.join(", "),
                if self.in_both.len() > 5 { ", …" } else { "" }
            ));
        }
        if self.unattributed > 0 {
            out.push(format!("{} model(s) could not be attributed to an organization/country and belong to neither group", self.unattributed));
        }
        if self.not_official > 0 {
            out.push(format!(
                "{} model(s) left out by --official-only",
                self.not_official
            ));
        }
        if self.after_as_of > 0 || self.unknown_release > 0 {
            out.push(format!(
                "--as-of: {} model(s) released later and {} with an unknown release date left out",
                self.after_as_of, self.unknown_release
            ));
        }
        out
    }
}

/// Split candidates into groups A and B.
pub fn split<'a, I>(
    registry: &Registry,
    spec: &GroupSpec,
    candidates: I,
) -> (Vec<&'a ModelInfo>, Vec<&'a ModelInfo>, Exclusions)
where
    I: IntoIterator<Item = &'a ModelInfo>,
{
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut ex = Exclusions::default();
    for m in candidates {
        if spec.official_only && m.official != Some(true) {
            ex.not_official += 1;
            continue;
        }
        if let Some(limit) = spec.as_of {
            match m.release_date {
                None => {
                    ex.unknown_release += 1;
                    continue;
                }
                Some(d) if d > limit => {
                    ex.after_as_of += 1;
                    continue;
                }
                _ => {}
            }
        }
        if !m.attributed(spec.attribution).is_attributed() {
            ex.unattributed += 1;
        }
        let in_a = spec.a.matches(registry, m, spec.attribution);
        let in_b = spec.b.matches(registry, m, spec.attribution);
        match (in_a, in_b) {
            (true, true) => ex.in_both.push(m.name.clone()),
            (true, false) => a.push(m),
            (false, true) => b.push(m),
            (false, false) => {}
        }
    }
    (a, b, ex)
}

/// Fail when a group is empty only because every model it matches also matches the other query (models
/// in both groups are left out of both): `--between country=US --and country=US`, or `--and` a subset of
/// `--between`. Saying "group A has no model" there would hide the cause.
pub fn check_not_nested<'a, I>(registry: &Registry, spec: &GroupSpec, models: I) -> Result<()>
where
    I: IntoIterator<Item = &'a ModelInfo>,
{
    let (a, b, ex) = split(registry, spec, models);
    if ex.in_both.is_empty() || (!a.is_empty() && !b.is_empty()) {
        return Ok(());
    }
    let shown: Vec<&str> = ex.in_both.iter().take(5).map(String::as_str).collect();
    let both = format!(
        "{} model(s) match both queries ({}{}) and a model in both groups is left out of both",
        ex.in_both.len(),
        shown.join(", "),
        if ex.in_both.len() > 5 { ", …" } else { "" }
    );
    let which = match (a.is_empty(), b.is_empty()) {
        (true, true) => format!(
            "groups A ({}) and B ({}) overlap completely: every model matching either query matches both",
            spec.a.text, spec.b.text
        ),
        (true, false) => format!(
            "group A ({}) has no model of its own: every model it matches also matches group B ({})",
            spec.a.text, spec.b.text
        ),
        _ => format!(
            "group B ({}) has no model of its own: every model it matches also matches group A ({})",
            spec.b.text, spec.a.text
        ),
    };
    Err(AnalysisError::Usage(format!(
        "{which}; {both}. Make the two queries disjoint (e.g. --between country=US --and country=CN)"
    )))
}

/// Bootstrap replicates beyond [`crate::MAX_REPLICATES`] are refused (they would only cost memory).
pub fn check_replicates(replicates: usize) -> Result<()> {
    if replicates > crate::MAX_REPLICATES {
        return Err(AnalysisError::Usage(format!(
            "--replicates {replicates} is more than the {} allowed",
            crate::MAX_REPLICATES
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;
    use yardstick_store::observations::ModelRow;

    fn spec(a: &str, b: &str) -> GroupSpec {
        GroupSpec {
            a: Query::parse(a).expect("query A"),
            b: Query::parse(b).expect("query B"),
            attribution: AttributionMode::Developer,
            official_only: false,
            as_of: None,
        }
    }

    fn data(reg: &Registry) -> Dataset {
        let rows = [
            "meta-llama/Llama-3.1-8B-Instruct",
            "Qwen/Qwen2.5-7B-Instruct",
        ]
        .iter()
        .map(|m| ModelRow {
            source: "test".into(),
            model: m.to_string(),
            ..Default::default()
        })
        .collect();
        Dataset::from_rows(reg, rows, vec![])
    }

    #[test]
    fn groups_without_a_model_of_their_own_are_refused_with_the_cause() {
        let reg = Registry::with_user_file(None).expect("built-in registry");
        let d = data(&reg);
        let err = check_not_nested(&reg, &spec("country=US", "country=US"), &d.models)
            .expect_err("identical groups");
        let msg = err.to_string();
        assert!(
            msg.contains("overlap completely") && msg.contains("1 model(s) match both queries"),
            "{msg}"
        );
        let err = check_not_nested(&reg, &spec("country=US,CN", "country=CN"), &d.models)
            .expect_err("B inside A");
        assert!(
            err.to_string()
                .starts_with("group B (country=CN) has no model of its own"),
            "{err}"
        );
        check_not_nested(&reg, &spec("country=US", "country=CN"), &d.models).expect("disjoint");
        // An empty group with no overlap is left to the analysis (its message names the data).
        check_not_nested(&reg, &spec("country=FR", "country=CN"), &d.models).expect("no overlap");
    }

    #[test]
    fn replicates_are_bounded() {
        check_replicates(crate::MAX_REPLICATES).expect("the maximum is allowed");
        let err = check_replicates(4_000_000_000).expect_err("too many");
        assert!(err.to_string().contains("1000000"), "{err}");
    }
}
