//! Per-sample records as lm-eval 0.4.13 logs them (`evaluator.evaluate` builds the record,
//! `EvaluationTracker.save_results_samples` sanitises and writes it): one JSON line per document per
//! filter with `doc_id, doc, target, arguments, resps, filtered_resps, filter, metrics, doc_hash,
//! prompt_hash, target_hash` followed by each metric's value.

use yardstick_core::{sha256_hex, Doc, LoglikelihoodResult, RequestArgs, Target};

use super::pyrepr::{numpy_array_str, target_str};
use crate::scoring::{DocMetrics, Gold, MetricValue};
use yardstick_core::python::json::PyJson;
use yardstick_core::python::py_float_repr;

/// One raw model response as lm-eval holds it before `sanitize_list` stringifies it.
#[derive(Clone, Debug, PartialEq)]
pub enum Resp {
    /// `(loglikelihood, is_greedy)` → `["-1.25", "False"]`.
    Loglikelihood(LoglikelihoodResult),
    /// A rolling loglikelihood (a float) → `"-123.5"`.
    Float(f64),
    /// A generated text.
    Text(String),
}

impl Resp {
    /// `sanitize_list`: every leaf becomes its Python `str()`; tuples become lists.
    pub fn sanitized(&self) -> PyJson {
        match self {
            Resp::Loglikelihood(r) => PyJson::List(vec![
                PyJson::Str(py_float_repr(r.logprob)),
                PyJson::str(if r.is_greedy { "True" } else { "False" }),
            ]),
            Resp::Float(x) => PyJson::Str(py_float_repr(*x)),
            Resp::Text(t) => PyJson::Str(t.clone()),
        }
    }
}

/// What a filter left for one request: one response (`take_first`) or several.
#[derive(Clone, Debug, PartialEq)]
pub enum FilteredResp {
    One(Resp),
    Many(Vec<Resp>),
}

impl FilteredResp {
    pub fn sanitized(&self) -> PyJson {
        match self {
            FilteredResp::One(r) => r.sanitized(),
            FilteredResp::Many(rs) => PyJson::List(rs.iter().map(Resp::sanitized).collect()),
        }
    }
}

/// One request's arguments as lm-eval's `Instance.args` tuple.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestArgTuple(pub Vec<PyJson>);

impl RequestArgTuple {
    /// `(context, continuation)` or `(text,)`. For `generate_until`, pass the exact generation kwargs
    /// dict lm-eval logs (the task's `generation_kwargs` after defaults) as `gen_kwargs`.
    pub fn from_request(args: &RequestArgs, gen_kwargs: Option<&serde_json::Value>) -> Self {
        match args {
            RequestArgs::Loglikelihood {
                context,
                continuation,
            } => RequestArgTuple(vec![
                PyJson::str(context.clone()),
                PyJson::str(continuation.clone()),
            ]),
            RequestArgs::LoglikelihoodRolling { text } => {
                RequestArgTuple(vec![PyJson::str(text.clone())])
            }
            RequestArgs::GenerateUntil { context, params } => {
                let kwargs = match gen_kwargs {
                    Some(v) => PyJson::from(v),
                    None => PyJson::from(
                        &serde_json::to_value(params).unwrap_or(serde_json::Value::Null),
                    ),
                };
                RequestArgTuple(vec![PyJson::str(context.clone()), kwargs])
            }
        }
    }

    /// The string hashed into `prompt_hash` (`requests[0].arguments[0]`).
    /// (A chat message list is held as a one-element list, lm-eval's `JsonChatStr`; its text is hashed.)
    pub fn first(&self) -> Option<&str> {
        match self.0.first()? {
            PyJson::List(items) if items.len() == 1 => items[0].as_str(),
            v => v.as_str(),
        }
    }
}

/// A document's record before serialisation.
#[derive(Clone, Debug)]
pub struct SampleRecord<'a> {
    pub doc_id: usize,
    pub doc: &'a Doc,
    pub target: &'a Target,
    /// One per request, in `idx` order (for multiple choice: the choices, then any unconditional
    /// requests).
    pub arguments: Vec<RequestArgTuple>,
    /// One list per request: the responses of its repeats.
    pub resps: Vec<Vec<Resp>>,
    /// One per request, after the filter.
    pub filtered_resps: Vec<FilteredResp>,
    pub filter: &'a str,
    pub metrics: &'a DocMetrics,
}

/// `hash_string(json.dumps(doc, indent=2, ensure_ascii=False))`.
pub fn doc_hash(doc: &Doc) -> String {
    yardstick_core::python::json::doc_hash(doc)
}

/// `hash_string(arguments[0])` of the first request.
pub fn prompt_hash(first_arg: &str) -> String {
    sha256_hex(first_arg)
}

