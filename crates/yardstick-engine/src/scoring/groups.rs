//! Group aggregation as in lm-evaluation-harness 0.4.13 (`lm_eval/api/group.py` `Group.aggregate`,
//! `evaluator_utils.aggregate_groups`, `_propagate_num_fewshot`, `_propagate_higher_is_better`,
//! `TaskManager.load`'s flattening order):
//!
//! * a group's score for `metric,filter` is over **all leaf tasks recursively** that report it:
//!   `Σ mᵢ·nᵢ / Σ nᵢ` with `nᵢ` = the task's `sample_len` (`weight_by_size`), or the plain mean;
//! * its stderr is `pooled_sample_stderr` when weighting by size, `unweighted_mean_stderr` otherwise,
//!   and `"N/A"` unless every contributing task has a numeric stderr;
//! * `filter_list: None` discovers every filter a leaf task reported the metric under (sorted);
//! * `sample_len` is the sum of the leaf tasks' `sample_len`; `sample_count` per metric key the sum
//!   of the sizes of the tasks that reported it;
//! * groups without `aggregate_metric_list` only get `alias` and `name`.

use indexmap::IndexMap;

use super::aggregate::{
    aggregate_subtask_metrics, pooled_sample_stderr, unweighted_mean_stderr, StderrValue,
};
use super::NumericEnv;

/// One `aggregate_metric_list` entry (only the built-in `mean` aggregation exists).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupAggMetric {
    pub metric: String,
    /// `weight_by_size` (0.4.13 default: true).
    #[serde(default = "default_true")]
    pub weight_by_size: bool,
    /// `filter_list` (0.4.13 default: None = discover every filter).
    #[serde(default)]
    pub filter_list: Option<Vec<String>>,
}

fn default_true() -> bool {
    true
}

/// A child of a group: a task (by name) or a subgroup.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupChild {
    Task(String),
    Group(GroupNode),
}

/// A group with its children in declaration order.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupNode {
    pub name: String,
    /// `group_alias`.
    #[serde(default)]
    pub alias: Option<String>,
    /// `str(metadata["version"])`, or `None` when the group has no metadata version (reported "N/A").
    #[serde(default)]
    pub version: Option<String>,
    /// Empty for a container group that produces no score.
    #[serde(default)]
    pub aggregate_metric_list: Vec<GroupAggMetric>,
    pub children: Vec<GroupChild>,
}

impl GroupNode {
    /// Names of the direct children (`Group.child_names`).
    pub fn child_names(&self) -> Vec<String> {
        self.children
            .iter()
            .map(|c| match c {
                GroupChild::Task(t) => t.clone(),
                GroupChild::Group(g) => g.name.clone(),
            })
            .collect()
    }

    /// Leaf task names, recursively, in order (`Group.get_all_tasks`).
    pub fn all_tasks(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.children {
            match c {
                GroupChild::Task(t) => out.push(t.clone()),
                GroupChild::Group(g) => out.extend(g.all_tasks()),
            }
        }
        out
    }

    /// Subgroups, recursively, pre-order (`Group.get_all_groups`).
    pub fn all_groups(&self) -> Vec<&GroupNode> {
        let mut out = Vec::new();
        for c in &self.children {
            if let GroupChild::Group(g) = c {
                out.push(g);
                out.extend(g.all_groups());
            }
        }
        out
    }

    pub fn has_aggregation(&self) -> bool {
        !self.aggregate_metric_list.is_empty()
    }
}

/// What was requested on the command line, in order (a task, or a group with its tree).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    Task(String),
    Group(GroupNode),
}

/// lm-eval's flat `tasks` and `groups` dicts (`TaskManager.load`): leaf tasks in depth-first order and
/// groups in pre-order, each first occurrence winning its position.
pub fn flatten(requested: &[Requested]) -> (Vec<String>, Vec<&GroupNode>) {
    let mut tasks: IndexMap<String, ()> = IndexMap::new();
    let mut groups: IndexMap<String, &GroupNode> = IndexMap::new();
    for item in requested {
        match item {
            Requested::Task(t) => {
                tasks.entry(t.clone()).or_insert(());
            }
            Requested::Group(g) => {
                groups.insert(g.name.clone(), g);
                for t in g.all_tasks() {
                    tasks.entry(t).or_insert(());
                }
                for sg in g.all_groups() {
                    groups.insert(sg.name.clone(), sg);
                }
            }
        }
    }
    (tasks.into_keys().collect(), groups.into_values().collect())
}

