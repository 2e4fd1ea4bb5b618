//! `yardstick plan --emit slurm|k8s`: the scheduler's job files for a plan. Yardstick has no scheduler of its
//! own: Slurm runs the shards as a job array, Kubernetes as an Indexed Job; the scheduler retries a failed
//! shard by running it again (harmless: every write is keyed by request key), workers themselves retry only
//! HTTP, and one finalise step scores the run from the ledger once every shard is in.
//!
//! Stores: a `postgres://` store given to `plan` is shared by every worker; otherwise each shard writes its
//! own SQLite file (local to the job's working directory — SQLite's WAL must not be shared over NFS) and the
//! finalise step merges them.

use super::run::RunArgs;
use anyhow::Context;
use std::path::{Path, PathBuf};
use yardstick_engine::run::RunPlan;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    Slurm,
    K8s,
}

/// Quote for a POSIX shell.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn is_url(store: &str) -> bool {
    yardstick_store::is_postgres_url(store)
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
}

/// Write the job files for `plan` (saved at `plan_path`) beside it; returns what was written.
pub fn write(
    kind: Emit,
    plan: &RunPlan,
    plan_path: &Path,
    run: &RunArgs,
    image: &str,
) -> anyhow::Result<Vec<PathBuf>> {
    let plan_path = absolute(plan_path)?;
    let dir = plan_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let stem = format!("yardstick-{}", plan.short_id());
    let files = match kind {
        Emit::Slurm => slurm(plan, &plan_path, &dir, &stem, run)?,
        Emit::K8s => k8s(plan, &plan_path, &stem, run, image),
    };
    let mut written = Vec::new();
    for (name, text, exec) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        if exec {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
        }
        written.push(path);
    }
    Ok(written)
}

type File = (String, String, bool);

fn slurm(
    plan: &RunPlan,
    plan_path: &Path,
    dir: &Path,
    stem: &str,
    run: &RunArgs,
) -> anyhow::Result<Vec<File>> {
    let exe = std::env::current_exe().context("locating the yardstick binary")?;
    let exe = sh(&exe.to_string_lossy());
    let plan_q = sh(&plan_path.to_string_lossy());
    let work = sh(&dir.join(stem).to_string_lossy());
    let shared = is_url(&run.store);
    let (shard_store, final_store, merge) = if shared {
        let url = sh(&run.store);
        (url.clone(), url, String::new())
    } else {
        (
            "\"$WORK/shards/shard-${SLURM_ARRAY_TASK_ID}.db\"".to_string(),
            "\"$WORK/run.db\"".to_string(),
            format!(
                "\"$YARDSTICK\" store merge \"$WORK\"/shards/shard-*.db --into \"$WORK/run.db\" --plan {plan_q}\n"
            ),
        )
    };
    let last = plan.n_shards - 1;
    let header = |name: &str, extra: &str| {
        format!(
            "#!/bin/bash\n# {name} of Yardstick plan {} (run {}), written by `yardstick plan --emit slurm`.\n\
             #SBATCH --job-name={stem}{extra}\n#SBATCH --cpus-per-task=1\n",
            plan.plan_id, plan.run_id
        )
    };
    let env = format!(
        "set -euo pipefail\nYARDSTICK=\"${{YARDSTICK:-{exe}}}\"\nWORK={work}\nmkdir -p \"$WORK/shards\" \"$WORK/logs\"\n"
    );
    let array = format!(
        "{}#SBATCH --array=0-{last}\n#SBATCH --output={}/logs/shard-%a-%j.log\n{env}\
         # One shard per array task; a shard run again (the requeue step) sends only what is not stored yet.\n\
         exec \"$YARDSTICK\" run --plan {plan_q} --shard \"$SLURM_ARRAY_TASK_ID\" --store {shard_store} --quiet\n",
        header("Shards", ""),
        dir.join(stem).display()
    );
    let finalize = format!(
        "{}#SBATCH --output={}/logs/finalize-%j.log\n{env}{merge}\
         exec \"$YARDSTICK\" finalize --plan {plan_q} --store {final_store} --output \"$WORK/results\"\n",
        header("Finalise step", "-finalize"),
        dir.join(stem).display()
    );
    let submit = format!(
        "#!/bin/bash\n# Submit Yardstick plan {} to Slurm: the shard array; the same array again if any shard \
         failed (afternotok: shards already stored send nothing); the finalise step once either succeeded.\n\
         set -euo pipefail\ncd \"$(dirname \"$0\")\"\nmkdir -p {work}/logs\n\
         shards=$(sbatch --parsable {stem}.sbatch)\n\
         retry=$(sbatch --parsable --dependency=afternotok:$shards --kill-on-invalid-dep=yes {stem}.sbatch)\n\
         final=$(sbatch --parsable --dependency=\"afterok:$shards?afterok:$retry\" {stem}-finalize.sbatch)\n\
         echo \"shards: job $shards; requeue: job $retry (runs only if a shard failed); finalise: job $final\"\n\
         echo \"$final\" > {work}/finalize.jobid\n",
        plan.plan_id
    );
    Ok(vec![
        (format!("{stem}.sbatch"), array, true),
        (format!("{stem}-finalize.sbatch"), finalize, true),
        (format!("{stem}-submit.sh"), submit, true),
    ])
}

