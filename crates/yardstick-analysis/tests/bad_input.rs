//! Bad input gives a clear error naming the file, line and column (or the query and the valid fields).

use std::path::Path;
use yardstick_analysis::import::import_paths;
use yardstick_analysis::query::Query;
use yardstick_analysis::rate::read_battles;
use yardstick_analysis::Registry;
use yardstick_store::Store;

fn import_one(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir, "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    match import_paths(&store, &reg, &[path]) {
        Ok(r) => panic!("expected an error, got {r:?}"),
        Err(e) => e.to_string(),
    }
}

const EPOCH_HEADER: &str = "Model version,mean_score,Best score (across scorers),Release date,Organization,Country,Training compute (FLOP),Training compute notes,stderr,Log viewer,Logs,Started at,id\n";

#[test]
fn unknown_query_field_lists_valid_fields() {
    let e = Query::parse("country=CN & weights=open")
        .unwrap_err()
        .to_string();
    assert!(e.contains("query 'country=CN & weights=open'"), "{e}");
    assert!(e.contains("unknown field 'weights'"), "{e}");
    assert!(
        e.contains("country, org, model") && e.contains("open_weights"),
        "{e}"
    );
}

#[test]
fn unknown_format_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = import_one(dir.path(), "notes.csv", "name,color\nfoo,blue\n");
    assert!(
        e.contains("notes.csv") && e.contains("unknown format"),
        "{e}"
    );
    let e = import_one(dir.path(), "thing.json", "{\"hello\": 1}");
    assert!(
        e.contains("thing.json") && e.contains("unknown format"),
        "{e}"
    );
}

#[test]
fn missing_column_names_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    // An Open LLM Leaderboard v2 export without the GPQA column.
    let header = "id,model_name,model_sha,model_precision,model_type,evaluations_ifeval_value,evaluations_bbh_value,evaluations_math_value,evaluations_musr_value,evaluations_mmlu_pro_value,features_is_official_provider,metadata_upload_date,metadata_submission_date,metadata_base_model,metadata_hub_license,metadata_params_billions\n";
    let row = "x,org/m,abc,bfloat16,pretrained,0.5,0.5,0.1,0.4,0.3,FALSE,2024-05-01,2024-06-01,org/m,mit,7\n";
    let e = import_one(dir.path(), "oll.csv", &format!("{header}{row}"));
    assert!(
        e.contains("oll.csv") && e.contains("missing column 'evaluations_gpqa_value'"),
        "{e}"
    );
    // An arena leaderboard without the interval column.
    let e = import_one(
        dir.path(),
        "lmsys_2024-07-01.csv",
        "rank,model,arena_score,votes,organization,license\n1,m,1200,10,OpenAI,Proprietary\n",
    );
    assert!(
        e.contains("lmsys_2024-07-01.csv") && e.contains("missing column '95_pct_ci'"),
        "{e}"
    );
}

#[test]
fn unparseable_date_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{EPOCH_HEADER}gpt-x,0.5,0.5,2024-05-13,OpenAI,United States of America,,,0.01,,,2025-01-01T00:00:00Z,a\nqwen-y,0.4,0.4,2024-13-45,Alibaba,China,,,0.01,,,2025-01-01T00:00:00Z,b\n"
    );
    let e = import_one(dir.path(), "gpqa_diamond.csv", &body);
    assert!(
        e.contains("gpqa_diamond.csv:3: column 'Release date'") && e.contains("'2024-13-45'"),
        "{e}"
    );
    // A score that is not a number.
    let body = format!(
        "{EPOCH_HEADER}gpt-x,high,0.5,2024-05-13,OpenAI,United States of America,,,0.01,,,,a\n"
    );
    let e = import_one(dir.path(), "math_level_5.csv", &body);
    assert!(
        e.contains("math_level_5.csv:2: column 'mean_score'")
            && e.contains("'high' is not a number"),
        "{e}"
    );
    // An arena file whose name carries no snapshot date.
    let e = import_one(dir.path(), "arena.csv", "rank,model,arena_score,95_pct_ci,votes,organization,license\n1,m,1200,+5/-5,10,OpenAI,Proprietary\n");
    assert!(
        e.contains("arena.csv") && e.contains("snapshot date"),
        "{e}"
    );
}

#[test]
fn bad_lm_eval_samples_line() {
    let dir = tempfile::tempdir().unwrap();
    let results = r#"{"results": {"gsm8k": {"exact_match,strict-match": 0.5}}, "versions": {"gsm8k": 3}, "model_name": "Qwen/Qwen2.5-0.5B"}"#;
    std::fs::write(dir.path().join("results_2024-01-01T00-00-00.json"), results).unwrap();
    std::fs::write(
        dir.path().join("samples_gsm8k_2024-01-01T00-00-00.jsonl"),
        "{\"doc_id\": 0, \"doc_hash\": \"a\", \"filter\": \"strict-match\", \"metrics\": [\"exact_match\"], \"exact_match\": 1.0}\n{\"doc_id\": 1, \"filter\": \"strict-match\", \"metrics\": [\"exact_match\"], \"exact_match\": 0.0}\n",
    )
    .unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    // Inside a directory the bad samples file is skipped with its reason (issue 8); the results file is
    // imported and listed.
    let r = import_paths(&store, &reg, &[dir.path().to_path_buf()]).unwrap();
    assert!(r
        .files
        .iter()
        .any(|f| f.path.ends_with(".json") && f.imported));
    assert!(
        r.skipped.iter().any(|s| s
            .reason
            .contains("samples_gsm8k_2024-01-01T00-00-00.jsonl:2: column 'doc_hash'")),
        "{r:?}"
    );
    // Named explicitly, its results file is an error naming the line, and what was committed before it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("results_2024-01-01T00-00-00.json"), results).unwrap();
    std::fs::write(
        dir.path().join("samples_gsm8k_2024-01-01T00-00-00.jsonl"),
        "{\"doc_id\": 1, \"filter\": \"strict-match\", \"metrics\": [\"exact_match\"], \"exact_match\": 0.0}\n",
    )
    .unwrap();
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let e = import_paths(
        &store,
        &reg,
        &[dir.path().join("results_2024-01-01T00-00-00.json")],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("samples_gsm8k_2024-01-01T00-00-00.jsonl:1: column 'doc_hash'")
            && e.contains("1 file(s) had been committed"),
        "{e}"
    );
}

#[test]
fn bad_battles() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("battles.jsonl");
    std::fs::write(&p, "{\"model_a\": \"x\", \"model_b\": \"y\", \"winner\": \"model_a\"}\n{\"model_a\": \"x\", \"model_b\": \"y\", \"winner\": \"draw\"}\n").unwrap();
    let e = read_battles(&p).unwrap_err().to_string();
    assert!(
        e.contains("battles.jsonl:2: column 'winner'") && e.contains("'draw'"),
        "{e}"
    );
}
