//! Oracle: lm-eval's minerva_math `math_verify` metric (`math_verify.verify(gold=parse(solution),
//! target=parse(response))`, math-verify 0.9.0) against Yardstick's port
//! `yardstick_tasks::math_answer::verify::math_verify`.
//!
//! Two corpora:
//! - `smollm2_sample_logs_reproduce_lm_eval`: (solution, response, math_verify) triples taken from
//!   lm-eval's own sample logs of SmolLM2 parity runs (minerva_math, minerva_math500, chat-template
//!   runs), committed as `tests/fixtures/math_verify_smollm2.jsonl`; no Python needed. Every logged
//!   value must be reproduced.
//! - `math_test_perturbations_agree_with_math_verify`: the 5,000 MATH test solutions, each against
//!   itself, the Minerva "Final Answer" line with its boxed answer, another problem's answer and
//!   perturbations (fractions as `a/b` and decimals, `\dfrac`, units, degrees, percent, `x =`,
//!   `\left( \right)`, intervals and sets re-bracketed, thousands separators), built and scored by
//!   `scripts/oracles/math_verify_oracle.py`; a deterministic sample of 2,000 pairs (seed 6) keeps the
//!   test short (math_verify takes ~10 ms a pair). Needs the peers' python and the shared data;
//!   without them it prints `SKIP:` and passes.

use serde_json::{json, Value};
use yardstick_tasks::math_answer::verify::math_verify;
use yardstick_tasks::math_answer::Verdict;
use yardstick_testkit::python::{peer_python_with_lm_eval, python_has, run_python};

const ORACLE: &str = include_str!("../../../scripts/oracles/math_verify_oracle.py");
const FIXTURE: &str = include_str!("fixtures/math_verify_smollm2.jsonl");

fn tail(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}

struct Tally {
    n: usize,
    agree: usize,
    ones: usize,
    undecided: usize,
    mismatches: Vec<String>,
}

fn tally(cases: impl Iterator<Item = (String, String, i64, String)>) -> Tally {
    let mut t = Tally {
        n: 0,
        agree: 0,
        ones: 0,
        undecided: 0,
        mismatches: Vec::new(),
    };
    for (solution, response, theirs, note) in cases {
        t.n += 1;
        t.ones += usize::from(theirs == 1);
        let v = math_verify(&solution, &response);
        if matches!(v, Verdict::Undecided(_)) {
            t.undecided += 1;
        }
        if v.score() == theirs {
            t.agree += 1;
        } else {
            t.mismatches.push(format!(
                "lm-eval {theirs}, ours {v:?} [{note}]\n  gold ends {:?}\n  response ends {:?}",
                tail(&solution, 80),
                tail(&response, 160)
            ));
        }
    }
    t
}

fn report(name: &str, t: &Tally) {
    println!(
        "math_verify oracle ({name}): {}/{} agree (lm-eval scored {} of them 1; {} undecided here)",
        t.agree, t.n, t.ones, t.undecided
    );
    for m in t.mismatches.iter().take(200) {
        println!("DISAGREE {m}");
    }
}

#[test]
fn smollm2_sample_logs_reproduce_lm_eval() {
    let cases = FIXTURE.lines().map(|line| {
        let v: Value = serde_json::from_str(line).expect("fixture line is JSON");
        let s = |k: &str| v[k].as_str().expect("string field").to_string();
        let note = format!("{} {} doc {}", s("part"), s("task"), v["doc_id"]);
        (
            s("solution"),
            s("response"),
            v["math_verify"].as_i64().expect("0/1"),
            note,
        )
    });
    let t = tally(cases);
    report("SmolLM2 sample logs", &t);
    assert!(t.n >= 390, "the fixture has {} lines", t.n);
    assert!(
        t.mismatches.is_empty(),
        "{} disagreements with lm-eval's logged math_verify",
        t.mismatches.len()
    );
}

#[test]
fn math_test_perturbations_agree_with_math_verify() {
    let cases: Vec<Value> = if let Ok(path) = std::env::var("YARDSTICK_MATH_VERIFY_CASES") {
        // a saved oracle output (development): {"cases": [...]}
        let text = std::fs::read_to_string(path).expect("read the saved oracle output");
        let v: Value = serde_json::from_str(&text).expect("JSON");
        v["cases"].as_array().expect("cases").clone()
    } else {
        let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/math") else {
            return;
        };
        let Some(py) = peer_python_with_lm_eval() else {
            return;
        };
        if !python_has(&py, &["math_verify", "latex2sympy2_extended"]) {
            yardstick_testkit::skip_or_fail(&format!(
                "{py} lacks math_verify 0.9.0 (lm-eval's `math` extra): rerun scripts/setup-peers"
            ));
            return;
        }
        let input = json!({
            "math_test": data.join("benchmarks/math/test.jsonl"),
            "limit": 2000,
            "seed": 6,
        });
        let out = run_python(&py, ORACLE, &input.to_string()).expect("start the peers' python");
        let v: Value = serde_json::from_str(&out).expect("oracle output is JSON");
        v["cases"].as_array().expect("cases").clone()
    };
    let t = tally(cases.iter().map(|c| {
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        let note = format!("gold {} pred {}", s("gold"), s("pred"));
        (
            s("solution"),
            s("response"),
            c["math_verify"].as_i64().expect("0/1"),
            note,
        )
    }));
    report("MATH test perturbations", &t);
    assert!(t.n >= 1000, "the oracle produced too few cases");
    assert!(
        t.mismatches.is_empty(),
        "{} disagreements with math_verify",
        t.mismatches.len()
    );
}
