//! `yardstick tasks list` and `yardstick tasks show NAME`: what can be run, and exactly how it is prompted.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{emit_text_or_json, OutputArgs};
use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;
use serde_json::{json, Value};
use yardstick_analysis::Report;
use yardstick_core::RequestArgs;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{DocRequests, EntryKind, PreparedTask, SelectionNode, TaskConfig, TaskIndex};

#[derive(Subcommand, Debug)]
pub enum TasksCommand {
    /// List tasks, groups and tags (built-in and from --include-path)
    List {
        /// Directory of lm-eval task YAMLs (repeatable); they override built-ins of the same name
        #[arg(long = "include-path", value_name = "DIR")]
        include_path: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
        /// Only names matching this glob (e.g. 'mmlu_*')
        pattern: Option<String>,
    },
    /// Show a task's resolved definition and the rendered prompt of its first doc
    Show {
        /// Task, group or tag name
        name: String,
        /// Directory of lm-eval task YAMLs (repeatable)
        #[arg(long = "include-path", value_name = "DIR")]
        include_path: Vec<PathBuf>,
        /// Original-release benchmark files (e.g. ../shared/data/benchmarks)
        #[arg(long = "data-dir", value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Few-shot examples (overrides the task's default unless it sets 0)
        #[arg(
            long = "num-fewshot",
            value_name = "K",
            allow_negative_numbers = true,
            value_parser = super::non_negative
        )]
        num_fewshot: Option<usize>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

pub fn run(cmd: TasksCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TasksCommand::List {
            include_path,
            output,
            pattern,
        } => list(&include_path, output, pattern.as_deref()),
        TasksCommand::Show {
            name,
            include_path,
            data_dir,
            num_fewshot,
            output,
        } => show(&name, &include_path, data_dir, num_fewshot, output),
    }
}

fn kind_str(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Task => "task",
        EntryKind::Group => "group",
        EntryKind::Tag => "tag",
        EntryKind::PythonTask => "python-task",
    }
}

/// One entry of `yardstick tasks list`.
#[derive(Serialize)]
struct TaskEntry {
    name: String,
    kind: &'static str,
    output_type: Option<String>,
    source: Option<String>,
    members: BTreeSet<String>,
    tags: Vec<String>,
    /// Output type (tasks) or member count (tags), for the table.
    #[serde(skip)]
    detail: String,
}

/// Result of `yardstick tasks list`; its JSON is the array of entries.
#[derive(Serialize)]
#[serde(transparent)]
struct TaskListing {
    entries: Vec<TaskEntry>,
}

impl Report for TaskListing {
    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let width = self
            .entries
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            out,
            "{:width$}  {:6}  {:22}  SOURCE",
            "NAME", "KIND", "OUTPUT TYPE / MEMBERS"
        )?;
        for e in &self.entries {
            writeln!(
                out,
                "{:width$}  {:6}  {:22}  {}",
                e.name,
                e.kind,
                e.detail,
                e.source.as_deref().unwrap_or_default()
            )?;
        }
        let count = |k: &str| self.entries.iter().filter(|e| e.kind == k).count();
        writeln!(
            out,
            "{} tasks, {} groups, {} tags",
            count("task") + count("python-task"),
            count("group"),
            count("tag")
        )
    }
}

fn list(
    include_path: &[PathBuf],
    output: OutputArgs,
    pattern: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let index = TaskIndex::load(include_path).context("indexing tasks")?;
    let entries = index.matching(pattern)?;
    for b in index.broken() {
        eprintln!("warning: skipped {}", b.error);
    }
    let entries = entries
        .iter()
        .map(|e| {
            let output_type = match e.kind {
                EntryKind::Task | EntryKind::PythonTask => index.output_type(&e.name),
                _ => None,
            };
            TaskEntry {
                name: e.name.clone(),
                kind: kind_str(e.kind),
                output_type: if e.kind == EntryKind::Task {
                    output_type.clone()
                } else {
                    None
                },
                source: e.source.as_ref().map(|s| s.display()),
                members: e.members.clone(),
                tags: e.tags.clone(),
                detail: match e.kind {
                    EntryKind::Tag => format!("{} tasks", e.members.len()),
                    _ => output_type.unwrap_or_default(),
                },
            }
        })
        .collect();
    emit_text_or_json(&TaskListing { entries }, output)?;
    Ok(ExitCode::SUCCESS)
}

fn group_json(node: &SelectionNode) -> Value {
    match node {
        SelectionNode::Task(t) => json!(t.task),
        SelectionNode::Group {
            name,
            alias,
            config,
            children,
        } => json!({
            "group": name,
            "group_alias": alias,
            "aggregate_metric_list": config.aggregate_metric_list,
            "metadata": config.metadata,
            "task": children.iter().map(group_json).collect::<Vec<_>>(),
        }),
    }
}

/// Result of `yardstick tasks show NAME`: the resolved task (and its groups) and its first rendered doc.
#[derive(Serialize)]
struct TaskShow<'a> {
    groups: Vec<Value>,
    tasks: Vec<String>,
    config: Value,
    num_fewshot: u64,
    version: Option<&'a Value>,
    /// The first doc's prompt and requests, `{"error": …}` when it cannot be rendered.
    prompt: Value,
    /// Metrics of the task's `metric_list` that Yardstick does not compute (e.g. minerva_math's
    /// `math_verify`), with why; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metrics_not_computed: Vec<yardstick_tasks::functions::MetricNotComputed>,
    #[serde(skip)]
    task: &'a TaskConfig,
    #[serde(skip)]
    rendered: Option<(&'a PreparedTask, &'a DocRequests)>,
}

