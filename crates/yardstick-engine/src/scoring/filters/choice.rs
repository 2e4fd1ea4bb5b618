//! Filters that read the answer of a multiple-choice question out of a generation, and the other
//! filter classes lm-eval's BBH zero-shot tasks define in their `utils.py`.
//!
//! * `multi_choice_regex` (lm-eval's `MultiChoiceRegexFilter`) and `bbh.MultiChoiceRegexFilter`: three
//!   stages, each tried when the previous one found nothing: (1) the filter's regex; (2) the text of
//!   any choice (after the ignore rules; the longest escaped choice tried first, as lm-eval 0.4.13
//!   does), turned into its letter `(A)`, `(B)`, …; (3) a bare letter
//!   after a colon, `: B` → `(B)`. lm-eval's version takes the choices from `doc["choices"]`; BBH's
//!   parses them out of `doc["input"]` (`(A) text` lines) and fails where a tuple match has no
//!   non-empty group.
//! * `bbh.MapRegexFilter`: the first of several regexes that matches decides the value.
//! * `bbh.WordSortFilter`: the words of the question's list, in the order of their last mention.
//!
//! `bbh.NumberParseRegexFilter` (numbers written as English words) is in [`super::numbers`].

use std::collections::HashMap;
use std::sync::OnceLock;

use fancy_regex::Regex;
use serde_json::{Map, Value};
use yardstick_core::python::py_index;
use yardstick_core::python::text::{lower, split, strip};
use yardstick_core::Doc;

use super::steps::{compile_regex, DEFAULT_FALLBACK, DEFAULT_PATTERN};
use super::{py_iter, repr, truthy, Kwargs};
use crate::scoring::pyre::{Found, PyRegex};

pub(crate) const BBH_MULTI_CHOICE: &str = "bbh.MultiChoiceRegexFilter";
pub(crate) const BBH_MAP_REGEX: &str = "bbh.MapRegexFilter";
pub(crate) const BBH_WORD_SORT: &str = "bbh.WordSortFilter";
pub(crate) const BBH_NUMBER_PARSE: &str = "bbh.NumberParseRegexFilter";

/// The names under which the BBH zero-shot filter classes (`!function utils.X` in
/// `lm_eval/tasks/bbh/{cot_zeroshot,zeroshot}/`) are available as built-in filters.
pub const BBH_FILTERS: &[&str] = &[
    BBH_MULTI_CHOICE,
    BBH_MAP_REGEX,
    BBH_WORD_SORT,
    BBH_NUMBER_PARSE,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    LmEval,
    Bbh,
}

/// The `regexes_to_ignore` / `ignore_case` / `ignore_punctuation` preprocessing (`filter_ignores`).
#[derive(Debug)]
struct Ignores {
    regexes: Option<Vec<PyRegex>>,
    ignore_case: bool,
    ignore_punctuation: bool,
}

fn unicode_punctuation() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\p{P}").ok()).as_ref()
}

