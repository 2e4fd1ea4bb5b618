//! Hand-reasoned cases for each filter (what Python's `re` and lm-eval's filter code give).

use super::*;
use serde_json::json;
use yardstick_tasks::FilterStep;

fn chain(steps: Value) -> FilterChain {
    let steps = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut m = s.as_object().unwrap().clone();
            let f = m.shift_remove("function").unwrap();
            FilterStep {
                function: f.as_str().unwrap().to_string(),
                kwargs: m,
            }
        })
        .collect();
    FilterChain::compile(
        "t",
        &FilterPipeline {
            name: "p".into(),
            steps,
        },
    )
    .unwrap()
}

fn compile_err(steps: Value) -> String {
    let steps = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut m = s.as_object().unwrap().clone();
            let f = m.shift_remove("function").unwrap();
            FilterStep {
                function: f.as_str().unwrap().to_string(),
                kwargs: m,
            }
        })
        .collect();
    FilterChain::compile(
        "t",
        &FilterPipeline {
            name: "p".into(),
            steps,
        },
    )
    .unwrap_err()
    .to_string()
}

fn run(c: &FilterChain, resps: &[&str]) -> Result<Filtered, ScoringError> {
    run_doc(c, resps, json!({}))
}

fn run_doc(c: &FilterChain, resps: &[&str], doc: Value) -> Result<Filtered, ScoringError> {
    let resps: Vec<String> = resps.iter().map(|s| s.to_string()).collect();
    c.apply(&resps, doc.as_object().unwrap())
}

fn one(s: &str) -> Filtered {
    Filtered::One(s.into())
}

fn regex_first(pattern: &str, group_select: i64) -> FilterChain {
    chain(json!([
        {"function": "regex", "regex_pattern": pattern, "group_select": group_select},
        {"function": "take_first"}
    ]))
}

#[test]
fn regex_default_pattern_and_fallback() {
    let c = chain(json!([{"function": "regex"}, {"function": "take_first"}]));
    assert_eq!(run(&c, &["so\n#### 1,234"]).unwrap(), one("1,234"));
    assert_eq!(run(&c, &["no answer"]).unwrap(), one("[invalid]"));
    assert_eq!(run(&c, &[""]).unwrap(), one("[invalid]"));
}

