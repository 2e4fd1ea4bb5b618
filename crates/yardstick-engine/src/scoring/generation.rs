//! `process_results` of `generate_until` tasks (lm-eval `ConfigurableTask.process_results`): each
//! metric of the task on one filtered response and the document's gold.
//!
//! The gold comes from the tasks crate already in the shape lm-eval compares: the indexed choice when
//! the task has `doc_to_choice`, the list of targets for a `multiple_target` task, else `str(target)`.
//! The filtered response is a string (after `take_first`) or a list of strings. lm-eval hands both to
//! `exact_match_hf_evaluate` as `predictions=[result]`, which numpy then broadcasts; the list cases
//! are reproduced here, including the ones where Python fails (they are errors).
//!
//! `exact_match` as lm-eval computes it, and `pass_at_k` (a Yardstick metric for self-consistency runs:
//! `repeats: n` with a filter that keeps every response, e.g. `take_first_k` with `k: n`): per document,
//! the unbiased estimator of Chen et al. (2021), `1 - C(n-c, k) / C(n, k)` over the n responses of which
//! c exact-match the gold (with exact_match's options), reported as `pass@k` for each `k` asked (an int
//! or a list). Any other metric of a generation task is refused when the scorer is built, naming it.

use serde_json::Value;
use yardstick_core::Target;
use yardstick_tasks::ResolvedMetric;

use super::exact_match::{ExactMatch, ExactMatchOptions};
use super::filters::Filtered;
use super::{DocMetrics, MetricValue, ScoringError};

/// The metrics of a generation task, compiled once per task.
#[derive(Debug)]
pub struct GenerationScorer {
    task: String,
    multiple_target: bool,
    metrics: Vec<(String, GenMetric)>,
}

#[derive(Debug)]
enum GenMetric {
    ExactMatch(ExactMatchMetric),
    PassAtK { ks: Vec<u64>, em: ExactMatchMetric },
}

#[derive(Debug)]
struct ExactMatchMetric {
    em: ExactMatch,
    /// `regexes_to_ignore` given (even empty): Python then keeps the inputs as lists instead of numpy
    /// arrays unless a flag converts them.
    regexes_given: bool,
    regex_count: usize,
    flags: bool,
}

const EXACT_MATCH_ARGS: &[&str] = &[
    "regexes_to_ignore",
    "ignore_case",
    "ignore_punctuation",
    "ignore_numbers",
];

impl GenerationScorer {
    /// Compile the task's metrics. `multiple_target`: the task's flag (its first document's target
    /// was a list).
    pub fn new(
        task: &str,
        metrics: &[ResolvedMetric],
        multiple_target: bool,
    ) -> Result<Self, ScoringError> {
        let mut out = Vec::with_capacity(metrics.len());
        for m in metrics {
            let err = |why: String| ScoringError::Generation {
                task: task.to_string(),
                metric: m.name.clone(),
                why,
            };
            let metric = match m.name.as_str() {
                "exact_match" => GenMetric::ExactMatch(exact_match_metric(m).map_err(err)?),
                "pass_at_k" => {
                    let ks = pass_at_k_ks(m).map_err(err)?;
                    let mut em_only = m.clone();
                    em_only.kwargs.remove("k");
                    let em = exact_match_metric(&em_only).map_err(err)?;
                    GenMetric::PassAtK { ks, em }
                }
                other => {
                    return Err(err(format!(
                        "`{other}` is not implemented for generate_until tasks in Yardstick \
                         (implemented: exact_match, pass_at_k); remove it from the task's metric_list"
                    )))
                }
            };
            out.push((m.name.clone(), metric));
        }
        Ok(GenerationScorer {
            task: task.to_string(),
            multiple_target,
            metrics: out,
        })
    }

