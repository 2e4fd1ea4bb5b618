//! Oracle: lm-eval 0.4.13's own IFEval checkers (`instructions_registry` through
//! `utils.test_instruction_following_strict` / `_loose`, run by `ifeval_oracle.py` in the peers' venv)
//! against `yardstick_tasks::ifeval`, instruction by instruction, on
//! * the hand-written cases of `ifeval/hand.rs`,
//! * for each of the 541 `google/IFEval` rows, ten deterministic synthetic responses
//!   (`ifeval/synth.rs`: the prompt, upper/lower-cased, attempts at following every instruction on and
//!   one past each threshold, with a preamble/closing line, with bold markup, quoted, JSON-wrapped,
//!   split into `***` paragraphs),
//! * extra texts for the tokenizers and langdetect (abbreviations, quotes, contractions, 23 languages),
//! * 1,500 texts drawn at random (fixed seed) from pieces that stress Punkt and the word tokenizer.
//!
//! The same responses also go through lm-eval's `leaderboard/ifeval` copy (the Open LLM Leaderboard's
//! `leaderboard_ifeval`, whose checkers differ from `ifeval`'s only in form): every row's strict and loose
//! lists must equal ours there too.
//!
//! Besides the verdicts it compares NLTK's `count_sentences` (Punkt), `count_words`, the number of
//! all-capital `word_tokenize` tokens and `langdetect.detect` on every response. lm-eval's two random
//! choices are pinned on both sides (langdetect seed 0; the substitute letter for an invalid `letter`).
//!
//! Needs the peers' python with lm-eval's `ifeval` extra (langdetect, immutabledict) and the shared
//! data; NLTK's `punkt_tab` English model is taken from `src/ifeval/nltk_data`. Without them it prints
//! `SKIP:` and passes (fails under CI).

#[path = "ifeval/hand.rs"]
mod hand;
#[path = "ifeval/synth.rs"]
mod synth;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use yardstick_tasks::ifeval::{self, checks, instructions::INVALID_LETTER_SUBSTITUTE, punkt};
use yardstick_testkit::python::{peer_python_with_lm_eval, python_has, run_python};

const ORACLE: &str = include_str!("ifeval_oracle.py");

fn hand_rows() -> Vec<Value> {
    hand::CASES
        .iter()
        .map(|c| {
            let kw: Value = serde_json::from_str(c.kwargs).expect("kwargs");
            json!({"key": 0, "prompt": "hand", "instruction_id_list": [c.id], "kwargs": [kw]})
        })
        .collect()
}

fn tokenizer_row() -> Value {
    json!({"key": 0, "prompt": "texts", "instruction_id_list": [
        "length_constraints:number_sentences", "length_constraints:number_words",
        "change_case:capital_word_frequency", "language:response_language"],
        "kwargs": [{"num_sentences": 3, "relation": "at least"}, {"num_words": 20, "relation": "less than"},
                   {"capital_frequency": 3, "capital_relation": "at least"}, {"language": "en"}]})
}

#[derive(Default)]
struct Tally {
    agree: usize,
    total: usize,
    /// How many of lm-eval's verdicts were `true` (both sides of each checker are exercised).
    passed: usize,
    examples: Vec<String>,
}

impl Tally {
    fn add(&mut self, same: bool, example: impl FnOnce() -> String) {
        self.total += 1;
        if same {
            self.agree += 1;
        } else if self.examples.len() < 3 {
            self.examples.push(example());
        }
    }
}