/// `hash_string(str(target))`.
pub fn target_hash(target: &Target) -> String {
    sha256_hex(target_str(target))
}

fn gold_json(g: &Gold) -> PyJson {
    match g {
        Gold::Index(i) => PyJson::Int(*i as i128),
        Gold::Indices(v) => PyJson::List(v.iter().map(|&i| PyJson::Int(i as i128)).collect()),
    }
}

/// A per-document metric value as lm-eval writes it (`json.dumps` with `handle_non_serializable`).
pub fn metric_value_json(v: &MetricValue) -> PyJson {
    match v {
        MetricValue::Float { value } => PyJson::Float(*value),
        MetricValue::Int { value } => PyJson::Int(*value as i128),
        MetricValue::LoglikelihoodCount {
            loglikelihood,
            count,
        } => PyJson::List(vec![
            PyJson::Float(*loglikelihood),
            PyJson::Int(*count as i128),
        ]),
        MetricValue::GoldPred { gold, pred } => {
            PyJson::List(vec![gold_json(gold), PyJson::Int(*pred as i128)])
        }
        MetricValue::GoldProbs { gold, probs } => {
            PyJson::List(vec![gold_json(gold), PyJson::Str(numpy_array_str(probs))])
        }
        MetricValue::GoldLoglikelihoods {
            gold,
            loglikelihoods,
        } => PyJson::List(vec![
            gold_json(gold),
            PyJson::List(loglikelihoods.iter().map(|&x| PyJson::Float(x)).collect()),
        ]),
        MetricValue::Bool { value } => PyJson::Bool(*value),
        MetricValue::BoolList { values } => {
            PyJson::List(values.iter().map(|&b| PyJson::Bool(b)).collect())
        }
    }
}

/// The three hashes of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleHashes {
    pub doc_hash: String,
    pub prompt_hash: String,
    pub target_hash: String,
}

impl SampleRecord<'_> {
    pub fn hashes(&self) -> SampleHashes {
        SampleHashes {
            doc_hash: doc_hash(self.doc),
            prompt_hash: prompt_hash(self.arguments.first().and_then(|a| a.first()).unwrap_or("")),
            target_hash: target_hash(self.target),
        }
    }

    /// The sanitised record as lm-eval writes it.
    pub fn to_pyjson(&self) -> PyJson {
        let h = self.hashes();
        let mut rec = PyJson::dict();
        rec.insert("doc_id", PyJson::from(self.doc_id));
        rec.insert("doc", PyJson::from(self.doc));
        rec.insert("target", PyJson::Str(target_str(self.target)));
        let mut arguments = PyJson::dict();
        for (i, a) in self.arguments.iter().enumerate() {
            let mut args = PyJson::dict();
            for (j, v) in a.0.iter().enumerate() {
                args.insert(format!("arg_{j}"), v.clone());
            }
            arguments.insert(format!("gen_args_{i}"), args);
        }
        rec.insert("arguments", arguments);
        rec.insert(
            "resps",
            PyJson::List(
                self.resps
                    .iter()
                    .map(|r| PyJson::List(r.iter().map(Resp::sanitized).collect()))
                    .collect(),
            ),
        );
        rec.insert(
            "filtered_resps",
            PyJson::List(
                self.filtered_resps
                    .iter()
                    .map(FilteredResp::sanitized)
                    .collect(),
            ),
        );
        rec.insert("filter", PyJson::str(self.filter));
        rec.insert(
            "metrics",
            PyJson::List(
                self.metrics
                    .iter()
                    .map(|(k, _)| PyJson::str(k.clone()))
                    .collect(),
            ),
        );
        rec.insert("doc_hash", PyJson::Str(h.doc_hash));
        rec.insert("prompt_hash", PyJson::Str(h.prompt_hash));
        rec.insert("target_hash", PyJson::Str(h.target_hash));
        for (k, v) in self.metrics {
            rec.insert(k.clone(), metric_value_json(v));
        }
        rec
    }

    /// One line of `samples_<task>_<date>.jsonl` (with its trailing newline).
    pub fn to_line(&self) -> String {
        let mut s = self.to_pyjson().dumps();
        s.push('\n');
        s
    }
}

/// `task_hashes[task]`: sha256 of the concatenated `doc_hash + prompt_hash + target_hash` of every
/// logged sample of the task, in order (all filters).
pub fn task_hash<'a>(hashes: impl IntoIterator<Item = &'a SampleHashes>) -> String {
    let mut s = String::new();
    for h in hashes {
        s.push_str(&h.doc_hash);
        s.push_str(&h.prompt_hash);
        s.push_str(&h.target_hash);
    }
    sha256_hex(s)
}