/// YAML double-quoted string.
fn yq(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn k8s(plan: &RunPlan, plan_path: &Path, stem: &str, run: &RunArgs, image: &str) -> Vec<File> {
    let name = stem.to_lowercase();
    let plan_file = plan_path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan.json".into());
    let plan_in = format!("/work/{plan_file}");
    let shared = is_url(&run.store);
    let (shard_store, final_store) = if shared {
        let url = run.store.clone();
        (url.clone(), url)
    } else {
        (
            "/work/shards/shard-${JOB_COMPLETION_INDEX}.db".to_string(),
            "/work/run.db".to_string(),
        )
    };
    let script = |cmd: String| {
        format!(
            "          command: [\"/bin/sh\", \"-c\"]\n          args:\n            - {}\n",
            yq(&cmd)
        )
    };
    let volume = "          volumeMounts:\n            - name: work\n              mountPath: /work\n      volumes:\n        \
                  - name: work\n          persistentVolumeClaim:\n            claimName: yardstick-work\n";
    let labels = |ind: &str| {
        format!(
            "{ind}labels:\n{ind}  app.kubernetes.io/name: yardstick\n{ind}  yardstick/plan: {}\n",
            yq(plan.short_id())
        )
    };
    let shards = format!(
        "# Shards of Yardstick plan {} (run {}), written by `yardstick plan --emit k8s`.\n\
         # Copy the plan to the volume claim `yardstick-work` as {plan_in} first.\n\
         apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n{top}spec:\n  completionMode: Indexed\n  \
         completions: {n}\n  parallelism: {par}\n  backoffLimitPerIndex: 3\n  maxFailedIndexes: {n}\n  template:\n    \
         metadata:\n{pod}    spec:\n      restartPolicy: Never\n      containers:\n        - name: shard\n          \
         image: {image}\n{cmd}{volume}",
        plan.plan_id,
        plan.run_id,
        n = plan.n_shards,
        par = plan.n_shards.min(8),
        top = labels("  "),
        pod = labels("      "),
        image = yq(image),
        cmd = script(format!(
            "mkdir -p /work/shards && exec yardstick run --plan {plan_in} --shard \"$JOB_COMPLETION_INDEX\" \
             --store \"{shard_store}\" --quiet"
        )),
    );
    let merge = if shared {
        String::new()
    } else {
        format!("yardstick store merge /work/shards/shard-*.db --into {final_store} --plan {plan_in} && ")
    };
    let finalize = format!(
        "# Finalise step of Yardstick plan {}: apply once the shard Job is complete (see {stem}-submit.sh).\n\
         apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}-finalize\n{top}spec:\n  backoffLimit: 2\n  \
         template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: finalize\n          \
         image: {image}\n{cmd}{volume}",
        plan.plan_id,
        top = labels("  "),
        image = yq(image),
        cmd = script(format!(
            "{merge}exec yardstick finalize --plan {plan_in} --store \"{final_store}\" --output /work/results"
        )),
    );
    let submit = format!(
        "#!/bin/bash\n# Run Yardstick plan {} on Kubernetes: the Indexed Job of shards (each index retried up to 3 \
         times by Kubernetes), then the finalise Job once it is complete.\nset -euo pipefail\ncd \"$(dirname \"$0\")\"\n\
         kubectl apply -f {stem}-shards.yaml\nkubectl wait --for=condition=complete --timeout=-1s job/{name}\n\
         kubectl apply -f {stem}-finalize.yaml\nkubectl wait --for=condition=complete --timeout=-1s job/{name}-finalize\n",
        plan.plan_id
    );
    vec![
        (format!("{stem}-shards.yaml"), shards, false),
        (format!("{stem}-finalize.yaml"), finalize, false),
        (format!("{stem}-submit.sh"), submit, true),
    ]
}
