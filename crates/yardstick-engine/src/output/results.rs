//! The aggregated results document (`results_<date>.json`) in lm-eval 0.4.13's schema and key
//! order (`EvalAcc._to_eval_results`, `simple_evaluate`, `EvaluationTracker.save_results_aggregated`),
//! plus a `yardstick` block, and the file layout of `--output DIR`.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::samples::{task_hash, SampleHashes};
use crate::scoring::aggregate::{StderrValue, TaskAggregate};
use crate::scoring::groups::{
    aggregate_groups, flatten, propagate_higher_is_better, propagate_num_fewshot, GroupNode,
    GroupResult, Requested, TaskResultEntry,
};
use crate::scoring::NumericEnv;
use yardstick_core::python::json::PyJson;
use yardstick_core::python::py_float_repr;

/// Everything the results document says about one evaluated task.
#[derive(Clone, Debug)]
pub struct TaskOutput {
    pub name: String,
    /// `task_alias` (the entry's `alias` falls back to the name).
    pub alias: Option<String>,
    /// `metadata.version` as Python holds it (`1.0` float, `2` int, a string), or `PyJson::None`.
    pub version: PyJson,
    /// The dumped task config (`configs[task]`), from the task layer.
    pub config: PyJson,
    /// The `num_fewshot` actually used.
    pub num_fewshot: i64,
    /// `task.higher_is_better()`: metric → bool (None when unknown), in the task's metric order.
    pub higher_is_better: IndexMap<String, Option<bool>>,
    pub aggregate: TaskAggregate,
    /// `len(task.eval_docs)` before `--limit`.
    pub n_samples_original: usize,
    /// The hashes of every logged sample (all filters, in write order); `None` when samples are not
    /// logged (then the task has no `task_hashes` entry).
    pub sample_hashes: Option<Vec<SampleHashes>>,
}

/// Yardstick's own provenance, written under the `yardstick` key.
#[derive(Clone, Debug, PartialEq)]
pub struct YardstickMeta {
    pub tool_version: String,
    pub lm_eval_compat_version: String,
    pub run_id: String,
    pub store_path: Option<String>,
    pub numeric_env: NumericEnv,
    /// Anything else worth recording (resolved config hash, hardware, …), written in order.
    pub extra: IndexMap<String, PyJson>,
}

/// Run-level metadata for the results document.
#[derive(Clone, Debug)]
pub struct RunMeta {
    /// The `config` block (see [`config_block`]).
    pub config: PyJson,
    pub git_hash: Option<String>,
    /// Unix time the run started (`date`).
    pub date: f64,
    /// Keys lm-eval's `add_env_info` / `add_tokenizer_info` add, in order (`pretty_env_info`,
    /// `transformers_version`, `lm_eval_version`, `upper_git_hash`, `tokenizer_*_token`,
    /// `eot_token_id`, `max_length`).
    pub env_info: IndexMap<String, PyJson>,
    pub model_source: String,
    pub model_name: String,
    pub system_instruction: Option<String>,
    pub fewshot_as_multiturn: Option<bool>,
    pub chat_template: Option<String>,
    /// Wall time of the evaluation; written as Python's `str(float)`.
    pub total_evaluation_time_seconds: f64,
    pub yardstick: YardstickMeta,
}

/// The `config` block lm-eval writes for an API model (`simple_evaluate`).
#[allow(clippy::too_many_arguments)]
pub fn config_block(
    model: &str,
    model_args: PyJson,
    batch_size: PyJson,
    limit: PyJson,
    bootstrap_iters: i64,
    gen_kwargs: PyJson,
    seeds: [Option<i64>; 4],
) -> PyJson {
    let mut c = PyJson::dict();
    c.insert("model", PyJson::str(model));
    c.insert("model_args", model_args);
    c.insert("batch_size", batch_size);
    c.insert("batch_sizes", PyJson::List(vec![]));
    c.insert("device", PyJson::None);
    c.insert("use_cache", PyJson::None);
    c.insert("limit", limit);
    c.insert("bootstrap_iters", PyJson::from(bootstrap_iters));
    c.insert("gen_kwargs", gen_kwargs);
    for (k, s) in ["random_seed", "numpy_seed", "torch_seed", "fewshot_seed"]
        .iter()
        .zip(seeds)
    {
        c.insert(*k, PyJson::from(s));
    }
    c
}

fn stderr_json(se: StderrValue) -> PyJson {
    match se {
        StderrValue::Value(v) => PyJson::Float(v),
        StderrValue::NotAvailable => PyJson::str("N/A"),
    }
}

