//! Differential tests against the real CPython on this machine: `random.Random(seed).sample`,
//! `repr`/`ast.literal_eval`, and Jinja2 rendering (when the `jinja2` module is importable).
//! Without `python3` these print `SKIP:` and pass (unless `CI` is set, where they fail).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use yardstick_core::python::random::PyRandom;
use yardstick_tasks::{jinja, pyvalue};

fn python(script: &str, input: &str) -> Option<String> {
    let child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) => {
            assert!(std::env::var("CI").is_err(), "python3 is required in CI");
            eprintln!("SKIP: python3 not found");
            return None;
        }
    };
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if err.contains("ModuleNotFoundError") {
            eprintln!("SKIP: {err}");
            return None;
        }
        panic!("python failed: {err}");
    }
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

#[test]
fn random_sample_matches_cpython() {
    // Population sizes around the pool/set switch (21, and 21 + 4**ceil(log(3k, 4)) for k > 5).
    let mut cases: Vec<(u64, usize, usize)> = Vec::new();
    for seed in [
        0u64,
        1,
        42,
        1234,
        4_294_967_295,
        4_294_967_296,
        1 << 40,
        u64::MAX,
    ] {
        for (n, k) in [
            (1, 1),
            (5, 5),
            (21, 5),
            (22, 5),
            (21, 6),
            (85, 6),
            (86, 6),
            (100, 5),
            (100, 6),
            (100, 25),
            (1000, 26),
            (10, 10),
            (39905, 11),
            (2, 2),
        ] {
            cases.push((seed, n, k));
        }
    }
    let input = serde_json::to_string(&cases).unwrap();
    let script = r#"
import json, random, sys
out = []
for seed, n, k in json.load(sys.stdin):
    r = random.Random(seed)
    # three consecutive samples from one generator, as the default sampler consumes it
    out.append([r.sample(range(n), k), r.sample(range(n), k), r.sample(range(n), k), r.random(), r.getrandbits(7)])
print(json.dumps(out))
"#;
    let Some(out) = python(script, &input) else {
        return;
    };
    let expected: Vec<Value> = serde_json::from_str(&out).unwrap();
    for ((seed, n, k), exp) in cases.iter().zip(expected) {
        let mut r = PyRandom::new(*seed);
        let got = json!([
            r.sample_indices(*n, *k).unwrap(),
            r.sample_indices(*n, *k).unwrap(),
            r.sample_indices(*n, *k).unwrap(),
            r.random(),
            r.getrandbits(7)
        ]);
        assert_eq!(got, exp, "seed {seed} n {n} k {k}");
    }
}

#[test]
fn repr_and_literal_eval_match_cpython() {
    let strings = vec![
        "plain",
        "it's",
        "say \"hi\"",
        "both ' and \"",
        "back\\slash",
        "tab\tnew\nline\r",
        "\u{0}\u{1}\u{1f}\u{7f}",
        "\u{80}\u{85}\u{a0}\u{ad}é",
        "中文，答案：\u{3000}",
        "\u{200b}\u{200e}\u{2028}\u{feff}",
        "emoji 😀",
        "\u{e000}\u{f8ff}",
        "\u{10ffff}",
        "",
        "'",
        "\"",
        "'\"",
    ];
    let values = json!([strings, 1, -2, 0.1, 1e16, 1e-5, 123456789.125, 2.5e-300, true, false, null, {"a": [1, "b"]}, [[], {}]]);
    let script = r#"
import json, sys
v = json.load(sys.stdin)
print(json.dumps([repr(x) for x in v[0]] + [repr(x) for x in v[1:]]))
"#;
    let Some(out) = python(script, &values.to_string()) else {
        return;
    };
    let expected: Vec<String> = serde_json::from_str(&out).unwrap();
    let mut ours: Vec<String> = strings
        .iter()
        .map(|s| yardstick_core::python::text::repr_str(s))
        .collect();
    ours.extend(values.as_array().unwrap()[1..].iter().map(pyvalue::repr));
    assert_eq!(ours, expected);
    for (s, r) in strings.iter().zip(&expected) {
        assert_eq!(pyvalue::literal_eval(r).unwrap(), json!(s), "{r}");
    }
}

