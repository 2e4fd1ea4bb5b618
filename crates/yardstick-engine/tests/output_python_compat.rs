//! The Python renderings the output files depend on, checked against the real interpreter:
//! `json.dumps(..., ensure_ascii=False)` with and without `indent=2`, `repr(str)` / `str(list)`,
//! numpy's `str(ndarray)`, truthfulqa's `process_results_mc2`, and lm-eval's `exact_match`.

use yardstick_core::python::json::{parse, PyJson};
use yardstick_core::python::text::repr_str;
use yardstick_core::Target;
use yardstick_engine::output::pyrepr::{numpy_array_str, target_str};
use yardstick_engine::output::samples::doc_hash;
use yardstick_engine::scoring::exact_match::{ExactMatch, ExactMatchOptions};
use yardstick_engine::scoring::numpy::{softmax, NumpyExp};
use yardstick_engine::scoring::process::probability_mass_of_true;
use yardstick_engine::scoring::MetricValue;
use yardstick_testkit::python::*;

const TRICKY_DOCS: &str = r#"[
 {"question": "Ünïcode «quotes» \"dq\" 'sq' \\ back\\slash", "n": 3, "f": 0.1, "tiny": 1e-07, "big": 1e16, "bigger": 1.2345678901234567e+300, "neg": -2.5, "whole": 2.0},
 {"ctrl": "\u0000\u0001\u001f\u007f\b\f\n\r\t", "emoji": "😀 \u2028 \u00a0 中文", "nested": {"a": [], "b": {}, "c": [[1, [2.5, {"d": null}]], true, false]}},
 {"ints": [0, -1, 9007199254740993, 18446744073709551615, -9223372036854775808], "floats": [1e-05, 0.0001, 123456789012345680.0, 5e-324, 1.7976931348623157e+308, 0.30000000000000004]},
 {"empty": "", "list_of_empty": [[], {}, ""], "keys with space": 1, "ключ": "значение"}
]"#;

#[test]
fn json_dumps_matches_cpython() {
    let Some(py) = python3_with("json.dumps", &[]) else {
        return;
    };
    let docs = match parse(TRICKY_DOCS).unwrap() {
        PyJson::List(d) => d,
        _ => unreachable!(),
    };
    let code = r#"
import json, sys, hashlib
docs = json.loads(sys.stdin.read())
for d in docs:
    a = json.dumps(d, ensure_ascii=False)
    b = json.dumps(d, indent=2, ensure_ascii=False)
    print(json.dumps([a, b, hashlib.sha256(b.encode("utf-8")).hexdigest()]))
"#;
    let out = run_python(&py, code, TRICKY_DOCS).unwrap();
    for (d, line) in docs.iter().zip(out.lines()) {
        let want: Vec<String> = serde_json::from_str(line).unwrap();
        assert_eq!(d.dumps(), want[0]);
        assert_eq!(d.dumps_indent(2), want[1]);
        if let PyJson::Dict(_) = d {
            let doc: yardstick_core::Doc = serde_json::from_str(&d.dumps()).unwrap();
            assert_eq!(doc_hash(&doc), want[2], "doc_hash");
        }
    }
}

#[test]
fn str_repr_matches_cpython() {
    let Some(py) = python3_with("repr", &[]) else {
        return;
    };
    let strings = vec![
        "plain".to_string(),
        "it's".into(),
        "say \"hi\"".into(),
        "both ' and \"".into(),
        "tab\t nl\n cr\r bs\\ nul\0 del\u{7f} esc\u{1b}".into(),
        "nbsp\u{a0} zwsp\u{200b} ls\u{2028} bom\u{feff} pua\u{e000}".into(),
        "ünï 中文 😀 \u{10ffff}".into(),
        "\u{ad}soft".into(),
    ];
    let input = serde_json::to_string(&strings).unwrap();
    let out = run_python(
        &py,
        "import json,sys\nfor s in json.loads(sys.stdin.read()): print(json.dumps(repr(s)))",
        &input,
    )
    .unwrap();
    for (s, line) in strings.iter().zip(out.lines()) {
        let want: String = serde_json::from_str(line).unwrap();
        assert_eq!(repr_str(s), want, "repr({s:?})");
    }
    let out = run_python(
        &py,
        "import json,sys\nprint(json.dumps(str(json.loads(sys.stdin.read()))))",
        &input,
    )
    .unwrap();
    let want: String = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(target_str(&Target::Texts(strings)), want, "str(list)");
}

