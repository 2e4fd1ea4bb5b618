//! Hand-reasoned cases of lm-eval's generation `process_results` with `exact_match`.

use super::*;
use serde_json::json;

fn metric(name: &str, kwargs: Value) -> ResolvedMetric {
    ResolvedMetric {
        name: name.into(),
        function: None,
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

#[test]
fn pass_at_k_is_the_unbiased_estimator() {
    // 1 - C(n-c, k) / C(n, k)
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(pass_at_k(5, 2, 1).unwrap(), 0.4));
    assert!(close(pass_at_k(5, 2, 2).unwrap(), 1.0 - 3.0 / 10.0));
    assert!(close(pass_at_k(10, 3, 5).unwrap(), 1.0 - 21.0 / 252.0));
    assert_eq!(pass_at_k(5, 0, 3).unwrap(), 0.0);
    assert_eq!(
        pass_at_k(5, 4, 2).unwrap(),
        1.0,
        "n - c < k: every k-subset has a hit"
    );
    assert!(pass_at_k(2, 1, 3)
        .unwrap_err()
        .contains("at least 3 responses"));
}

#[test]
fn pass_at_k_counts_matching_responses_with_exact_match_options() {
    let s = GenerationScorer::new(
        "t",
        &[metric(
            "pass_at_k",
            json!({"k": [1, 2], "ignore_case": true}),
        )],
        false,
    )
    .unwrap();
    let m = s
        .score(
            &Target::Text("Paris".into()),
            &many(&["paris", "Lyon", "PARIS", "Nice"]),
        )
        .unwrap();
    let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["pass@1", "pass@2"]);
    let v = |i: usize| match m[i].1 {
        MetricValue::Float { value } => value,
        ref other => panic!("{other:?}"),
    };
    assert!((v(0) - 0.5).abs() < 1e-12);
    assert!((v(1) - (1.0 - 1.0 / 6.0)).abs() < 1e-12);
    assert_eq!(
        output_names(&metric("pass_at_k", json!({"k": [1, 8]}))),
        ["pass@1", "pass@8"]
    );
    // refused up front: no k, a bad k, an unknown option
    for bad in [json!({}), json!({"k": 0}), json!({"k": 1, "typo": true})] {
        let e = GenerationScorer::new("t", &[metric("pass_at_k", bad.clone())], false).unwrap_err();
        assert!(
            e.to_string().contains("pass_at_k") || e.to_string().contains("typo"),
            "{bad}: {e}"
        );
    }
    // too few responses for k: an error naming the remedy
    let e = s.score(&Target::Text("x".into()), &one("x")).unwrap_err();
    assert!(e.to_string().contains("repeats"), "{e}");
}
