//! How a run ends: failed (the error is recorded, partial files removed), interrupted (what was answered is
//! kept; rerunning resumes) or finished (groups aggregated, results and samples files written, the run
//! marked finished).

use super::plan::{EvalOptions, PreparedRun};
use super::state::partial_file;
use super::{EvalError, RunOutcome};
use crate::output::{self, PyJson};
use crate::schedule::ExecStats;
use crate::scoring::{self, groups::GroupChild, GroupAggMetric, GroupNode, NumericEnv};
use indexmap::IndexMap;
use std::path::PathBuf;
use std::time::Instant;
use yardstick_backends::RequestPolicy;
use yardstick_core::ModelRef;
use yardstick_store::ledger::{AggregateRecord, RunStatus};
use yardstick_store::Store;
use yardstick_tasks::{Limit, Selection, SelectionNode};

/// Everything the endings need to know about the run.
pub(crate) struct Ending<'a> {
    pub store: &'a Store,
    pub run_id: String,
    pub resumed: bool,
    pub opts: &'a EvalOptions,
    pub prepared: &'a PreparedRun,
    pub policy: RequestPolicy,
    pub model: ModelRef,
    pub fingerprint: String,
    pub partial_dir: Option<PathBuf>,
    pub env: NumericEnv,
    pub start: Instant,
    /// Start of the run, seconds since the epoch (lm-eval's `date`).
    pub started_unix: f64,
}

/// What was sent and reused, for the endings.
pub(crate) struct Counts {
    pub total: u64,
    pub reused: u64,
    pub stats: ExecStats,
}

impl Counts {
    fn stats_json(&self, status: RunStatus, prepare_seconds: f64) -> serde_json::Value {
        let s = &self.stats;
        serde_json::json!({
            "status": status.as_str(), "requests_total": self.total, "requests_reused": self.reused,
            "requests_sent": s.requests_answered, "calls": s.units_sent,
            "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
            "dispatch_seconds": s.wall_seconds, "prepare_seconds": prepare_seconds,
        })
    }
}

impl Ending<'_> {
    fn remove_partials(&self) {
        if let Some(dir) = &self.partial_dir {
            for t in &self.prepared.tasks {
                let _ = std::fs::remove_file(partial_file(dir, &t.name));
            }
        }
    }

    fn outcome(&self, counts: Counts, interrupted: bool) -> RunOutcome {
        RunOutcome {
            run_id: self.run_id.clone(),
            resumed: self.resumed,
            interrupted,
            requests_total: counts.total,
            requests_reused: counts.reused,
            requests_sent: counts.stats.requests_answered,
            stats: counts.stats,
            results: None,
            table: None,
            output_files: Vec::new(),
            wall_seconds: self.start.elapsed().as_secs_f64(),
        }
    }

    /// Record the failure and hand the error back.
    pub fn failed(self, error: EvalError) -> EvalError {
        self.remove_partials();
        let _ = self.store.end_run(
            &self.run_id,
            RunStatus::Failed,
            &serde_json::json!({"error": error.to_string()}),
        );
        error
    }

    /// Stopped by a signal: what was answered is stored; rerunning resumes.
    pub fn interrupted(self, counts: Counts) -> Result<RunOutcome, EvalError> {
        self.remove_partials();
        let stats = counts.stats_json(RunStatus::Interrupted, self.prepared.prepare_seconds);
        self.store
            .end_run(&self.run_id, RunStatus::Interrupted, &stats)?;
        Ok(self.outcome(counts, true))
    }

    /// A shard's requests answered (or interrupted): its responses are in the ledger; nothing is scored or
    /// recorded as a run until the plan is finalised.
    pub fn shard(self, counts: Counts, interrupted: bool) -> RunOutcome {
        self.outcome(counts, interrupted)
    }

    /// Every task scored: aggregate groups, write the results and samples files, mark the run finished.
    pub fn finished(
        self,
        outputs: Vec<Option<output::TaskOutput>>,
        counts: Counts,
    ) -> Result<RunOutcome, EvalError> {
        let outputs: Vec<output::TaskOutput> = outputs
            .into_iter()
            .zip(&self.prepared.tasks)
            .map(|(o, t)| {
                o.ok_or_else(|| EvalError::Internal(format!("task {} was never scored", t.name)))
            })
            .collect::<Result<_, _>>()?;
        let requested: Vec<scoring::groups::Requested> = self
            .prepared
            .selection
            .roots
            .iter()
            .map(to_requested)
            .collect();
        let groups = output::compute_groups(&outputs, &requested, self.env);
        self.store
            .put_aggregates(&self.run_id, &group_records(&groups))?;
        let results_doc =
            output::build_results(&outputs, &requested, &groups, &self.run_meta(&counts));
        let table = output::make_table(&results_doc, "results");
        let files = self.write_files(&results_doc)?;
        let stats = counts.stats_json(RunStatus::Finished, self.prepared.prepare_seconds);
        self.store
            .end_run(&self.run_id, RunStatus::Finished, &stats)?;
        let mut outcome = self.outcome(counts, false);
        outcome.results = Some(results_doc);
        outcome.table = Some(table);
        outcome.output_files = files;
        Ok(outcome)
    }

    /// Move each task's samples into place and write the results file (with `--output`).
    fn write_files(&self, results_doc: &PyJson) -> Result<Vec<PathBuf>, EvalError> {
        let (Some(dir), Some(pdir)) = (&self.opts.output_dir, &self.partial_dir) else {
            return Ok(Vec::new());
        };
        let date_id = output::results::date_id(&chrono::Local::now());
        let paths = output::OutputPaths::new(dir, &self.model.name, &date_id);
        let mut files = vec![paths.results.clone()];
        for t in &self.prepared.tasks {
            let dest = paths.samples(&t.name);
            std::fs::rename(partial_file(pdir, &t.name), &dest).map_err(|e| {
                EvalError::Internal(format!(
                    "moving the samples of {} to {}: {e}",
                    t.name,
                    dest.display()
                ))
            })?;
            files.push(dest);
        }
        paths.write_results(results_doc)?;
        Ok(files)
    }

    /// lm-eval's `config` block and Yardstick's own metadata for the results file.
    fn run_meta(&self, counts: &Counts) -> output::RunMeta {
        let opts = self.opts;
        let limit = match opts.limit {
            Some(Limit::Count(n)) => PyJson::Float(n as f64),
            Some(Limit::Fraction(f)) => PyJson::Float(f),
            None => PyJson::None,
        };
        let seeds = [
            Some(0),
            Some(1234),
            Some(1234),
            Some(opts.fewshot_seed as i64),
        ];
        let int = |n: u64| PyJson::Int(n as i128);
        output::RunMeta {
            config: output::config_block(
                &self.policy.lm_eval_model,
                PyJson::str(opts.model_args.clone()),
                PyJson::Int(1),
                limit,
                opts.bootstrap_iters,
                PyJson::dict(),
                seeds,
            ),
            git_hash: opts.git_rev.clone(),
            date: self.started_unix,
            env_info: IndexMap::new(),
            model_source: self.policy.lm_eval_model.clone(),
            model_name: self.model.name.clone(),
            system_instruction: opts.format.system_instruction.clone(),
            fewshot_as_multiturn: opts.format.chat.as_ref().map(|c| c.fewshot_as_multiturn),
            chat_template: opts.format.chat.as_ref().and_then(|c| match &c.renderer {
                yardstick_tasks::ChatRenderer::Template(t) => Some(t.source().to_string()),
                yardstick_tasks::ChatRenderer::Messages => None,
            }),
            total_evaluation_time_seconds: self.start.elapsed().as_secs_f64(),
            yardstick: output::YardstickMeta {
                tool_version: yardstick_core::YARDSTICK_VERSION.into(),
                lm_eval_compat_version: yardstick_core::LM_EVAL_COMPAT_VERSION.into(),
                run_id: self.run_id.clone(),
                store_path: Some(self.store.path().display().to_string()),
                numeric_env: self.env,
                extra: IndexMap::from([
                    (
                        "model_fingerprint".to_string(),
                        PyJson::str(self.fingerprint.clone()),
                    ),
                    ("requests_total".to_string(), int(counts.total)),
                    ("requests_reused".to_string(), int(counts.reused)),
                    (
                        "requests_sent".to_string(),
                        int(counts.stats.requests_answered),
                    ),
                ]),
            },
        }
    }
}