    /// The document's metrics, in `metric_list` order.
    pub fn score(&self, target: &Target, filtered: &Filtered) -> Result<DocMetrics, ScoringError> {
        let golds: Vec<String> = match (target, self.multiple_target) {
            (Target::Text(g), _) => vec![g.clone()],
            (Target::Texts(gs), true) => gs.clone(),
            (Target::Texts(gs), false) => {
                return Err(self.err(
                    "exact_match",
                    format!("a list target {gs:?} on a task without multiple targets"),
                ))
            }
            (other, _) => {
                return Err(self.err(
                    "exact_match",
                    format!("the target {other:?} is not text (generation tasks compare strings)"),
                ))
            }
        };
        let mut out = DocMetrics::new();
        for (name, metric) in &self.metrics {
            match metric {
                GenMetric::ExactMatch(em) => {
                    let v = if self.multiple_target {
                        em.multiple(filtered, &golds)
                    } else {
                        em.single(filtered, &golds[0])
                    }
                    .map_err(|why| self.err(name, why))?;
                    out.push((name.clone(), MetricValue::float(v)));
                }
                GenMetric::PassAtK { ks, em } => {
                    let responses: &[String] = match filtered {
                        Filtered::One(s) => std::slice::from_ref(s),
                        Filtered::Many(v) => v,
                    };
                    let mut correct = 0u64;
                    for r in responses {
                        let mut hit = false;
                        for g in &golds {
                            hit |= em.matches(r, g).map_err(|why| self.err(name, why))?;
                        }
                        correct += u64::from(hit);
                    }
                    for &k in ks {
                        let v = pass_at_k(responses.len() as u64, correct, k)
                            .map_err(|why| self.err(name, why))?;
                        out.push((format!("pass@{k}"), MetricValue::float(v)));
                    }
                }
            }
        }
        Ok(out)
    }

    fn err(&self, metric: &str, why: String) -> ScoringError {
        ScoringError::Generation {
            task: self.task.clone(),
            metric: metric.to_string(),
            why,
        }
    }
}

/// Build the scorer and score one document (convenience for callers without a per-task cache).
pub fn generate_until(
    task: &str,
    target: &Target,
    filtered: &Filtered,
    metrics: &[ResolvedMetric],
    multiple_target: bool,
) -> Result<DocMetrics, ScoringError> {
    GenerationScorer::new(task, metrics, multiple_target)?.score(target, filtered)
}

/// The names a metric entry reports under: `pass@k` for each k of a `pass_at_k` entry, else its name.
pub fn output_names(m: &ResolvedMetric) -> Vec<String> {
    match (m.name.as_str(), pass_at_k_ks(m)) {
        ("pass_at_k", Ok(ks)) => ks.iter().map(|k| format!("pass@{k}")).collect(),
        _ => vec![m.name.clone()],
    }
}

/// `k` of a `pass_at_k` entry: a positive int or a list of them.
pub(crate) fn pass_at_k_ks(m: &ResolvedMetric) -> Result<Vec<u64>, String> {
    let one = |v: &Value| {
        v.as_u64()
            .filter(|&k| k > 0)
            .ok_or_else(|| format!("pass_at_k's `k` must be positive integers, got {v}"))
    };
    match m.kwargs.get("k") {
        None => Err("pass_at_k needs `k` (an int or a list of ints)".into()),
        Some(Value::Array(items)) if !items.is_empty() => items.iter().map(one).collect(),
        Some(v) => one(v).map(|k| vec![k]),
    }
}

/// Chen et al.'s unbiased pass@k from n samples of which c are correct: `1 - C(n-c, k) / C(n, k)`,
/// computed as `1 - Π_{i=n-c+1}^{n} (1 - k/i)` (no large binomials).
pub fn pass_at_k(n: u64, c: u64, k: u64) -> Result<f64, String> {
    if k > n {
        return Err(format!(
            "pass@{k} needs at least {k} responses per document, got {n} (raise `repeats`, and keep them all with \
             take_first_k)"
        ));
    }
    if n - c < k {
        return Ok(1.0);
    }
    let prod: f64 = (n - c + 1..=n).map(|i| 1.0 - k as f64 / i as f64).product();
    Ok(1.0 - prod)
}

fn truthy(v: Option<&Value>) -> bool {
    v.is_some_and(super::filters::truthy)
}

