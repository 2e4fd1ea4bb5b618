//! Scoring a `generate_until` task as lm-eval's evaluator does: each filter pipeline of the task is applied
//! to the raw responses of every instance, then `process_results` runs once per (document, filter); the
//! samples are logged filter by filter (all documents under the first filter, then under the next), and
//! every metric is aggregated per `(metric, filter)`.

use super::code_exec::CodeExec;
use super::score::{scoring_err, DocResults, ScoredTask};
use super::score_code::CodeScorer;
use super::EvalError;
use crate::output::{self, FilteredResp, Resp};
use crate::scoring::{
    DocMetrics, FilterChain, Filtered, GenerationScorer, MetricValue, NumericEnv, ScoringError,
};
use indexmap::IndexMap;
use std::cell::Cell;
use yardstick_core::python::json::PyJson;
use yardstick_store::ledger::SampleRecord as StoredSample;
use yardstick_tasks::ifeval;
use yardstick_tasks::math_answer::{self, Verdict};
use yardstick_tasks::{DocRequests, PreparedTask, ResultsProcessor};

/// Score a generation task from the generated texts in `results` (one entry per document of `docs`).
pub(super) fn score_generation(
    task: &PreparedTask,
    docs: &[DocRequests],
    results: &[DocResults],
    bootstrap_iters: i64,
    env: NumericEnv,
    code: Option<&CodeExec>,
) -> Result<ScoredTask, EvalError> {
    let err = scoring_err(task);
    let chains = FilterChain::for_task(task.config()).map_err(&err)?;
    let mut scorer = Scorer::new(task, code)?;
    let gen_kwargs = task
        .config()
        .generation_kwargs
        .clone()
        .map(serde_json::Value::Object);
    let mut per_metric: IndexMap<(String, String), Vec<MetricValue>> = IndexMap::new();
    let n = docs.len() * chains.len();
    let (mut samples, mut lines, mut hashes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let filtered_all = chains
        .iter()
        .map(|chain| filter_all(task, chain, docs, results))
        .collect::<Result<Vec<_>, _>>()?;
    if let Scorer::Code(c) = &mut scorer {
        c.execute(task, docs, &filtered_all)?;
    }
    for (chain, per_doc) in chains.iter().zip(&filtered_all) {
        for ((d, r), filtered) in docs.iter().zip(results).zip(per_doc) {
            let metrics = scorer.score(task, d, &r.generations, filtered)?;
            for (m, v) in &metrics {
                per_metric
                    .entry((m.clone(), chain.name.clone()))
                    .or_default()
                    .push(v.clone());
            }
            let rec = Record {
                task: task.name(),
                filter: &chain.name,
                gen_kwargs: gen_kwargs.as_ref(),
                chat: task.format().chat.as_ref(),
            };
            let (mut sample, line, h) = rec.sample(d, r, filtered, &metrics);
            if let (Scorer::Code(c), serde_json::Value::Object(o)) = (&scorer, &mut sample.record) {
                o.insert("code_executions".into(), c.record(task, d, filtered)?);
            }
            samples.push(sample);
            lines.push(line);
            hashes.push(h);
        }
    }
    scorer.report(task, n);
    let aggregate = super::score::aggregate(task, per_metric, bootstrap_iters, env)?;
    Ok(ScoredTask {
        output: super::score::task_output(task, aggregate, hashes),
        samples,
        lines,
    })
}

/// One filter pipeline applied to every document's generations.
fn filter_all(
    task: &PreparedTask,
    chain: &FilterChain,
    docs: &[DocRequests],
    results: &[DocResults],
) -> Result<Vec<Vec<Filtered>>, EvalError> {
    docs.iter()
        .zip(results)
        .map(|(d, r)| {
            if r.generations.len() != d.instances.len() {
                return Err(EvalError::Internal(format!(
                    "task {} doc {}: {} instances but {} generations",
                    task.name(),
                    d.doc_id,
                    d.instances.len(),
                    r.generations.len()
                )));
            }
            r.generations
                .iter()
                .map(|resps| chain.apply(resps, &d.doc))
                .collect::<Result<Vec<Filtered>, _>>()
                .map_err(|source| EvalError::Scoring {
                    task: format!("{} (doc {})", task.name(), d.doc_id),
                    source,
                })
        })
        .collect()
}

/// The task's `process_results`: a native port (minerva_math) or lm-eval's generic generation branch.
enum Scorer<'a> {
    Generic(GenerationScorer),
    /// Metrics that run the candidates as programs (humaneval, mbpp).
    Code(CodeScorer<'a>),
    /// lm-eval's minerva_math `process_results`: `exact_match` and `math_verify`. Counts, per metric, the
    /// responses whose equivalence this port could not decide (scored 0).
    Minerva {
        undecided: Cell<usize>,
        undecided_math_verify: Cell<usize>,
    },
    /// lm-eval's ifeval `process_results`: the strict and loose prompt-level booleans and per-instruction
    /// lists ([`yardstick_tasks::ifeval::score`]).
    IfEval,
}

impl<'a> Scorer<'a> {
    fn new(task: &PreparedTask, code: Option<&'a CodeExec>) -> Result<Scorer<'a>, EvalError> {
        if let Some(c) = CodeScorer::new(task, code)? {
            return Ok(Scorer::Code(c));
        }
        match task.results_processor() {
            None => Ok(Scorer::Generic(
                GenerationScorer::new(task.name(), &task.metrics(), task.multiple_target())
                    .map_err(scoring_err(task))?,
            )),
            Some(ResultsProcessor::MinervaMath) => Ok(Scorer::Minerva {
                undecided: Cell::new(0),
                undecided_math_verify: Cell::new(0),
            }),
            Some(ResultsProcessor::IfEval) => Ok(Scorer::IfEval),
            Some(p) => Err(EvalError::Unsupported(format!(
                "task {}: process_results {p:?} is not available for generation tasks",
                task.name()
            ))),
        }
    }

    /// After the last document: what the scorer has to say about the task as a whole.
    fn report(&self, task: &PreparedTask, scored: usize) {
        if let Scorer::Code(c) = self {
            c.report(task);
        }
        if let Scorer::Minerva {
            undecided,
            undecided_math_verify,
        } = self
        {
            for (metric, n) in [
                ("exact_match", undecided.get()),
                ("math_verify", undecided_math_verify.get()),
            ] {
                if n > 0 {
                    tracing::warn!(
                        "task {}: {metric} of {n} of {scored} responses could not be decided by Yardstick's \
                         port of the sympy equivalence check and was scored 0 (lm-eval may score some of them 1)",
                        task.name()
                    );
                }
            }
        }
    }

    fn score(
        &self,
        task: &PreparedTask,
        d: &DocRequests,
        _raw: &[Vec<String>],
        filtered: &[Filtered],
    ) -> Result<DocMetrics, EvalError> {
        let first = filtered.first().ok_or_else(|| {
            EvalError::Internal(format!("task {} doc {}: no request", task.name(), d.doc_id))
        })?;
        match self {
            Scorer::Generic(s) => s.score(&d.target, first).map_err(scoring_err(task)),
            Scorer::Code(c) => c.score(task, d, filtered),
            Scorer::Minerva {
                undecided,
                undecided_math_verify,
            } => {
                let err = |why: String| {
                    scoring_err(task)(ScoringError::Generation {
                        task: format!("{} (doc {})", task.name(), d.doc_id),
                        metric: "exact_match".into(),
                        why,
                    })
                };
                let Filtered::One(response) = first else {
                    return Err(err(
                        "minerva_math's process_results takes one response string, but the filter \
                         pipeline left a list (Python fails on it too)"
                            .into(),
                    ));
                };
                let score = math_answer::minerva_process_results(&d.doc, response)
                    .map_err(|e| err(e.to_string()))?;
                if matches!(score.exact_match_verdict, Verdict::Undecided(_)) {
                    undecided.set(undecided.get() + 1);
                }
                if matches!(score.math_verify_verdict, Verdict::Undecided(_)) {
                    undecided_math_verify.set(undecided_math_verify.get() + 1);
                }
                Ok(vec![
                    (
                        "exact_match".to_string(),
                        MetricValue::int(score.exact_match),
                    ),
                    (
                        "math_verify".to_string(),
                        MetricValue::int(score.math_verify),
                    ),
                ])
            }
            Scorer::IfEval => ifeval_metrics(task, d, first),
        }
    }
}

/// lm-eval's ifeval `process_results(doc, [response])`, in its key order.
fn ifeval_metrics(
    task: &PreparedTask,
    d: &DocRequests,
    first: &Filtered,
) -> Result<DocMetrics, EvalError> {
    let err = |why: String| {
        scoring_err(task)(ScoringError::Generation {
            task: format!("{} (doc {})", task.name(), d.doc_id),
            metric: "prompt_level_strict_acc".into(),
            why,
        })
    };
    let Filtered::One(response) = first else {
        return Err(err(
            "ifeval's process_results takes one response string, but the filter pipeline left a list"
                .into(),
        ));
    };
    let s = ifeval::score(&d.doc, response).map_err(|e| err(e.to_string()))?;
    Ok(vec![
        (
            "prompt_level_strict_acc".into(),
            MetricValue::Bool {
                value: s.prompt_level_strict_acc,
            },
        ),
        (
            "inst_level_strict_acc".into(),
            MetricValue::BoolList {
                values: s.inst_level_strict_acc,
            },
        ),
        (
            "prompt_level_loose_acc".into(),
            MetricValue::Bool {
                value: s.prompt_level_loose_acc,
            },
        ),
        (
            "inst_level_loose_acc".into(),
            MetricValue::BoolList {
                values: s.inst_level_loose_acc,
            },
        ),
    ])
}

/// What every sample line of one (task, filter) shares.
struct Record<'a> {
    task: &'a str,
    filter: &'a str,
    gen_kwargs: Option<&'a serde_json::Value>,
    /// The chat format the prompts were rendered with, if any.
    chat: Option<&'a yardstick_tasks::ChatFormat>,
}

impl Record<'_> {
    fn sample(
        &self,
        d: &DocRequests,
        r: &DocResults,
        filtered: &[Filtered],
        metrics: &DocMetrics,
    ) -> (StoredSample, String, output::SampleHashes) {
        let arguments: Vec<output::RequestArgTuple> = d
            .instances
            .iter()
            .map(|i| {
                let mut t = output::RequestArgTuple::from_request(&i.args, self.gen_kwargs);
                // a chat message list: lm-eval holds it as a `JsonChatStr` (a one-field named tuple), which
                // its samples file writes as a one-element list
                if matches!(
                    self.chat.map(|c| &c.renderer),
                    Some(yardstick_tasks::ChatRenderer::Messages)
                ) {
                    if let Some(first) = t.0.first_mut() {
                        *first = PyJson::List(vec![first.clone()]);
                    }
                }
                t
            })
            .collect();
        let resps: Vec<Vec<Resp>> = r
            .generations
            .iter()
            .map(|g| g.iter().cloned().map(Resp::Text).collect())
            .collect();
        let filtered_resps: Vec<FilteredResp> = filtered
            .iter()
            .map(|f| match f {
                Filtered::One(s) => FilteredResp::One(Resp::Text(s.clone())),
                Filtered::Many(v) => {
                    FilteredResp::Many(v.iter().cloned().map(Resp::Text).collect())
                }
            })
            .collect();
        let rec = output::SampleRecord {
            doc_id: d.doc_id,
            doc: &d.doc,
            target: &d.target,
            arguments,
            resps,
            filtered_resps,
            filter: self.filter,
            metrics,
        };
        let (mut stored, line, h) =
            super::score::stored_sample(self.task, self.filter, d, r, &rec, metrics);
        // the store keeps the exact message list behind a chat prompt (the samples line has lm-eval's shape)
        if let (Some(chat), serde_json::Value::Object(o)) = (self.chat, &mut stored.record) {
            let msgs = if chat.fewshot_as_multiturn {
                yardstick_tasks::prompt::to_chat(&d.messages)
            } else {
                yardstick_tasks::prompt::multiturn_to_singleturn(&d.messages)
            };
            o.insert(
                "chat_messages".into(),
                serde_json::to_value(&msgs).unwrap_or(serde_json::Value::Null),
            );
        }
        (stored, line, h)
    }
}
