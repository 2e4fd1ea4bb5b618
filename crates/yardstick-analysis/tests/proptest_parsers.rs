//! Issue 8, item 8: the parsers of outside input — group query expressions and the importers (format
//! detection, CSV and JSON readers) — never panic, whatever they are given, and their errors say where.
//! Bounded: `PROPTEST_CASES` cases each (default 64, a few seconds); `scripts/fuzz` runs many more.

use proptest::prelude::*;
use std::path::PathBuf;
use yardstick_analysis::import::import_paths;
use yardstick_analysis::query::Query;
use yardstick_analysis::Registry;
use yardstick_store::Store;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const FIELDS: &[&str] = &[
    "country",
    "origin",
    "org",
    "open_weights",
    "params",
    "released",
    "model",
    "family",
    "x",
];
const OPS: &[&str] = &["=", "!=", "<", "<=", ">", ">=", "==", "~", ""];

/// Query-shaped text: terms of a field, an operator and a value joined by '&', with noise.
fn query_text() -> impl Strategy<Value = String> {
    let term = (
        prop::sample::select(FIELDS),
        prop::sample::select(OPS),
        prop_oneof![
            "[A-Za-z]{0,3}",
            "-?[0-9]{0,4}(\\.[0-9]{0,3})?([eE][-+]?[0-9]{1,4})?",
            "[0-9]{4}-[0-9]{2}(-[0-9]{2})?(\\.\\.[0-9]{4}-[0-9]{2})?",
            "\\PC{0,6}",
            Just("NaN".to_string()),
            Just("inf".to_string()),
        ],
    )
        .prop_map(|(f, o, v)| format!("{f}{o}{v}"));
    prop::collection::vec(term, 0..4).prop_map(|ts| ts.join(" & "))
}

/// A file the importers may be given: its name picks what detection expects; its content is near a
/// real format (a real header with random rows, JSON with random values) or random.
fn import_file() -> impl Strategy<Value = (String, Vec<u8>)> {
    let names = prop::sample::select(vec![
        "results_2024-01-01T00-00-00.json",
        "open-llm-leaderboard.csv",
        "gpqa_diamond.csv",
        "lmarena_text.csv",
        "data.json",
        "data.csv",
    ]);
    let epoch_header = "Model version,mean_score,Best score (across scorers),Release date,Organization,Country,Training compute (FLOP),Training compute notes,stderr,Log viewer,Logs,Started at,id\n";
    let cell = prop_oneof![
        "[a-z\\-]{0,8}",
        "-?[0-9]{0,3}([.,][0-9]{0,3})?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "\"[^\"]{0,6}\"",
        "\\PC{0,4}",
        Just("NaN".to_string()),
    ];
    let row = prop::collection::vec(cell, 0..15).prop_map(|c| c.join(","));
    let csv = prop::collection::vec(row, 0..4)
        .prop_map(move |rows| format!("{epoch_header}{}\n", rows.join("\n")).into_bytes());
    let json_value = prop_oneof![
        Just("null".to_string()),
        Just("NaN".to_string()),
        Just("Infinity".to_string()),
        "-?[0-9]{1,3}(\\.[0-9]{1,3})?(e[-+]?[0-9]{1,3})?",
        "\"[^\"\\\\]{0,6}\"",
        Just("{}".to_string()),
        Just("[]".to_string()),
    ];
    let json = (json_value.clone(), json_value.clone(), json_value, "[a-z_]{1,8}").prop_map(
        |(a, b, c, task)| {
            format!(
                "{{\"results\": {{\"{task}\": {{\"alias\": {a}, \"acc,none\": {b}, \"acc_stderr,none\": {c}}}}}, \
                 \"config\": {{\"model_name\": {a}, \"model_args\": {b}}}, \"n-samples\": {{\"{task}\": {c}}}, \
                 \"versions\": {{\"{task}\": {b}}}}}"
            )
            .into_bytes()
        },
    );
    let random = prop::collection::vec(any::<u8>(), 0..200);
    (names, prop_oneof![csv, json, random]).prop_map(|(n, b)| (n.to_string(), b))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_group_query_parses_or_says_what_is_wrong(text in prop_oneof![query_text(), "\\PC{0,40}"]) {
        match Query::parse(&text) {
            Ok(q) => prop_assert_eq!(q.text.as_str(), text.trim()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn any_file_imports_or_says_which_file((name, bytes) in import_file()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path: PathBuf = dir.path().join(&name);
        std::fs::write(&path, &bytes).expect("write");
        let store = Store::open_in_memory().expect("store");
        let registry = Registry::builtin().expect("registry");
        match import_paths(&store, &registry, std::slice::from_ref(&path)) {
            Ok(_) => {}
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains(&name), "the error does not name the file: {}", msg);
            }
        }
        // inside a directory the same file is imported or skipped with a reason, never an error
        let report = import_paths(&store, &registry, &[dir.path().to_path_buf()]);
        prop_assert!(report.is_ok(), "{:?}", report.err().map(|e| e.to_string()));
    }
}