impl TaskShow<'_> {
    fn write_prompt(p: &PreparedTask, d: &DocRequests, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "# data: {} docs in `{}`; {}",
            p.n_docs_total(),
            p.eval_split(),
            p.data_sources().join("; ")
        )?;
        let shots = if d.fewshot_ids.is_empty() {
            String::new()
        } else {
            format!(
                ", few-shot examples {:?} of `{}`",
                d.fewshot_ids,
                p.fewshot_split().unwrap_or("samples")
            )
        };
        writeln!(
            out,
            "# doc {}: {}-shot prompt{shots}",
            d.doc_id,
            p.num_fewshot()
        )?;
        writeln!(out, "----- prompt -----")?;
        writeln!(out, "{}", d.context)?;
        writeln!(out, "----- requests -----")?;
        for inst in &d.instances {
            match &inst.args {
                RequestArgs::Loglikelihood {
                    context,
                    continuation,
                } => {
                    let ctx = if context.is_empty() {
                        " (unconditional)"
                    } else {
                        ""
                    };
                    writeln!(out, "[{}] continuation {continuation:?}{ctx}", inst.idx)?;
                }
                RequestArgs::LoglikelihoodRolling { text } => writeln!(
                    out,
                    "[{}] rolling text of {} chars",
                    inst.idx,
                    text.chars().count()
                )?,
                RequestArgs::GenerateUntil { params, .. } => writeln!(
                    out,
                    "[{}] generate until {:?}, max {} tokens",
                    inst.idx, params.until, params.max_gen_toks
                )?,
            }
        }
        writeln!(out, "target: {} ({:?})", d.target_value, d.target)
    }
}

impl Report for TaskShow<'_> {
    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for g in &self.groups {
            writeln!(out, "# group")?;
            write!(out, "{}", yardstick_tasks::config::to_yaml(g))?;
            writeln!(out)?;
        }
        let task = self.task;
        if self.tasks.len() > 1 {
            writeln!(
                out,
                "# {} tasks; showing the first: {}",
                self.tasks.len(),
                task.task
            )?;
        }
        writeln!(out, "# task {} ({})", task.task, task.config_source)?;
        write!(out, "{}", task.to_yaml(Some(self.num_fewshot)))?;
        for m in &self.metrics_not_computed {
            writeln!(
                out,
                "# metrics not computed by Yardstick: `{}`, {} (no value or aggregate is reported for it)",
                m.metric, m.reason
            )?;
        }
        match self.rendered {
            Some((p, d)) => Self::write_prompt(p, d, out),
            None => Ok(()),
        }
    }
}

fn prompt_json(prepared: &PreparedTask, d: &DocRequests) -> Value {
    json!({
        "doc_id": d.doc_id,
        "context": d.context,
        "requests": d.instances.iter().map(|i| serde_json::to_value(&i.args).unwrap_or(Value::Null)).collect::<Vec<_>>(),
        "choices": d.choices,
        "target": d.target_value,
        "fewshot_ids": d.fewshot_ids,
        "data_sources": prepared.data_sources(),
        "n_docs": prepared.n_docs_total(),
    })
}

fn show(
    name: &str,
    include_path: &[PathBuf],
    data_dir: Option<PathBuf>,
    num_fewshot: Option<usize>,
    output: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let index = TaskIndex::load(include_path).context("indexing tasks")?;
    let selection = index.resolve(&[name])?;
    let tasks = selection.tasks();
    let task: &TaskConfig = tasks.first().context("the selection has no tasks")?;
    let n_shot = task.effective_num_fewshot(num_fewshot.map(|n| n as u64));
    let groups: Vec<Value> = selection
        .roots
        .iter()
        .filter(|r| matches!(r, SelectionNode::Group { .. }))
        .map(group_json)
        .collect();

    let mut opts = DataOptions::from_env();
    if data_dir.is_some() {
        opts.data_dir = data_dir;
    }
    let prepared = PreparedTask::prepare(
        task,
        &opts,
        num_fewshot,
        yardstick_tasks::DEFAULT_FEWSHOT_SEED,
        Some(yardstick_tasks::Limit::Count(1)),
    );
    let first = match &prepared {
        Ok(p) => p.docs().next().transpose().map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    let rendered = match (&prepared, &first) {
        (Ok(p), Ok(Some(d))) => Some((p, d)),
        _ => None,
    };
    let report = TaskShow {
        groups,
        tasks: tasks.iter().map(|t| t.task.clone()).collect(),
        config: task.to_lm_eval_dict(Some(n_shot)),
        num_fewshot: n_shot,
        version: task.version(),
        prompt: match (rendered, &first) {
            (Some((p, d)), _) => prompt_json(p, d),
            (_, Err(e)) => json!({"error": format!("{e:#}")}),
            _ => Value::Null,
        },
        metrics_not_computed: task.metrics_not_computed(),
        task,
        rendered,
    };
    emit_text_or_json(&report, output)?;
    match first {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            if !output.json {
                eprintln!("error: cannot render a prompt: {e:#}");
            }
            Ok(ExitCode::from(2))
        }
    }
}
