//! lm-eval's filter pipelines (`filter_list`): what turns the raw generations of one document into
//! `filtered_resps[name]`, the value `process_results` scores.
//!
//! Each pipeline is compiled once per task ([`FilterChain::for_task`]) and applied per document
//! ([`FilterChain::apply`]). Values flow through the steps the way they do in Python: an instance
//! starts as the list of its responses (one per repeat); `take_first` turns it into a single value;
//! a per-response step applied to a single string walks its characters, as Python iterating a `str`
//! would. Steps that Python would fail on (a missing argument, an index out of range, a method on a
//! non-string) are errors naming the task, the pipeline and the step.
//!
//! Supported: lm-eval's registered filters `regex`, `take_first`, `take_first_k`, `majority_vote`,
//! `remove_whitespace`, `lowercase`, `uppercase`, `map`, `multi_choice_regex`, `format_span` (not
//! `regex_pos`, whose per-response lists of tags Yardstick cannot score), and native ports of
//! the filter classes of lm-eval's BBH zero-shot tasks (see [`choice`]).

mod choice;
mod code;
mod numbers;
mod span;
mod steps;

use serde_json::{Map, Value};
use yardstick_core::Doc;
use yardstick_tasks::{FilterPipeline, TaskConfig};

use super::ScoringError;
pub use choice::BBH_FILTERS;
pub use code::CODE_FILTERS;
use steps::Step;

/// lm-eval's `filtered_resps[name]` of one instance: a string (after `take_first`) or a list of
/// strings (e.g. the per-repeat values without `take_first`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Filtered {
    One(String),
    Many(Vec<String>),
}

/// One compiled filter pipeline of a task.
#[derive(Debug)]
pub struct FilterChain {
    /// The pipeline's name (`strict-match`, `flexible-extract`, `none`, …).
    pub name: String,
    task: String,
    steps: Vec<(String, Step)>,
}

/// The registered names of lm-eval's filters this module implements, and the native ports.
pub fn supported_filters() -> Vec<&'static str> {
    let mut v = steps::LM_EVAL_FILTERS.to_vec();
    v.extend_from_slice(BBH_FILTERS);
    v.extend_from_slice(CODE_FILTERS);
    v
}

impl FilterChain {
    /// `cfg.filter_list` compiled in order, or lm-eval's default `[{name: "none", filter: [take_first]}]`.
    pub fn for_task(cfg: &TaskConfig) -> Result<Vec<FilterChain>, ScoringError> {
        cfg.filters()
            .iter()
            .map(|p| FilterChain::compile(&cfg.task, p))
            .collect()
    }

    /// Compile one pipeline of task `task` (the name is only used in messages).
    pub fn compile(task: &str, p: &FilterPipeline) -> Result<FilterChain, ScoringError> {
        let mut steps = Vec::with_capacity(p.steps.len());
        for (i, s) in p.steps.iter().enumerate() {
            let step =
                Step::compile(&s.function, &s.kwargs).map_err(|why| ScoringError::Filter {
                    task: task.to_string(),
                    filter: p.name.clone(),
                    step: format!("{} (step {})", s.function, i + 1),
                    why,
                })?;
            steps.push((s.function.clone(), step));
        }
        Ok(FilterChain {
            name: p.name.clone(),
            task: task.to_string(),
            steps,
        })
    }

    /// Filter one instance. `resps`: its raw responses (one per repeat); `doc`: the processed doc.
    pub fn apply(&self, resps: &[String], doc: &Doc) -> Result<Filtered, ScoringError> {
        let mut v = Value::Array(resps.iter().map(|s| Value::String(s.clone())).collect());
        for (i, (function, step)) in self.steps.iter().enumerate() {
            v = step
                .apply(v, doc)
                .map_err(|why| self.err(function, i, why))?;
        }
        match v {
            Value::String(s) => Ok(Filtered::One(s)),
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(Filtered::Many(
                items
                    .into_iter()
                    .map(|x| match x {
                        Value::String(s) => s,
                        _ => String::new(),
                    })
                    .collect(),
            )),
            other => Err(self.err(
                "(end)",
                self.steps.len(),
                format!(
                    "the pipeline produced {}, which Yardstick cannot score (only a string or a list \
                     of strings); check the `map` values and the fallbacks of this pipeline",
                    repr(&other)
                ),
            )),
        }
    }

    fn err(&self, function: &str, i: usize, why: String) -> ScoringError {
        ScoringError::Filter {
            task: self.task.clone(),
            filter: self.name.clone(),
            step: format!("{function} (step {})", i + 1),
            why,
        }
    }
}

/// A short Python-like rendering of a value for messages.
pub(crate) fn repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => yardstick_core::python::text::repr_str(s),
        other => {
            let s = other.to_string();
            if s.chars().count() > 80 {
                format!("{}…", s.chars().take(80).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// Python's iteration of a value: a list's items, a string's characters, a dict's keys.
pub(crate) fn py_iter(v: Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Array(items) => Ok(items),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        Value::Object(m) => Ok(m.into_iter().map(|(k, _)| Value::String(k)).collect()),
        other => Err(format!(
            "{} is not iterable (Python raises TypeError)",
            repr(&other)
        )),
    }
}

/// Python truthiness of a keyword argument.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// The keyword arguments of a filter, checked against the names its constructor accepts.
pub(crate) struct Kwargs<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Kwargs<'a> {
    /// Fails on a name the constructor does not take (Python: `TypeError: unexpected keyword argument`).
    pub(crate) fn new(map: &'a Map<String, Value>, allowed: &[&str]) -> Result<Self, String> {
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(if allowed.is_empty() {
                format!("takes no arguments, got `{k}`")
            } else {
                format!(
                    "unexpected argument `{k}` (accepted: {})",
                    allowed.join(", ")
                )
            });
        }
        Ok(Kwargs { map })
    }

    pub(crate) fn get(&self, k: &str) -> Option<&'a Value> {
        self.map.get(k)
    }

    pub(crate) fn str_or(&self, k: &str, default: &str) -> Result<String, String> {
        match self.map.get(k) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("`{k}` must be a string, got {}", repr(other))),
        }
    }

    pub(crate) fn int_or(&self, k: &str, default: i64) -> Result<i64, String> {
        match self.map.get(k) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(i64::from(*b)),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| format!("`{k}` must be an integer, got {}", repr(v))),
        }
    }

    pub(crate) fn flag(&self, k: &str) -> bool {
        self.map.get(k).is_some_and(truthy)
    }

    /// A list of regex patterns (`None` when absent or null). A single string is iterated by
    /// character, as Python would.
    pub(crate) fn patterns(&self, k: &str) -> Result<Option<Vec<String>>, String> {
        match self.map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => py_iter(v.clone())?
                .into_iter()
                .map(|p| match p {
                    Value::String(s) => Ok(s),
                    other => Err(format!("`{k}` items must be strings, got {}", repr(&other))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    }
}

#[cfg(test)]
mod tests;
