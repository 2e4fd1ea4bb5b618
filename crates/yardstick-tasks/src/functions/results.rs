//! Native `process_results` functions as data ([`ResultsProcessor`]): what the scoring engine computes for
//! a document instead of its output type's default metrics, described without naming the task, and which
//! metrics of lm-eval's function Yardstick does not compute ([`MetricNotComputed`]).

use std::sync::Mutex;

use serde_json::Value;
use yardstick_core::Doc;

use crate::TaskConfig;

/// A native `process_results`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultsProcessor {
    /// lm-eval's `process_results_mc2` (TruthfulQA MC2): the normalised probability mass of the choices whose
    /// label in `doc[labels_field].labels` is 1, reported as `acc`.
    ProbabilityMassOfTrue { labels_field: &'static str },
    /// lm-eval's `minerva_math/utils.py::process_results` on the first filtered response: `exact_match` and
    /// `math_verify`, ints 0/1 ([`crate::math_answer::minerva_process_results`]).
    MinervaMath,
    /// lm-eval's `ifeval/utils.py::process_results` on the first response ([`crate::ifeval::score`]):
    /// `prompt_level_strict_acc` and `prompt_level_loose_acc` (booleans), `inst_level_strict_acc` and
    /// `inst_level_loose_acc` (a list of booleans, one per instruction, aggregated by
    /// `agg_inst_level_acc`).
    IfEval,
}

/// A metric that lm-eval's `process_results` reports and Yardstick's port does not compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MetricNotComputed {
    pub metric: &'static str,
    /// Why not (a sentence for messages and docs).
    pub reason: &'static str,
}

impl ResultsProcessor {
    /// The processor a `process_results` name (as stored in a task config) stands for.
    pub fn from_name(name: &str) -> Option<ResultsProcessor> {
        match name {
            "truthfulqa_mc2" => Some(ResultsProcessor::ProbabilityMassOfTrue {
                labels_field: "mc2_targets",
            }),
            "minerva_math" => Some(ResultsProcessor::MinervaMath),
            "ifeval" => Some(ResultsProcessor::IfEval),
            _ => None,
        }
    }

    /// The metrics it computes, in the order lm-eval's function returns them.
    pub fn metrics_computed(&self) -> &'static [&'static str] {
        match self {
            ResultsProcessor::ProbabilityMassOfTrue { .. } => &["acc"],
            ResultsProcessor::MinervaMath => &["exact_match", "math_verify"],
            ResultsProcessor::IfEval => &[
                "prompt_level_strict_acc",
                "inst_level_strict_acc",
                "prompt_level_loose_acc",
                "inst_level_loose_acc",
            ],
        }
    }

    /// The metrics lm-eval's function also returns that Yardstick does not compute.
    pub fn metrics_not_computed(&self) -> &'static [MetricNotComputed] {
        match self {
            ResultsProcessor::ProbabilityMassOfTrue { .. }
            | ResultsProcessor::MinervaMath
            | ResultsProcessor::IfEval => &[],
        }
    }

    /// The per-choice labels of document `doc_id` of `task`, or what is wrong with it.
    pub fn labels(
        &self,
        task: &str,
        doc_id: usize,
        doc: &Doc,
    ) -> Result<Vec<i64>, crate::TaskError> {
        let ResultsProcessor::ProbabilityMassOfTrue { labels_field } = self else {
            return Err(crate::TaskError::Task {
                task: task.to_string(),
                message: format!("process_results {self:?} has no per-choice labels"),
            });
        };
        let bad = |what: &str| crate::TaskError::Doc {
            task: task.to_string(),
            doc_id,
            field: format!("{labels_field}.labels"),
            message: what.to_string(),
        };
        let list = doc
            .get(*labels_field)
            .and_then(|v| v.get("labels"))
            .and_then(Value::as_array)
            .ok_or_else(|| bad("is missing (expected a list of 0/1 labels)"))?;
        list.iter()
            .map(|x| {
                x.as_i64()
                    .ok_or_else(|| bad(&format!("holds {x}, not an integer")))
            })
            .collect()
    }
}

impl TaskConfig {
    /// The native `process_results` this task scores with, if any.
    pub fn results_processor(&self) -> Option<ResultsProcessor> {
        self.process_results.and_then(ResultsProcessor::from_name)
    }

    /// The metrics of this task's `metric_list` that lm-eval's `process_results` computes and Yardstick does
    /// not (none at present; minerva_math's `math_verify` was one until it was ported): they stay in the config (and in lm-eval's `configs` dump) but
    /// no value, aggregate or group aggregate is reported for them.
    pub fn metrics_not_computed(&self) -> Vec<MetricNotComputed> {
        let Some(p) = self.results_processor() else {
            return Vec::new();
        };
        let listed = self.metrics();
        p.metrics_not_computed()
            .iter()
            .filter(|m| listed.iter().any(|l| l.name == m.metric))
            .copied()
            .collect()
    }
}

impl crate::PreparedTask {
    /// The native `process_results` this task scores with, if any.
    pub fn results_processor(&self) -> Option<ResultsProcessor> {
        self.config().results_processor()
    }
}

/// Say once per process, for each metric, that a task lists a metric Yardstick does not compute.
pub(crate) fn warn_metrics_not_computed(config: &TaskConfig) {
    static WARNED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    for m in config.metrics_not_computed() {
        let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        if warned.contains(&m.metric) {
            continue;
        }
        warned.push(m.metric);
        let computed = config
            .results_processor()
            .map(|p| p.metrics_computed().join(", "))
            .unwrap_or_default();
        tracing::warn!(
            "task {}: metric `{}` is in its metric_list but is NOT computed by Yardstick: {}. Only {} is \
             reported, for this task and every other task using the same process_results (no `{}` value, \
             aggregate or group aggregate).",
            config.task,
            m.metric,
            m.reason,
            computed,
            m.metric
        );
    }
}