#[test]
fn ifeval_checkers_agree_with_lm_eval() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/ifeval") else {
        return;
    };
    let Some(py) = peer_python_with_lm_eval() else {
        return;
    };
    if !python_has(&py, &["langdetect", "immutabledict", "nltk"]) {
        yardstick_testkit::skip_or_fail(&format!(
            "{py} lacks lm-eval's `ifeval` extra (langdetect, immutabledict): rerun scripts/setup-peers"
        ));
        return;
    }
    let data_file = data.join("benchmarks/ifeval/input_data.jsonl");
    let mut rows: Vec<Value> = std::fs::read_to_string(&data_file)
        .expect("read IFEval data")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("row JSON"))
        .collect();
    assert_eq!(rows.len(), 541, "google/IFEval train has 541 rows");
    let n_data = rows.len();
    let mut cases: Vec<(usize, String)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        cases.extend(synth::responses(row).into_iter().map(|r| (i, r)));
    }
    for (j, c) in hand::CASES.iter().enumerate() {
        cases.push((n_data + j, c.response.to_string()));
    }
    let mut extra = hand_rows();
    extra.push(tokenizer_row());
    let tok_row = n_data + extra.len() - 1;
    cases.extend(synth::extra_texts().into_iter().map(|t| (tok_row, t)));
    cases.extend(synth::fuzz_texts(1500).into_iter().map(|t| (tok_row, t)));
    rows.extend(extra.iter().cloned());

    let nltk_data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ifeval/nltk_data");
    let input = json!({
        "data": data_file,
        "nltk_data": nltk_data,
        "letter": INVALID_LETTER_SUBSTITUTE.to_string(),
        "rows": extra,
        "cases": cases.iter().map(|(r, t)| json!({"row": r, "response": t})).collect::<Vec<_>>(),
    });
    let out = run_python(&py, ORACLE, &input.to_string()).expect("start the peers' python");
    let oracle: Value = serde_json::from_str(&out).expect("oracle output is JSON");
    let theirs = oracle["cases"].as_array().expect("cases");
    assert_eq!(theirs.len(), cases.len());

    let mut per_id: BTreeMap<String, (Tally, Tally)> = BTreeMap::new();
    let mut helpers: BTreeMap<&str, Tally> = BTreeMap::new();
    for ((row_i, response), t) in cases.iter().zip(theirs) {
        let row = &rows[*row_i];
        let doc = row.as_object().cloned().expect("row object");
        let ours = ifeval::score(&doc, response).expect("score");
        let ids = row["instruction_id_list"].as_array().expect("ids");
        for (k, id) in ids.iter().enumerate() {
            let id = id.as_str().expect("id").to_string();
            let (strict, loose) = per_id.entry(id.clone()).or_default();
            let (ts, tl) = (t["strict"][k].as_bool(), t["loose"][k].as_bool());
            let show = |w: &str, o: bool, th: Option<bool>| {
                format!("{w} row {row_i} {id}: ours {o}, lm-eval {th:?}, response {response:?}")
            };
            strict.passed += usize::from(ts == Some(true));
            loose.passed += usize::from(tl == Some(true));
            strict.add(Some(ours.inst_level_strict_acc[k]) == ts, || {
                show("strict", ours.inst_level_strict_acc[k], ts)
            });
            loose.add(Some(ours.inst_level_loose_acc[k]) == tl, || {
                show("loose", ours.inst_level_loose_acc[k], tl)
            });
        }
        let lb = |key: &str| -> Vec<Option<bool>> {
            t[key]
                .as_array()
                .map(|a| a.iter().map(Value::as_bool).collect())
                .unwrap_or_default()
        };
        let ours_both: Vec<Option<bool>> = ours
            .inst_level_strict_acc
            .iter()
            .chain(&ours.inst_level_loose_acc)
            .map(|b| Some(*b))
            .collect();
        let theirs_lb: Vec<Option<bool>> =
            lb("lb_strict").into_iter().chain(lb("lb_loose")).collect();
        helpers
            .entry("leaderboard_ifeval (strict + loose lists)")
            .or_default()
            .add(ours_both == theirs_lb, || {
                format!("row {row_i} {response:?}: ours {ours_both:?}, leaderboard {theirs_lb:?}")
            });
        let num = |v: &Value| v.as_u64().map(|n| n as usize);
        let sentences = punkt::count_sentences(response);
        helpers.entry("count_sentences (Punkt)").or_default().add(
            num(&t["sentences"]) == Some(sentences),
            || {
                format!(
                    "{response:?}: ours {sentences}, nltk {} ({:?})",
                    t["sentences"],
                    punkt::sentences(response)
                )
            },
        );
        let words = checks::count_words(response);
        helpers
            .entry("count_words")
            .or_default()
            .add(num(&t["words"]) == Some(words), || {
                format!("{response:?}: ours {words}, nltk {}", t["words"])
            });
        let caps: Vec<String> = ifeval::word_tokenize::word_tokenize(response);
        let n_caps = caps.iter().filter(|w| is_upper_py(w)).count();
        helpers
            .entry("capital word_tokenize tokens")
            .or_default()
            .add(num(&t["capital_words"]) == Some(n_caps), || {
                format!(
                    "{response:?}: ours {n_caps} ({caps:?}), nltk {}",
                    t["capital_words"]
                )
            });
        let lang = ifeval::language::detect(response);
        helpers
            .entry("langdetect.detect")
            .or_default()
            .add(t["lang"].as_str() == lang.as_deref(), || {
                format!("{response:?}: ours {lang:?}, langdetect {}", t["lang"])
            });
    }

    let mut report = vec![format!("{} responses on {} rows", cases.len(), rows.len())];
    let mut failures = Vec::new();
    for (id, (s, l)) in &per_id {
        report.push(format!(
            "{id:46} strict {}/{} agree ({} true)  loose {}/{} agree ({} true)",
            s.agree, s.total, s.passed, l.agree, l.total, l.passed
        ));
        failures.extend(s.examples.iter().chain(&l.examples).cloned());
    }
    for (name, t) in &helpers {
        report.push(format!("{name:48} {}/{}", t.agree, t.total));
        failures.extend(t.examples.iter().cloned());
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "disagreements with lm-eval:\n{}",
        failures.join("\n")
    );
}

/// Python's `str.isupper()` (the crate's own helper is private).
fn is_upper_py(s: &str) -> bool {
    s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase)
}
