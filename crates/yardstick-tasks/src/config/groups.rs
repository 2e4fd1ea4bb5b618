//! Groups (lm-eval `GroupConfig`, `AggMetricConfig`): their resolved form and how it is built.

use serde_json::{Map, Value};

use super::fields::Builder;
use crate::error::Result;
use crate::yaml::RawValue;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AggregateMetric {
    pub metric: String,
    /// Only `mean` is built in.
    pub aggregation: String,
    /// Python truthiness of the YAML value (`truez` counts as true).
    pub weight_by_size: bool,
    /// `None`: every filter that produced the metric (auto-discovery).
    pub filter_list: Option<Vec<String>>,
}

/// A resolved group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupConfig {
    pub group: String,
    pub group_alias: Option<String>,
    /// `None`: the group is only a container (no group score).
    pub aggregate_metric_list: Option<Vec<AggregateMetric>>,
    pub metadata: Map<String, Value>,
    pub config_source: String,
}

impl GroupConfig {
    /// `metadata.version` as lm-eval reports it (`"N/A"` when absent).
    pub fn version(&self) -> Value {
        self.metadata
            .get("version")
            .cloned()
            .unwrap_or_else(|| Value::String("N/A".into()))
    }

    pub fn has_aggregation(&self) -> bool {
        self.aggregate_metric_list
            .as_ref()
            .is_some_and(|l| !l.is_empty())
    }

    /// As lm-eval dumps a `GroupConfig`.
    pub fn to_lm_eval_dict(&self, children: &[String]) -> Value {
        serde_json::json!({
            "group": self.group,
            "group_alias": self.group_alias,
            "task": children,
            "aggregate_metric_list": self.aggregate_metric_list,
            "metadata": self.metadata,
        })
    }
}

/// The keys of a group YAML that describe the group itself; every other key overrides children.
pub const GROUP_FIELDS: &[&str] = &[
    "group",
    "group_alias",
    "task",
    "aggregate_metric_list",
    "metadata",
];

/// Build a [`GroupConfig`] from a group's own keys.
pub(crate) fn build_group_config(
    b: &Builder<'_>,
    name: &str,
    config_source: String,
) -> Result<GroupConfig> {
    let group_alias = b.opt_str("group_alias")?;
    let aggregate_metric_list = b.opt("aggregate_metric_list", |v| {
        let items: Vec<&RawValue> = match v {
            RawValue::Seq(items) => items.iter().collect(),
            RawValue::Map(_) => vec![v],
            other => return Err(b.expected("aggregate_metric_list", "a list of mappings", other)),
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| aggregate_metric(b, &format!("aggregate_metric_list[{i}]"), item))
            .collect()
    })?;
    let metadata = b
        .opt("metadata", |v| {
            b.mapping("metadata", v, "a mapping")?;
            b.json_object("metadata", v)
        })?
        .unwrap_or_default();
    Ok(GroupConfig {
        group: name.to_string(),
        group_alias,
        aggregate_metric_list,
        metadata,
        config_source,
    })
}

/// One `aggregate_metric_list` entry (lm-eval `AggMetricConfig`).
fn aggregate_metric(b: &Builder<'_>, field: &str, item: &RawValue) -> Result<AggregateMetric> {
    let RawValue::Map(m) = item else {
        return Err(b.err(field, "expected a mapping with `metric`"));
    };
    for key in m.keys() {
        if !matches!(
            key.as_str(),
            "metric" | "aggregation" | "weight_by_size" | "filter_list"
        ) {
            return Err(b.err(
                field,
                format!(
                    "unknown key `{key}` (expected metric, aggregation, weight_by_size, filter_list)"
                ),
            ));
        }
    }
    let metric = match m.get("metric") {
        Some(RawValue::Str(s)) => s.clone(),
        _ => return Err(b.err(field, "missing `metric`")),
    };
    let aggregation = match m.get("aggregation") {
        None => "mean".to_string(),
        Some(RawValue::Str(s)) if s == "mean" => s.clone(),
        Some(RawValue::Function(tag)) => {
            return Err(b.function_error(&format!("{field}.aggregation"), tag))
        }
        Some(other) => {
            return Err(b.err(
                field,
                format!(
                    "Currently, 'mean' is the only pre-defined aggregation. Got {}",
                    crate::pyvalue::repr(&other.to_json())
                ),
            ))
        }
    };
    let weight_by_size = m.get("weight_by_size").is_none_or(RawValue::truthy);
    let filter_list = match m.get("filter_list") {
        None | Some(RawValue::Null) => None,
        Some(RawValue::Str(s)) => Some(vec![s.clone()]),
        Some(RawValue::Seq(items)) => Some(
            items
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| b.err(field, "filter_list must name filters"))
                })
                .collect::<Result<_>>()?,
        ),
        Some(other) => {
            return Err(b.err(
                field,
                format!(
                    "filter_list: expected a name or list, found {}",
                    other.type_name()
                ),
            ))
        }
    };
    Ok(AggregateMetric {
        metric,
        aggregation,
        weight_by_size,
        filter_list,
    })
}