/// The `results` entry of a task.
pub fn task_entry(t: &TaskOutput) -> PyJson {
    let mut e = PyJson::dict();
    e.insert("name", PyJson::str(t.name.clone()));
    e.insert(
        "alias",
        PyJson::str(t.alias.clone().unwrap_or_else(|| t.name.clone())),
    );
    e.insert("sample_len", PyJson::from(t.aggregate.sample_len));
    for m in &t.aggregate.metrics {
        e.insert(format!("{},{}", m.metric, m.filter), PyJson::Float(m.value));
        e.insert(
            format!("{}_stderr,{}", m.metric, m.filter),
            stderr_json(m.stderr),
        );
    }
    e
}

/// The `results` (and `groups`) entry of a group.
pub fn group_entry(g: &GroupResult) -> PyJson {
    let mut e = PyJson::dict();
    e.insert("alias", PyJson::str(g.alias.clone()));
    e.insert("name", PyJson::str(g.name.clone()));
    if let Some(n) = g.sample_len {
        e.insert("sample_len", PyJson::from(n));
        let mut counts = PyJson::dict();
        for m in &g.metrics {
            let key = format!("{},{}", m.metric, m.filter);
            e.insert(key.clone(), PyJson::Float(m.value));
            e.insert(
                format!("{}_stderr,{}", m.metric, m.filter),
                stderr_json(m.stderr),
            );
            counts.insert(key, PyJson::from(m.sample_count));
        }
        if !g.metrics.is_empty() {
            e.insert("sample_count", counts);
        }
    }
    e
}

fn sorted_dict(entries: Vec<(String, PyJson)>) -> PyJson {
    let mut entries = entries;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    PyJson::Dict(entries.into_iter().collect())
}