#[test]
fn regex_group_select() {
    let c = regex_first(r"(\d+)", 0);
    assert_eq!(run(&c, &["a 12 b 34"]).unwrap(), one("12"));
    let c = regex_first(r"(\d+)", -1);
    assert_eq!(run(&c, &["a 12 b 34"]).unwrap(), one("34"));
    let c = regex_first(r"(\d+)", -2);
    assert_eq!(run(&c, &["a 12 b 34"]).unwrap(), one("12"));
    for gs in [2, -3] {
        let e = run(&regex_first(r"(\d+)", gs), &["a 12 b 34"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("out of range") && e.contains("task t"), "{e}");
    }
    // out of range is only an error when something matched
    assert_eq!(
        run(&regex_first(r"(\d+)", 7), &["none"]).unwrap(),
        one("[invalid]")
    );
}

#[test]
fn regex_tuples_and_strip() {
    // gsm8k flexible-extract: two groups, the last match, its first non-empty group
    let c = regex_first(r"(-?[$0-9.,]{2,})|(-?[0-9]+)", -1);
    assert_eq!(
        run(&c, &["3 apples cost $1,234.56. So 7"]).unwrap(),
        one("7")
    );
    assert_eq!(run(&c, &["It is $1,234.56."]).unwrap(), one("$1,234.56."));
    // a tuple whose groups are all empty gives the fallback, stripped
    let c = chain(json!([
        {"function": "regex", "regex_pattern": "(a)?(b)?", "fallback": " x "},
        {"function": "take_first"}
    ]));
    assert_eq!(run(&c, &["c"]).unwrap(), one("x"));
    // no match: the fallback as given
    let c = chain(json!([
        {"function": "regex", "regex_pattern": "(z)", "fallback": " x "},
        {"function": "take_first"}
    ]));
    assert_eq!(run(&c, &["c"]).unwrap(), one(" x "));
    // the whole match without groups, stripped (Python whitespace includes U+001F)
    let c = regex_first(r"\s*\d+\s*", 0);
    assert_eq!(run(&c, &["x \u{1f}42\u{a0} y"]).unwrap(), one("42"));
}

#[test]
fn regex_python_syntax() {
    // `$` matches before a final newline
    assert_eq!(
        run(&regex_first(r"(\d+)$", 0), &["12\n"]).unwrap(),
        one("12")
    );
    assert_eq!(
        run(&regex_first(r"(\d+)\Z", 0), &["12\n"]).unwrap(),
        one("[invalid]")
    );
    // bbh cot: lookbehind and lookahead; the answer without a following character is empty
    let c = regex_first("(?<=the answer is )(.*)(?=.)", 0);
    assert_eq!(run(&c, &["So the answer is (B)."]).unwrap(), one("(B)"));
    assert_eq!(run(&c, &["So the answer is B"]).unwrap(), one(""));
    // (?s) lets `.` cross lines
    let c = regex_first("(?s)answer: (.*)", 0);
    assert_eq!(run(&c, &["answer: a\nb"]).unwrap(), one("a\nb"));
    let c = regex_first("answer: (.*)", 0);
    assert_eq!(run(&c, &["answer: a\nb"]).unwrap(), one("a"));
    // \d is Unicode in Python 3 str patterns
    assert_eq!(
        run(&regex_first(r"(\d+)", 0), &["答案是１２"]).unwrap(),
        one("１２")
    );
    // mmlu_generative's first line, lazily
    let c = regex_first(r"^(.*?)(?=\n|$)", 0);
    assert_eq!(run(&c, &["B. Paris\nbecause"]).unwrap(), one("B. Paris"));
    assert_eq!(run(&c, &["\nB"]).unwrap(), one(""));
}

#[test]
fn bad_pattern_is_a_compile_error() {
    let e = compile_err(json!([{"function": "regex", "regex_pattern": "(unclosed"}]));
    assert!(e.contains("does not compile") && e.contains("'p'"), "{e}");
    let e = compile_err(json!([{"function": "regex", "regex_pattern": "x", "bogus": 1}]));
    assert!(e.contains("bogus"), "{e}");
}

#[test]
fn selection_filters() {
    let c = chain(json!([{"function": "take_first"}]));
    assert_eq!(run(&c, &["a", "b"]).unwrap(), one("a"));
    assert!(run(&c, &[]).is_err());
    let c = chain(json!([{"function": "take_first_k", "k": 2}]));
    assert_eq!(
        run(&c, &["a", "b", "c"]).unwrap(),
        Filtered::Many(vec!["a".into(), "b".into()])
    );
    let e = run(&c, &["a"]).unwrap_err().to_string();
    assert!(e.contains("at least 2"), "{e}");
    assert!(compile_err(json!([{"function": "take_first_k"}])).contains("`k`"));
    // ties: the first seen wins
    let c = chain(json!([{"function": "majority_vote"}, {"function": "take_first"}]));
    assert_eq!(run(&c, &["b", "a", "a", "b"]).unwrap(), one("b"));
    assert_eq!(run(&c, &["b", "a", "a"]).unwrap(), one("a"));
    // without take_first the vote stays a list
    let c = chain(json!([{"function": "majority_vote"}]));
    assert_eq!(run(&c, &["x"]).unwrap(), Filtered::Many(vec!["x".into()]));
}

#[test]
fn transformations() {
    let c = chain(json!([
        {"function": "remove_whitespace"},
        {"function": "uppercase"},
        {"function": "take_first"}
    ]));
    assert_eq!(run(&c, &["\u{1c} straße \n"]).unwrap(), one("STRASSE"));
    let c = chain(json!([{"function": "lowercase"}, {"function": "take_first"}]));
    assert_eq!(run(&c, &["ÀB"]).unwrap(), one("àb"));
    let c = chain(json!([
        {"function": "map", "mapping_dict": {"yes": "1", "no": "0"}, "default_value": "?"},
        {"function": "take_first"}
    ]));
    assert_eq!(run(&c, &["no"]).unwrap(), one("0"));
    assert_eq!(run(&c, &["maybe"]).unwrap(), one("?"));
    // the default default is None, which cannot be scored
    let c =
        chain(json!([{"function": "map", "mapping_dict": {"a": "b"}}, {"function": "take_first"}]));
    let e = run(&c, &["zzz"]).unwrap_err().to_string();
    assert!(e.contains("None"), "{e}");
}

#[test]
fn string_steps_after_take_first_walk_characters() {
    // Python iterates the characters of a str
    let c =
        chain(json!([{"function": "take_first"}, {"function": "regex", "regex_pattern": r"\d"}]));
    assert_eq!(
        run(&c, &["a1"]).unwrap(),
        Filtered::Many(vec!["[invalid]".into(), "1".into()])
    );
    let c = chain(json!([{"function": "take_first"}, {"function": "take_first"}]));
    assert_eq!(run(&c, &["xyz"]).unwrap(), one("x"));
}

#[test]
fn custom_and_unknown_filters_are_refused() {
    let e = compile_err(json!([{"function": "custom", "filter_fn": "x"}]));
    assert!(
        e.contains("Python filter functions are not supported"),
        "{e}"
    );
    let e = compile_err(json!([{"function": "regexx"}]));
    assert!(
        e.contains("unknown filter `regexx`") && e.contains("take_first"),
        "{e}"
    );
}

#[test]
fn pipelines_of_a_task() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.yaml"),
        r#"task: gen_t
dataset_path: x
test_split: test
output_type: generate_until
doc_to_text: q
doc_to_target: a
filter_list:
  - name: strict
    filter:
      - function: regex
        regex_pattern: "(\\d+)"
      - function: take_first
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("u.yaml"),
        "task: gen_u\ndataset_path: x\ntest_split: test\noutput_type: generate_until\n\
         doc_to_text: q\ndoc_to_target: a\n",
    )
    .unwrap();
    let index = yardstick_tasks::TaskIndex::load(&[dir.path().to_path_buf()]).unwrap();
    let chains = FilterChain::for_task(&index.task_config("gen_t").unwrap()).unwrap();
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0].name, "strict");
    assert_eq!(run(&chains[0], &["x 12 y", "3"]).unwrap(), one("12"));
    // lm-eval's default: one pipeline `none` = take_first
    let chains = FilterChain::for_task(&index.task_config("gen_u").unwrap()).unwrap();
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0].name, "none");
    assert_eq!(run(&chains[0], &["a", "b"]).unwrap(), one("a"));
}

