//! MATH answers: the functions of lm-eval's `minerva_math/utils.py` (`process_docs`, `doc_to_text`,
//! `list_fewshot_samples`, `process_results`) and the two equivalence checks its `process_results`
//! reports: `exact_match` (Minerva normalisation, then sympy `parse_latex` + `simplify(a - b) == 0`,
//! reproduced by [`equiv`]) and `math_verify` (the `math_verify` library's `verify(parse(solution),
//! parse(response))`, reproduced by [`verify`]).
//!
//! Neither check can be ported line by line (both rest on sympy); a case this port cannot decide is
//! scored 0 like lm-eval's failure path, but reported: [`MinervaScores`] carries the verdicts, and
//! [`undecided_count`] / [`undecided_math_verify_count`] count them process-wide (with a `tracing`
//! warning for the first few).

pub mod complex;
pub mod equiv;
pub mod expr;
pub mod float;
mod lexer;
pub mod normalize;
pub mod parser;
mod samples;
pub mod verify;

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use yardstick_core::Doc;

pub use equiv::{is_equiv, Verdict};
pub use normalize::{
    get_unnormalized_answer, last_boxed_only_string, normalize_final_answer, remove_boxed,
    INVALID_ANSWER,
};

/// Why a MATH doc could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MathAnswerError {
    #[error("the doc has no string field `{field}`")]
    MissingField { field: &'static str },
    /// lm-eval fails the same way (`remove_boxed(None)` raises `TypeError`).
    #[error("the solution has no \\boxed{{…}} answer (or its braces never close)")]
    NoBoxedAnswer,
    #[error("the solution's last boxed expression is unusual: {0}")]
    NotBoxed(#[from] normalize::NotBoxed),
}

fn text<'a>(doc: &'a Doc, field: &'static str) -> Result<&'a str, MathAnswerError> {
    doc.get(field)
        .and_then(Value::as_str)
        .ok_or(MathAnswerError::MissingField { field })
}

/// The answer `process_docs` stores: the normalised content of the solution's last `\boxed{}`.
pub fn gold_answer(solution: &str) -> Result<String, MathAnswerError> {
    let boxed = last_boxed_only_string(solution).ok_or(MathAnswerError::NoBoxedAnswer)?;
    Ok(normalize_final_answer(remove_boxed(&boxed)?))
}

/// `process_docs` for one doc: `problem` and `solution` as they are, `answer` set (appended, or
/// replaced in place where the dataset has one, as `datasets.map` does). The `few_shot` flag is
/// never added: lm-eval tests it with `getattr` on a dict, which is always absent.
pub fn process_doc(doc: &Doc) -> Result<Doc, MathAnswerError> {
    let problem = text(doc, "problem")?.to_string();
    let solution = text(doc, "solution")?.to_string();
    let answer = gold_answer(&solution)?;
    let mut out = doc.clone();
    out.insert("problem".into(), Value::String(problem));
    out.insert("solution".into(), Value::String(solution));
    out.insert("answer".into(), Value::String(answer));
    Ok(out)
}

/// `doc_to_text`: `"Problem:\n{problem}\n\nSolution:"`.
pub fn doc_to_text(doc: &Doc) -> Result<String, MathAnswerError> {
    Ok(problem_prompt(text(doc, "problem")?))
}

/// The prompt `doc_to_text` builds from a problem.
pub fn problem_prompt(problem: &str) -> String {
    format!("Problem:\n{problem}\n\nSolution:")
}

/// `list_fewshot_samples()`: the four Minerva exemplars, each `{problem, solution, few_shot: "1"}`.
pub fn fewshot_samples() -> Vec<Doc> {
    samples::MINERVA_EXEMPLARS
        .iter()
        .map(|(problem, solution)| {
            let mut d = Doc::new();
            d.insert("problem".into(), Value::String((*problem).to_string()));
            d.insert("solution".into(), Value::String((*solution).to_string()));
            d.insert("few_shot".into(), Value::String("1".into()));
            d
        })
        .collect()
}

/// The `exact_match` of one response, with how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinervaScore {
    pub exact_match: i64,
    pub exact_match_verdict: Verdict,
}

/// Both metrics of one response in lm-eval's order (`exact_match`, `math_verify`), with their verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinervaScores {
    pub exact_match: i64,
    pub exact_match_verdict: Verdict,
    pub math_verify: i64,
    pub math_verify_verdict: Verdict,
}

static UNDECIDED_EXACT_MATCH: AtomicU64 = AtomicU64::new(0);
static UNDECIDED_MATH_VERIFY: AtomicU64 = AtomicU64::new(0);

/// How many responses, process-wide, had an `exact_match` this port could not decide (scored 0).
pub fn undecided_count() -> u64 {
    UNDECIDED_EXACT_MATCH.load(Ordering::Relaxed)
}

/// How many responses, process-wide, had a `math_verify` this port could not decide (scored 0).
pub fn undecided_math_verify_count() -> u64 {
    UNDECIDED_MATH_VERIFY.load(Ordering::Relaxed)
}

fn note_undecided(counter: &AtomicU64, metric: &str, verdict: &Verdict, response: &str) {
    if let Verdict::Undecided(why) = verdict {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        if n < 5 {
            let shown: String = response
                .chars()
                .rev()
                .take(80)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            tracing::warn!(
                "minerva_math {metric}: cannot decide equivalence ({why}); scored 0 (response ends: {shown:?})"
            );
        }
    }
}

/// The `exact_match` half of lm-eval's minerva_math `process_results(doc, [response])`, with its verdict.
pub fn minerva_exact_match(doc: &Doc, response: &str) -> Result<MinervaScore, MathAnswerError> {
    let gold = text(doc, "answer")?;
    let answer = normalize_final_answer(&get_unnormalized_answer(response));
    let em = is_equiv(&answer, gold);
    note_undecided(&UNDECIDED_EXACT_MATCH, "exact_match", &em, response);
    Ok(MinervaScore {
        exact_match: em.score(),
        exact_match_verdict: em,
    })
}

/// lm-eval's minerva_math `process_results(doc, [response])`: `exact_match` and `math_verify`
/// (`verify(gold=parse(doc["solution"]), target=parse(response))`), with their verdicts.
pub fn minerva_process_results(
    doc: &Doc,
    response: &str,
) -> Result<MinervaScores, MathAnswerError> {
    let em = minerva_exact_match(doc, response)?;
    let solution = text(doc, "solution")?;
    let mv = verify::math_verify(solution, response);
    note_undecided(&UNDECIDED_MATH_VERIFY, "math_verify", &mv, response);
    Ok(MinervaScores {
        exact_match: em.exact_match,
        exact_match_verdict: em.exact_match_verdict,
        math_verify: mv.score(),
        math_verify_verdict: mv,
    })
}
