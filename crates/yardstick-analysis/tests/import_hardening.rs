//! Issue 8 ("Hardening"): imports of hostile or unusual files, and of the whole shipped leaderboard
//! directory. Each test failed before its fix.

use std::path::{Path, PathBuf};
use yardstick_analysis::import::{import_paths, ImportReport};
use yardstick_analysis::Registry;
use yardstick_store::observations::load_scores;
use yardstick_store::Store;

const EPOCH_HEADER: &str = "Model version,mean_score,Best score (across scorers),Release date,Organization,Country,Training compute (FLOP),Training compute notes,stderr,Log viewer,Logs,Started at,id\n";

fn import(dir: &Path, paths: &[PathBuf]) -> Result<ImportReport, String> {
    let store = Store::open_location(&yardstick_testkit::test_store(dir, "y.db")).unwrap();
    let reg = Registry::builtin().unwrap();
    import_paths(&store, &reg, paths).map_err(|e| e.to_string())
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, content).unwrap();
    p
}

/// The shared data: `YARDSTICK_SHARED_DATA`, else `../shared/data` beside the checkout. Absent: SKIP (a
/// printed reason), or a failure under CI.
fn shared_data() -> Option<PathBuf> {
    let p = match std::env::var_os("YARDSTICK_SHARED_DATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if p.join("leaderboards").is_dir() {
        return Some(p);
    }
    let why = format!(
        "shared data not found at {} (set YARDSTICK_SHARED_DATA)",
        p.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{why}");
    }
    println!("SKIP: {why}");
    None
}

/// Item 5: importing the shipped `leaderboards/` directory aborted on a benchmark-stitching CSV taken for
/// a Hub file (after committing 50 files without reporting them). Every file is now either imported or
/// skipped with its reason.
#[test]
fn the_shipped_leaderboard_directory_imports_with_skips_reported() {
    let Some(data) = shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = data.join("leaderboards");
    let report = import(dir.path(), std::slice::from_ref(&root))
        .unwrap_or_else(|e| panic!("import of {} failed: {e}", root.display()));
    let n_files = walk_count(&root);
    assert_eq!(
        report.files.len() + report.skipped.len(),
        n_files,
        "every file is accounted for"
    );
    // the stitching CSVs that resemble Hub files are skipped, with the columns they lack
    let agent = report
        .skipped
        .iter()
        .find(|s| {
            s.path
                .ends_with("benchmark_stitching_2025-12/external_benchmark_the_agent_company.csv")
        })
        .unwrap_or_else(|| panic!("the agent company CSV is skipped: {:#?}", report.skipped));
    assert!(agent.reason.contains("Release date"), "{}", agent.reason);
    // all the Hub files are imported
    let hub = report
        .files
        .iter()
        .filter(|f| f.path.contains("benchmark_hub_2026-04-19/") && f.imported)
        .count();
    assert!(hub >= 49, "{hub} Hub files imported");
    for s in &report.skipped {
        assert!(!s.reason.trim().is_empty(), "{s:?}");
    }
    println!(
        "{} files imported, {} skipped",
        report.files.len(),
        report.skipped.len()
    );
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk_count(&e.path())
            } else if t.is_file() {
                1
            } else {
                0
            }
        })
        .sum()
}

/// Item 5: a bad file inside a directory is skipped with its reason; the others are committed and listed.
#[test]
fn a_bad_file_in_a_directory_is_skipped_and_the_rest_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("in");
    write(
        &d,
        "a_gpqa_diamond.csv",
        format!(
            "{EPOCH_HEADER}gpt-x,0.5,0.5,2024-05-13,OpenAI,United States of America,,,0.01,,,,a\n"
        )
        .as_bytes(),
    );
    // a Hub file whose date is malformed: read as a Hub file, refused at line 2
    write(
        &d,
        "b_math_level_5.csv",
        format!(
            "{EPOCH_HEADER}gpt-y,0.5,0.5,2024-13-45,OpenAI,United States of America,,,0.01,,,,b\n"
        )
        .as_bytes(),
    );
    write(
        &d,
        "c_mmlu.csv",
        format!(
            "{EPOCH_HEADER}gpt-z,0.6,0.6,2024-05-13,OpenAI,United States of America,,,0.01,,,,c\n"
        )
        .as_bytes(),
    );
    let r = import(dir.path(), std::slice::from_ref(&d)).expect("directory import");
    assert_eq!(r.files.len(), 2, "{r:#?}");
    assert_eq!(r.skipped.len(), 1, "{r:#?}");
    assert!(
        r.skipped[0].path.ends_with("b_math_level_5.csv")
            && r.skipped[0].reason.contains(":2: column 'Release date'"),
        "{:?}",
        r.skipped[0]
    );
}

