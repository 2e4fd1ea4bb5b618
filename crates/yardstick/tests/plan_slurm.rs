//! The Slurm files `yardstick plan --emit slurm` writes, run for real on a one-host Slurm cluster (slurm-wlm,
//! a private munged): the shard array, the requeue array (one shard is made to fail on its first attempt, so
//! the `afternotok` chain must run it again) and the finalise step (merge the shards' SQLite files, score).
//! The results and samples must equal a plain `run`'s, byte for byte.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use yardstick_testkit::ref_server::start_tiny_server;
use yardstick_testkit::slurm::{self, SlurmCluster};
use yardstick_testkit::{files_under, require_shared_data, skip_or_fail};

const TASKS: &str = "mmlu_anatomy,mmlu_astronomy";

/// `samples_TASK_*.jsonl` under `dir`, by task, contents.
fn samples(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir, "samples_")
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let task = name
                .trim_start_matches("samples_")
                .rsplit_once('_')
                .map(|(t, _)| t.to_string())
                .unwrap_or(name);
            (task, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The results file's scores (what must not depend on how the run was cut).
fn results(dir: &Path) -> serde_json::Value {
    let p = files_under(dir, "results_")
        .pop()
        .unwrap_or_else(|| panic!("no results file under {}", dir.display()));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    serde_json::json!({"results": doc["results"], "n-samples": doc["n-samples"], "configs": doc["configs"]})
}

#[test]
fn the_emitted_slurm_array_requeue_and_finalise_reproduce_a_plain_run() {
    let Some(data) = require_shared_data() else {
        return;
    };
    if let Some(why) = slurm::unavailable() {
        skip_or_fail(&format!("no Slurm here: {why}"));
        return;
    }
    let Some(server) = start_tiny_server() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bench = data.join("benchmarks");
    let model_args = |c: &mut Command| {
        c.args([
            "--model",
            &server.url(),
            "--tokenizer",
            "server",
            "--tasks",
            TASKS,
        ])
        .args(["--limit", "8", "--bootstrap-iters", "100", "--data-dir"])
        .arg(&bench);
    };
    let bin = env!("CARGO_BIN_EXE_yardstick");
    let mut plain = Command::new(bin);
    plain.arg("run");
    model_args(&mut plain);
    let out = plain
        .arg("--store")
        .arg(d.join("plain.db"))
        .arg("--output")
        .arg(d.join("plain"))
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut plan = Command::new(bin);
    plan.arg("plan");
    model_args(&mut plan);
    let out = plan
        .args(["--shards", "3", "--emit", "slurm", "--out"])
        .arg(d.join("plan.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let submit = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .find(|l| l.ends_with("-submit.sh"))
        .unwrap_or_else(|| panic!("no submit script: {stdout}"))
        .to_string();
    let work = PathBuf::from(submit.trim_end_matches("-submit.sh"));

    // Shard 1 fails on its first attempt: the requeue array must compute it.
    let wrapper = d.join("flaky-yardstick");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/bash\nif [ \"${{SLURM_ARRAY_TASK_ID:-}}\" = 1 ] && [ ! -e {m} ]; then touch {m}; exit 3; fi\n\
             exec {bin} \"$@\"\n",
            m = d.join("failed-once").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let cluster = match SlurmCluster::start() {
        Ok(c) => c,
        Err(e) => panic!("Slurm did not start: {e}"),
    };
    let out = cluster
        .command("bash")
        .arg(&submit)
        .env("YARDSTICK", &wrapper)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "submit failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let final_id = std::fs::read_to_string(work.join("finalize.jobid"))
        .unwrap()
        .trim()
        .to_string();
    let logs = || {
        files_under(&work.join("logs"), "")
            .iter()
            .map(|p| {
                format!(
                    "== {}\n{}",
                    p.display(),
                    std::fs::read_to_string(p).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    if let Err(e) = cluster.wait_gone(&final_id, Duration::from_secs(600)) {
        panic!(
            "{e}\n{}\nslurmctld:\n{}",
            logs(),
            cluster.log("slurmctld.log")
        );
    }
    assert!(
        d.join("failed-once").exists(),
        "shard 1's first attempt never ran"
    );
    let got = work.join("results");
    assert!(
        !files_under(&got, "results_").is_empty(),
        "the finalise step wrote no results:\n{}",
        logs()
    );
    assert_eq!(results(&got), results(&d.join("plain")));
    let (a, b) = (samples(&got), samples(&d.join("plain")));
    assert_eq!(a.len(), 2);
    assert!(a == b, "samples differ from the plain run's");
    // every shard has its own store, and the requeue attempt recorded shard 1 as done
    let shard_dbs = files_under(&work.join("shards"), "shard-");
    assert_eq!(
        shard_dbs
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "db"))
            .count(),
        3
    );
}
