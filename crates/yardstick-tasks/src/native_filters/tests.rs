//! Hand-reasoned cases (what the Python classes return for these inputs, worked out from their code).

use super::*;
use serde_json::json;

fn kw(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn id(s: &str) -> String {
    s.to_string()
}

fn doc(input: &str) -> Doc {
    kw(json!({"input": input, "target": "x"}))
}

fn run(kind: NativeFilterKind, args: Value, input: &str, resps: &[&str]) -> Vec<String> {
    let f = NativeFilter::build(kind, &kw(args), id).unwrap();
    let resps: Vec<String> = resps.iter().map(|s| s.to_string()).collect();
    f.apply(&resps, &doc(input)).unwrap()
}

const DATE_Q: &str = "Today is Christmas Eve of 1937. What is the date tomorrow in MM/DD/YYYY?\nOptions:\n(A) 12/11/1937\n(B) 12/25/1937\n(C) 01/04/1938\n(D) 12/04/1937\n(E) 12/25/2006\n(F) 07/25/1937";

#[test]
fn multi_choice_three_stages() {
    let args = json!({"group_select": 0, "ignore_case": true, "ignore_punctuation": true, "regex_pattern": "(\\([A-Z]\\))"});
    let out = run(
        NativeFilterKind::BbhMultiChoiceRegex,
        args,
        DATE_Q,
        &[
            "The answer is (B).",      // stage 1: the pattern
            "Tomorrow is 12/25/1937.", // stage 2: choice text (punctuation removed on both sides)
            "Answer: C",               // stage 3: ": X"
            "I do not know",           // fallback
            "",                        // fallback
        ],
    );
    assert_eq!(out, ["(B)", "(B)", "(C)", "[invalid]", "[invalid]"]);
}

#[test]
fn multi_choice_longest_choice_wins_and_group_select_last() {
    let q = "Which?\nOptions:\n(A) red\n(B) red apple\n(C) green";
    let args = json!({"group_select": -1, "ignore_case": true, "ignore_punctuation": true, "regex_pattern": "(\\([A-Z]\\))"});
    // "red apple" is tried before "red"; the last match is selected with group_select -1.
    let out = run(
        NativeFilterKind::BbhMultiChoiceRegex,
        args.clone(),
        q,
        &["Green? No: a Red Apple"],
    );
    assert_eq!(out, ["(B)"]);
    let out = run(
        NativeFilterKind::BbhMultiChoiceRegex,
        args,
        q,
        &["(A) or (C)"],
    );
    assert_eq!(out, ["(C)"]);
}

#[test]
fn map_regex_sports() {
    let args = json!({"group_select": 0, "ignore_case": true, "regex_pattern_to_value": {"\\b(no|not plausible)\\b": "no", "\\b(yes|plausible)\\b": "yes"}});
    let out = run(
        NativeFilterKind::BbhMapRegex,
        args,
        "Is the following sentence plausible?",
        &[
            "Yes, it is.",
            "This is NOT PLAUSIBLE",
            "plausible",
            "maybe",
            "Not plausible... yes",
        ],
    );
    // The alternation is searched first: its first match decides ("not plausible" before "yes").
    assert_eq!(out, ["yes", "no", "yes", "[invalid]", "no"]);
}

#[test]
fn number_parse_digits_then_words() {
    let args = json!({"group_select": 0, "regex_pattern": "([-0-9]+)"});
    let out = run(
        NativeFilterKind::BbhNumberParseRegex,
        args,
        "How many?",
        &[
            "I count 12 objects and 3 more",
            "There are twenty-one.",
            "Seven hundred and five",
            "none",
        ],
    );
    // `[-0-9]+` takes the hyphen of "twenty-one"; the word pattern has no bare "seven" as a first word, so
    // it matches "hundred and five" (100 x 5); "none" holds "one". (Checked against the Python classes.)
    assert_eq!(out, ["12", "-", "500", "1"]);
    let args = json!({"group_select": -1, "regex_pattern": "([-0-9]+)"});
    let out = run(
        NativeFilterKind::BbhNumberParseRegex,
        args,
        "q",
        &["1 + 2 = 3", "-5 - 4 = -9"],
    );
    assert_eq!(out, ["3", "-9"]);
}

#[test]
fn word_sort_orders_by_last_mention() {
    let input = "Sort the following words alphabetically: List: syndrome therefrom apple";
    let out = run(
        NativeFilterKind::BbhWordSort,
        json!({}),
        input,
        &[
            "apple syndrome therefrom",
            "syndrome apple syndrome therefrom",
            "nothing",
        ],
    );
    assert_eq!(
        out,
        ["apple syndrome therefrom", "apple syndrome therefrom", ""]
    );
}

#[test]
fn errors() {
    let f = NativeFilter::build(
        NativeFilterKind::BbhMultiChoiceRegex,
        &kw(json!({"group_select": 3, "regex_pattern": "(\\([A-Z]\\))"})),
        id,
    )
    .unwrap();
    let err = f.apply(&["(A) (B)".into()], &doc(DATE_Q)).unwrap_err();
    assert!(
        matches!(err, NativeFilterError::GroupSelect { found: 2, .. }),
        "{err}"
    );
    let err = NativeFilter::build(
        NativeFilterKind::BbhMapRegex,
        &kw(json!({"regex_pattern": "x"})),
        id,
    )
    .unwrap_err();
    assert!(
        matches!(err, NativeFilterError::UnknownArgument { .. }),
        "{err}"
    );
    let f = NativeFilter::build(NativeFilterKind::BbhWordSort, &Map::new(), id).unwrap();
    assert_eq!(
        f.apply(&["a".into()], &doc("no list here")).unwrap_err(),
        NativeFilterError::NoWordList
    );
}

#[test]
fn word2number() {
    let n = |s: &str| word_to_num(s).map(|x| x.to_string());
    assert_eq!(n("twenty one").unwrap(), "21");
    assert_eq!(
        n("two million three thousand and forty nine").unwrap(),
        "2003049"
    );
    assert_eq!(n("one hundred twenty three").unwrap(), "123"); // [1,100,20,3] -> 1*100+20+3
    assert_eq!(n("nine hundred thousand").unwrap(), "900000");
    assert_eq!(n("point five").unwrap(), "0.5");
    assert_eq!(n("42").unwrap(), "42");
    assert!(matches!(
        word_to_num("thousand thousand"),
        Err(WordToNumError::Redundant(_))
    ));
    assert!(matches!(
        word_to_num("thousand million"),
        Err(WordToNumError::Malformed(_))
    ));
    assert!(matches!(
        word_to_num("thousand five"),
        Err(WordToNumError::MissingMultiplier(_))
    ));
    assert!(matches!(
        word_to_num("banana"),
        Err(WordToNumError::NoNumberWords(_))
    ));
}

#[test]
fn python_escape() {
    assert_eq!(py_re_escape("a.b c-d"), "a\\.b\\ c\\-d");
    assert_eq!(py_re_escape("x_y,z!"), "x_y,z!");
}
