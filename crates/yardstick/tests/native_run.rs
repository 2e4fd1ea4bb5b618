//! `yardstick run --model FILE.gguf`: a model evaluated in process by llama.cpp (feature `llama-cpp`, on by
//! default), on the tiny Llama GGUF in the shared data.
#![cfg(feature = "llama-cpp")]

use std::process::Command;
use yardstick_testkit::{require_shared_data, tiny_llama_gguf};

fn yardstick() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
}

#[test]
fn a_gguf_file_is_evaluated_in_process_and_a_rerun_reuses_the_store() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = || {
        yardstick()
            .args(["run", "--model"])
            .arg(tiny_llama_gguf())
            .args(["--tasks", "mmlu_anatomy", "--limit", "3", "--threads", "2"])
            .arg("--data-dir")
            .arg(shared.join("benchmarks"))
            .arg("--store")
            .arg(yardstick_testkit::test_store(tmp.path(), "s.db"))
            .output()
            .unwrap()
    };
    let first = run();
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{err}");
    assert!(err.contains("in process (llama.cpp)"), "{err}");
    assert!(
        err.contains("llama.cpp's own tokenizer"),
        "the tokenizer was checked: {err}"
    );
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(out.contains("anatomy") && out.contains("acc"), "{out}");
    let second = run();
    let err2 = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{err2}");
    assert!(err2.contains(" 0 sent"), "nothing is scored twice: {err2}");
}

#[test]
fn a_file_that_is_not_gguf_is_refused_before_any_work() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("model.gguf");
    std::fs::write(&page, "<html>Too Many Requests</html>").unwrap();
    let o = yardstick()
        .args(["run", "--model"])
        .arg(&page)
        .args(["--tasks", "mmlu_anatomy", "--limit", "1", "--store"])
        .arg(yardstick_testkit::test_store(tmp.path(), "s.db"))
        .arg("--data-dir")
        .arg(shared.join("benchmarks"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("is not a GGUF file"), "{err}");
}