/// Templates of the kinds lm-eval tasks use, rendered by Jinja2 (as lm-eval configures it) and by us.
#[test]
fn jinja_matches_jinja2() {
    let doc = json!({
        "question": "  Which one?\u{1c} \n",
        "choices": {"text": ["it's", "say \"x\"", "a\\b", "中文", "tab\there"], "label": ["A", "B", "C", "D", "E"]},
        "answerKey": "C",
        "answer": 2,
        "Answer": "B",
        "score": 0.5,
        "flag": true,
        "nothing": null,
        "sentence": "The trophy doesn't fit into the brown suitcase because _ is too large.",
        "option1": "trophy",
        "words": "a  b\tc\n d",
        "nested": {"k": [1, 2.0, "x"]},
    });
    let templates = [
        "{{question.strip()}}\nA. {{choices.text[0]}}\nAnswer:",
        "{{choices.text}}",
        "{{choices.label.index(answerKey)}}",
        "{{['A', 'B', 'C', 'D'].index(Answer)}}",
        "{{choices}}",
        "{{score}} {{flag}} {{nothing}} {{answer}} {{nested}}",
        "{{ choices.text | join(', ') }} / {{ choices.label | length }}",
        "{{ choices.text | string }}",
        "{% for t in choices.text %}{{ loop.index }}. {{ t }}\n{% endfor %}",
        "{% set idx = sentence.index('_') %}{{ sentence[:idx] }}{{ option1 }}{{ sentence[idx + 1:] }}",
        "{{ sentence.split(' ')[-1] }} {{ words.split() }} {{ words.split(' ', 1) }}",
        "{{ sentence.replace('_', option1) }} {{ question.lstrip() }}| {{ question.rstrip() }}|",
        "{{ 'hELLO wORLD'.capitalize() }} {{ sentence.upper() }} {{ sentence.lower() }}",
        "{{ sentence.find('fit') }} {{ sentence.count('e') }} {{ sentence.startswith('The') }}",
        "{% if nested is defined %}yes{% endif %}{% if missing is undefined %} no{% endif %}",
        "{{ (answer + 1) * 2 }} {{ answer / 4 }} {{ answer // 4 }} {{ 7 % 3 }}",
        "{{ choices.text[-1] }} {{ choices.text[1:3] }} {{ range(3) | list }}",
        "{{ answer | string + '!' }} {{ choices.text[0] ~ '?' }}",
        "{{ question | trim }}|",
        "trailing newline\n",
        "{{ sentence | regex_replace('_', '___') }}",
    ];
    let input = json!({"doc": doc, "templates": templates});
    let script = r#"
import json, re, sys
import jinja2
def regex_replace(string, pattern, repl, count=0):
    return re.sub(pattern, repl, string, count=count)
env = jinja2.Environment(loader=jinja2.BaseLoader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
env.filters["regex_replace"] = regex_replace
data = json.load(sys.stdin)
print(json.dumps([env.from_string(t).render(**data["doc"]) for t in data["templates"]]))
"#;
    let Some(out) = python(script, &input.to_string()) else {
        return;
    };
    let expected: Vec<String> = serde_json::from_str(&out).unwrap();
    let map = doc.as_object().unwrap();
    for (t, exp) in templates.iter().zip(expected) {
        let got = jinja::render_once(t, map).unwrap_or_else(|e| panic!("{t:?}: {e:#}"));
        assert_eq!(got, exp, "template {t:?}");
    }
}

#[test]
fn json_dumps_indent2_matches_cpython() {
    let v = json!({
        "question": "Q \"quoted\" \\ back\nnew\ttab\u{1}\u{7f}\u{2028} 中文 😀",
        "choices": ["a", "b", [], {}],
        "answer": 2,
        "float": 0.00001,
        "big": 1e16,
        "neg": -0.5,
        "nested": {"k": [1, {"z": null, "t": true}]},
    });
    let Some(out) = python("import json, sys\nprint(json.dumps(json.load(sys.stdin), indent=2, ensure_ascii=False), end='')", &v.to_string()) else {
        return;
    };
    assert_eq!(
        yardstick_core::python::PyJson::from(&v).dumps_indent(2),
        out
    );
}
