//! Scoring one task: from its documents and the result of each request to per-sample metrics, the
//! lm-eval-compatible sample lines, the records the store keeps and the task's aggregates. A public
//! function over plain inputs, so it is tested (and reused) without a run around it.

use super::EvalError;
use crate::output::{self, PyJson, Resp};
use crate::scoring::{
    self, aggregate::RawMetric, Aggregation, DocMetrics, MetricValue, MultipleChoiceInput,
    NumericEnv, RollingInput,
};
use indexmap::IndexMap;
use yardstick_core::{LoglikelihoodResult, OutputType, RequestArgs, Target};
use yardstick_store::ledger::SampleRecord as StoredSample;
use yardstick_tasks::{DocRequests, PreparedTask, ResultsProcessor};

/// The results of one document's requests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocResults {
    /// One result per instance of the document, in its order (a rolling request's windows already summed).
    pub instances: Vec<LoglikelihoodResult>,
    /// Of a `generate_until` task: per instance, the generated text of each repeat.
    pub generations: Vec<Vec<String>>,
    /// The ledger keys of the requests behind them (recorded with the sample, for tracing).
    pub request_keys: Vec<String>,
}

impl DocResults {
    /// A generation document's results: one instance that generated `texts` (one per repeat).
    pub fn generated<S: Into<String>>(texts: impl IntoIterator<Item = S>) -> DocResults {
        DocResults {
            generations: vec![texts.into_iter().map(Into::into).collect()],
            ..Default::default()
        }
    }
}

/// A scored task.
pub struct ScoredTask {
    /// What lm-eval's results file says of the task (aggregates, config, hashes).
    pub output: output::TaskOutput,
    /// One record per document, as the store keeps it.
    pub samples: Vec<StoredSample>,
    /// One lm-eval samples line per document (`samples_<task>.jsonl`).
    pub lines: Vec<String>,
}

/// Score `task` from `results` (one entry per document of `docs`, in order).
pub fn score_task(
    task: &PreparedTask,
    docs: &[DocRequests],
    results: &[DocResults],
    bootstrap_iters: i64,
    env: NumericEnv,
) -> Result<ScoredTask, EvalError> {
    score_task_with(task, docs, results, bootstrap_iters, env, None)
}

/// [`score_task`], with the sandbox that runs the candidates of code benchmarks (required for tasks whose
/// metrics run code: humaneval, mbpp). Blocks on the sandbox: call it from a blocking thread.
pub fn score_task_with(
    task: &PreparedTask,
    docs: &[DocRequests],
    results: &[DocResults],
    bootstrap_iters: i64,
    env: NumericEnv,
    code: Option<&super::code_exec::CodeExec>,
) -> Result<ScoredTask, EvalError> {
    if docs.len() != results.len() {
        return Err(EvalError::Internal(format!(
            "task {}: {} documents but results for {}",
            task.name(),
            docs.len(),
            results.len()
        )));
    }
    if task.output_type() == OutputType::GenerateUntil {
        return super::score_generation::score_generation(
            task,
            docs,
            results,
            bootstrap_iters,
            env,
            code,
        );
    }
    if let Some(p @ ResultsProcessor::MinervaMath) = task.results_processor() {
        return Err(EvalError::Unsupported(format!(
            "task {}: process_results {p:?} scores generated text; the task's output_type is {}",
            task.name(),
            task.output_type().as_str()
        )));
    }
    let metric_names: Vec<String> = task.metrics().into_iter().map(|m| m.name).collect();
    let names: Vec<&str> = metric_names.iter().map(String::as_str).collect();
    let mut per_metric: IndexMap<(String, String), Vec<MetricValue>> = IndexMap::new();
    let mut samples = Vec::with_capacity(docs.len());
    let mut lines = Vec::with_capacity(docs.len());
    let mut hashes = Vec::with_capacity(docs.len());
    for (d, r) in docs.iter().zip(results) {
        let metrics = doc_metrics(task, d, &r.instances, &names, env)?;
        for (m, v) in &metrics {
            per_metric
                .entry((m.clone(), "none".into()))
                .or_default()
                .push(v.clone());
        }
        let (sample, line, h) = sample_record(task.name(), d, r, &metrics);
        samples.push(sample);
        lines.push(line);
        hashes.push(h);
    }
    let aggregate = aggregate(task, per_metric, bootstrap_iters, env)?;
    Ok(ScoredTask {
        output: task_output(task, aggregate, hashes),
        samples,
        lines,
    })
}

