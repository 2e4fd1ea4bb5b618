//! Code benchmarks through the real binary when no sandbox can run: the run stops after preparing its tasks and
//! before contacting the model (the model URL here is a closed port, which would otherwise be the error), says
//! why (no bubblewrap) and what to do (install it, or `--unsafe-local-exec`).

use std::process::Command;

#[test]
fn a_code_task_without_a_sandbox_stops_before_the_model() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/humaneval") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args([
            "run",
            "--model",
            "http://127.0.0.1:9/v1",
            "--tasks",
            "humaneval",
            "--limit",
            "2",
        ])
        .arg("--data-dir")
        .arg(data.join("benchmarks"))
        .arg("--store")
        .arg(yardstick_testkit::test_store(dir.path(), "s.db"))
        // no bubblewrap on this PATH, and none named by YARDSTICK_BWRAP
        .env("PATH", dir.path())
        .env_remove("YARDSTICK_BWRAP")
        .output()
        .expect("run yardstick");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("prepared 1 task(s)"), "{err}");
    assert!(err.contains("bubblewrap"), "{err}");
    assert!(err.contains("apt-get install bubblewrap"), "{err}");
    assert!(err.contains("--unsafe-local-exec"), "{err}");
    assert!(!err.contains("cannot reach the model server"), "{err}");
}