fn mc_doc() -> Value {
    json!({"choices": ["Paris", "London", " Berlin "]})
}

#[test]
fn multi_choice_regex_stages() {
    let c = chain(json!([
        {"function": "multi_choice_regex", "regex_pattern": r"(\([A-Z]\))", "group_select": 0,
         "ignore_case": true, "ignore_punctuation": true},
        {"function": "take_first"}
    ]));
    // stage 1: the regex
    assert_eq!(
        run_doc(&c, &["I think (B) or (C)"], mc_doc()).unwrap(),
        one("(B)")
    );
    // stage 2: a choice's text (case and punctuation ignored), first match
    assert_eq!(
        run_doc(&c, &["It's LONDON, not berlin!"], mc_doc()).unwrap(),
        one("(B)")
    );
    assert_eq!(run_doc(&c, &["berlin"], mc_doc()).unwrap(), one("(C)"));
    // a choice that is a prefix of another does not shadow it (longest first)
    let doc = json!({"choices": ["Guilty", "Guilty of Romance"]});
    assert_eq!(
        run_doc(&c, &["guilty of romance"], doc).unwrap(),
        one("(B)")
    );
    // stage 3: a bare letter after a colon
    assert_eq!(run_doc(&c, &["Answer:\tA"], mc_doc()).unwrap(), one("(A)"));
    // nothing
    assert_eq!(
        run_doc(&c, &["no idea"], mc_doc()).unwrap(),
        one("[invalid]")
    );
    // the choices must be in the doc
    let e = run_doc(&c, &["x"], json!({})).unwrap_err().to_string();
    assert!(e.contains("choices"), "{e}");
}

#[test]
fn bbh_filters() {
    let doc = json!({"input": "Which?\nOptions:\n(A) red car\n(B) blue car"});
    let c = chain(json!([
        {"function": "bbh.MultiChoiceRegexFilter", "regex_pattern": r"(\([A-Z]\))",
         "group_select": -1, "ignore_case": true, "ignore_punctuation": true},
        {"function": "take_first"}
    ]));
    assert_eq!(
        run_doc(&c, &["(A) or (B)"], doc.clone()).unwrap(),
        one("(B)")
    );
    assert_eq!(
        run_doc(&c, &["It is the Blue car."], doc.clone()).unwrap(),
        one("(B)")
    );
    assert_eq!(run_doc(&c, &["so: A"], doc).unwrap(), one("(A)"));

    let c = chain(json!([
        {"function": "bbh.MapRegexFilter", "group_select": -1, "ignore_case": true,
         "regex_pattern_to_value": {r"\b(no|not plausible)\b": "no", r"\b(yes|plausible)\b": "yes"}},
        {"function": "take_first"}
    ]));
    assert_eq!(
        run(&c, &["Not plausible. So the answer is Yes."]).unwrap(),
        one("yes")
    );
    assert_eq!(run(&c, &["So the answer is no"]).unwrap(), one("no"));
    assert_eq!(run(&c, &["unclear"]).unwrap(), one("[invalid]"));

    let doc = json!({"input": "Sort the following words.\nList: pear apple fig"});
    let c = chain(json!([{"function": "bbh.WordSortFilter"}, {"function": "take_first"}]));
    assert_eq!(
        run_doc(&c, &["apple fig pear apple pineapple"], doc).unwrap(),
        one("fig pear apple")
    );
}

#[test]
fn format_span() {
    let c = chain(json!([{"function": "format_span"}, {"function": "take_first"}]));
    assert_eq!(
        run(
            &c,
            &["Person: John Smith, none\nLocation: Kenya $$ org: UN$$"]
        )
        .unwrap(),
        one("per: john smith $ loc: kenya $ org: un")
    );
    assert!(compile_err(json!([{"function": "regex_pos"}])).contains("not supported"));
}