pub(super) fn scoring_err(task: &PreparedTask) -> impl Fn(scoring::ScoringError) -> EvalError + '_ {
    move |source| EvalError::Scoring {
        task: task.name().to_string(),
        source,
    }
}

/// One document's metrics, as lm-eval's `process_results` computes them for the task's output type (or
/// the task's native `process_results`).
fn doc_metrics(
    task: &PreparedTask,
    d: &DocRequests,
    results: &[LoglikelihoodResult],
    names: &[&str],
    env: NumericEnv,
) -> Result<DocMetrics, EvalError> {
    let err = scoring_err(task);
    Ok(match task.output_type() {
        OutputType::MultipleChoice => {
            let choices = d.choices.clone().unwrap_or_default();
            let n = choices.len();
            if let Some(p @ ResultsProcessor::ProbabilityMassOfTrue { .. }) =
                task.results_processor()
            {
                let labels = p.labels(task.name(), d.doc_id, &d.doc)?;
                let lls: Vec<f64> = results.iter().take(n).map(|r| r.logprob).collect();
                return scoring::probability_mass_of_true(&lls, &labels, env.numpy_exp)
                    .map_err(err);
            }
            let (cond, uncond) = results.split_at(n.min(results.len()));
            let input = MultipleChoiceInput {
                choices: &choices,
                gold: &d.target,
                multiple_target: task.multiple_target(),
                results: cond,
                unconditional: (!uncond.is_empty()).then_some(uncond),
            };
            scoring::multiple_choice(&input, names, env.numpy_exp).map_err(err)?
        }
        OutputType::Loglikelihood => {
            let r = results.first().copied().ok_or_else(|| {
                EvalError::Internal(format!(
                    "task {}: doc {} has no request",
                    task.name(),
                    d.doc_id
                ))
            })?;
            scoring::loglikelihood(r, names)
        }
        OutputType::LoglikelihoodRolling => {
            let text = match &d.target {
                Target::Text(s) => s.clone(),
                _ => d.target_string.clone(),
            };
            let ll = results.first().map(|r| r.logprob).unwrap_or(0.0);
            scoring::loglikelihood_rolling(
                &RollingInput {
                    text: &text,
                    loglikelihood: ll,
                },
                names,
            )
        }
        OutputType::GenerateUntil => {
            return Err(EvalError::Internal(format!(
                "task {}: a generation task is scored by score_generation",
                task.name()
            )))
        }
    })
}

/// The lm-eval samples line of one document and the record the store keeps.
fn sample_record(
    task: &str,
    d: &DocRequests,
    r: &DocResults,
    metrics: &DocMetrics,
) -> (StoredSample, String, output::SampleHashes) {
    let arguments: Vec<output::RequestArgTuple> = d
        .instances
        .iter()
        .map(|i| output::RequestArgTuple::from_request(&i.args, None))
        .collect();
    let resps: Vec<Vec<Resp>> = d
        .instances
        .iter()
        .zip(&r.instances)
        .map(|(i, r)| match i.args {
            RequestArgs::LoglikelihoodRolling { .. } => vec![Resp::Float(r.logprob)],
            _ => vec![Resp::Loglikelihood(*r)],
        })
        .collect();
    let filtered: Vec<output::FilteredResp> = resps
        .iter()
        .map(|r| output::FilteredResp::One(r[0].clone()))
        .collect();
    let rec = output::SampleRecord {
        doc_id: d.doc_id,
        doc: &d.doc,
        target: &d.target,
        arguments,
        resps,
        filtered_resps: filtered,
        filter: "none",
        metrics,
    };
    stored_sample(task, "none", d, r, &rec, metrics)
}

