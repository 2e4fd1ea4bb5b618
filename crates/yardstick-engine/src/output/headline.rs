//! The one line that ends a run's output: the model, each top-level task (or group) of the table with its
//! first metric, value ± stderr and shots, and the `--limit` — the number a user came for, without reading
//! the table.

use super::table::{hierarchy, value_cell};
use std::collections::BTreeMap;
use yardstick_core::python::json::PyJson;

/// Top-level tasks named in the line; more are counted.
const MAX_SHOWN: usize = 4;

fn group_subtasks(results: &PyJson) -> BTreeMap<String, Vec<String>> {
    let Some(PyJson::Dict(gs)) = results.get("group_subtasks") else {
        return BTreeMap::new();
    };
    gs.iter()
        .filter_map(|(k, v)| match v {
            PyJson::List(items) => Some((
                k.clone(),
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(String::from))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// The shots of `name`: its own, else those of its subtasks when they all agree.
fn shots(results: &PyJson, groups: &BTreeMap<String, Vec<String>>, name: &str) -> Option<String> {
    let n_shot = results.get("n-shot")?;
    if let Some(v) = n_shot.get(name) {
        return Some(value_cell(v));
    }
    let mut seen: Option<String> = None;
    let mut stack: Vec<&str> = groups.get(name)?.iter().map(String::as_str).collect();
    while let Some(t) = stack.pop() {
        match (n_shot.get(t), groups.get(t)) {
            (Some(v), _) => {
                let v = value_cell(v);
                if seen.as_ref().is_some_and(|s| *s != v) {
                    return None;
                }
                seen = Some(v);
            }
            (None, Some(children)) => stack.extend(children.iter().map(String::as_str)),
            (None, None) => {}
        }
    }
    seen
}

/// `mmlu acc 0.2632 ± 0.0037 (5-shot)` for one top-level entry: its first metric in the table's order.
fn entry_line(
    results: &PyJson,
    groups: &BTreeMap<String, Vec<String>>,
    name: &str,
) -> Option<String> {
    let Some(PyJson::Dict(dic)) = results.get("results").and_then(|r| r.get(name)) else {
        return None;
    };
    let mut keys: Vec<&String> = dic
        .keys()
        .filter(|k| {
            !matches!(k.as_str(), "alias" | "name" | "sample_len" | "sample_count")
                && !k.split(',').next().unwrap_or("").ends_with("_stderr")
        })
        .collect();
    keys.sort();
    let key = keys.first()?;
    let (metric, filter) = key.split_once(',').unwrap_or((key.as_str(), ""));
    let shown_name = dic.get("alias").and_then(|a| a.as_str()).unwrap_or(name);
    let mut line = format!("{} {metric}", shown_name.trim_start_matches([' ', '-']));
    if !filter.is_empty() && filter != "none" {
        line.push_str(&format!(" ({filter})"));
    }
    line.push_str(&format!(" {}", value_cell(&dic[key.as_str()])));
    match dic.get(&format!("{metric}_stderr,{filter}")) {
        Some(PyJson::Float(se)) => {
            line.push_str(&format!(" ± {}", value_cell(&PyJson::Float(*se))))
        }
        Some(PyJson::Str(s)) => line.push_str(&format!(" ± {s}")),
        _ => {}
    }
    if let Some(n) = shots(results, groups, name) {
        line.push_str(&format!(" ({n}-shot)"));
    }
    Some(line)
}

/// The closing line of a run: `MODEL: task metric value ± stderr (n-shot) · …; limit L per task`.
/// None when the results hold no task.
pub fn headline(results: &PyJson, model: &str) -> Option<String> {
    let Some(PyJson::Dict(entries)) = results.get("results") else {
        return None;
    };
    let groups = group_subtasks(results);
    let available: Vec<String> = entries.keys().cloned().collect();
    let (depth, order) = hierarchy(&groups, &available);
    let roots: Vec<&String> = order
        .iter()
        .filter(|k| depth.get(*k).copied().unwrap_or(0) == 0)
        .collect();
    let parts: Vec<String> = roots
        .iter()
        .take(MAX_SHOWN)
        .filter_map(|k| entry_line(results, &groups, k))
        .collect();
    if parts.is_empty() {
        return None;
    }
    let mut line = format!("{model}: {}", parts.join(" · "));
    if roots.len() > MAX_SHOWN {
        line.push_str(&format!(" · {} more in the table", roots.len() - MAX_SHOWN));
    }
    match results.get("config").and_then(|c| c.get("limit")) {
        Some(PyJson::None) | None => {}
        Some(PyJson::Float(l)) if l.fract() == 0.0 && l.abs() < 1e15 => {
            line.push_str(&format!("; --limit {} per task", *l as i64))
        }
        Some(PyJson::Float(l)) => line.push_str(&format!("; --limit {l} per task")),
        Some(l) => line.push_str(&format!("; --limit {} per task", value_cell(l))),
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> PyJson {
        let text = r#"{
          "results": {
            "mmlu": {"acc,none": 0.25, "acc_stderr,none": 0.0125, "alias": "mmlu"},
            "mmlu_stem": {"acc,none": 0.2, "acc_stderr,none": 0.02, "alias": " - stem"},
            "mmlu_anatomy": {"acc,none": 0.3, "acc_stderr,none": 0.04, "alias": "  - anatomy"},
            "gsm8k": {"exact_match,flexible-extract": 0.5, "exact_match_stderr,flexible-extract": 0.1,
                      "exact_match,strict-match": 0.4, "exact_match_stderr,strict-match": 0.1, "alias": "gsm8k"}
          },
          "group_subtasks": {"mmlu": ["mmlu_stem"], "mmlu_stem": ["mmlu_anatomy"], "gsm8k": []},
          "n-shot": {"mmlu_anatomy": 5, "gsm8k": 8},
          "config": {"limit": 10}
        }"#;
        PyJson::from(&serde_json::from_str::<serde_json::Value>(text).unwrap())
    }

    #[test]
    fn one_line_with_each_top_level_entry() {
        assert_eq!(
            headline(&results(), "SmolLM2").unwrap(),
            "SmolLM2: gsm8k exact_match (flexible-extract) 0.5000 ± 0.1000 (8-shot) · \
             mmlu acc 0.2500 ± 0.0125 (5-shot); --limit 10 per task"
        );
    }
}
