//! Hand-reasoned cases of lm-eval's generation `process_results` with `exact_match`.

use super::*;
use serde_json::json;

fn metric(name: &str, kwargs: Value) -> ResolvedMetric {
    ResolvedMetric {
        name: name.into(),
        aggregation: Some("mean".into()),
        higher_is_better: Some(true),
        kwargs: kwargs.as_object().unwrap().clone(),
    }
}

fn gsm8k_em() -> ResolvedMetric {
    metric(
        "exact_match",
        json!({"ignore_case": true, "ignore_punctuation": false,
               "regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"]}),
    )
}

fn em_value(s: &GenerationScorer, target: Target, f: Filtered) -> f64 {
    let m = s.score(&target, &f).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].0, "exact_match");
    match m[0].1 {
        MetricValue::Float { value } => value,
        ref other => panic!("not a float: {other:?}"),
    }
}

fn one(s: &str) -> Filtered {
    Filtered::One(s.into())
}

fn many(v: &[&str]) -> Filtered {
    Filtered::Many(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn gsm8k_exact_match() {
    let s = GenerationScorer::new("gsm8k", &[gsm8k_em()], false).unwrap();
    let gold = Target::Text("Natalia sold 48/2 = 24 clips.\n#### 1,072".into());
    assert_eq!(em_value(&s, gold.clone(), one("$1,072.")), 1.0);
    assert_eq!(em_value(&s, gold.clone(), one("1072")), 1.0);
    assert_eq!(em_value(&s, gold.clone(), one("1073")), 0.0);
    assert_eq!(em_value(&s, gold, one("[invalid]")), 0.0);
}

#[test]
fn flags() {
    let m = metric(
        "exact_match",
        json!({"ignore_case": true, "ignore_punctuation": true}),
    );
    let s = GenerationScorer::new("mgsm", &[m], false).unwrap();
    assert_eq!(em_value(&s, Target::Text("(B)".into()), one("b")), 1.0);
    // only ASCII punctuation is removed
    assert_eq!(em_value(&s, Target::Text("B".into()), one("B。")), 0.0);
    let plain = GenerationScorer::new("t", &[metric("exact_match", json!({}))], false).unwrap();
    assert_eq!(em_value(&plain, Target::Text("B".into()), one("b")), 0.0);
}

#[test]
fn multiple_targets() {
    let s = GenerationScorer::new("t", &[metric("exact_match", json!({}))], true).unwrap();
    let golds = Target::Texts(vec!["a".into(), "b".into()]);
    assert_eq!(em_value(&s, golds.clone(), one("b")), 1.0);
    assert_eq!(em_value(&s, golds.clone(), one("c")), 0.0);
    assert_eq!(em_value(&s, Target::Texts(vec![]), one("c")), 0.0);
    // a document whose target is a single string
    assert_eq!(em_value(&s, Target::Text("c".into()), one("c")), 1.0);
    // a list result broadcasts against the references (k == n: position by position)
    assert_eq!(em_value(&s, golds.clone(), many(&["b", "a"])), 0.0);
    assert_eq!(em_value(&s, golds.clone(), many(&["a", "x"])), 1.0);
    assert_eq!(em_value(&s, golds.clone(), many(&["b"])), 1.0);
    let e = s
        .score(&golds, &many(&["a", "b", "c"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("broadcast"), "{e}");
}

#[test]
fn list_results() {
    // no take_first: numpy compares each response with the gold and averages
    let s = GenerationScorer::new(
        "t",
        &[metric("exact_match", json!({"ignore_case": true}))],
        false,
    )
    .unwrap();
    assert_eq!(
        em_value(&s, Target::Text("a".into()), many(&["A", "b", "a", "c"])),
        0.5
    );
    // numpy: an empty list is a float array, which np.char.lower refuses …
    assert!(s.score(&Target::Text("a".into()), &many(&[])).is_err());
    // … and without ignore_* options the mean over no responses is nan
    let plain = GenerationScorer::new("t", &[metric("exact_match", json!({}))], false).unwrap();
    assert!(em_value(&plain, Target::Text("a".into()), many(&[])).is_nan());
    // regexes_to_ignore on a list fails in Python
    let s = GenerationScorer::new("t", &[gsm8k_em()], false).unwrap();
    let e = s
        .score(&Target::Text("1".into()), &many(&["1"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("take_first") && e.contains("task t"), "{e}");
    // an empty regexes_to_ignore and no flag: Python compares plain lists
    let m = metric("exact_match", json!({"regexes_to_ignore": []}));
    let s = GenerationScorer::new("t", std::slice::from_ref(&m), false).unwrap();
    assert_eq!(em_value(&s, Target::Text("1".into()), many(&["1"])), 0.0);
    assert_eq!(em_value(&s, Target::Text("1".into()), one("1")), 1.0);
    // … and with several targets, all of them must equal the result
    let s = GenerationScorer::new("t", &[m], true).unwrap();
    let golds = Target::Texts(vec!["1".into(), "2".into()]);
    assert_eq!(em_value(&s, golds, one("1")), 0.0);
    let golds = Target::Texts(vec!["1".into(), "1".into()]);
    assert_eq!(em_value(&s, golds, one("1")), 1.0);
}

#[test]
fn unsupported_metrics_and_arguments() {
    let e = GenerationScorer::new("t", &[metric("bleu", json!({}))], false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bleu") && e.contains("not implemented"), "{e}");
    let e = GenerationScorer::new("t", &[metric("exact_match", json!({"foo": 1}))], false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("foo"), "{e}");
    let e = GenerationScorer::new(
        "t",
        &[metric("exact_match", json!({"regexes_to_ignore": ["("]}))],
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("does not compile"), "{e}");
}