/// A leaf task's entry in `results`, as far as group aggregation reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskResultEntry {
    pub sample_len: usize,
    /// `"metric,filter"` → (value, stderr), in the task's order.
    pub metrics: IndexMap<String, (f64, StderrValue)>,
}

/// One aggregated `metric,filter` of a group.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupMetric {
    pub metric: String,
    pub filter: String,
    pub value: f64,
    pub stderr: StderrValue,
    /// `sample_count[metric,filter]`: the summed sizes of the tasks that reported it.
    pub sample_count: usize,
}

/// A group's entry in `results`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupResult {
    pub name: String,
    /// `alias or name`.
    pub alias: String,
    /// `str(metadata.version)` or `"N/A"`.
    pub version: String,
    /// `None` for a group without `aggregate_metric_list` (its entry has only alias and name).
    pub sample_len: Option<usize>,
    pub metrics: Vec<GroupMetric>,
    pub has_aggregation: bool,
    pub child_names: Vec<String>,
}

fn discover_filters(
    group: &GroupNode,
    metric: &str,
    tasks: &IndexMap<String, TaskResultEntry>,
) -> Vec<String> {
    let prefix = format!("{metric},");
    let mut found: Vec<String> = Vec::new();
    for t in group.all_tasks() {
        if let Some(entry) = tasks.get(&t) {
            for key in entry.metrics.keys() {
                if let Some(filter) = key.strip_prefix(&prefix) {
                    if !key.contains("_stderr") && !found.iter().any(|f| f == filter) {
                        found.push(filter.to_string());
                    }
                }
            }
        }
    }
    found.sort();
    found
}

/// `Group.aggregate` for one group.
pub fn aggregate_group(
    group: &GroupNode,
    tasks: &IndexMap<String, TaskResultEntry>,
    env: NumericEnv,
) -> GroupResult {
    let alias = group
        .alias
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| group.name.clone());
    let mut result = GroupResult {
        name: group.name.clone(),
        alias,
        version: group.version.clone().unwrap_or_else(|| "N/A".to_string()),
        sample_len: None,
        metrics: Vec::new(),
        has_aggregation: group.has_aggregation(),
        child_names: group.child_names(),
    };
    if !group.has_aggregation() {
        return result;
    }
    let leaves = group.all_tasks();
    result.sample_len = Some(
        leaves
            .iter()
            .filter_map(|t| tasks.get(t))
            .map(|e| e.sample_len)
            .sum(),
    );
    for agg in &group.aggregate_metric_list {
        let filters = match &agg.filter_list {
            Some(list) => list.clone(),
            None => discover_filters(group, &agg.metric, tasks),
        };
        for filter in filters {
            let key = format!("{},{}", agg.metric, filter);
            let mut values = Vec::new();
            let mut stderrs = Vec::new();
            let mut sizes = Vec::new();
            let mut all_numeric = true;
            for t in &leaves {
                if let Some(entry) = tasks.get(t) {
                    if let Some((v, se)) = entry.metrics.get(&key) {
                        values.push(*v);
                        sizes.push(entry.sample_len);
                        match se {
                            StderrValue::Value(x) => stderrs.push(*x),
                            StderrValue::NotAvailable => all_numeric = false,
                        }
                    }
                }
            }
            if values.is_empty() {
                continue;
            }
            let Some(value) =
                aggregate_subtask_metrics(env.py_sum, &values, &sizes, agg.weight_by_size)
            else {
                continue;
            };
            let stderr = if all_numeric && stderrs.len() == values.len() {
                let se = if agg.weight_by_size {
                    pooled_sample_stderr(env.py_sum, &stderrs, &sizes)
                } else {
                    unweighted_mean_stderr(env.py_sum, &stderrs)
                };
                se.map(StderrValue::Value)
                    .unwrap_or(StderrValue::NotAvailable)
            } else {
                StderrValue::NotAvailable
            };
            result.metrics.push(GroupMetric {
                metric: agg.metric.clone(),
                filter,
                value,
                stderr,
                sample_count: sizes.iter().sum(),
            });
        }
    }
    result
}

