//! The filter steps: compiled from a `filter_list` entry, applied to one instance's value.

use serde_json::{Map, Value};
use yardstick_core::python::py_index;
use yardstick_core::python::text::{lower, strip, upper};
use yardstick_core::Doc;

use super::choice::{self, MapRegex, MultiChoice, WordSort};
use super::code::CodePredictions;
use super::numbers::NumberParse;
use super::{py_iter, repr, Kwargs};
use crate::scoring::pyre::{Found, PyRegex};

/// lm-eval's registered filters implemented here.
pub(crate) const LM_EVAL_FILTERS: &[&str] = &[
    "regex",
    "take_first",
    "take_first_k",
    "majority_vote",
    "remove_whitespace",
    "lowercase",
    "uppercase",
    "map",
    "multi_choice_regex",
    "format_span",
];

/// lm-eval's `RegexFilter` defaults.
pub(crate) const DEFAULT_PATTERN: &str = r"#### (\-?[0-9\.\,]+)";
pub(crate) const DEFAULT_FALLBACK: &str = "[invalid]";

#[derive(Debug)]
pub(crate) enum Step {
    Regex(RegexStep),
    TakeFirst,
    TakeFirstK(i64),
    MajorityVote,
    RemoveWhitespace,
    Lowercase,
    Uppercase,
    Map {
        mapping: Map<String, Value>,
        default: Value,
    },
    MultiChoice(MultiChoice),
    MapRegex(MapRegex),
    WordSort(WordSort),
    NumberParse(NumberParse),
    FormatSpan,
    CodePredictions(CodePredictions),
}

/// `RegexFilter`: `findall`, the `group_select`-th match, the first non-empty group of a tuple,
/// stripped; the fallback when nothing matches.
#[derive(Debug)]
pub(crate) struct RegexStep {
    pub(crate) re: PyRegex,
    pub(crate) group_select: i64,
    pub(crate) fallback: Value,
}

pub(crate) fn compile_regex(pattern: &str) -> Result<PyRegex, String> {
    PyRegex::new(pattern).map_err(|e| format!("pattern {pattern:?} does not compile: {e}"))
}

impl Step {
    pub(crate) fn compile(function: &str, kwargs: &Map<String, Value>) -> Result<Step, String> {
        let none = |kw: &Map<String, Value>| Kwargs::new(kw, &[]).map(|_| ());
        Ok(match function {
            "regex" => {
                let kw = Kwargs::new(kwargs, &["regex_pattern", "group_select", "fallback"])?;
                Step::Regex(RegexStep {
                    re: compile_regex(&kw.str_or("regex_pattern", DEFAULT_PATTERN)?)?,
                    group_select: kw.int_or("group_select", 0)?,
                    fallback: kw
                        .get("fallback")
                        .cloned()
                        .unwrap_or_else(|| Value::String(DEFAULT_FALLBACK.into())),
                })
            }
            "take_first" => {
                none(kwargs)?;
                Step::TakeFirst
            }
            "take_first_k" => {
                // the constructor takes any keyword arguments and requires `k`
                let k = match kwargs.get("k") {
                    None => return Err("missing argument `k` (Python raises KeyError)".into()),
                    Some(v) => v
                        .as_i64()
                        .ok_or_else(|| format!("`k` must be an integer, got {}", repr(v)))?,
                };
                Step::TakeFirstK(k)
            }
            "majority_vote" => {
                none(kwargs)?;
                Step::MajorityVote
            }
            "remove_whitespace" => {
                none(kwargs)?;
                Step::RemoveWhitespace
            }
            "lowercase" => {
                none(kwargs)?;
                Step::Lowercase
            }
            "uppercase" => {
                none(kwargs)?;
                Step::Uppercase
            }
            "map" => {
                let kw = Kwargs::new(kwargs, &["mapping_dict", "default_value"])?;
                let mapping = match kw.get("mapping_dict") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(m)) => m.clone(),
                    Some(other) => {
                        return Err(format!(
                            "`mapping_dict` must be a mapping, got {}",
                            repr(other)
                        ))
                    }
                };
                Step::Map {
                    mapping,
                    default: kw.get("default_value").cloned().unwrap_or(Value::Null),
                }
            }
            "multi_choice_regex" => Step::MultiChoice(MultiChoice::compile_lm_eval(kwargs)?),
            choice::BBH_MULTI_CHOICE => Step::MultiChoice(MultiChoice::compile_bbh(kwargs)?),
            choice::BBH_MAP_REGEX => Step::MapRegex(MapRegex::compile(kwargs)?),
            choice::BBH_NUMBER_PARSE => Step::NumberParse(NumberParse::compile(kwargs)?),
            choice::BBH_WORD_SORT => {
                none(kwargs)?;
                Step::WordSort(WordSort)
            }
            "format_span" => {
                none(kwargs)?;
                Step::FormatSpan
            }
            "regex_pos" => {
                return Err(
                    "`regex_pos` is not supported: it yields a list of tags per response, \
                     which Yardstick's generation scoring does not handle"
                        .into(),
                )
            }
            f if CodePredictions::compile(f).is_some() => {
                none(kwargs)?;
                match CodePredictions::compile(f) {
                    Some(Ok(c)) => Step::CodePredictions(c),
                    Some(Err(e)) => return Err(e),
                    None => return Err(format!("unknown filter `{f}`")),
                }
            }
            "custom" => {
                return Err(
                    "Python filter functions are not supported; port the function to a \
                     Yardstick built-in filter or remove this pipeline"
                        .into(),
                )
            }
            other => {
                return Err(format!(
                    "unknown filter `{other}` (supported: {})",
                    super::supported_filters().join(", ")
                ))
            }
        })
    }

    pub(crate) fn apply(&self, v: Value, doc: &Doc) -> Result<Value, String> {
        match self {
            Step::TakeFirst => take_first(v),
            Step::TakeFirstK(k) => take_first_k(v, *k),
            Step::MajorityVote => majority_vote(v),
            Step::Regex(r) => each(v, |x| r.apply_one(x)),
            Step::RemoveWhitespace => {
                each(v, |x| str_method(x, "strip", |s| strip(s, None).into()))
            }
            Step::Lowercase => each(v, |x| str_method(x, "lower", lower)),
            Step::Uppercase => each(v, |x| str_method(x, "upper", upper)),
            Step::Map { mapping, default } => each(v, |x| match x {
                Value::String(s) => Ok(mapping.get(&s).cloned().unwrap_or_else(|| default.clone())),
                Value::Array(_) | Value::Object(_) => Err(format!(
                    "map: {} is unhashable (Python raises TypeError)",
                    repr(&x)
                )),
                _ => Ok(default.clone()),
            }),
            Step::MultiChoice(m) => m.apply(v, doc),
            Step::MapRegex(m) => each(v, |x| m.apply_one(x)),
            Step::WordSort(w) => w.apply(v, doc),
            Step::NumberParse(n) => each(v, |x| n.apply_one(x)),
            Step::FormatSpan => each(v, super::span::format_span),
            Step::CodePredictions(c) => c.apply(v, doc),
        }
    }
}

