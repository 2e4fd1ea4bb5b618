//! Snapshots of every command's text and `--json` output, through the real binary, on small stores made
//! here and on the real leaderboard exports of `../shared/data`.
//!
//! Each snapshot is a transcript (exit code, stdout, stderr) with the things that change from run to run
//! replaced by placeholders (uv-style insta filters): temporary and shared-data paths, ports, durations,
//! timestamps, today's date, run ids, the version. A changed output fails the test; review it and accept the
//! new snapshot with `INSTA_UPDATE=always cargo test -p yardstick --test cli_snapshots` (or `cargo insta`).
//!
//! Tests that need `../shared/data` print a SKIP line when it is absent, and fail when `CI` is set.

use std::path::PathBuf;
use std::process::{Command, Output};

#[path = "support/mock_model.rs"]
mod mock_model;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    c.env_remove("YARDSTICK_STORE")
        .env_remove("YARDSTICK_REGISTRY")
        .env_remove("YARDSTICK_DATA_DIR")
        .env_remove("YARDSTICK_LOG")
        .env_remove("YARDSTICK_PYTHON_VERSION")
        .env("HF_HUB_OFFLINE", "1")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    c
}

fn s<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &str {
    p.as_ref().to_str().expect("utf-8 path")
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../yardstick-analysis/tests/fixtures")
}

/// Escape a literal for use in a regex filter.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One directory per test, and the filters that make its transcripts stable.
struct Session {
    dir: tempfile::TempDir,
    data: Option<PathBuf>,
    /// Stores handed out by [`Session::store`]: (location, file name), for the filters.
    stores: std::cell::RefCell<Vec<(String, String)>>,
}

impl Session {
    fn new() -> Session {
        Session {
            dir: tempfile::tempdir().expect("tempdir"),
            data: None,
            stores: Default::default(),
        }
    }