/// lm-eval's `sanitize_model_name`: every run of `"<>:/|\?*[]` becomes `__`.
pub fn sanitize_model_name(name: &str) -> String {
    let special = |c: char| "\"<>:/|\\?*[]".contains(c);
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if special(c) {
            if !in_run {
                out.push_str("__");
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// Group results computed from the tasks (bottom-up order).
pub fn compute_groups(
    tasks: &[TaskOutput],
    requested: &[Requested],
    env: NumericEnv,
) -> Vec<GroupResult> {
    let mut entries: IndexMap<String, TaskResultEntry> = IndexMap::new();
    for t in tasks {
        let metrics = t
            .aggregate
            .metrics
            .iter()
            .map(|m| (format!("{},{}", m.metric, m.filter), (m.value, m.stderr)))
            .collect();
        entries.insert(
            t.name.clone(),
            TaskResultEntry {
                sample_len: t.aggregate.sample_len,
                metrics,
            },
        );
    }
    aggregate_groups(requested, &entries, env)
}

/// Build the whole results document, key by key in lm-eval's order.
pub fn build_results(
    tasks: &[TaskOutput],
    requested: &[Requested],
    groups: &[GroupResult],
    run: &RunMeta,
) -> PyJson {
    let (task_order, group_order) = flatten(requested);
    let ordered = order_tasks(tasks, &task_order);

    let mut doc = PyJson::dict();
    doc.insert("results", results_block(&ordered, groups));
    if let Some(gd) = groups_block(groups) {
        doc.insert("groups", gd);
    }
    doc.insert("group_subtasks", group_subtasks_block(&group_order));
    doc.insert(
        "configs",
        sorted_dict(
            ordered
                .iter()
                .map(|t| (t.name.clone(), t.config.clone()))
                .collect(),
        ),
    );
    doc.insert("versions", versions_block(&ordered, groups));
    doc.insert("n-shot", n_shot_block(&ordered, requested));
    doc.insert(
        "higher_is_better",
        higher_is_better_block(&ordered, requested),
    );
    doc.insert("n-samples", n_samples_block(&ordered));
    insert_run_info(&mut doc, run);
    doc.insert("task_hashes", task_hashes_block(&ordered));
    insert_model_info(&mut doc, run);
    doc.insert("yardstick", yardstick_block(&run.yardstick));
    doc
}

/// The tasks in the requested order (`flatten`'s `task_order`), then any others in their given order.
fn order_tasks<'a>(tasks: &'a [TaskOutput], task_order: &[String]) -> Vec<&'a TaskOutput> {
    let mut ordered: Vec<&TaskOutput> = Vec::with_capacity(tasks.len());
    for name in task_order {
        if let Some(t) = tasks.iter().find(|t| &t.name == name) {
            ordered.push(t);
        }
    }
    for t in tasks {
        if !task_order.contains(&t.name) {
            ordered.push(t);
        }
    }
    ordered
}

/// `results`: every task's entry, then every group's.
fn results_block(ordered: &[&TaskOutput], groups: &[GroupResult]) -> PyJson {
    let mut results = PyJson::dict();
    for t in ordered {
        results.insert(t.name.clone(), task_entry(t));
    }
    for g in groups {
        results.insert(g.name.clone(), group_entry(g));
    }
    results
}

/// `groups`: the groups with an aggregation (None when there are none: the key is then absent).
fn groups_block(groups: &[GroupResult]) -> Option<PyJson> {
    let with_agg: Vec<&GroupResult> = groups.iter().filter(|g| g.has_aggregation).collect();
    if with_agg.is_empty() {
        return None;
    }
    let mut gd = PyJson::dict();
    for g in with_agg {
        gd.insert(g.name.clone(), group_entry(g));
    }
    Some(gd)
}

/// `group_subtasks`: each group's children.
fn group_subtasks_block(group_order: &[&GroupNode]) -> PyJson {
    let mut subtasks = PyJson::dict();
    for g in group_order {
        subtasks.insert(
            g.name.clone(),
            PyJson::List(g.child_names().into_iter().map(PyJson::Str).collect()),
        );
    }
    subtasks
}

/// `versions`: tasks' and groups' versions, sorted by name.
fn versions_block(ordered: &[&TaskOutput], groups: &[GroupResult]) -> PyJson {
    let mut versions: Vec<(String, PyJson)> = ordered
        .iter()
        .map(|t| (t.name.clone(), t.version.clone()))
        .collect();
    for g in groups {
        versions.push((g.name.clone(), PyJson::str(g.version.clone())));
    }
    sorted_dict(versions)
}

/// `n-shot`: tasks' `num_fewshot`, propagated to groups, sorted by name.
fn n_shot_block(ordered: &[&TaskOutput], requested: &[Requested]) -> PyJson {
    let mut n_shot: IndexMap<String, i64> = ordered
        .iter()
        .map(|t| (t.name.clone(), t.num_fewshot))
        .collect();
    propagate_num_fewshot(requested, &mut n_shot);
    sorted_dict(
        n_shot
            .into_iter()
            .map(|(k, v)| (k, PyJson::from(v)))
            .collect(),
    )
}

/// `higher_is_better`: tasks' metric directions, propagated to groups, sorted by name.
fn higher_is_better_block(ordered: &[&TaskOutput], requested: &[Requested]) -> PyJson {
    let mut hib: IndexMap<String, IndexMap<String, Option<bool>>> = ordered
        .iter()
        .map(|t| (t.name.clone(), t.higher_is_better.clone()))
        .collect();
    propagate_higher_is_better(requested, &mut hib);
    sorted_dict(
        hib.into_iter()
            .map(|(k, m)| {
                (
                    k,
                    PyJson::Dict(m.into_iter().map(|(mk, v)| (mk, PyJson::from(v))).collect()),
                )
            })
            .collect(),
    )
}

/// `n-samples`: each task's `original` and `effective` sample counts.
fn n_samples_block(ordered: &[&TaskOutput]) -> PyJson {
    let mut n_samples = PyJson::dict();
    for t in ordered {
        let mut c = PyJson::dict();
        c.insert("original", PyJson::from(t.n_samples_original));
        c.insert("effective", PyJson::from(t.aggregate.sample_len));
        n_samples.insert(t.name.clone(), c);
    }
    n_samples
}

/// `config`, `git_hash`, `date`, then the environment keys (`add_env_info`, `add_tokenizer_info`).
fn insert_run_info(doc: &mut PyJson, run: &RunMeta) {
    doc.insert("config", run.config.clone());
    doc.insert("git_hash", PyJson::from(run.git_hash.clone()));
    doc.insert("date", PyJson::Float(run.date));
    for (k, v) in &run.env_info {
        doc.insert(k.clone(), v.clone());
    }
}

/// `task_hashes`: the hash of each task's logged samples (tasks without logged samples left out).
fn task_hashes_block(ordered: &[&TaskOutput]) -> PyJson {
    let mut hashes = PyJson::dict();
    for t in ordered {
        if let Some(h) = &t.sample_hashes {
            hashes.insert(t.name.clone(), PyJson::Str(task_hash(h)));
        }
    }
    hashes
}

/// `model_source` … `total_evaluation_time_seconds` (`EvaluationTracker.save_results_aggregated`).
fn insert_model_info(doc: &mut PyJson, run: &RunMeta) {
    doc.insert("model_source", PyJson::str(run.model_source.clone()));
    doc.insert("model_name", PyJson::str(run.model_name.clone()));
    doc.insert(
        "model_name_sanitized",
        PyJson::Str(sanitize_model_name(&run.model_name)),
    );
    doc.insert(
        "system_instruction",
        PyJson::from(run.system_instruction.clone()),
    );
    doc.insert(
        "system_instruction_sha",
        PyJson::from(
            run.system_instruction
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(yardstick_core::sha256_hex),
        ),
    );
    doc.insert(
        "fewshot_as_multiturn",
        PyJson::from(run.fewshot_as_multiturn),
    );
    doc.insert("chat_template", PyJson::from(run.chat_template.clone()));
    doc.insert(
        "chat_template_sha",
        PyJson::from(
            run.chat_template
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(yardstick_core::sha256_hex),
        ),
    );
    doc.insert(
        "total_evaluation_time_seconds",
        PyJson::Str(py_float_repr(run.total_evaluation_time_seconds)),
    );
}

/// `yardstick`: Yardstick's own provenance.
fn yardstick_block(y: &YardstickMeta) -> PyJson {
    let mut yb = PyJson::dict();
    yb.insert("tool_version", PyJson::str(y.tool_version.clone()));
    yb.insert(
        "lm_eval_compat_version",
        PyJson::str(y.lm_eval_compat_version.clone()),
    );
    yb.insert("run_id", PyJson::str(y.run_id.clone()));
    yb.insert("store_path", PyJson::from(y.store_path.clone()));
    yb.insert("python_sum", PyJson::str(y.numeric_env.py_sum.as_str()));
    yb.insert("numpy_exp", PyJson::str(y.numeric_env.numpy_exp.as_str()));
    for (k, v) in &y.extra {
        yb.insert(k.clone(), v.clone());
    }
    yb
}

/// `datetime.now().isoformat().replace(":", "-")` for a local time: microseconds only when non-zero.
pub fn date_id<Tz: chrono::TimeZone>(t: &chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let naive = t.naive_local();
    let base = naive.format("%Y-%m-%dT%H-%M-%S").to_string();
    let micros = naive.and_utc().timestamp_subsec_micros();
    if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    }
}