fn group_records(groups: &[scoring::GroupResult]) -> Vec<AggregateRecord> {
    groups
        .iter()
        .flat_map(|g| {
            g.metrics.iter().map(move |m| AggregateRecord {
                task: g.name.clone(),
                metric: m.metric.clone(),
                filter: m.filter.clone(),
                value: Some(m.value),
                stderr: m.stderr.value(),
                n: m.sample_count as i64,
                is_group: true,
            })
        })
        .collect()
}

/// What the user asked for (tasks and groups, as lm-eval's results file lists them), from the resolved
/// selection.
pub fn requested(selection: &Selection) -> Vec<scoring::groups::Requested> {
    selection.roots.iter().map(to_requested).collect()
}

fn to_requested(node: &SelectionNode) -> scoring::groups::Requested {
    match node {
        SelectionNode::Task(t) => scoring::groups::Requested::Task(t.task.clone()),
        SelectionNode::Group { .. } => scoring::groups::Requested::Group(to_group_node(node)),
    }
}

fn to_group_node(node: &SelectionNode) -> GroupNode {
    match node {
        SelectionNode::Group {
            name,
            alias,
            config,
            children,
        } => GroupNode {
            name: name.clone(),
            alias: alias.clone(),
            version: match config.version() {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => Some(other.to_string()),
            },
            aggregate_metric_list: config
                .aggregate_metric_list
                .iter()
                .flatten()
                .map(|a| GroupAggMetric {
                    metric: a.metric.clone(),
                    weight_by_size: a.weight_by_size,
                    filter_list: a.filter_list.clone(),
                })
                .collect(),
            children: children
                .iter()
                .map(|c| match c {
                    SelectionNode::Task(t) => GroupChild::Task(t.task.clone()),
                    g => GroupChild::Group(to_group_node(g)),
                })
                .collect(),
        },
        SelectionNode::Task(t) => GroupNode {
            name: t.task.clone(),
            alias: None,
            version: None,
            aggregate_metric_list: Vec::new(),
            children: Vec::new(),
        },
    }
}
