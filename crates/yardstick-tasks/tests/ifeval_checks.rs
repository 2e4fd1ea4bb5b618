//! IFEval checkers on hand-written responses (`ifeval/hand.rs`): every instruction type lm-eval 0.4.13
//! registers has at least one response that follows it and one that does not, the verdicts reasoned
//! from the checker definitions. Also the loose variants and the per-row scoring.

#[path = "ifeval/hand.rs"]
mod hand;

use serde_json::{json, Value};
use yardstick_core::Doc;
use yardstick_tasks::ifeval::{self, Instruction, INSTRUCTION_IDS};

#[test]
fn every_hand_case_has_its_reasoned_verdict() {
    let mut wrong = Vec::new();
    for c in hand::CASES {
        let kwargs: Value = serde_json::from_str(c.kwargs).expect("kwargs JSON");
        let inst = Instruction::build(c.id, &kwargs).expect("build");
        let got = ifeval::follows_strict(&inst, c.response);
        if got != c.strict {
            wrong.push(format!(
                "{} {:?}: got {got}, expected {} ({})",
                c.id, c.response, c.strict, c.why
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_instruction_type_passes_and_fails_somewhere() {
    for id in INSTRUCTION_IDS {
        let verdicts: Vec<bool> = hand::CASES
            .iter()
            .filter(|c| c.id == id)
            .map(|c| c.strict)
            .collect();
        assert!(
            verdicts.contains(&true) && verdicts.contains(&false),
            "{id}: {verdicts:?}"
        );
    }
}

fn doc(ids: &[&str], kwargs: Value) -> Doc {
    let v = json!({"key": 1, "prompt": "p", "instruction_id_list": ids, "kwargs": kwargs});
    v.as_object().cloned().expect("object")
}

#[test]
fn loose_drops_first_or_last_line_and_asterisks() {
    // Strict fails (a preamble line before the quote); loose passes once the first line is removed.
    let d = doc(
        &["startend:quotation", "punctuation:no_comma"],
        json!([{}, {}]),
    );
    let s = ifeval::score(&d, "Sure, here it is:\n\"Quoted text\"").expect("score");
    assert_eq!(s.inst_level_strict_acc, vec![false, false]);
    assert!(!s.prompt_level_strict_acc);
    assert_eq!(s.inst_level_loose_acc, vec![true, true]);
    assert!(s.prompt_level_loose_acc);
    // Asterisk removal: bold markup around the closing phrase hides it from end_checker.
    let d = doc(
        &["startend:end_checker"],
        json!([{"end_phrase": "The end."}]),
    );
    let s = ifeval::score(&d, "Story.\n**The end.**").expect("score");
    assert_eq!(
        (
            s.inst_level_strict_acc.clone(),
            s.inst_level_loose_acc.clone()
        ),
        (vec![false], vec![true])
    );
    // Blank responses follow nothing, not even no_comma.
    let d = doc(&["punctuation:no_comma"], json!([{}]));
    let s = ifeval::score(&d, "  \n ").expect("score");
    assert_eq!(
        (s.inst_level_strict_acc, s.inst_level_loose_acc),
        (vec![false], vec![false])
    );
}

#[test]
fn falsy_kwargs_are_dropped_and_missing_ones_refused() {
    // lm-eval drops None values (the hub rows carry every key), so nulls are fine.
    let kw = json!({"num_words": 3, "relation": "less than", "keyword": null, "language": null});
    let inst = Instruction::build("length_constraints:number_words", &kw).expect("build");
    assert!(ifeval::follows_strict(&inst, "two words"));
    // A missing argument would be random in lm-eval: refused with a message naming it.
    let err = Instruction::build(
        "length_constraints:number_words",
        &json!({"relation": "at least"}),
    )
    .expect_err("missing num_words");
    assert!(err.to_string().contains("num_words"), "{err}");
    let err = Instruction::build("keywords:nonexistent", &json!({})).expect_err("unknown id");
    assert!(err.to_string().contains("keywords:nonexistent"), "{err}");
}

#[test]
fn agg_inst_level_acc_flattens() {
    let a = [true, false];
    let b = [true];
    assert_eq!(
        ifeval::agg_inst_level_acc([&a[..], &b[..]]),
        Some(2.0 / 3.0)
    );
    assert_eq!(
        ifeval::agg_inst_level_acc(std::iter::empty::<&[bool]>()),
        None
    );
}
