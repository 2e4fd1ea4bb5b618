//! Oracle: lm-eval's filter pipelines and generation `exact_match` against ours, on ~250 model-like
//! responses through every pipeline of gsm8k, gsm8k_cot(_zeroshot, _llama), bbh_cot_fewshot,
//! bbh_cot_zeroshot (all subtasks), mgsm_direct, mgsm_native_cot_zh/en and mmlu_generative, plus
//! lm-eval's other registered filters on several responses per document. The pipeline configs come
//! from lm-eval's installed YAMLs (read by its own loader) and are handed to both sides as JSON.
//! Needs the peers' python with lm-eval (skips, saying why, without it).

use serde_json::Value;
use yardstick_core::python::py_float_repr;
use yardstick_core::Target;
use yardstick_engine::scoring::filters::supported_filters;
use yardstick_engine::scoring::{FilterChain, Filtered, GenerationScorer, MetricValue};
use yardstick_tasks::{FilterPipeline, FilterStep, ResolvedMetric};
use yardstick_testkit::python::{peer_python_with_lm_eval, run_python};

const ORACLE: &str = include_str!("filters_oracle.py");

fn pipeline(v: &Value) -> FilterPipeline {
    FilterPipeline {
        name: v["name"].as_str().unwrap().to_string(),
        steps: v["filter"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let mut kwargs = s.as_object().unwrap().clone();
                let function = kwargs.shift_remove("function").unwrap();
                FilterStep {
                    function: function.as_str().unwrap().to_string(),
                    kwargs,
                }
            })
            .collect(),
    }
}

fn em_of(m: &[(String, MetricValue)]) -> String {
    match &m[0].1 {
        MetricValue::Float { value } => py_float_repr(*value),
        other => format!("{other:?}"),
    }
}

/// Compare one case (a task's pipelines on the corpus); returns (values compared, mismatches).
fn check_case(case: &Value, mismatches: &mut Vec<String>) -> usize {
    let task = case["task"].as_str().unwrap();
    let chains: Vec<FilterChain> = case["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| FilterChain::compile(task, &pipeline(p)).unwrap())
        .collect();
    let metric = ResolvedMetric {
        name: "exact_match".into(),
        aggregation: Some("mean".into()),
        higher_is_better: Some(true),
        kwargs: case["metric_kwargs"].as_object().unwrap().clone(),
    };
    let scorer = GenerationScorer::new(task, &[metric], false).unwrap();
    let docs = case["docs"].as_array().unwrap();
    let mut compared = 0;
    for row in case["results"].as_array().unwrap() {
        let doc = docs[row["doc"].as_u64().unwrap() as usize]
            .as_object()
            .unwrap();
        let resps: Vec<String> = row["resps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        let gold = Target::Text(row["gold"].as_str().unwrap().to_string());
        for chain in &chains {
            let py = &row["filtered"][&chain.name];
            let ours = chain.apply(&resps, doc);
            compared += 1;
            let ctx = format!("{task}/{} on {resps:?}", chain.name);
            let filtered: Filtered = match (py.get("value"), ours) {
                (Some(v), Ok(f)) if serde_json::to_value(&f).unwrap() == *v => f,
                (None, Err(_)) => continue,
                (v, o) => {
                    mismatches.push(format!(
                        "{ctx}: lm-eval {v:?} / {:?}, ours {o:?}",
                        py.get("error")
                    ));
                    continue;
                }
            };
            let py_em = &row["em"][&chain.name];
            compared += 1;
            match (py_em.as_str(), scorer.score(&gold, &filtered)) {
                (Some(p), Ok(m)) if em_of(&m) == p => {}
                (None, Err(_)) => {}
                (p, o) => mismatches.push(format!(
                    "{ctx}: exact_match vs gold {:?} of {filtered:?}: lm-eval {p:?} ({py_em}), ours {o:?}",
                    row["gold"]
                )),
            }
        }
    }
    compared
}

#[test]
fn filters_and_exact_match_match_lm_eval() {
    let Some(py) = peer_python_with_lm_eval() else {
        return;
    };
    let supported = supported_filters();
    let not_ported: Vec<&str> = ["bbh.NumberParseRegexFilter"]
        .into_iter()
        .filter(|f| !supported.contains(f))
        .collect();
    let code = format!("import sys\nsys.argv = ['filters_oracle.py'] + {not_ported:?}\n{ORACLE}");
    let out = run_python(&py, &code, "").expect("the peers' python did not start");
    let oracle: Value = serde_json::from_str(&out).unwrap();
    let mut mismatches = Vec::new();
    let mut compared = 0;
    let cases = oracle["cases"].as_array().unwrap();
    for case in cases {
        compared += check_case(case, &mut mismatches);
    }
    println!(
        "compared {compared} filtered values and scores over {} distinct task configs and {} responses; \
         pipelines left out (filters not ported): {}",
        cases.len(),
        oracle["corpus"],
        oracle["skipped"]
    );
    for m in mismatches.iter().take(30) {
        println!("MISMATCH {m}");
    }
    assert!(cases.len() >= 10 && compared > 5000, "too little compared");
    assert!(mismatches.is_empty(), "{} mismatches", mismatches.len());
}
