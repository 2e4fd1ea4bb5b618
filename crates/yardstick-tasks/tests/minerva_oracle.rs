//! Oracle: lm-eval's own minerva_math `process_docs` (the gold `answer`) and `process_results`
//! (`exact_match`) against Yardstick's ports in `yardstick_tasks::math_answer`, on MATH test docs (every
//! 12th row of `benchmarks/math/test.jsonl`: all seven subjects, every level) and ~25 model-like responses
//! per doc built by `minerva_oracle.py`: the doc's own solution, the "Final Answer: The final answer is
//! $X$. I hope it is correct." line with the gold, and perturbations of it (`\frac` vs `/`, `\dfrac`,
//! spacing, units, degrees, dollars, decimals, thousands separators, wrong values, nested braces in
//! `\boxed`, no answer, a cut-off line). Every gold answer and every `exact_match` must agree.
//!
//! Needs the peers' python with lm-eval and its `math` extra (sympy, antlr4 4.11, math_verify) and the
//! shared data; without them it prints `SKIP:` and passes (fails under CI, which has both).

use serde_json::{json, Value};
use yardstick_core::Doc;
use yardstick_tasks::math_answer::{self, Verdict};
use yardstick_testkit::python::{peer_python_with_lm_eval, python_has, run_python};

const ORACLE: &str = include_str!("minerva_oracle.py");

fn tail(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}

#[test]
fn minerva_answers_and_exact_match_agree_with_lm_eval() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/math") else {
        return;
    };
    let Some(py) = peer_python_with_lm_eval() else {
        return;
    };
    if !python_has(&py, &["sympy", "antlr4", "math_verify"]) {
        yardstick_testkit::skip_or_fail(&format!(
            "{py} lacks lm-eval's `math` extra (sympy, antlr4-python3-runtime 4.11, math_verify) that \
             minerva_math's utils.py imports: rerun scripts/setup-peers"
        ));
        return;
    }
    let input = json!({
        "math_test": data.join("benchmarks/math/test.jsonl"),
        "every": 12,
        "offset": 0,
    });
    let out = run_python(&py, ORACLE, &input.to_string()).expect("start the peers' python");
    let oracle: Value = serde_json::from_str(&out).expect("oracle output is JSON");

    // process_docs: lm-eval's `answer` for each doc against ours.
    let mut mismatches: Vec<String> = Vec::new();
    let mut docs: Vec<Doc> = Vec::new();
    let theirs_docs = oracle["docs"].as_array().expect("docs");
    for d in theirs_docs {
        let mut raw = Doc::new();
        raw.insert("problem".into(), d["problem"].clone());
        raw.insert("solution".into(), d["solution"].clone());
        let ours = math_answer::process_doc(&raw)
            .unwrap_or_else(|e| panic!("{}: process_doc: {e}", d["unique_id"]));
        if ours["answer"] != d["answer"] {
            mismatches.push(format!(
                "{} gold answer: lm-eval {}, ours {}",
                d["unique_id"], d["answer"], ours["answer"]
            ));
        }
        docs.push(ours);
    }
    let answers_agree = docs.len() - mismatches.len();

    // process_results: exact_match of every response.
    let cases = oracle["cases"].as_array().expect("cases");
    let (mut agree, mut ones, mut undecided) = (0usize, 0usize, 0usize);
    for c in cases {
        let i = c["doc"].as_u64().expect("doc index") as usize;
        let response = c["response"].as_str().expect("response");
        let theirs = c["exact_match"].as_i64().expect("exact_match");
        ones += usize::from(theirs == 1);
        let ours = math_answer::minerva_exact_match(&docs[i], response).unwrap_or_else(|e| {
            panic!("{}: minerva_exact_match: {e}", theirs_docs[i]["unique_id"])
        });
        if matches!(ours.exact_match_verdict, Verdict::Undecided(_)) {
            undecided += 1;
        }
        if ours.exact_match == theirs {
            agree += 1;
        } else {
            mismatches.push(format!(
                "{} (gold {:?}): lm-eval {theirs}, ours {} ({:?}) on response ending {:?}",
                theirs_docs[i]["unique_id"],
                docs[i]["answer"],
                ours.exact_match,
                ours.exact_match_verdict,
                tail(response, 120)
            ));
        }
    }
    println!(
        "minerva oracle: gold answers {answers_agree}/{} agree; exact_match {agree}/{} agree \
         (lm-eval scored {ones} of them 1; {undecided} undecided here)",
        docs.len(),
        cases.len()
    );
    assert!(
        docs.len() >= 400 && cases.len() >= 10 * docs.len(),
        "the oracle produced too few cases"
    );
    assert!(
        mismatches.is_empty(),
        "{} disagreements with lm-eval:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
