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
        function: None,
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

/// Python `re.findall` / `re.sub(p, "", s)` against [`yardstick_engine::scoring::pyre::PyRegex`] on
/// patterns where the two syntaxes or character classes differ.
#[test]
fn python_re_findall_and_sub_match() {
    use yardstick_engine::scoring::pyre::{Found, PyRegex};
    let Some(py) = peer_python_with_lm_eval() else {
        return;
    };
    let patterns = [
        r"x*",
        r"|a",
        r"(\d+)$",
        r"\d+\Z",
        r"(?s).*#### ",
        r"\.$",
        r"(?m)^\d",
        r"\w+",
        r"\W+",
        r"\bis\b",
        r"\B\d",
        r"\s+",
        r"\S+",
        r"[\s,]+",
        r"a{,2}",
        r"{x}",
        r"a{2,}",
        r"[[]",
        r"\<\>",
        r"(?P<n>\d)(?P=n)",
        r"(?<=is )(.*?)(?=\.|$)",
        r"(a)|(b)|(\d)",
        r"^(.*?)\s*$",
        r"(?i)ANSWER",
        r"[^\S\r\n]+",
        r"[\W\d]+",
        r"答案是\s*(\d+)",
        r"(-?[$0-9.,]{2,})|(-?[0-9]+)",
        r".*?",
        r"\$?\d+(?:\.\d+)?",
    ];
    let texts = [
        "",
        "\n",
        "abxd",
        "The answer is 42.\n",
        "1\n2\n",
        "#### 1,234.\n",
        "a 11 b 22\u{1c}x",
        "कि is\u{a0}done",
        "x²y_z‿w",
        "{x} a{ aaa",
        "答案是 12。\r\n答案是１３",
        "(a) b 3 ANSWER answer",
        "$1,000.50 and -7",
        "<>\u{1f} \t\r\n end",
    ];
    let cases: Vec<(&str, &str)> = patterns
        .iter()
        .flat_map(|p| texts.iter().map(move |t| (*p, *t)))
        .collect();
    let code = r#"
import json, re, sys, warnings
warnings.simplefilter("ignore")
out = []
for p, t in json.load(sys.stdin):
    try:
        out.append({"findall": [list(x) if isinstance(x, tuple) else x for x in re.findall(p, t)],
                    "sub": re.sub(p, "", t)})
    except re.error as e:
        out.append({"error": str(e)})
json.dump(out, sys.stdout, ensure_ascii=False)
"#;
    let input = serde_json::to_string(&cases).unwrap();
    let out: Vec<Value> = serde_json::from_str(&run_python(&py, code, &input).unwrap()).unwrap();
    let mut bad = Vec::new();
    for ((p, t), want) in cases.iter().zip(&out) {
        let re = PyRegex::new(p);
        let got = re.as_ref().map_err(Clone::clone).and_then(|re| {
            let f: Vec<Value> = re
                .findall(t)?
                .into_iter()
                .map(|x| match x {
                    Found::Str(s) => Value::String(s),
                    Found::Tuple(g) => serde_json::json!(g),
                })
                .collect();
            Ok(serde_json::json!({"findall": f, "sub": re.remove_all(t)?}))
        });
        match (got, want.get("error")) {
            (Ok(g), None) if g == *want => {}
            (Err(_), Some(_)) => {}
            (g, _) => bad.push(format!("{p:?} on {t:?}: python {want}, ours {g:?}")),
        }
    }
    for b in bad.iter().take(20) {
        println!("MISMATCH {b}");
    }
    assert!(bad.is_empty(), "{} of {} differ", bad.len(), cases.len());
}

/// The generate_until branch of lm-eval's `process_results` (exact_match) against
/// [`GenerationScorer`] where the filtered value is a list or the task has several targets.
#[test]
fn exact_match_on_lists_and_multiple_targets_matches_lm_eval() {
    let Some(py) = peer_python_with_lm_eval() else {
        return;
    };
    let kwargs = [
        serde_json::json!({}),
        serde_json::json!({"ignore_case": true}),
        serde_json::json!({"regexes_to_ignore": []}),
        serde_json::json!({"regexes_to_ignore": [","], "ignore_case": true}),
        serde_json::json!({"ignore_punctuation": true, "ignore_numbers": true}),
    ];
    let results = [
        serde_json::json!("a"),
        serde_json::json!("A,"),
        serde_json::json!(["a"]),
        serde_json::json!(["b", "a"]),
        serde_json::json!(["a", "x", "A"]),
        serde_json::json!([]),
    ];
    let golds = [
        (false, serde_json::json!("a")),
        (true, serde_json::json!(["a"])),
        (true, serde_json::json!(["a", "b"])),
        (true, serde_json::json!(["b", "a", "c"])),
        (true, serde_json::json!(["a", "a"])),
        (true, serde_json::json!([])),
    ];
    let mut cases = Vec::new();
    for k in &kwargs {
        for r in &results {
            for (multi, g) in &golds {
                cases
                    .push(serde_json::json!({"kwargs": k, "result": r, "multi": multi, "gold": g}));
            }
        }
    }
    let code = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
from lm_eval.api.registry import get_metric
fn = get_metric("exact_match")
out = []
for c in json.load(sys.stdin):
    gold, result, kw = c["gold"], c["result"], c["kwargs"]
    try:
        if c["multi"]:
            gold = list(gold)
            preds = [result for _ in range(len(gold))]
            s = fn(references=gold, predictions=preds, **kw)["exact_match"]
            out.append(repr(1.0 if s > 0.0 else 0.0))
        else:
            try:
                s = fn(references=[gold], predictions=[result], **kw)
            except TypeError:
                s = fn([gold, result])
            out.append(repr(float(s["exact_match"])))
    except Exception as e:
        out.append({"error": type(e).__name__})
json.dump(out, sys.stdout)
"#;
    let input = serde_json::to_string(&cases).unwrap();
    let out: Vec<Value> = serde_json::from_str(&run_python(&py, code, &input).unwrap()).unwrap();
    let mut bad = Vec::new();
    for (c, want) in cases.iter().zip(&out) {
        let metric = ResolvedMetric {
            name: "exact_match".into(),
            function: None,
            aggregation: Some("mean".into()),
            higher_is_better: Some(true),
            kwargs: c["kwargs"].as_object().unwrap().clone(),
        };
        let multi = c["multi"].as_bool().unwrap();
        let scorer = GenerationScorer::new("t", &[metric], multi).unwrap();
        let filtered: Filtered = match &c["result"] {
            Value::String(s) => Filtered::One(s.clone()),
            v => Filtered::Many(serde_json::from_value(v.clone()).unwrap()),
        };
        let target = match &c["gold"] {
            Value::String(s) => Target::Text(s.clone()),
            v => Target::Texts(serde_json::from_value(v.clone()).unwrap()),
        };
        let got = scorer.score(&target, &filtered).map(|m| em_of(&m));
        match (got, want.as_str()) {
            (Ok(g), Some(w)) if g == w => {}
            (Err(_), None) => {}
            (g, _) => bad.push(format!("{c}: lm-eval {want}, ours {g:?}")),
        }
    }
    for b in bad.iter().take(20) {
        println!("MISMATCH {b}");
    }
    assert!(bad.is_empty(), "{} of {} differ", bad.len(), cases.len());
}
