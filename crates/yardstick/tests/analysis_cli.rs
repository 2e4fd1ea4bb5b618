//! End-to-end tests of `yardstick import | models | gap | trend | rate`, driving the built binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    c.env_remove("YARDSTICK_STORE")
        .env_remove("YARDSTICK_REGISTRY");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run yardstick")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../yardstick-analysis/tests/fixtures")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

fn shared_data() -> Option<PathBuf> {
    yardstick_testkit::require_shared_data_with("leaderboards")
}

fn s<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &str {
    p.as_ref().to_str().expect("utf-8 path")
}

#[test]
fn import_is_idempotent_and_paired_gap_matches_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let db = yardstick_testkit::test_store(dir.path(), "y.db");
    let fx = fixtures().join("lm_eval");
    let out = ok(&run(&["import", s(&fx), "--store", s(&db)]));
    assert!(
        out.contains("8 file(s) imported, 0 already present"),
        "{out}"
    );
    assert!(
        out.contains("Unattributed rows (no organization/country under developer attribution): 0"),
        "{out}"
    );
    let again = ok(&run(&["import", s(&fx), "--store", s(&db)]));
    assert!(
        again.contains("0 file(s) imported, 8 already present") && again.contains("nothing added"),
        "{again}"
    );

    // Hand computation in crates/yardstick-analysis/tests/paired_fixture.rs: Δ = 0.3, SE = 0.2, t₄.
    let svg = dir.path().join("gap.svg");
    let out = ok(&run(&[
        "gap",
        "--between",
        "country=CN",
        "--and",
        "country=US",
        "--benchmark",
        "mmlu",
        "--estimand",
        "roster",
        "--json",
        "--plot",
        s(&svg),
        "--store",
        s(&db),
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = &v["rows"][0];
    assert_eq!(row["method"], "paired_items_fixed_roster");
    assert!(
        (row["estimate"].as_f64().unwrap() - 0.3).abs() < 1e-12,
        "{row}"
    );
    assert!((row["se"].as_f64().unwrap() - 0.2).abs() < 1e-12, "{row}");
    assert_eq!(row["n_items"], 5);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    // The table says which method was used.
    let text = ok(&run(&[
        "gap",
        "--between",
        "country=CN",
        "--and",
        "country=US",
        "--benchmark",
        "mmlu",
        "--store",
        s(&db),
    ]));
    assert!(
        text.contains("paired-items/two-way-bootstrap") && text.contains("lm-eval"),
        "{text}"
    );
}

#[test]
fn bad_input_is_reported_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = yardstick_testkit::test_store(dir.path(), "y.db");
    ok(&run(&[
        "import",
        s(&fixtures().join("lm_eval")),
        "--store",
        s(&db),
    ]));

    let o = run(&[
        "gap",
        "--between",
        "contry=CN",
        "--and",
        "country=US",
        "--store",
        s(&db),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("unknown field 'contry'")
            && e.contains("did you mean 'country'")
            && e.contains("open_weights"),
        "{e}"
    );

    let o = run(&[
        "gap",
        "--between",
        "country=CN",
        "--and",
        "country=US",
        "--as-of",
        "2024-02-30",
        "--store",
        s(&db),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot parse date '2024-02-30'"),
        "{}",
        stderr(&o)
    );

    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello world\n").unwrap();
    let o = run(&["import", s(&junk), "--store", s(&db)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("junk.txt") && stderr(&o).contains("unknown format"),
        "{}",
        stderr(&o)
    );

    let csv = dir.path().join("gpqa_diamond.csv");
    std::fs::write(&csv, "Model version,mean_score,Release date,Organization,Country\nm,0.5,13/2024,OpenAI,United States of America\n").unwrap();
    let o = run(&["import", s(&csv), "--store", s(&db)]);
    assert!(
        stderr(&o).contains("gpqa_diamond.csv:2: column 'Release date'")
            && stderr(&o).contains("'13/2024'"),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "gap",
        "--between",
        "country=CN",
        "--and",
        "country=US",
        "--dimension",
        "vibes",
        "--store",
        s(&db),
    ]);
    assert!(
        stderr(&o).contains("unknown dimension 'vibes'"),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "trend",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--metric",
        "ECI",
        "--store",
        s(&dir.path().join("none.db")),
    ]);
    assert!(stderr(&o).contains("no store at"), "{}", stderr(&o));
}

#[test]
fn models_and_rate() {
    let out = ok(&run(&[
        "models",
        "list",
        "country=CN & open_weights & params>100",
    ]));
    assert!(
        out.contains("deepseek-ai/DeepSeek-V3") && !out.contains("Llama"),
        "{out}"
    );
    let out = ok(&run(&["models", "show", "DeepSeek-R1"]));
    assert!(
        out.contains("CN (China)") && out.contains("deepseek-ai/DeepSeek-V3-Base"),
        "{out}"
    );
    let out = ok(&run(&["models", "orgs", "--country", "CN"]));
    assert!(
        out.contains("zhipu") && out.contains("THUDM,zai-org") && !out.contains("openai"),
        "{out}"
    );
    let o = run(&["models", "show", "no-such-model"]);
    assert!(
        stderr(&o).contains("no model named 'no-such-model'"),
        "{}",
        stderr(&o)
    );

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("ratings.png");
    let battles = fixtures().join("battles/battles.jsonl");
    let out = ok(&run(&[
        "rate",
        "--battles",
        s(&battles),
        "--json",
        "--plot",
        s(&png),
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["battles"], 33);
    let names: Vec<&str> = v["ratings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    // qwen-max-test beats both others, llama-3-test beats mistral-large-test.
    assert_eq!(
        names,
        ["qwen-max-test", "llama-3-test", "mistral-large-test"]
    );
    for r in v["ratings"].as_array().unwrap() {
        assert!(
            r["lower"].as_f64().unwrap() < r["rating"].as_f64().unwrap()
                && r["rating"].as_f64().unwrap() < r["upper"].as_f64().unwrap()
        );
    }
    // Model-name patterns attribute the test names to their developers.
    assert_eq!(v["ratings"][0]["country"], "CN");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn epoch_eci_trend_from_a_fresh_store() {
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = yardstick_testkit::test_store(dir.path(), "y.db");
    let hub = data.join("leaderboards/epoch/benchmark_hub_2026-04-19");
    let out = ok(&run(&["import", s(&hub), "--store", s(&db)]));
    assert!(out.contains("Unattributed rows"), "{out}");
    let svg = dir.path().join("trend.svg");
    let out = ok(&run(&[
        "trend",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--metric",
        "ECI",
        "--since",
        "2023-01-01",
        "--plot",
        s(&svg),
        "--store",
        s(&db),
    ]));
    assert!(out.contains("Lag of B behind A (months): mean"), "{out}");
    assert!(out.contains("Frontier gap F_A − F_B"), "{out}");
    assert!(
        out.contains("Trend of the gap:")
            && (out.contains("widening")
                || out.contains("narrowing")
                || out.contains("no evidence")),
        "{out}"
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let json = ok(&run(&[
        "trend",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--metric",
        "ECI",
        "--since",
        "2023-01-01",
        "--json",
        "--store",
        s(&db),
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["series"].as_array().unwrap().len() > 1000);
    assert!(v["lag"]["mean_months"].as_f64().is_some());
}