/// Apply `f` to each response of the instance (Python `[f(resp) for resp in inst]`).
pub(crate) fn each(
    v: Value,
    mut f: impl FnMut(Value) -> Result<Value, String>,
) -> Result<Value, String> {
    py_iter(v)?
        .into_iter()
        .map(&mut f)
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn str_method(x: Value, name: &str, f: impl Fn(&str) -> String) -> Result<Value, String> {
    match x {
        Value::String(s) => Ok(Value::String(f(&s))),
        other => Err(format!(
            "{} has no method `{name}` (Python raises AttributeError)",
            repr(&other)
        )),
    }
}

/// `r[0]`.
fn take_first(v: Value) -> Result<Value, String> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .next()
            .ok_or_else(|| "no response to take (Python raises IndexError)".to_string()),
        Value::String(s) => s
            .chars()
            .next()
            .map(|c| Value::String(c.to_string()))
            .ok_or_else(|| "an empty string has no first character (IndexError)".to_string()),
        other => Err(format!(
            "{} is not subscriptable (Python raises TypeError)",
            repr(&other)
        )),
    }
}

/// Python's `r[:k]` bound: `k` counted from the end when negative, clamped to `0..=n`.
fn slice_end(n: usize, k: i64) -> usize {
    let n = n as i64;
    let end = if k < 0 { n + k } else { k };
    end.clamp(0, n) as usize
}

/// `r[:k]`, after lm-eval's check that there are at least `k` responses.
fn take_first_k(v: Value, k: i64) -> Result<Value, String> {
    let n = match &v {
        Value::Array(a) => a.len(),
        Value::String(s) => s.chars().count(),
        other => {
            return Err(format!(
                "{} has no length (Python raises TypeError)",
                repr(other)
            ))
        }
    };
    if (n as i64) < k {
        return Err(format!(
            "need at least {k} responses per doc to take the first {k}, got {n}; raise the task's \
             `repeats`"
        ));
    }
    let end = slice_end(n, k);
    Ok(match v {
        Value::Array(a) => Value::Array(a.into_iter().take(end).collect()),
        Value::String(s) => Value::String(s.chars().take(end).collect()),
        _ => Value::Null,
    })
}

/// `[Counter(r).most_common(1)[0][0]]`: the most frequent response, the first seen among ties.
fn majority_vote(v: Value) -> Result<Value, String> {
    let items = py_iter(v)?;
    let mut counts: Vec<(Value, usize)> = Vec::new();
    for x in items {
        if matches!(x, Value::Array(_) | Value::Object(_)) {
            return Err(format!(
                "majority_vote: {} is unhashable (Python raises TypeError)",
                repr(&x)
            ));
        }
        match counts.iter_mut().find(|(y, _)| *y == x) {
            Some((_, n)) => *n += 1,
            None => counts.push((x, 1)),
        }
    }
    let mut best: Option<(Value, usize)> = None;
    for (x, n) in counts {
        if best.as_ref().is_none_or(|(_, b)| n > *b) {
            best = Some((x, n));
        }
    }
    best.map(|(x, _)| Value::Array(vec![x]))
        .ok_or_else(|| "majority_vote: no responses (Python raises IndexError)".to_string())
}

impl RegexStep {
    fn apply_one(&self, x: Value) -> Result<Value, String> {
        let text = match &x {
            Value::String(s) => s.as_str(),
            _ => "",
        };
        let found = self.re.findall(text).map_err(|e| self.runtime(e))?;
        if found.is_empty() {
            return Ok(self.fallback.clone());
        }
        let picked = self.select(&found)?;
        let s = match picked {
            Found::Str(s) => Value::String(s.clone()),
            Found::Tuple(groups) => groups
                .iter()
                .find(|g| !g.is_empty())
                .map(|g| Value::String(g.clone()))
                .unwrap_or_else(|| self.fallback.clone()),
        };
        str_method(s, "strip", |s| strip(s, None).into())
    }

    fn select<'f>(&self, found: &'f [Found]) -> Result<&'f Found, String> {
        py_index(found, self.group_select).ok_or_else(|| {
            format!(
                "group_select {} is out of range for the {} matches of {:?} (Python raises \
                 IndexError)",
                self.group_select,
                found.len(),
                self.re.pattern()
            )
        })
    }

    fn runtime(&self, e: String) -> String {
        format!("matching {:?} failed: {e}", self.re.pattern())
    }
}
