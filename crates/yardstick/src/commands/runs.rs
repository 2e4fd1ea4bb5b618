//! `yardstick runs` and `yardstick results`: what the store holds.

use anyhow::Context;
use clap::Args;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use yardstick_store::Store;

#[derive(Args)]
pub struct RunsArgs {
    /// The store (SQLite file)
    #[arg(long, env = "YARDSTICK_STORE", default_value = "yardstick.db")]
    pub store: PathBuf,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ResultsArgs {
    /// The store (SQLite file)
    #[arg(long, env = "YARDSTICK_STORE", default_value = "yardstick.db")]
    pub store: PathBuf,
    /// Metric to show (default: acc, else the first metric of each task)
    #[arg(long)]
    pub metric: Option<String>,
    /// Include runs that have not finished (interrupted or running)
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

fn open_existing(path: &PathBuf) -> anyhow::Result<Store> {
    if !path.exists() {
        anyhow::bail!(
            "no store at {} — run `yardstick run …` first, or pass --store PATH (env YARDSTICK_STORE)",
            path.display()
        );
    }
    Store::open(path).with_context(|| format!("opening store {}", path.display()))
}

pub fn runs(args: RunsArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(&args.store)?;
    let runs = store.list_runs()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &runs)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if runs.is_empty() {
        writeln!(out, "The store {} holds no runs.", args.store.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let reqs = r
                .stats
                .as_ref()
                .map(|s| {
                    format!(
                        "{} sent, {} reused",
                        s.get("requests_sent").and_then(|v| v.as_u64()).unwrap_or(0),
                        s.get("requests_reused")
                            .and_then(|v| v.as_u64())
                            .unwrap_or(0)
                    )
                })
                .unwrap_or_default();
            vec![
                r.run_id.chars().take(12).collect(),
                r.created_at.chars().take(19).collect(),
                r.status.to_string(),
                r.model_name.clone(),
                summarize_tasks(&r.tasks),
                r.n_samples.to_string(),
                reqs,
            ]
        })
        .collect();
    write_table(
        &mut out,
        &[
            "run", "started", "status", "model", "tasks", "samples", "requests",
        ],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn summarize_tasks(tasks: &[String]) -> String {
    if tasks.len() <= 3 {
        tasks.join(",")
    } else {
        format!("{},{} … ({} tasks)", tasks[0], tasks[1], tasks.len())
    }
}

/// (metric, value, stderr, n) of one model × task cell.
type Cell = (String, f64, Option<f64>, i64);

pub fn results(args: ResultsArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(&args.store)?;
    let rows = store.list_results(args.all)?;
    // Latest run per (model, task) wins; show groups and top-level tasks (leaf subtasks of a group are many).
    let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
    let mut latest: BTreeMap<(String, String), String> = BTreeMap::new();
    for r in &rows {
        let wanted = match &args.metric {
            Some(m) => &r.metric == m,
            None => r.metric == "acc",
        };
        if !wanted || r.value.is_none() {
            continue;
        }
        let key = (r.model_name.clone(), r.task.clone());
        let stamp = r.finished_at.clone().unwrap_or_default();
        if latest.get(&key).is_some_and(|s| *s > stamp) {
            continue;
        }
        latest.insert(key.clone(), stamp);
        cells.insert(
            key,
            (r.metric.clone(), r.value.unwrap_or(f64::NAN), r.stderr, r.n),
        );
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let v: Vec<_> = cells
            .iter()
            .map(|((model, task), (metric, value, stderr, n))| {
                serde_json::json!({"model": model, "task": task, "metric": metric, "value": value, "stderr": stderr, "n": n})
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if cells.is_empty() {
        writeln!(
            out,
            "No finished results in {} (use --all to include unfinished runs).",
            args.store.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let models: Vec<String> = cells
        .keys()
        .map(|(m, _)| m.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let tasks: Vec<String> = cells
        .keys()
        .map(|(_, t)| t.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut header = vec!["task".to_string()];
    header.extend(models.iter().cloned());
    let table: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            let mut row = vec![t.clone()];
            for m in &models {
                row.push(match cells.get(&(m.clone(), t.clone())) {
                    Some((_, v, Some(se), _)) => format!("{v:.4} ± {se:.4}"),
                    Some((_, v, None, _)) => format!("{v:.4}"),
                    None => "—".into(),
                });
            }
            row
        })
        .collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    write_table(&mut out, &header_refs, &table)?;
    Ok(ExitCode::SUCCESS)
}

/// A plain aligned text table.
pub fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(
        out,
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    )?;
    line(
        out,
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
    )?;
    for r in rows {
        line(out, r)?;
    }
    Ok(())
}