impl Ignores {
    fn compile(kw: &Kwargs<'_>) -> Result<Self, String> {
        let regexes = match kw.patterns("regexes_to_ignore")? {
            None => None,
            Some(ps) => Some(
                ps.iter()
                    .map(|p| compile_regex(p))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(Ignores {
            regexes,
            ignore_case: kw.flag("ignore_case"),
            ignore_punctuation: kw.flag("ignore_punctuation"),
        })
    }

    fn active(&self) -> bool {
        self.regexes.is_some() || self.ignore_case || self.ignore_punctuation
    }

    fn apply(&self, s: &str) -> Result<String, String> {
        let mut s = s.to_string();
        for re in self.regexes.iter().flatten() {
            s = re.remove_all(&s)?;
        }
        if self.ignore_case {
            s = lower(&s);
        }
        if self.ignore_punctuation {
            let re = unicode_punctuation().ok_or("the punctuation class does not compile")?;
            s = re.replace_all(&s, "").into_owned();
        }
        Ok(s)
    }

    /// `filter_ignores(resp)` on a response that may not be a string: `None` when Python would pass
    /// it through unchanged (no rule active), an error when a rule would fail on it.
    fn apply_value(&self, v: &Value) -> Result<Option<String>, String> {
        match v {
            Value::String(s) => self.apply(s).map(Some),
            other if self.active() => Err(format!(
                "{} is not a string (Python raises TypeError)",
                repr(other)
            )),
            _ => Ok(None),
        }
    }
}

/// `find_match`: the `group_select`-th `findall` item, its first non-empty group for a tuple,
/// stripped, converted through `convert` when present; `""` when nothing matched.
fn find_match(
    variant: Variant,
    re: &PyRegex,
    text: &str,
    group_select: i64,
    convert: &HashMap<String, String>,
) -> Result<String, String> {
    let found = re
        .findall(text)
        .map_err(|e| format!("matching {:?} failed: {e}", re.pattern()))?;
    if found.is_empty() {
        return Ok(String::new());
    }
    let picked = py_index(&found, group_select).ok_or_else(|| {
        format!(
            "group_select {group_select} is out of range for the {} matches of {:?} (Python \
             raises IndexError)",
            found.len(),
            re.pattern()
        )
    })?;
    let s = match picked {
        Found::Str(s) => s.as_str(),
        Found::Tuple(groups) => match groups.iter().find(|g| !g.is_empty()) {
            Some(g) => g.as_str(),
            None if variant == Variant::LmEval => return Ok(String::new()),
            None => {
                return Err(format!(
                "no group of the selected match of {:?} is non-empty (Python raises IndexError)",
                re.pattern()
            ))
            }
        },
    };
    let s = strip(s, None);
    Ok(match convert.get(s) {
        Some(c) if !s.is_empty() => c.clone(),
        _ => s.to_string(),
    })
}

/// Python's `re.escape`.
pub(crate) fn py_re_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\u{0b}\u{0c}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn doc_str<'d>(doc: &'d Doc, field: &str) -> Result<&'d str, String> {
    match doc.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("doc[{field:?}] is {}, not a string", repr(other))),
        None => Err(format!(
            "the doc has no field {field:?} (Python raises KeyError)"
        )),
    }
}

/// BBH's `find_match` without a conversion table.
pub(crate) fn find_match_bbh(
    re: &PyRegex,
    text: &str,
    group_select: i64,
) -> Result<String, String> {
    find_match(Variant::Bbh, re, text, group_select, &HashMap::new())
}

/// The constructor arguments of `MultiChoiceRegexFilter` (lm-eval's and BBH's `ExtendedRegexFilter`).
#[derive(Debug)]
pub(crate) struct MultiChoiceArgs {
    pub(crate) re: PyRegex,
    pub(crate) group_select: i64,
    pub(crate) fallback: Value,
    ignores: Ignores,
}

impl MultiChoiceArgs {
    pub(crate) fn compile(kwargs: &Map<String, Value>) -> Result<Self, String> {
        let kw = Kwargs::new(kwargs, MULTI_CHOICE_ARGS)?;
        Ok(MultiChoiceArgs {
            re: compile_regex(&kw.str_or("regex_pattern", DEFAULT_PATTERN)?)?,
            group_select: kw.int_or("group_select", 0)?,
            fallback: kw
                .get("fallback")
                .cloned()
                .unwrap_or_else(|| Value::String(DEFAULT_FALLBACK.into())),
            ignores: Ignores::compile(&kw)?,
        })
    }
}

/// `multi_choice_regex` and BBH's `MultiChoiceRegexFilter`.
#[derive(Debug)]
pub(crate) struct MultiChoice {
    variant: Variant,
    args: MultiChoiceArgs,
}

