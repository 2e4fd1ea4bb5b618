//! Per-item scores: imported lm-eval samples and Yardstick's own runs. An item is identified by
//! (task, doc_hash), so the same question is paired across models whatever its position in a file.

use crate::catalog::{benchmark, benchmark_of_task};
use crate::dataset::SOURCE_YARDSTICK;
use crate::error::Result;
use crate::import::SOURCE_LM_EVAL;
use std::collections::{BTreeMap, HashMap};
use yardstick_store::observations;
use yardstick_store::Store;

/// (task, doc_hash).
pub type ItemKey = (String, String);

/// Per-item scores of one benchmark in one source, for one metric and filter.
#[derive(Debug, Clone, Default)]
pub struct ItemTable {
    pub source: String,
    pub benchmark: String,
    pub metric: String,
    pub filter: String,
    /// model → item → score (the mean when a model scored the same document twice).
    pub scores: BTreeMap<String, HashMap<ItemKey, f64>>,
}

/// One raw per-item value before the metric/filter choice.
#[derive(Debug, Clone)]
pub struct RawItem {
    pub model: String,
    pub task: String,
    pub filter: String,
    pub metric: String,
    pub doc_hash: String,
    pub value: f64,
}

fn filter_rank(f: &str) -> usize {
    match f {
        "none" => 0,
        "strict-match" => 1,
        "flexible-extract" => 2,
        _ => 3,
    }
}

