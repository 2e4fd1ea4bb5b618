//! IFEval (Zhou et al. 2023) as lm-eval 0.4.13 scores it (`lm_eval/tasks/ifeval/utils.py`
//! `process_results`): every instruction of a row is checked on the response, strictly (the response
//! as it is) and loosely (the response, or it without its first line, last line or both, each also with
//! `*` removed: any variant passing counts). The four metrics are `prompt_level_strict_acc` /
//! `prompt_level_loose_acc` (all instructions followed) and `inst_level_strict_acc` /
//! `inst_level_loose_acc` (one boolean per instruction, aggregated by `agg_inst_level_acc`: the mean of
//! the flattened lists).
//!
//! The checkers are in [`checks`]; NLTK's Punkt sentence splitter and word tokenizer in [`punkt`] and
//! [`word_tokenize`]; langdetect in [`language`]. Where agreement with lm-eval is not guaranteed:
//! see `tasks/README.md` ("ifeval").

use serde_json::Value;
use yardstick_core::Doc;

pub mod checks;
pub mod instructions;
pub mod language;
pub mod punkt;
mod pytext;
pub mod word_tokenize;

pub use checks::check;
pub use instructions::{Instruction, Relation, INSTRUCTION_IDS};

/// A row or kwargs that cannot be scored.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IfEvalError {
    #[error(
        "unknown IFEval instruction id `{0}` (lm-eval 0.4.13 registers: {ids})",
        ids = INSTRUCTION_IDS.join(", ")
    )]
    UnknownInstruction(String),
    #[error("IFEval instruction `{instruction}`: argument `{argument}` {message}")]
    Argument {
        instruction: String,
        argument: String,
        message: String,
    },
    #[error("IFEval document: {0}")]
    Doc(String),
}

/// The four per-sample values, as lm-eval logs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfEvalScores {
    pub prompt_level_strict_acc: bool,
    pub inst_level_strict_acc: Vec<bool>,
    pub prompt_level_loose_acc: bool,
    pub inst_level_loose_acc: Vec<bool>,
}

/// The instructions of a dataset row (`instruction_id_list` with `kwargs`).
pub fn doc_instructions(doc: &Doc) -> Result<Vec<Instruction>, IfEvalError> {
    let ids = doc
        .get("instruction_id_list")
        .and_then(Value::as_array)
        .ok_or_else(|| IfEvalError::Doc("`instruction_id_list` is missing or not a list".into()))?;
    let kwargs = doc
        .get("kwargs")
        .and_then(Value::as_array)
        .ok_or_else(|| IfEvalError::Doc("`kwargs` is missing or not a list".into()))?;
    if kwargs.len() < ids.len() {
        return Err(IfEvalError::Doc(format!(
            "{} instruction ids but {} kwargs",
            ids.len(),
            kwargs.len()
        )));
    }
    ids.iter()
        .zip(kwargs)
        .map(|(id, kw)| {
            let id = id
                .as_str()
                .ok_or_else(|| IfEvalError::Doc(format!("instruction id {id} is not a string")))?;
            Instruction::build(id, kw)
        })
        .collect()
}

/// `test_instruction_following_strict` for one instruction.
pub fn follows_strict(inst: &Instruction, response: &str) -> bool {
    !pytext::strip(response, None).is_empty() && check(inst, response)
}

/// The eight responses `test_instruction_following_loose` tries, in its order.
pub fn loose_variants(response: &str) -> Vec<String> {
    let lines: Vec<&str> = response.split('\n').collect();
    let join = |from: usize, to: usize| -> String {
        if from >= to {
            return String::new();
        }
        pytext::strip(&lines[from..to].join("\n"), None).to_string()
    };
    let n = lines.len();
    let remove_first = join(1, n);
    let remove_last = join(0, n.saturating_sub(1));
    let remove_both = join(1, n.saturating_sub(1));
    let unstar = |s: &str| s.replace('*', "");
    vec![
        response.to_string(),
        unstar(response),
        remove_first.clone(),
        remove_last.clone(),
        remove_both.clone(),
        unstar(&remove_first),
        unstar(&remove_last),
        unstar(&remove_both),
    ]
}

/// `test_instruction_following_loose` for one instruction.
pub fn follows_loose(inst: &Instruction, variants: &[String]) -> bool {
    variants.iter().any(|r| follows_strict(inst, r))
}

/// lm-eval's `process_results(doc, [response])`.
pub fn score(doc: &Doc, response: &str) -> Result<IfEvalScores, IfEvalError> {
    let instructions = doc_instructions(doc)?;
    Ok(score_instructions(&instructions, response))
}

/// The four values for already-built instructions.
pub fn score_instructions(instructions: &[Instruction], response: &str) -> IfEvalScores {
    let strict: Vec<bool> = instructions
        .iter()
        .map(|i| follows_strict(i, response))
        .collect();
    let variants = loose_variants(response);
    let loose: Vec<bool> = instructions
        .iter()
        .map(|i| follows_loose(i, &variants))
        .collect();
    IfEvalScores {
        prompt_level_strict_acc: strict.iter().all(|b| *b),
        inst_level_strict_acc: strict,
        prompt_level_loose_acc: loose.iter().all(|b| *b),
        inst_level_loose_acc: loose,
    }
}

/// lm-eval's `agg_inst_level_acc`: the mean of the flattened per-instruction booleans (`None` when
/// there are none; lm-eval divides by zero).
pub fn agg_inst_level_acc<'a>(items: impl IntoIterator<Item = &'a [bool]>) -> Option<f64> {
    let (mut yes, mut all) = (0usize, 0usize);
    for list in items {
        yes += list.iter().filter(|b| **b).count();
        all += list.len();
    }
    (all > 0).then(|| yes as f64 / all as f64)
}