/// Every group, bottom-up (children before parents) from the roots in `groups` order — the order
/// their entries are appended to `results`.
pub fn aggregate_groups(
    requested: &[Requested],
    tasks: &IndexMap<String, TaskResultEntry>,
    env: NumericEnv,
) -> Vec<GroupResult> {
    let (_, groups) = flatten(requested);
    let mut child_group_names: Vec<String> = Vec::new();
    for g in &groups {
        for c in &g.children {
            if let GroupChild::Group(sg) = c {
                child_group_names.push(sg.name.clone());
            }
        }
    }
    let mut order: Vec<&GroupNode> = Vec::new();
    let mut visited: Vec<String> = Vec::new();
    fn visit<'a>(g: &'a GroupNode, order: &mut Vec<&'a GroupNode>, visited: &mut Vec<String>) {
        if visited.contains(&g.name) {
            return;
        }
        for c in &g.children {
            if let GroupChild::Group(sg) = c {
                visit(sg, order, visited);
            }
        }
        visited.push(g.name.clone());
        order.push(g);
    }
    for g in &groups {
        if !child_group_names.contains(&g.name) {
            visit(g, &mut order, &mut visited);
        }
    }
    order
        .into_iter()
        .map(|g| aggregate_group(g, tasks, env))
        .collect()
}

/// `_propagate_num_fewshot`: a group gets an `n-shot` when all its direct children that have one agree.
/// Groups are visited in `groups` order, so a parent listed before its subgroup does not see it.
pub fn propagate_num_fewshot(requested: &[Requested], n_shot: &mut IndexMap<String, i64>) {
    let (_, groups) = flatten(requested);
    for g in groups {
        let mut values: Vec<i64> = Vec::new();
        for c in g.child_names() {
            if let Some(v) = n_shot.get(&c) {
                if !values.contains(v) {
                    values.push(*v);
                }
            }
        }
        if values.len() == 1 {
            n_shot.insert(g.name.clone(), values[0]);
        }
    }
}