const MULTI_CHOICE_ARGS: &[&str] = &[
    "regex_pattern",
    "group_select",
    "fallback",
    "ignore_case",
    "ignore_punctuation",
    "regexes_to_ignore",
];

impl MultiChoice {
    pub(crate) fn compile_lm_eval(kwargs: &Map<String, Value>) -> Result<Self, String> {
        Self::compile(Variant::LmEval, kwargs)
    }

    pub(crate) fn compile_bbh(kwargs: &Map<String, Value>) -> Result<Self, String> {
        Self::compile(Variant::Bbh, kwargs)
    }

    fn compile(variant: Variant, kwargs: &Map<String, Value>) -> Result<Self, String> {
        Ok(MultiChoice {
            variant,
            args: MultiChoiceArgs::compile(kwargs)?,
        })
    }

    /// The choice texts of the document.
    fn choices(&self, doc: &Doc) -> Result<Vec<String>, String> {
        match self.variant {
            Variant::LmEval => {
                let v = doc
                    .get("choices")
                    .cloned()
                    .ok_or("the doc has no field \"choices\" (Python raises KeyError)")?;
                py_iter(v)?
                    .into_iter()
                    .map(|c| match c {
                        Value::String(s) => Ok(s),
                        other => Err(format!("choice {} is not a string", repr(&other))),
                    })
                    .collect()
            }
            Variant::Bbh => {
                static CHOICES: OnceLock<Result<PyRegex, String>> = OnceLock::new();
                let re = CHOICES
                    .get_or_init(|| PyRegex::new(r"\([A-Z]\)([^\n^(]*)"))
                    .as_ref()
                    .map_err(Clone::clone)?;
                Ok(re
                    .findall(doc_str(doc, "input")?)?
                    .into_iter()
                    .map(|f| match f {
                        Found::Str(s) => s,
                        Found::Tuple(mut g) => g.swap_remove(0),
                    })
                    .collect())
            }
        }
    }

    pub(crate) fn apply(&self, v: Value, doc: &Doc) -> Result<Value, String> {
        let choices = self.choices(doc)?;
        let mut fallback_patterns = Vec::with_capacity(choices.len());
        let mut choice_to_alpha = HashMap::new();
        let mut letters = Vec::with_capacity(choices.len());
        let mut letter_to_target = HashMap::new();
        let mut next = 'A';
        for c in &choices {
            let m = self.args.ignores.apply(strip(c, None))?;
            fallback_patterns.push(py_re_escape(&m));
            choice_to_alpha.insert(m, format!("({next})"));
            letters.push(next.to_string());
            letter_to_target.insert(next.to_string(), format!("({next})"));
            next = char::from_u32(next as u32 + 1).unwrap_or(char::MAX);
        }
        // longest pattern first (stable), so that a choice that is a prefix of another cannot shadow it
        fallback_patterns.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
        let by_text = compile_regex(&fallback_patterns.join("|"))?;
        let by_letter = compile_regex(&format!(":[\\s]*({})", letters.join("|")))?;
        let none = HashMap::new();
        let mut out = Vec::new();
        for resp in py_iter(v)? {
            let text = match (&resp, self.variant) {
                (Value::String(s), _) => s.as_str(),
                (_, Variant::LmEval) => "",
                (other, Variant::Bbh) => {
                    return Err(format!(
                        "{} is not a string (Python raises TypeError)",
                        repr(other)
                    ))
                }
            };
            let gs = self.args.group_select;
            let mut m = find_match(self.variant, &self.args.re, text, gs, &none)?;
            if m.is_empty() {
                let ignored = self.args.ignores.apply_value(&resp)?.unwrap_or_default();
                m = find_match(self.variant, &by_text, &ignored, gs, &choice_to_alpha)?;
                if m.is_empty() {
                    m = find_match(self.variant, &by_letter, text, gs, &letter_to_target)?;
                }
            }
            out.push(if m.is_empty() {
                self.args.fallback.clone()
            } else {
                Value::String(m)
            });
        }
        Ok(Value::Array(out))
    }
}