/// Item 6: `"0,85"` imported as 85.0 (the comma was taken for a thousands separator).
#[test]
fn a_decimal_comma_is_refused_naming_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "gpqa_diamond.csv",
        format!("{EPOCH_HEADER}gpt-x,\"0,85\",0.5,2024-05-13,OpenAI,United States of America,,,0.01,,,,a\n")
            .as_bytes(),
    );
    let e = import(dir.path(), &[p]).expect_err("refused");
    assert!(
        e.contains("gpqa_diamond.csv:2: column 'mean_score'") && e.contains("'0,85'"),
        "{e}"
    );
    assert!(e.contains("decimal comma"), "{e}");
    // thousands separators in the usual places still read
    let p = write(
        dir.path(),
        "lmsys_2024-07-01.csv",
        b"rank,model,arena_score,95_pct_ci,votes,organization,license\n1,m,\"1,200\",+5/-5,\"12,345\",OpenAI,Proprietary\n",
    );
    let r = import(dir.path(), &[p]).expect("thousands separators");
    assert_eq!(r.files[0].scores_added, 1);
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let s = load_scores(&store, None).unwrap();
    assert!(s.iter().any(|s| s.score == 1200.0), "{s:?}");
}

/// Item 7: lm-eval writes Python's bare `NaN`/`Infinity`; such a results file was "not a recognised
/// results file". NaN is a missing value, and the report says so.
#[test]
fn lm_eval_results_with_nan_are_imported() {
    let dir = tempfile::tempdir().unwrap();
    let body = br#"{
  "results": {
    "arc_challenge": {"alias": "arc_challenge", "acc,none": 0.5, "acc_stderr,none": NaN, "acc_norm,none": 0.55, "acc_norm_stderr,none": 0.01},
    "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": NaN, "exact_match_stderr,strict-match": Infinity},
    "hellaswag": {"alias": "hellaswag", "acc,none": 0.6, "acc_stderr,none": -Infinity}
  },
  "versions": {"arc_challenge": 1.0, "gsm8k": 3, "hellaswag": 1.0},
  "model_name": "Qwen/Qwen2.5-0.5B",
  "note": "NaN inside a string stays"
}"#;
    let p = write(
        dir.path(),
        "Qwen__Qwen2.5-0.5B/results_2024-01-01T00-00-00.json",
        body,
    );
    let r = import(dir.path(), &[p]).expect("imported");
    let f = &r.files[0];
    assert!(f.imported);
    assert_eq!(f.scores_added, 2, "{f:#?}");
    assert_eq!(f.rows_without_score, 1, "gsm8k has no value: {f:#?}");
    assert!(
        f.notes.iter().any(|n| n.contains("NaN")) && f.notes.len() == 4,
        "{:?}",
        f.notes
    );
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    let s = load_scores(&store, None).unwrap();
    assert!(
        s.iter().all(|s| s.stderr.is_none_or(f64::is_finite)),
        "{s:?}"
    );
}

/// Item 8: a non-UTF-8 header was reported as "first line ''".
#[test]
fn a_non_utf8_file_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = b"Model version,mean_score,Release date,Organi".to_vec();
    body.push(0xe9); // Latin-1 é
    body.extend_from_slice(b"zation,Country\nx,0.5,2024-01-01,o,c\n");
    let p = write(dir.path(), "latin1.csv", &body);
    let e = import(dir.path(), &[p]).expect_err("refused");
    assert!(
        e.contains("latin1.csv") && e.contains("not UTF-8 at byte 44"),
        "{e}"
    );
    assert!(!e.contains("first line ''"), "{e}");
}