/// Errors writing output files.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where `--output PATH` puts the files of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputPaths {
    pub results: PathBuf,
    pub samples_dir: PathBuf,
    pub date_id: String,
}

impl OutputPaths {
    /// lm-eval's layout: `PATH/<sanitized model>/results_<date>.json`, or next to `PATH` with the
    /// date as suffix when `PATH` ends in `.json`.
    pub fn new(output_path: &Path, model_name: &str, date_id: &str) -> Self {
        if output_path
            .extension()
            .map(|e| e == "json")
            .unwrap_or(false)
        {
            let parent = output_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let stem = output_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            OutputPaths {
                results: parent.join(format!("{stem}_{date_id}.json")),
                samples_dir: parent,
                date_id: date_id.to_string(),
            }
        } else {
            let dir = output_path.join(sanitize_model_name(model_name));
            OutputPaths {
                results: dir.join(format!("results_{date_id}.json")),
                samples_dir: dir,
                date_id: date_id.to_string(),
            }
        }
    }

    pub fn samples(&self, task: &str) -> PathBuf {
        self.samples_dir
            .join(format!("samples_{task}_{}.jsonl", self.date_id))
    }

    /// Write the results document (`json.dumps(indent=2, ensure_ascii=False)`, no trailing newline).
    pub fn write_results(&self, results: &PyJson) -> Result<(), OutputError> {
        write_file(&self.results, results.dumps_indent(2).as_bytes())
    }

    /// Write a task's samples file from ready lines.
    pub fn write_samples(
        &self,
        task: &str,
        lines: impl IntoIterator<Item = String>,
    ) -> Result<PathBuf, OutputError> {
        let path = self.samples(task);
        write_lines(&path, lines)?;
        Ok(path)
    }
}

/// Write ready lines (each with its newline) to `path`, creating its folder.
pub fn write_lines(
    path: &Path,
    lines: impl IntoIterator<Item = String>,
) -> Result<(), OutputError> {
    let mut body = String::new();
    for l in lines {
        body.push_str(&l);
    }
    write_file(path, body.as_bytes())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|source| OutputError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
    }
    std::fs::write(path, bytes).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_and_paths() {
        assert_eq!(sanitize_model_name("org/model:v1"), "org__model__v1");
        assert_eq!(sanitize_model_name("a//b"), "a__b");
        let p = OutputPaths::new(Path::new("out"), "org/m", "2026-01-02T03-04-05.000006");
        assert_eq!(
            p.results,
            PathBuf::from("out/org__m/results_2026-01-02T03-04-05.000006.json")
        );
        assert_eq!(
            p.samples("mmlu"),
            PathBuf::from("out/org__m/samples_mmlu_2026-01-02T03-04-05.000006.jsonl")
        );
        let p = OutputPaths::new(Path::new("x/res.json"), "m", "D");
        assert_eq!(p.results, PathBuf::from("x/res_D.json"));
        assert_eq!(p.samples("t"), PathBuf::from("x/samples_t_D.jsonl"));
    }

    #[test]
    fn date_id_format() {
        use chrono::TimeZone;
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(date_id(&t), "2026-01-02T03-04-05");
        let t = t + chrono::Duration::microseconds(78);
        assert_eq!(date_id(&t), "2026-01-02T03-04-05.000078");
    }
}