/// BBH's `MapRegexFilter`.
#[derive(Debug)]
pub(crate) struct MapRegex {
    whole: PyRegex,
    each: Vec<(PyRegex, Value)>,
    group_select: i64,
    fallback: Value,
    ignores: Ignores,
}

impl MapRegex {
    pub(crate) fn compile(kwargs: &Map<String, Value>) -> Result<Self, String> {
        let kw = Kwargs::new(
            kwargs,
            &[
                "regex_pattern_to_value",
                "group_select",
                "fallback",
                "ignore_case",
                "ignore_punctuation",
                "regexes_to_ignore",
            ],
        )?;
        let table = match kw.get("regex_pattern_to_value") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(format!(
                    "`regex_pattern_to_value` must be a mapping, got {}",
                    repr(other)
                ))
            }
        };
        let keys: Vec<&str> = table.keys().map(String::as_str).collect();
        Ok(MapRegex {
            whole: compile_regex(&keys.join("|"))?,
            each: table
                .iter()
                .map(|(p, v)| compile_regex(p).map(|r| (r, v.clone())))
                .collect::<Result<_, _>>()?,
            group_select: kw.int_or("group_select", 0)?,
            fallback: kw
                .get("fallback")
                .cloned()
                .unwrap_or_else(|| Value::String(DEFAULT_FALLBACK.into())),
            ignores: Ignores::compile(&kw)?,
        })
    }

    pub(crate) fn apply_one(&self, resp: Value) -> Result<Value, String> {
        let Value::String(text) = &resp else {
            return Err(format!(
                "{} is not a string (Python raises TypeError)",
                repr(&resp)
            ));
        };
        let none = HashMap::new();
        let gs = self.group_select;
        let whole = find_match(
            Variant::Bbh,
            &self.whole,
            &self.ignores.apply(text)?,
            gs,
            &none,
        )?;
        if !whole.is_empty() {
            let again = self.ignores.apply(&whole)?;
            for (re, value) in &self.each {
                if !find_match(Variant::Bbh, re, &again, gs, &none)?.is_empty() {
                    // a falsy mapped value counts as no match
                    return Ok(if truthy(value) {
                        value.clone()
                    } else {
                        self.fallback.clone()
                    });
                }
            }
        }
        Ok(self.fallback.clone())
    }
}

/// BBH's `WordSortFilter`.
#[derive(Debug)]
pub(crate) struct WordSort;

impl WordSort {
    pub(crate) fn apply(&self, v: Value, doc: &Doc) -> Result<Value, String> {
        let input = doc_str(doc, "input")?;
        let after = input
            .split("List:")
            .nth(1)
            .ok_or("the doc's input has no \"List:\" (Python raises IndexError)")?;
        let words = split(strip(after, None), None, -1).unwrap_or_default();
        let pattern: Vec<String> = words.iter().map(|w| format!("\\b{w}\\b")).collect();
        let re = compile_regex(&pattern.join("|"))?;
        let mut out = Vec::new();
        for resp in py_iter(v)? {
            let Value::String(text) = &resp else {
                return Err(format!(
                    "{} is not a string (Python raises TypeError)",
                    repr(&resp)
                ));
            };
            let mut found = Vec::new();
            for f in re.findall(text)? {
                match f {
                    Found::Str(s) => found.push(s),
                    Found::Tuple(_) => {
                        return Err("a word of the list contains a regex group; joining the \
                                    matches fails in Python (TypeError)"
                            .into())
                    }
                }
            }
            // each word once, at its last mention, in text order
            let mut kept: Vec<String> = Vec::new();
            for (i, w) in found.iter().enumerate() {
                if !found[i + 1..].contains(w) {
                    kept.push(w.clone());
                }
            }
            out.push(Value::String(kept.join(" ")));
        }
        Ok(Value::Array(out))
    }
}