fn exact_match_metric(m: &ResolvedMetric) -> Result<ExactMatchMetric, String> {
    if let Some(k) = m
        .kwargs
        .keys()
        .find(|k| !EXACT_MATCH_ARGS.contains(&k.as_str()))
    {
        return Err(format!(
            "unexpected argument `{k}` (exact_match accepts {}; Python raises TypeError)",
            EXACT_MATCH_ARGS.join(", ")
        ));
    }
    let regexes: Option<Vec<String>> = match m.kwargs.get("regexes_to_ignore") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.chars().map(String::from).collect()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|p| {
                    p.as_str()
                        .map(String::from)
                        .ok_or_else(|| format!("regexes_to_ignore items must be strings, got {p}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(other) => return Err(format!("regexes_to_ignore must be a list, got {other}")),
    };
    let options = ExactMatchOptions {
        regexes_to_ignore: regexes.clone().unwrap_or_default(),
        ignore_case: truthy(m.kwargs.get("ignore_case")),
        ignore_punctuation: truthy(m.kwargs.get("ignore_punctuation")),
        ignore_numbers: truthy(m.kwargs.get("ignore_numbers")),
    };
    let flags = options.ignore_case || options.ignore_punctuation || options.ignore_numbers;
    Ok(ExactMatchMetric {
        em: ExactMatch::new(options).map_err(|e| e.to_string())?,
        regexes_given: regexes.is_some(),
        regex_count: regexes.map_or(0, |r| r.len()),
        flags,
    })
}

impl ExactMatchMetric {
    /// Python compares plain lists (`[result] == [gold]`) rather than numpy arrays.
    fn python_lists(&self) -> bool {
        self.regexes_given && self.regex_count == 0 && !self.flags
    }

    fn matches(&self, p: &str, g: &str) -> Result<bool, String> {
        self.em.matches(p, g).map_err(|e| e.to_string())
    }

    /// numpy makes an empty list a float array, which `np.char.lower` / `np.char.translate` refuse.
    fn check_empty_arrays(&self, empty: bool) -> Result<(), String> {
        if self.flags && empty {
            return Err(
                "an empty list of responses or targets is a float array to numpy, which \
                        the ignore_* options cannot process (Python raises TypeError)"
                    .into(),
            );
        }
        Ok(())
    }

    fn list_with_regexes(&self) -> Result<f64, String> {
        Err(
            "the filtered response is a list, and exact_match's regexes_to_ignore only apply to \
             strings (Python raises TypeError); add `take_first` to the filter pipeline"
                .into(),
        )
    }

    /// `exact_match(references=[gold], predictions=[result])`.
    fn single(&self, filtered: &Filtered, gold: &str) -> Result<f64, String> {
        if let Filtered::Many(v) = filtered {
            if self.regex_count == 0 {
                self.check_empty_arrays(v.is_empty())?;
            }
        }
        match filtered {
            Filtered::One(s) if self.python_lists() => Ok(bool_f(s == gold)),
            Filtered::One(s) => Ok(bool_f(self.matches(s, gold)?)),
            Filtered::Many(_) if self.regex_count > 0 => self.list_with_regexes(),
            // a list never equals a string
            Filtered::Many(_) if self.python_lists() => Ok(0.0),
            Filtered::Many(v) => {
                // shape (1, k) against (1,): the mean over the k responses
                let mut hits = 0usize;
                for p in v {
                    hits += usize::from(self.matches(p, gold)?);
                }
                Ok(hits as f64 / v.len() as f64)
            }
        }
    }

    /// `exact_match(references=golds, predictions=[result] * len(golds)) > 0`.
    fn multiple(&self, filtered: &Filtered, golds: &[String]) -> Result<f64, String> {
        let n = golds.len();
        let no_responses = matches!(filtered, Filtered::Many(v) if v.is_empty());
        if !(self.regex_count > 0 && matches!(filtered, Filtered::Many(_))) {
            self.check_empty_arrays(n == 0 || no_responses)?;
        }
        match filtered {
            Filtered::One(s) if self.python_lists() => Ok(bool_f(golds.iter().all(|g| g == s))),
            Filtered::One(s) => {
                for g in golds {
                    if self.matches(s, g)? {
                        return Ok(1.0);
                    }
                }
                Ok(0.0)
            }
            Filtered::Many(_) if self.regex_count > 0 => self.list_with_regexes(),
            Filtered::Many(_) if self.python_lists() => Ok(bool_f(n == 0)),
            // an empty float array compared with a string array is just False
            Filtered::Many(_) if n == 0 => Ok(0.0),
            Filtered::Many(v) => {
                let k = v.len();
                // numpy broadcasts (n, k) against (n,)
                let pairs: Vec<(&String, &String)> = if k == 1 {
                    golds.iter().map(|g| (&v[0], g)).collect()
                } else if n == 1 {
                    v.iter().map(|p| (p, &golds[0])).collect()
                } else if n == k {
                    v.iter().zip(golds).collect()
                } else {
                    return Err(format!(
                        "{k} filtered responses against {n} targets cannot be broadcast (numpy \
                         raises ValueError); add `take_first` to the filter pipeline"
                    ));
                };
                for (p, g) in pairs {
                    if self.matches(p, g)? {
                        return Ok(1.0);
                    }
                }
                Ok(0.0)
            }
        }
    }
}

fn bool_f(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