    /// A session on the shared data, or None (SKIP, or a failure in CI) when it is absent.
    fn with_data() -> Option<Session> {
        let data = yardstick_testkit::require_shared_data_with("leaderboards")?;
        Some(Session {
            data: Some(data),
            ..Session::new()
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The store `name` of this session: `[TMP]/name` (SQLite), or a PostgreSQL database under
    /// `YARDSTICK_TEST_PG_URL`, which the transcripts show as that same file.
    fn store(&self, name: &str) -> String {
        let loc = yardstick_testkit::test_store(self.dir.path(), name);
        self.stores
            .borrow_mut()
            .push((loc.clone(), name.to_string()));
        loc
    }

    fn data(&self, rel: &str) -> PathBuf {
        self.data.as_ref().expect("shared data").join(rel)
    }

    fn run(&self, args: &[&str]) -> Output {
        bin()
            .args(args)
            .current_dir(self.dir.path())
            .env("HF_HOME", self.dir.path().join("hf-home"))
            .output()
            .expect("run yardstick")
    }

    fn settings(&self) -> insta::Settings {
        let mut st = insta::Settings::clone_current();
        st.set_prepend_module_to_snapshot(false);
        st.set_omit_expression(true);
        for (loc, name) in self.stores.borrow().iter() {
            if yardstick_store::is_postgres_url(loc) {
                st.add_filter(&literal(loc), format!("[TMP]/{name}"));
                // as stored in a run's command line (user names removed from URLs)
                if let Some((scheme, rest)) = loc.split_once("://") {
                    if let Some((_, host)) = rest.split_once('@') {
                        st.add_filter(
                            &literal(&format!("{scheme}://{host}")),
                            format!("[TMP]/{name}"),
                        );
                    }
                }
            }
        }
        let mut paths = vec![(self.dir.path().to_path_buf(), "[TMP]")];
        if let Ok(canon) = self.dir.path().canonicalize() {
            paths.push((canon, "[TMP]"));
        }
        if let Some(d) = &self.data {
            if let Ok(canon) = d.canonicalize() {
                paths.push((canon, "[DATA]"));
            }
            paths.push((d.clone(), "[DATA]"));
        }
        paths.push((fixtures(), "[FIXTURES]"));
        if let Ok(canon) = fixtures().canonicalize() {
            paths.push((canon, "[FIXTURES]"));
        }
        for (p, name) in paths {
            st.add_filter(&literal(s(&p)), name);
        }
        st.add_filter(&literal(env!("CARGO_BIN_EXE_yardstick")), "[BIN]");
        st.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
        // Timestamps (stored as text or RFC 3339), then today's date wherever it is left.
        st.add_filter(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
            "[TIMESTAMP]",
        );
        let today = chrono::Utc::now().date_naive().to_string();
        st.add_filter(&literal(&today), "[TODAY]");
        st.add_filter(r"\b\d+(\.\d+)? ?(s|ms|µs)\b", "[DURATION]");
        st.add_filter(r#""(\w*_seconds)": "?[0-9.e+-]+"?"#, "\"$1\": [DURATION]");
        st.add_filter(r#""date": [0-9.]+"#, "\"date\": [EPOCH]");
        st.add_filter(r#""git_hash": "[^"]*""#, "\"git_hash\": \"[GIT_REV]\"");
        st.add_filter(&literal(env!("CARGO_PKG_VERSION")), "[VERSION]");
        st
    }

    /// Assert a transcript of `args` against the named snapshot.
    fn snap(&self, name: &str, args: &[&str]) -> Output {
        self.snap_with(name, args, &[])
    }

    /// As [`Session::snap`], with extra filters (regex, replacement).
    fn snap_with(&self, name: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let out = self.run(args);
        let mut st = self.settings();
        for (re, with) in extra {
            st.add_filter(re, *with);
        }
        let text = transcript(args, &out);
        st.bind(|| insta::assert_snapshot!(name, text));
        out
    }
}

fn transcript(args: &[&str], o: &Output) -> String {
    format!(
        "$ yardstick {}\nexit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        args.join(" "),
        o.status
            .code()
            .map_or("signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

// ---------------------------------------------------------------------------------------------------------
// Commands that need no store

#[test]
fn help() {
    let t = Session::new();
    t.snap("help", &["--help"]);
    t.snap("version", &["--version"]);
}

#[test]
fn subcommand_help() {
    let t = Session::new();
    for cmd in ["gap", "trend", "rate", "import", "runs", "results"] {
        assert_ok(&t.snap(&format!("help_{cmd}"), &[cmd, "--help"]));
    }
    assert_ok(&t.snap("help_models_list", &["models", "list", "--help"]));
}

#[test]
fn tasks_list() {
    let t = Session::new();
    assert_ok(&t.snap("tasks_list", &["tasks", "list"]));
    assert_ok(&t.snap(
        "tasks_list_json",
        &["tasks", "list", "--json", "truthfulqa*"],
    ));
}

#[test]
fn tasks_show() {
    let Some(t) = Session::with_data() else {
        return;
    };
    let data = t.data("benchmarks");
    let args = ["tasks", "show", "mmlu_anatomy", "--data-dir", s(&data)];
    assert_ok(&t.snap("tasks_show_mmlu_anatomy", &args));
    let mut json = args.to_vec();
    json.push("--json");
    assert_ok(&t.snap("tasks_show_mmlu_anatomy_json", &json));
}

#[test]
fn tokenizer_export() {
    let Some(t) = Session::with_data() else {
        return;
    };
    let gguf = t.data("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
    let out = t.path("tok");
    assert_ok(&t.snap(
        "tokenizer_export",
        &["tokenizer", "export", s(&gguf), "-o", s(&out)],
    ));
}

#[test]
fn models_and_rate() {
    let t = Session::new();
    t.snap(
        "models_list",
        &["models", "list", "country=CN & open_weights & params>100"],
    );
    t.snap(
        "models_list_json",
        &["models", "list", "--json", "country=CN & params>600"],
    );
    t.snap("models_show", &["models", "show", "DeepSeek-R1"]);
    t.snap(
        "models_show_json",
        &["models", "show", "DeepSeek-R1", "--json"],
    );
    t.snap("models_orgs", &["models", "orgs", "--country", "CN"]);
    t.snap(
        "models_orgs_json",
        &["models", "orgs", "--country", "FR", "--json"],
    );
    let battles = fixtures().join("battles/battles.jsonl");
    assert_ok(&t.snap("rate", &["rate", "--battles", s(&battles)]));
    assert_ok(&t.snap("rate_json", &["rate", "--battles", s(&battles), "--json"]));
    // With 33 battles some bootstrap replicates have a model that wins or loses everything.
    // The first failing replicate is named (replicates run in parallel; the lowest index is reported).
    t.snap(
        "error_rate_bootstrap_not_identifiable",
        &["rate", "--battles", s(&battles), "--bootstrap", "200"],
    );
}

// ---------------------------------------------------------------------------------------------------------
// A small store made here from the lm-eval fixtures

#[test]
fn small_store_import_runs_results_gap() {
    let t = Session::new();
    let db = t.store("y.db");
    let fx = fixtures().join("lm_eval");
    assert_ok(&t.snap("import_lm_eval", &["import", s(&fx), "--store", s(&db)]));
    assert_ok(&t.snap(
        "import_lm_eval_again",
        &["import", s(&fx), "--store", s(&db)],
    ));
    let db2 = t.store("y2.db");
    assert_ok(&t.snap(
        "import_lm_eval_json",
        &["import", s(&fx), "--store", s(&db2), "--json"],
    ));

    assert_ok(&t.snap("runs_empty", &["runs", "--store", s(&db)]));
    assert_ok(&t.snap("runs_empty_json", &["runs", "--store", s(&db), "--json"]));
    assert_ok(&t.snap("results_empty", &["results", "--store", s(&db)]));
    assert_ok(&t.snap(
        "results_empty_json",
        &["results", "--store", s(&db), "--json"],
    ));

    let gap = [
        "gap",
        "--between",
        "country=CN",
        "--and",
        "country=US",
        "--benchmark",
        "mmlu",
        "--replicates",
        "500",
        "--store",
        s(&db),
    ];
    assert_ok(&t.snap("gap_lm_eval_mmlu", &gap));
    let mut json = gap.to_vec();
    json.extend(["--estimand", "roster", "--json"]);
    assert_ok(&t.snap("gap_lm_eval_mmlu_roster_json", &json));
    let svg = t.path("gap.svg");
    let mut plotted = gap.to_vec();
    plotted.extend(["--plot", s(&svg)]);
    assert_ok(&t.snap("gap_lm_eval_mmlu_plot", &plotted));
    assert!(std::fs::read_to_string(&svg)
        .expect("plot written")
        .contains("<svg"));

    t.snap(
        "models_list_observed",
        &["models", "list", "--observed", "--store", s(&db)],
    );
}

// ---------------------------------------------------------------------------------------------------------
// Errors

#[test]
fn errors() {
    let t = Session::new();
    let db = t.store("y.db");
    assert_ok(&t.run(&["import", s(&fixtures().join("lm_eval")), "--store", s(&db)]));
    t.snap(
        "error_unknown_field",
        &[
            "gap",
            "--between",
            "contry=CN",
            "--and",
            "country=US",
            "--store",
            s(&db),
        ],
    );
    t.snap(
        "error_bad_date",
        &[
            "gap",
            "--between",
            "country=CN",
            "--and",
            "country=US",
            "--as-of",
            "2024-02-30",
            "--store",
            s(&db),
        ],
    );
    t.snap(
        "error_unknown_dimension",
        &[
            "gap",
            "--between",
            "country=CN",
            "--and",
            "country=US",
            "--dimension",
            "vibes",
            "--store",
            s(&db),
        ],
    );
    let junk = t.path("junk.txt");
    std::fs::write(&junk, "hello world\n").expect("write");
    t.snap(
        "error_import_junk",
        &["import", s(&junk), "--store", s(&db)],
    );
    t.snap(
        "error_no_store",
        &[
            "trend",
            "--between",
            "country=US",
            "--and",
            "country=CN",
            "--metric",
            "ECI",
            "--store",
            s(&t.path("none.db")),
        ],
    );
    t.snap(
        "error_runs_no_store",
        &["runs", "--store", s(&t.path("none.db"))],
    );
    t.snap(
        "error_models_show_unknown",
        &["models", "show", "no-such-model"],
    );
    t.snap(
        "error_missing_battles",
        &["rate", "--battles", s(&t.path("nope.jsonl"))],
    );
    t.snap(
        "error_tasks_show_unknown",
        &["tasks", "show", "mmlu_anatomi"],
    );
    t.snap("error_no_subcommand", &["gap"]);
    // No --data-dir and an empty Hugging Face cache: the task is shown, its prompt cannot be rendered.
    let o = t.snap(
        "error_tasks_show_no_data",
        &["tasks", "show", "mmlu_anatomy"],
    );
    assert_eq!(o.status.code(), Some(2));
    let o = t.snap(
        "error_tasks_show_no_data_json",
        &["tasks", "show", "mmlu_anatomy", "--json"],
    );
    assert_eq!(o.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------------------
// `run` against the in-process mock completions server, then `runs` and `results` on its store

#[test]
fn run_against_mock_server_then_runs_and_results() {
    let Some(t) = Session::with_data() else {
        return;
    };
    let gguf = t.data("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
    let tok_dir = t.path("tok");
    assert_ok(&t.run(&["tokenizer", "export", s(&gguf), "-o", s(&tok_dir)]));
    let mock = mock_model::mock_for_tokenizer(&tok_dir);
    let url = mock.url();
    let db = t.store("run.db");
    let data = t.data("benchmarks");
    let run = |extra: &[&str]| -> Vec<String> {
        [
            "run",
            "--model",
            &url,
            "--tasks",
            "mmlu_anatomy",
            "--limit",
            "2",
            "--bootstrap-iters",
            "100",
            "--tokenizer",
            s(&tok_dir),
            "--data-dir",
            s(&data),
            "--store",
            s(&db),
        ]
        .iter()
        .map(|x| x.to_string())
        .chain(extra.iter().map(|x| x.to_string()))
        .collect()
    };
    let id = [(r"\b[0-9a-f]{12,64}\b", "[ID]")];
    let args = run(&["--quiet"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ok(&t.snap_with("run_mock", &refs, &id));
    let args = run(&["--json"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ok(&t.snap_with("run_mock_json_resumed", &refs, &id));

    assert_ok(&t.snap_with("runs", &["runs", "--store", s(&db)], &id));
    assert_ok(&t.snap_with("runs_json", &["runs", "--store", s(&db), "--json"], &id));
    assert_ok(&t.snap("results", &["results", "--store", s(&db)]));
    assert_ok(&t.snap("results_json", &["results", "--store", s(&db), "--json"]));
    assert_ok(&t.snap(
        "results_metric",
        &[
            "results",
            "--store",
            s(&db),
            "--metric",
            "acc_norm",
            "--all",
        ],
    ));
}

// ---------------------------------------------------------------------------------------------------------
// Real public data: the Epoch hub, the Open LLM Leaderboard and LMArena exports

#[test]
fn epoch_hub_import_gap_trend() {
    let Some(t) = Session::with_data() else {
        return;
    };
    let db = t.store("epoch.db");
    let hub = t.data("leaderboards/epoch/benchmark_hub_2026-04-19");
    assert_ok(&t.snap("import_epoch_hub", &["import", s(&hub), "--store", s(&db)]));
    // A store holding only imports: `runs` and `results` say so and name the commands that show them.
    assert_ok(&t.snap("runs_imports_only", &["runs", "--store", s(&db)]));
    assert_ok(&t.snap("results_imports_only", &["results", "--store", s(&db)]));
    let trend = [
        "trend",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--metric",
        "ECI",
        "--since",
        "2023-01-01",
        "--store",
        s(&db),
    ];
    assert_ok(&t.snap("trend_epoch_eci", &trend));
    let json = [
        "trend",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--metric",
        "ECI",
        "--since",
        "2025-11-01",
        "--replicates",
        "200",
        "--json",
        "--store",
        s(&db),
    ];
    assert_ok(&t.snap("trend_epoch_eci_json", &json));
    let gap = [
        "gap",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--benchmark",
        "gpqa_diamond",
        "--source",
        "epoch-hub",
        "--replicates",
        "500",
        "--store",
        s(&db),
    ];
    assert_ok(&t.snap("gap_epoch_gpqa", &gap));
    let mut json = gap.to_vec();
    json.push("--json");
    assert_ok(&t.snap("gap_epoch_gpqa_json", &json));
}

#[test]
fn open_llm_leaderboard_import_and_gap() {
    let Some(t) = Session::with_data() else {
        return;
    };
    let db = t.store("oll.db");
    let csv = t.data("leaderboards/open_llm_leaderboard/fboulnois_huggingface_v2_2025-03-21.csv");
    assert_ok(&t.snap("import_oll_v2", &["import", s(&csv), "--store", s(&db)]));
    let gap = [
        "gap",
        "--between",
        "country=CN",
        "--and",
        "country=US",
        "--official-only",
        "--replicates",
        "500",
        "--store",
        s(&db),
    ];
    assert_ok(&t.snap("gap_oll_v2_dimensions", &gap));
    let mut json = gap.to_vec();
    json.extend(["--dimension", "math", "--json"]);
    assert_ok(&t.snap("gap_oll_v2_math_json", &json));
}

#[test]
fn lmarena_import_and_arena_trend() {
    let Some(t) = Session::with_data() else {
        return;
    };
    let db = t.store("arena.db");
    let hist = t.data("leaderboards/lmarena/lmsys_history");
    assert_ok(&t.snap(
        "import_lmarena_history",
        &["import", s(&hist), "--store", s(&db)],
    ));
    let trend = [
        "trend",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--metric",
        "arena-elo",
        "--store",
        s(&db),
    ];
    assert_ok(&t.snap("trend_arena", &trend));
    let mut json = trend.to_vec();
    json.extend(["--since", "2025-03-01", "--json"]);
    assert_ok(&t.snap("trend_arena_json", &json));
}

// ---------------------------------------------------------------------------------------------------------
// Regressions of issue 8 (analysis output)

/// Overlapping groups: the error says that every model matched both queries, not only "group A has no
/// model".
#[test]
fn overlapping_groups_are_named_as_the_cause() {
    let t = Session::new();
    let db = t.store("y.db");
    assert_ok(&t.run(&["import", s(&fixtures().join("lm_eval")), "--store", s(&db)]));
    for (name, and) in [
        ("error_gap_same_group", "country=US"),
        ("error_gap_nested_group", "country=US & open_weights"),
    ] {
        let o = t.snap(
            name,
            &[
                "gap",
                "--between",
                "country=US",
                "--and",
                and,
                "--benchmark",
                "mmlu",
                "--store",
                s(&db),
            ],
        );
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("match both queries"), "{err}");
    }
    let o = t.snap(
        "error_trend_same_group",
        &[
            "trend",
            "--between",
            "country=CN",
            "--and",
            "country=CN",
            "--metric",
            "mmlu",
            "--store",
            s(&db),
        ],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("overlap completely"));
}

/// `rate` advised "set ridge > 0" without such an option: now `--ridge` exists and the advice names it.
#[test]
fn rate_ridge_option_exists_and_is_advised() {
    let t = Session::new();
    let battles = fixtures().join("battles/battles.jsonl");
    let o = t.run(&["rate", "--battles", s(&battles), "--bootstrap", "200"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--ridge"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_ok(&t.snap(
        "rate_bootstrap_ridge_json",
        &[
            "rate",
            "--battles",
            s(&battles),
            "--bootstrap",
            "200",
            "--ridge",
            "0.01",
            "--json",
        ],
    ));
    t.snap(
        "error_rate_negative_ridge",
        &["rate", "--battles", s(&battles), "--ridge=-1"],
    );
}

/// Replicates are bounded at the command line (4e9 used to abort on a 32 GB allocation, 2^64−1 to panic).
#[test]
fn replicates_are_bounded() {
    let t = Session::new();
    let db = t.store("y.db");
    assert_ok(&t.run(&["import", s(&fixtures().join("lm_eval")), "--store", s(&db)]));
    for (name, n) in [
        ("error_gap_replicates_4e9", "4000000000"),
        ("error_gap_replicates_u64_max", "18446744073709551615"),
        ("error_gap_replicates_too_few", "10"),
    ] {
        let o = t.snap(
            name,
            &[
                "gap",
                "--between",
                "country=CN",
                "--and",
                "country=US",
                "--replicates",
                n,
                "--store",
                s(&db),
            ],
        );
        assert_eq!(o.status.code(), Some(2));
    }
    let o = t.snap(
        "error_trend_replicates_too_many",
        &[
            "trend",
            "--between",
            "country=CN",
            "--and",
            "country=US",
            "--metric",
            "mmlu",
            "--replicates",
            "1000001",
            "--store",
            s(&db),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let battles = fixtures().join("battles/battles.jsonl");
    let o = t.snap(
        "error_rate_bootstrap_too_many",
        &[
            "rate",
            "--battles",
            s(&battles),
            "--bootstrap",
            "4000000000",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}

/// `--plot` does not overwrite an existing file unless `--force` is given.
#[test]
fn plot_refuses_to_overwrite_without_force() {
    let t = Session::new();
    let battles = fixtures().join("battles/battles.jsonl");
    let svg = t.path("ratings.svg");
    std::fs::write(&svg, "keep me").expect("write");
    let o = t.snap(
        "error_plot_exists",
        &["rate", "--battles", s(&battles), "--plot", s(&svg)],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&svg).expect("read"), "keep me");
    let o = t.snap(
        "error_plot_bad_extension",
        &["rate", "--battles", s(&battles), "--plot", "ratings.pdf"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_ok(&t.snap(
        "rate_plot_force",
        &[
            "rate",
            "--battles",
            s(&battles),
            "--plot",
            s(&svg),
            "--force",
        ],
    ));
    assert!(std::fs::read_to_string(&svg)
        .expect("read")
        .contains("<svg"));
}

/// The reporting commands open the store read-only: they neither turn a file that is not a store into
/// one nor change a store (here: one in rollback-journal mode, which a writable open switched to WAL).
#[test]
fn reporting_commands_open_the_store_read_only() {
    if yardstick_testkit::testing_postgres() {
        eprintln!("SKIP: SQLite only (a file that is not a store, journal modes)");
        return;
    }
    let t = Session::new();
    let empty = t.path("empty.db");
    std::fs::write(&empty, b"").expect("write");
    let o = t.snap("error_runs_not_a_store", &["runs", "--store", s(&empty)]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::metadata(&empty).expect("stat").len(), 0);

    let db = t.path("y.db");
    assert_ok(&t.run(&["import", s(&fixtures().join("lm_eval")), "--store", s(&db)]));
    {
        let conn = rusqlite::Connection::open(&db).expect("open");
        let mode: String = conn
            .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))
            .expect("journal mode");
        assert_eq!(mode, "delete");
    }
    let before = std::fs::read(&db).expect("read");
    let store = s(&db);
    let group = ["--between", "country=CN", "--and", "country=US"];
    let commands: Vec<Vec<&str>> = vec![
        vec!["runs", "--store", store],
        vec!["results", "--store", store],
        vec!["models", "list", "--observed", "--store", store],
        vec![
            "models",
            "show",
            "Qwen/Qwen2.5-7B-Instruct",
            "--store",
            store,
        ],
        [
            &["gap"],
            &group[..],
            &["--replicates", "200", "--store", store],
        ]
        .concat(),
        [
            &["trend"],
            &group[..],
            &["--metric", "mmlu", "--store", store],
        ]
        .concat(),
    ];
    for args in &commands {
        t.run(args);
        assert!(
            std::fs::read(&db).expect("read") == before,
            "`yardstick {}` changed the store",
            args.join(" ")
        );
    }
    assert!(!t.path("y.db-wal").exists());
}