#[test]
fn numpy_array_str_matches_numpy() {
    let Some(py) = python3_with("numpy str", &["numpy"]) else {
        return;
    };
    let mut g = Gen(17);
    let mut arrays: Vec<Vec<f64>> = vec![
        vec![0.5, 0.25],
        vec![1.0, 0.0],
        vec![0.9999, 1e-5],
        vec![0.1, 0.2, 0.7],
        vec![1e-300, 1.0],
        vec![0.123456789, 0.87654321],
        vec![1.0],
        vec![0.0, 0.0, 1.0, 0.0],
    ];
    for n in [2usize, 4, 5, 10, 13, 30] {
        for scale in [1.0, 5.0, 40.0] {
            let lls: Vec<f64> = (0..n).map(|_| -g.unit() * scale).collect();
            arrays.push(softmax(&lls, NumpyExp::detect()));
        }
    }
    let input: String = arrays
        .iter()
        .map(|a| to_hex_lines(a).replace('\n', " ").trim().to_string() + "\n")
        .collect();
    let code = "import sys, struct, json\nimport numpy as np\nfor line in sys.stdin:\n    xs=[struct.unpack('<d', bytes.fromhex(h)[::-1])[0] for h in line.split()]\n    print(json.dumps(str(np.array(xs))))\n";
    let out = run_python(&py, code, &input).unwrap();
    for (a, line) in arrays.iter().zip(out.lines()) {
        let want: String = serde_json::from_str(line).unwrap();
        assert_eq!(numpy_array_str(a), want, "str(np.array({a:?}))");
    }
}

