//! `yardstick plan --emit k8s|slurm`: the job files a scheduler runs. The Kubernetes YAML is read into the Job
//! schema's own Rust types (k8s-openapi) and must survive the round trip unchanged — a misspelt, misplaced or
//! unknown field is lost on the way and fails the test; the Slurm scripts must parse as bash. (The Slurm
//! array itself runs for real in `plan_slurm.rs`.) The plan is made in process on the tiny GGUF: no server.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use yardstick_testkit::{require_shared_data, skip_or_fail, tiny_llama_gguf};

fn plan(dir: &Path, data: &Path, emit: &str, store: &str) -> Vec<PathBuf> {
    let model = tiny_llama_gguf();
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .arg("plan")
        .arg("--model")
        .arg(&model)
        .args(["--tasks", "mmlu_anatomy", "--limit", "6", "--shards", "3"])
        .args([
            "--emit",
            emit,
            "--image",
            "ghcr.io/example/yardstick:1",
            "--store",
            store,
        ])
        .arg("--data-dir")
        .arg(data)
        .arg("--out")
        .arg(dir.join("plan.json"))
        .output()
        .expect("run yardstick plan");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "plan failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .map(PathBuf::from)
        .filter(|p| p.file_name().is_some_and(|n| n != "plan.json"))
        .collect()
}

/// The YAML of `path` as written, and what the Job type kept of it.
fn job(path: &Path) -> (Value, Value) {
    let text = std::fs::read_to_string(path).expect("read yaml");
    let written: Value = serde_yaml::from_str(&text).expect("the YAML parses");
    let job: k8s_openapi::api::batch::v1::Job =
        serde_yaml::from_str(&text).expect("the YAML is a batch/v1 Job");
    let kept = serde_json::to_value(&job).expect("serialise the Job");
    (written, kept)
}

#[test]
fn the_kubernetes_yaml_is_a_valid_indexed_job_and_a_finalise_job() {
    let Some(data) = require_shared_data() else {
        return;
    };
    if !tiny_llama_gguf().is_file() {
        skip_or_fail("the tiny GGUF is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = plan(dir.path(), &data.join("benchmarks"), "k8s", "yardstick.db");
    let yaml: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert_eq!(yaml.len(), 2, "{files:?}");
    for path in &yaml {
        let (written, kept) = job(path);
        assert_eq!(
            written,
            kept,
            "{}: a field the Job schema does not know (or in the wrong place)",
            path.display()
        );
    }
    let shards = yaml
        .iter()
        .find(|p| p.to_string_lossy().ends_with("-shards.yaml"))
        .expect("the shards Job");
    let (doc, _) = job(shards);
    let spec = &doc["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 3);
    assert_eq!(spec["backoffLimitPerIndex"], 3);
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
    let args = spec["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    assert!(args.contains("--shard \"$JOB_COMPLETION_INDEX\""), "{args}");
    assert!(args.contains("shard-${JOB_COMPLETION_INDEX}.db"), "{args}");
    let finalize = yaml
        .iter()
        .find(|p| p.to_string_lossy().ends_with("-finalize.yaml"))
        .expect("the finalise Job");
    let (doc, _) = job(finalize);
    let args = doc["spec"]["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    assert!(
        args.contains("store merge") && args.contains("yardstick finalize --plan"),
        "{args}"
    );
    let submit = files
        .iter()
        .find(|p| p.to_string_lossy().ends_with("-submit.sh"))
        .expect("submit script");
    let ok = Command::new("bash").arg("-n").arg(submit).status().unwrap();
    assert!(ok.success());
}

#[test]
fn the_slurm_scripts_parse_and_chain_requeue_and_finalise() {
    let Some(data) = require_shared_data() else {
        return;
    };
    if !tiny_llama_gguf().is_file() {
        skip_or_fail("the tiny GGUF is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = plan(
        dir.path(),
        &data.join("benchmarks"),
        "slurm",
        "postgres://user:secret@db.example:5432/ys",
    );
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        let ok = Command::new("bash").arg("-n").arg(f).status().unwrap();
        assert!(ok.success(), "{} does not parse", f.display());
    }
    let text = |suffix: &str| {
        let f = files
            .iter()
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap();
        std::fs::read_to_string(f).unwrap()
    };
    let array = text(".sbatch");
    assert!(array.contains("#SBATCH --array=0-2"), "{array}");
    // a shared PostgreSQL store: every shard writes to it, nothing to merge
    assert!(
        array.contains("--store postgres://user:secret@db.example:5432/ys"),
        "{array}"
    );
    assert!(!text("-finalize.sbatch").contains("store merge"));
    let submit = text("-submit.sh");
    assert!(
        submit.contains("--dependency=afternotok:$shards"),
        "{submit}"
    );
    assert!(
        submit.contains("afterok:$shards?afterok:$retry"),
        "{submit}"
    );
}
