//! `yardstick tasks list` and `yardstick tasks show NAME`: what can be run, and exactly how it is prompted.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};
use yardstick_core::RequestArgs;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{EntryKind, PreparedTask, SelectionNode, TaskConfig, TaskIndex};

#[derive(Subcommand, Debug)]
pub enum TasksCommand {
    /// List tasks, groups and tags (built-in and from --include-path)
    List {
        /// Directory of lm-eval task YAMLs (repeatable); they override built-ins of the same name
        #[arg(long = "include-path", value_name = "DIR")]
        include_path: Vec<PathBuf>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
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
        #[arg(long = "num-fewshot", value_name = "K")]
        num_fewshot: Option<usize>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: TasksCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TasksCommand::List {
            include_path,
            json,
            pattern,
        } => list(&include_path, json, pattern.as_deref()),
        TasksCommand::Show {
            name,
            include_path,
            data_dir,
            num_fewshot,
            json,
        } => show(&name, &include_path, data_dir, num_fewshot, json),
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

fn list(
    include_path: &[PathBuf],
    as_json: bool,
    pattern: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let index = TaskIndex::load(include_path).context("indexing tasks")?;
    let entries = index.matching(pattern)?;
    for b in index.broken() {
        eprintln!("warning: skipped {}", b.error);
    }
    let mut out = std::io::stdout().lock();
    if as_json {
        let rows: Vec<Value> = entries
            .iter()
            .map(|e| {
                json!({
                    "name": e.name,
                    "kind": kind_str(e.kind),
                    "output_type": if e.kind == EntryKind::Task { index.output_type(&e.name) } else { None },
                    "source": e.source.as_ref().map(|s| s.display()),
                    "members": e.members,
                    "tags": e.tags,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let width = entries
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
    for e in &entries {
        let detail = match e.kind {
            EntryKind::Task | EntryKind::PythonTask => {
                index.output_type(&e.name).unwrap_or_default()
            }
            EntryKind::Tag => format!("{} tasks", e.members.len()),
            EntryKind::Group => String::new(),
        };
        let source = e.source.as_ref().map(|s| s.display()).unwrap_or_default();
        writeln!(
            out,
            "{:width$}  {:6}  {:22}  {}",
            e.name,
            kind_str(e.kind),
            detail,
            source
        )?;
    }
    let count = |k| entries.iter().filter(|e| e.kind == k).count();
    writeln!(
        out,
        "{} tasks, {} groups, {} tags",
        count(EntryKind::Task) + count(EntryKind::PythonTask),
        count(EntryKind::Group),
        count(EntryKind::Tag)
    )?;
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

fn show(
    name: &str,
    include_path: &[PathBuf],
    data_dir: Option<PathBuf>,
    num_fewshot: Option<usize>,
    as_json: bool,
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

    let mut out = std::io::stdout().lock();
    if as_json {
        let prompt = match (&prepared, &first) {
            (Ok(p), Ok(Some(d))) => json!({
                "doc_id": d.doc_id,
                "context": d.context,
                "requests": d.instances.iter().map(|i| serde_json::to_value(&i.args).unwrap_or(Value::Null)).collect::<Vec<_>>(),
                "choices": d.choices,
                "target": d.target_value,
                "fewshot_ids": d.fewshot_ids,
                "data_sources": p.data_sources(),
                "n_docs": p.n_docs_total(),
            }),
            (_, Err(e)) => json!({"error": format!("{e:#}")}),
            _ => Value::Null,
        };
        let v = json!({
            "groups": groups,
            "tasks": tasks.iter().map(|t| t.task.clone()).collect::<Vec<_>>(),
            "config": task.to_lm_eval_dict(Some(n_shot)),
            "num_fewshot": n_shot,
            "version": task.version(),
            "prompt": prompt,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        for g in &groups {
            writeln!(out, "# group")?;
            write!(out, "{}", yardstick_tasks::config::to_yaml(g))?;
            writeln!(out)?;
        }
        if tasks.len() > 1 {
            writeln!(
                out,
                "# {} tasks; showing the first: {}",
                tasks.len(),
                task.task
            )?;
        }
        writeln!(out, "# task {} ({})", task.task, task.config_source)?;
        write!(out, "{}", task.to_yaml(Some(n_shot)))?;
        if let (Ok(p), Ok(Some(d))) = (&prepared, &first) {
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
            writeln!(out, "target: {} ({:?})", d.target_value, d.target)?;
        }
    }
    drop(out);
    match first {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            if !as_json {
                eprintln!("error: cannot render a prompt: {e:#}");
            }
            Ok(ExitCode::from(2))
        }
    }
}