/// The samples line of `rec`, and the record the store keeps of it.
pub(super) fn stored_sample(
    task: &str,
    filter: &str,
    d: &DocRequests,
    r: &DocResults,
    rec: &output::SampleRecord<'_>,
    metrics: &DocMetrics,
) -> (StoredSample, String, output::SampleHashes) {
    let h = rec.hashes();
    let line = rec.to_line();
    let metrics_json: serde_json::Map<String, serde_json::Value> = metrics
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    let stored = StoredSample {
        task: task.to_string(),
        doc_id: d.doc_id as i64,
        filter: filter.into(),
        doc_hash: h.doc_hash.clone(),
        prompt_hash: h.prompt_hash.clone(),
        target_hash: h.target_hash.clone(),
        record: serde_json::from_str(line.trim_end()).unwrap_or(serde_json::Value::Null),
        request_keys: r.request_keys.clone(),
        fewshot_ids: d.fewshot_ids.iter().map(|&i| i as i64).collect(),
        metrics: serde_json::Value::Object(metrics_json),
    };
    (stored, line, h)
}

/// Each metric aggregated with the task's (or the metric's default) aggregation, with its stderr.
pub(super) fn aggregate(
    task: &PreparedTask,
    per_metric: IndexMap<(String, String), Vec<MetricValue>>,
    bootstrap_iters: i64,
    env: NumericEnv,
) -> Result<scoring::TaskAggregate, EvalError> {
    let err = scoring_err(task);
    let resolved = task.metrics();
    let raw: Vec<RawMetric> = per_metric
        .into_iter()
        .map(|((metric, filter), values)| {
            let agg = resolved
                .iter()
                .find(|m| scoring::generation::output_names(m).contains(&metric))
                .and_then(|m| m.aggregation.clone())
                .map(|a| Aggregation::parse(&a))
                .transpose()
                .map_err(&err)?
                .or_else(|| Aggregation::default_for_metric(&metric))
                .unwrap_or(Aggregation::Mean);
            Ok(RawMetric {
                metric,
                filter,
                aggregation: agg,
                values,
            })
        })
        .collect::<Result<_, EvalError>>()?;
    scoring::aggregate_task(&raw, bootstrap_iters, env).map_err(err)
}

pub(super) fn task_output(
    task: &PreparedTask,
    aggregate: scoring::TaskAggregate,
    hashes: Vec<output::SampleHashes>,
) -> output::TaskOutput {
    let higher_is_better: IndexMap<String, Option<bool>> = task
        .metrics()
        .iter()
        .flat_map(|m| {
            let mut names = scoring::generation::output_names(m);
            // A metric function returning a dict (humaneval's `pass_at_k` → `pass@1`): lm-eval keeps the
            // function's own name in `higher_is_better` and adds each key it returned.
            if m.function.is_some() && names != [m.name.clone()] {
                names.insert(0, m.name.clone());
            }
            names.into_iter().map(move |name| {
                let hib = m
                    .higher_is_better
                    .or_else(|| scoring::aggregate::default_higher_is_better(&name));
                (name, hib)
            })
        })
        .collect();
    let cfg = task.config();
    output::TaskOutput {
        name: task.name().to_string(),
        alias: cfg.task_alias.clone(),
        version: cfg
            .metadata
            .get("version")
            .map(PyJson::from)
            .unwrap_or(PyJson::None),
        config: PyJson::from(&cfg.to_lm_eval_dict(Some(task.num_fewshot() as u64))),
        num_fewshot: task.num_fewshot() as i64,
        higher_is_better,
        aggregate,
        n_samples_original: task.n_docs_total(),
        sample_hashes: Some(hashes),
    }
}