#[test]
fn mc2_matches_numpy_formula() {
    let Some(py) = python3_with("mc2", &["numpy"]) else {
        return;
    };
    let mut g = Gen(23);
    let mut cases: Vec<(Vec<f64>, Vec<i64>)> = Vec::new();
    for k in 0..200 {
        let n = 2 + k % 12;
        let lls: Vec<f64> = (0..n)
            .map(|_| -g.unit() * [3.0, 30.0, 300.0, 800.0][k % 4])
            .collect();
        let n_true = 1 + k % (n - 1);
        let labels: Vec<i64> = (0..n).map(|i| if i < n_true { 1 } else { 0 }).collect();
        cases.push((lls, labels));
    }
    let input: String = cases
        .iter()
        .map(|(l, lab)| {
            format!(
                "{}|{}\n",
                to_hex_lines(l).replace('\n', " ").trim(),
                lab.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })
        .collect();
    // lm_eval/tasks/truthfulqa/utils.py process_results_mc2, applied to the same values.
    let code = "import sys, struct\nimport numpy as np\nwith np.errstate(all='ignore'):\n  for line in sys.stdin:\n    h, l = line.split('|')\n    ll = np.array([struct.unpack('<d', bytes.fromhex(x)[::-1])[0] for x in h.split()])\n    labels = np.array([int(x) for x in l.split()])\n    probs = np.exp(ll)\n    probs_norm = probs / np.sum(probs)\n    pm = np.sum(probs_norm[labels == 1])\n    print(struct.pack('<d', float(pm))[::-1].hex())\n";
    let out = run_python(&py, code, &input).unwrap();
    let want = from_hex_lines(&out);
    for ((lls, labels), w) in cases.iter().zip(want) {
        let m = probability_mass_of_true(lls, labels, NumpyExp::detect()).unwrap();
        let MetricValue::Float { value } = m[0].1 else {
            panic!()
        };
        assert!(
            value.to_bits() == w.to_bits() || (value.is_nan() && w.is_nan()),
            "mc2 {lls:?}: {value} vs {w}"
        );
    }
}

/// (regexes_to_ignore, ignore_case, ignore_punctuation, ignore_numbers, prediction, reference)
type EmCase = (Vec<String>, bool, bool, bool, &'static str, &'static str);

#[test]
fn exact_match_matches_lm_eval_semantics() {
    let Some(py) = python3_with("exact_match", &["numpy"]) else {
        return;
    };
    let cases: Vec<EmCase> = vec![
        (
            vec![
                ",".into(),
                "\\$".into(),
                "(?s).*#### ".into(),
                "\\.$".into(),
            ],
            true,
            false,
            false,
            "$1,000.",
            "Work...\n#### 1000",
        ),
        (vec!["\\.$".into()], false, false, false, "42.\n", "42"),
        (vec![], true, true, false, "Hello, World!", "hello world"),
        (vec![], false, false, true, "abc123", "abc"),
        (
            vec!["(?<=the answer is )(.*)(?=.)".into()],
            false,
            false,
            false,
            "the answer is 42.",
            "the answer is .",
        ),
        (vec!["\\s+".into()], true, true, true, " A b-C 9 ", "abc"),
        (vec![], true, false, false, "ÄÖÜ ΣΑΣ", "äöü σας"),
        (vec!["^\\s*".into()], false, false, false, "   x", "x"),
    ];
    let input = serde_json::to_string(
        &cases
            .iter()
            .map(|(r, c, p, n, a, b)| serde_json::json!([r, c, p, n, a, b]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    // A transcription of lm_eval.api.metrics.exact_match_hf_evaluate.
    let code = r#"
import json, re, string, sys
import numpy as np
def em(predictions, references, regexes_to_ignore=None, ignore_case=False, ignore_punctuation=False, ignore_numbers=False):
    if regexes_to_ignore is not None:
        for s in regexes_to_ignore:
            predictions = np.array([re.sub(s, "", x) for x in predictions])
            references = np.array([re.sub(s, "", x) for x in references])
    else:
        predictions = np.asarray(predictions); references = np.asarray(references)
    if ignore_case:
        predictions = np.char.lower(predictions); references = np.char.lower(references)
    if ignore_punctuation:
        t = string.punctuation.maketrans("", "", string.punctuation)
        predictions = np.char.translate(predictions, table=t); references = np.char.translate(references, table=t)
    if ignore_numbers:
        t = string.digits.maketrans("", "", string.digits)
        predictions = np.char.translate(predictions, table=t); references = np.char.translate(references, table=t)
    return float(np.mean(predictions == references))
for r, c, p, n, a, b in json.loads(sys.stdin.read()):
    print(em([a], [b], r, c, p, n))
"#;
    let out = run_python(&py, code, &input).unwrap();
    for (case, line) in cases.iter().zip(out.lines()) {
        let (r, c, p, n, a, b) = case;
        let em = ExactMatch::new(ExactMatchOptions {
            regexes_to_ignore: r.clone(),
            ignore_case: *c,
            ignore_punctuation: *p,
            ignore_numbers: *n,
        })
        .unwrap();
        let want: f64 = line.trim().parse().unwrap();
        assert_eq!(
            em.score(a, &[b.to_string()]).unwrap(),
            MetricValue::float(want),
            "{case:?}"
        );
    }
}

#[test]
fn word_and_byte_counts_match_python() {
    use yardstick_engine::scoring::process::{count_bytes, count_words};
    let Some(py) = python3_with("re.split", &[]) else {
        return;
    };
    let texts: Vec<String> = vec![
        "".into(),
        " ".into(),
        "one".into(),
        " lead and trail ".into(),
        "tabs\tand\nnewlines\r\n\x0b\x0c".into(),
        "unit\x1fsep\x1crecord\x1d\x1e".into(),
        "nbsp\u{a0}em\u{2003}ideo\u{3000}nel\u{85}ls\u{2028}zwsp\u{200b}".into(),
        "Ünïcode  текст 中文 😀".into(),
    ];
    let input = serde_json::to_string(&texts).unwrap();
    let code = "import json, re, sys\nfor t in json.loads(sys.stdin.read()): print(len(re.split(r'\\s+', t)), len(t.encode('utf-8')))";
    let out = run_python(&py, code, &input).unwrap();
    for (t, line) in texts.iter().zip(out.lines()) {
        let want: Vec<i64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        assert_eq!(
            (count_words(t), count_bytes(t)),
            (want[0], want[1]),
            "{t:?}"
        );
    }
}