/// Choose the metric (catalog preference, or `metric_override`) and filter, and build the table.
pub fn build_table(
    source: &str,
    benchmark_id: &str,
    raw: &[RawItem],
    metric_override: Option<&str>,
) -> Option<ItemTable> {
    let preferred: Vec<String> = match metric_override {
        Some(m) => vec![m.to_string()],
        None => benchmark(benchmark_id)
            .map(|b| b.metrics.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    };
    let mut pairs: Vec<(&str, &str)> = raw
        .iter()
        .map(|r| (r.metric.as_str(), r.filter.as_str()))
        .collect();
    pairs.sort();
    pairs.dedup();
    let rank = |(m, f): &(&str, &str)| {
        let p = preferred
            .iter()
            .position(|x| x == m)
            .unwrap_or(preferred.len());
        (p, filter_rank(f), m.to_string(), f.to_string())
    };
    let candidates: Vec<&(&str, &str)> = pairs
        .iter()
        .filter(|(m, _)| metric_override.is_none() || preferred.iter().any(|p| p == m))
        .collect();
    let &(metric, filter) = candidates.into_iter().min_by_key(|p| rank(p))?;
    let mut sums: BTreeMap<String, HashMap<ItemKey, (f64, u32)>> = BTreeMap::new();
    for r in raw
        .iter()
        .filter(|r| r.metric == metric && r.filter == filter)
    {
        let e = sums
            .entry(r.model.clone())
            .or_default()
            .entry((r.task.clone(), r.doc_hash.clone()))
            .or_insert((0.0, 0));
        e.0 += r.value;
        e.1 += 1;
    }
    let scores = sums
        .into_iter()
        .map(|(m, items)| {
            (
                m,
                items
                    .into_iter()
                    .map(|(k, (s, n))| (k, s / n as f64))
                    .collect(),
            )
        })
        .collect();
    Some(ItemTable {
        source: source.to_string(),
        benchmark: benchmark_id.to_string(),
        metric: metric.to_string(),
        filter: filter.to_string(),
        scores,
    })
}

/// Per-item tables of the benchmarks `wanted` accepts, from imported lm-eval samples and Yardstick runs.
pub fn load_item_tables(
    store: &Store,
    source: Option<&str>,
    wanted: &dyn Fn(&str) -> bool,
    metric_override: Option<&str>,
) -> Result<Vec<ItemTable>> {
    let mut raw: BTreeMap<(String, String), Vec<RawItem>> = BTreeMap::new();
    if source.is_none_or(|s| s == SOURCE_LM_EVAL) {
        for (src, task, _) in observations::item_tasks(store)? {
            let bench = benchmark_of_task(&task);
            if !wanted(&bench) {
                continue;
            }
            for it in observations::load_items(store, &src, &task)? {
                raw.entry((src.clone(), bench.clone()))
                    .or_default()
                    .push(RawItem {
                        model: it.model,
                        task: it.task,
                        filter: it.filter,
                        metric: it.metric,
                        doc_hash: it.doc_hash,
                        value: it.value,
                    });
            }
        }
    }
    if source.is_none_or(|s| s == SOURCE_YARDSTICK) {
        // Later runs override earlier ones for the same model and document.
        let mut latest: HashMap<(String, String, String, String, String), RawItem> = HashMap::new();
        for it in observations::load_ledger_items(store)? {
            let bench = benchmark_of_task(&it.task);
            if !wanted(&bench) {
                continue;
            }
            for (metric, v) in &it.metrics {
                let Some(value) = item_value(v).filter(|x| x.is_finite()) else {
                    continue;
                };
                let key = (
                    bench.clone(),
                    it.model_name.clone(),
                    it.task.clone(),
                    it.doc_hash.clone(),
                    format!("{metric}\u{0}{}", it.filter),
                );
                latest.insert(
                    key,
                    RawItem {
                        model: it.model_name.clone(),
                        task: it.task.clone(),
                        filter: it.filter.clone(),
                        metric: metric.clone(),
                        doc_hash: it.doc_hash.clone(),
                        value,
                    },
                );
            }
        }
        for ((bench, ..), item) in latest {
            raw.entry((SOURCE_YARDSTICK.to_string(), bench))
                .or_default()
                .push(item);
        }
    }
    Ok(raw
        .into_iter()
        .filter_map(|((src, bench), items)| build_table(&src, &bench, &items, metric_override))
        .collect())
}

/// One stored per-sample metric as a number: the engine stores tagged values (`{"kind": "float", "value":
/// 0.5}`, `{"kind": "int", "value": 1}`, `{"kind": "bool", "value": true}`); plain numbers and booleans (older
/// stores, other writers) are read too. Pairs and lists (perplexity counts, f1 pairs, IFEval's per-instruction
/// lists) are not item scores and give `None`.
fn item_value(v: &serde_json::Value) -> Option<f64> {
    use serde_json::Value;
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Object(o)
            if matches!(
                o.get("kind").and_then(Value::as_str),
                Some("float" | "int" | "bool")
            ) =>
        {
            o.get("value").and_then(item_value)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(model: &str, metric: &str, filter: &str, doc: &str, v: f64) -> RawItem {
        RawItem {
            model: model.into(),
            task: "t".into(),
            filter: filter.into(),
            metric: metric.into(),
            doc_hash: doc.into(),
            value: v,
        }
    }

    #[test]
    fn metric_and_filter_choice() {
        let raw = vec![
            item("m", "acc_norm", "none", "d1", 1.0),
            item("m", "acc", "none", "d1", 0.0),
            item("m", "acc", "none", "d1", 1.0),
            item("m", "exact_match", "strict-match", "d2", 1.0),
        ];
        // arc_challenge prefers acc_norm.
        let t = build_table("lm-eval", "arc_challenge", &raw, None).unwrap();
        assert_eq!((t.metric.as_str(), t.filter.as_str()), ("acc_norm", "none"));
        // mmlu prefers acc; a document scored twice is averaged.
        let t = build_table("lm-eval", "mmlu", &raw, None).unwrap();
        assert_eq!(t.metric, "acc");
        assert_eq!(t.scores["m"][&("t".to_string(), "d1".to_string())], 0.5);
        let t = build_table("lm-eval", "mmlu", &raw, Some("exact_match")).unwrap();
        assert_eq!(
            (t.metric.as_str(), t.filter.as_str()),
            ("exact_match", "strict-match")
        );
        assert!(build_table("lm-eval", "mmlu", &raw, Some("f1")).is_none());
    }
}
