//! What a user reads during and after `yardstick run` (the real binary, the real reference server on the
//! tiny GGUF, stderr piped so progress comes as plain lines): progress names the tasks done out of all and
//! the one being sent, counts HTTP calls beside requests and gives an ETA; the reuse line comes before the
//! summary; one table, groups with their subtasks, ending with a one-line headline under a short model
//! name; and when multiple-choice questions go one request per choice, the reason is said.

use std::path::Path;
use std::process::Command;
use yardstick_testkit::ref_server::start_tiny_server;
use yardstick_testkit::require_shared_data;

struct Ran {
    stdout: String,
    stderr: String,
}

fn run(url: &str, data: &Path, store: &str, tasks: &str, extra: &[&str]) -> Ran {
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["run", "--model", url, "--tasks", tasks, "--limit", "1"])
        .args(["--bootstrap-iters", "100", "--data-dir"])
        .arg(data)
        .arg("--store")
        .arg(store)
        .args(extra)
        .output()
        .expect("run yardstick");
    let ran = Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "yardstick run failed:\n{}\n{}",
        ran.stderr,
        ran.stdout
    );
    ran
}

fn line_index(text: &str, pred: impl Fn(&str) -> bool) -> Option<usize> {
    text.lines().position(pred)
}

#[test]
fn run_output_says_what_it_does() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(server) = start_tiny_server() else {
        return;
    };
    let gguf = server.model.clone();
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = shared.join("benchmarks");
    let store = yardstick_testkit::test_store(tmp.path(), "s.db");
    let tasks = "mmlu_humanities,arc_easy,gsm8k";
    let first = run(&server.url(), &data, &store, tasks, &[]);
    let err = &first.stderr;

    // Progress lines: tasks done of all (13 humanities subtasks + arc_easy + gsm8k), the task being sent,
    // HTTP calls beside requests, an ETA.
    let progress: Vec<&str> = err.lines().filter(|l| l.contains(" tasks")).collect();
    assert!(!progress.is_empty(), "no progress line:\n{err}");
    assert!(
        progress.iter().all(|l| l.contains("/15 tasks")
            && l.contains(" HTTP calls")
            && l.contains("ETA")
            && l.contains(" requests")),
        "progress lines:\n{err}"
    );
    assert!(progress.iter().any(|l| l.contains("(now ")), "{err}");
    let last = progress.last().expect("a progress line");
    assert!(
        last.contains("ETA 0s"),
        "the last line has nothing left: {last}"
    );
    // The reuse line comes before the closing summary.
    let reuse = line_index(err, |l| {
        l.contains("0 reused from the store, ") && l.ends_with("to send")
    });
    let summary = line_index(err, |l| l.starts_with("run ") && l.contains("requests, "));
    assert!(
        matches!((reuse, summary), (Some(r), Some(s)) if r < s),
        "reuse line before the summary:\n{err}"
    );
    assert!(
        err.contains("server: "),
        "HTTP calls in the summary:\n{err}"
    );
    // A model file is named by its file name.
    let short = gguf
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("file stem")
        .to_string();
    assert!(err.contains(&format!("(model {short})")), "{err}");

    // One table; the group is followed by its subtasks; the last line is the headline.
    let out = &first.stdout;
    assert_eq!(
        out.lines().filter(|l| l.contains("Version")).count(),
        1,
        "exactly one table:\n{out}"
    );
    let group = line_index(out, |l| l.starts_with("|humanities")).expect("group row");
    let next = out.lines().nth(group + 1).unwrap_or_default();
    assert!(
        next.starts_with("| - "),
        "subtasks follow their group:\n{out}"
    );
    let headline = out
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        headline.starts_with(&format!("{short}: "))
            && headline.contains("humanities acc ")
            && headline.contains("(0-shot)")
            && headline.contains("gsm8k exact_match (flexible-extract) ")
            && headline.contains("(5-shot)")
            && headline.ends_with("; --limit 1 per task"),
        "headline: {headline}\n{out}"
    );

    // A rerun reuses everything and says so before anything else happens.
    let again = run(&server.url(), &data, &store, tasks, &[]);
    let reuse = again
        .stderr
        .lines()
        .find(|l| l.ends_with(" reused from the store, 0 to send"));
    assert!(reuse.is_some(), "rerun reuse line:\n{}", again.stderr);

    // One request per choice: the reason and what changes it.
    let ungrouped = run(
        &server.url(),
        &data,
        &yardstick_testkit::test_store(tmp.path(), "u.db"),
        "mmlu_anatomy",
        &["--no-grouping"],
    );
    assert!(
        ungrouped
            .stderr
            .contains("one request per choice: --no-grouping was given"),
        "{}",
        ungrouped.stderr
    );
}