/// Item 9: out-of-range scores, stderrs and dates are refused (the file, naming the cell), so no gap
/// report can show ±1e299.
#[test]
fn out_of_range_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 5] = [
        ("-0.3,0.5,2024-05-13", "0.01", "mean_score"),
        ("1e300,0.5,2024-05-13", "0.01", "mean_score"),
        ("0.5,0.5,2024-05-13", "-0.01", "stderr"),
        ("0.5,0.5,2024-05-13", "1e300", "stderr"),
        ("0.5,0.5,0001-01-01", "0.01", "Release date"),
    ];
    for (i, (score_date, stderr, column)) in cases.iter().enumerate() {
        let name = format!("case{i}_gpqa_diamond.csv");
        let p = write(
            dir.path(),
            &name,
            format!("{EPOCH_HEADER}gpt-x,{score_date},OpenAI,United States of America,,,{stderr},,,,a{i}\n")
                .as_bytes(),
        );
        let e = import(dir.path(), &[p]).expect_err(&name);
        assert!(
            e.contains(&format!("{name}:2: column '{column}'")),
            "{name}: {e}"
        );
    }
    let store = Store::open_location(&yardstick_testkit::test_store(dir.path(), "y.db")).unwrap();
    assert!(load_scores(&store, None).unwrap().is_empty());
    // an lm-eval score of 1e300 as well
    let body = br#"{"results": {"arc_challenge": {"acc,none": 1e300}}, "versions": {"arc_challenge": 1}, "model_name": "m"}"#;
    let p = write(dir.path(), "m/results_2024-01-01T00-00-00.json", body);
    let e = import(dir.path(), &[p]).expect_err("refused");
    assert!(e.contains("1e300") || e.contains("out of range"), "{e}");
}

/// Item 7: symbolic links in an imported directory are followed to files (and directories); dangling
/// links, loops of links and links back to a directory already read are listed as skipped with the reason.
#[cfg(unix)]
#[test]
fn symlinks_in_a_directory_are_followed_or_skipped_with_the_reason() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("in");
    let outside = dir.path().join("elsewhere");
    let target = write(
        &outside,
        "a_gpqa_diamond.csv",
        format!(
            "{EPOCH_HEADER}gpt-x,0.5,0.5,2024-05-13,OpenAI,United States of America,,,0.01,,,,a\n"
        )
        .as_bytes(),
    );
    std::fs::create_dir_all(&d).unwrap();
    symlink(&target, d.join("linked_gpqa_diamond.csv")).unwrap();
    symlink(dir.path().join("nowhere.csv"), d.join("dangling.csv")).unwrap();
    symlink(d.join("loop_b"), d.join("loop_a")).unwrap();
    symlink(d.join("loop_a"), d.join("loop_b")).unwrap();
    symlink(&d, d.join("back_to_top")).unwrap();
    let r = import(dir.path(), std::slice::from_ref(&d)).expect("directory import");
    assert_eq!(r.files.len(), 1, "{r:#?}");
    assert!(
        r.files[0].path.ends_with("linked_gpqa_diamond.csv"),
        "{r:#?}"
    );
    let reason = |name: &str| {
        r.skipped
            .iter()
            .find(|s| s.path.ends_with(name))
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{name} not listed as skipped: {r:#?}"))
    };
    assert!(reason("dangling.csv").contains("dangling"), "{r:#?}");
    assert!(reason("loop_a").contains("loop of links"), "{r:#?}");
    assert!(reason("loop_b").contains("loop of links"), "{r:#?}");
    assert!(reason("back_to_top").contains("already read"), "{r:#?}");
    assert_eq!(r.skipped.len(), 4, "{r:#?}");
}

/// Item 4: a skipped file's reason quotes the file's text safe to print: no terminal escapes, no secrets.
#[test]
fn skip_reasons_quoting_a_file_are_safe_to_print() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("in");
    write(
        &d,
        "b_math_level_5.csv",
        format!(
            "{EPOCH_HEADER}gpt-y,0.5,0.5,\x1b]0;PWNED\x07\x1b[2J sk-abcdefghijklmnopqrstu,OpenAI,United States of America,,,0.01,,,,b\n"
        )
        .as_bytes(),
    );
    let r = import(dir.path(), std::slice::from_ref(&d)).expect("directory import");
    assert_eq!(r.skipped.len(), 1, "{r:#?}");
    let reason = &r.skipped[0].reason;
    assert!(
        !reason.contains('\x1b') && !reason.contains('\x07'),
        "{reason:?}"
    );
    assert!(!reason.contains("sk-abcdefghijklmnopqrstu"), "{reason}");
    assert!(reason.contains("\\u{1b}]0;PWNED"), "{reason}");
}