/// `_propagate_higher_is_better`: per metric, the children's common value, `None` when they disagree.
pub fn propagate_higher_is_better(
    requested: &[Requested],
    higher_is_better: &mut IndexMap<String, IndexMap<String, Option<bool>>>,
) {
    let (_, groups) = flatten(requested);
    for g in groups {
        let mut merged: IndexMap<String, Option<bool>> = IndexMap::new();
        for c in g.child_names() {
            if let Some(child) = higher_is_better.get(&c) {
                for (m, h) in child {
                    match merged.get(m) {
                        None => {
                            merged.insert(m.clone(), *h);
                        }
                        Some(Some(prev)) if Some(*prev) != *h => {
                            merged.insert(m.clone(), None);
                        }
                        _ => {}
                    }
                }
            }
        }
        if !merged.is_empty() {
            higher_is_better.insert(g.name.clone(), merged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::{NumpyExp, PySum};

    fn env() -> NumericEnv {
        NumericEnv {
            py_sum: PySum::Sequential,
            numpy_exp: NumpyExp::Libm,
        }
    }

    fn entry(n: usize, acc: f64, se: Option<f64>) -> TaskResultEntry {
        let mut metrics = IndexMap::new();
        metrics.insert(
            "acc,none".to_string(),
            (
                acc,
                se.map(StderrValue::Value)
                    .unwrap_or(StderrValue::NotAvailable),
            ),
        );
        TaskResultEntry {
            sample_len: n,
            metrics,
        }
    }

    fn tree() -> Vec<Requested> {
        let sub = GroupNode {
            name: "sub".into(),
            alias: Some("the sub".into()),
            version: None,
            aggregate_metric_list: vec![GroupAggMetric {
                metric: "acc".into(),
                weight_by_size: true,
                filter_list: None,
            }],
            children: vec![GroupChild::Task("t1".into()), GroupChild::Task("t2".into())],
        };
        let top = GroupNode {
            name: "top".into(),
            alias: None,
            version: Some("2".into()),
            aggregate_metric_list: vec![GroupAggMetric {
                metric: "acc".into(),
                weight_by_size: false,
                filter_list: Some(vec!["none".into()]),
            }],
            children: vec![GroupChild::Group(sub), GroupChild::Task("t3".into())],
        };
        vec![Requested::Group(top)]
    }

    #[test]
    fn weighted_over_leaves_bottom_up() {
        let mut tasks = IndexMap::new();
        tasks.insert("t1".to_string(), entry(10, 0.5, Some(0.1)));
        tasks.insert("t2".to_string(), entry(30, 0.9, Some(0.05)));
        tasks.insert("t3".to_string(), entry(20, 0.2, Some(0.2)));
        let requested = tree();
        let (order, groups) = flatten(&requested);
        assert_eq!(order, ["t1", "t2", "t3"]);
        assert_eq!(
            groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["top", "sub"]
        );
        let res = aggregate_groups(&tree(), &tasks, env());
        assert_eq!(
            res.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["sub", "top"]
        );
        let sub = &res[0];
        assert_eq!(sub.alias, "the sub");
        assert_eq!(sub.version, "N/A");
        assert_eq!(sub.sample_len, Some(40));
        assert_eq!(sub.metrics[0].value, (0.5 * 10.0 + 0.9 * 30.0) / 40.0);
        assert_eq!(sub.metrics[0].sample_count, 40);
        let pooled =
            ((9.0 * 0.1f64.powf(2.0) * 10.0 + 29.0 * 0.05f64.powf(2.0) * 30.0) / 38.0 / 40.0)
                .sqrt();
        assert!((sub.metrics[0].stderr.value().unwrap() - pooled).abs() < 1e-15);
        let top = &res[1];
        assert_eq!(top.version, "2");
        // unweighted mean over all three leaves, not over the subgroup's score
        assert_eq!(top.metrics[0].value, (0.5 + 0.9 + 0.2) / 3.0);
        let unweighted = (0.1f64.powf(2.0) + 0.05f64.powf(2.0) + 0.2f64.powf(2.0)).sqrt() / 3.0;
        assert!((top.metrics[0].stderr.value().unwrap() - unweighted).abs() < 1e-15);
    }

    #[test]
    fn na_stderr_propagates_and_container_groups() {
        let mut tasks = IndexMap::new();
        tasks.insert("t1".to_string(), entry(10, 0.5, None));
        tasks.insert("t2".to_string(), entry(30, 0.9, Some(0.05)));
        tasks.insert("t3".to_string(), entry(20, 0.2, Some(0.2)));
        let res = aggregate_groups(&tree(), &tasks, env());
        assert_eq!(res[0].metrics[0].stderr, StderrValue::NotAvailable);
        let container = GroupNode {
            name: "c".into(),
            alias: None,
            version: None,
            aggregate_metric_list: vec![],
            children: vec![GroupChild::Task("t1".into())],
        };
        let r = aggregate_group(&container, &tasks, env());
        assert!(r.sample_len.is_none() && r.metrics.is_empty());
    }

    #[test]
    fn propagation() {
        let mut n_shot = IndexMap::new();
        n_shot.insert("t1".to_string(), 5);
        n_shot.insert("t2".to_string(), 5);
        n_shot.insert("t3".to_string(), 0);
        propagate_num_fewshot(&tree(), &mut n_shot);
        // "top" is visited before "sub" has a value: its children (sub, t3) give only {0}
        assert_eq!(n_shot.get("top"), Some(&0));
        assert_eq!(n_shot.get("sub"), Some(&5));
        let mut hib: IndexMap<String, IndexMap<String, Option<bool>>> = IndexMap::new();
        for (t, v) in [("t1", true), ("t2", false), ("t3", true)] {
            let mut m = IndexMap::new();
            m.insert("acc".to_string(), Some(v));
            hib.insert(t.to_string(), m);
        }
        propagate_higher_is_better(&tree(), &mut hib);
        assert_eq!(hib["sub"]["acc"], None);
        assert_eq!(hib["top"]["acc"], Some(true));
    }
}
