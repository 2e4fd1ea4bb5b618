//! Native ports of the Python filter classes that built-in tasks name with `!function` inside a
//! `filter_list` step: the four classes of lm-eval 0.4.13's `bbh/zeroshot/utils.py` and
//! `bbh/cot_zeroshot/utils.py` (the two files are identical).
//!
//! A built-in YAML's `function: !function utils.MultiChoiceRegexFilter` resolves (through
//! [`crate::functions`]) to a [`FilterStep`](crate::FilterStep) whose `function` is the native name
//! (`bbh.MultiChoiceRegexFilter`); a user YAML can name it with `function: !builtin bbh.MultiChoiceRegexFilter`.
//! The filter engine builds it once per task with [`NativeFilter::build`] (the step's kwargs, and its own
//! Python-`re`→fancy-regex pattern translation) and runs [`NativeFilter::apply`] on the responses of each
//! instance with the instance's doc.
//!
//! | name | lm-eval class | what it does |
//! |---|---|---|
//! | `bbh.MultiChoiceRegexFilter` | `MultiChoiceRegexFilter` | `regex_pattern`, else a choice text of the doc's `(A) …` list, else `: X` → `(X)` |
//! | `bbh.MapRegexFilter` | `MapRegexFilter` | the first of `regex_pattern_to_value`'s patterns to match → its value |
//! | `bbh.NumberParseRegexFilter` | `NumberParseRegexFilter` | `regex_pattern`, else English number words → digits (`word2number`) |
//! | `bbh.WordSortFilter` | `WordSortFilter` | the doc's words in the order of their last mention |

mod words;

use fancy_regex::Regex;
use serde_json::{Map, Value};
use yardstick_core::python::text as pystr;
use yardstick_core::Doc;

pub use words::{word_to_num, WordToNumError};

/// Which filter class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeFilterKind {
    /// `MultiChoiceRegexFilter` (an `ExtendedRegexFilter`).
    BbhMultiChoiceRegex,
    /// `MapRegexFilter`.
    BbhMapRegex,
    /// `NumberParseRegexFilter`.
    BbhNumberParseRegex,
    /// `WordSortFilter`.
    BbhWordSort,
}

/// Why a native filter could not be built or applied. The caller adds the task and filter names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NativeFilterError {
    #[error("unexpected argument `{arg}` (it takes: {accepted})")]
    UnknownArgument { arg: String, accepted: &'static str },
    #[error("argument `{arg}` must be {expected}, found {found}")]
    BadArgument {
        arg: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("pattern {pattern:?} does not compile: {message}")]
    Pattern { pattern: String, message: String },
    #[error("pattern {pattern:?} failed on a response: {message}")]
    Matching { pattern: String, message: String },
    /// Python raises `IndexError` here (`findall(...)[group_select]`, or a match whose groups are all empty).
    #[error("group_select {group_select} is out of range for the {found} match(es) of {pattern:?} (Python raises IndexError)")]
    GroupSelect {
        group_select: i64,
        found: usize,
        pattern: String,
    },
    #[error("all groups of a match of {pattern:?} are empty (Python raises IndexError)")]
    EmptyGroups { pattern: String },
    #[error("the doc has no string field `{field}`")]
    DocField { field: &'static str },
    #[error("the doc's `input` has no \"List:\" (Python raises IndexError)")]
    NoWordList,
    #[error("word2number: {0}")]
    WordToNum(#[from] WordToNumError),
}

type Result<T> = std::result::Result<T, NativeFilterError>;

/// A compiled regex with its Python source (for messages).
#[derive(Debug)]
struct PyRegex {
    source: String,
    re: Regex,
}

/// One item of Python's `re.findall`: the whole match (no group), the group (one), or all groups (several;
/// a group that did not take part is `""`).
enum Found {
    One(String),
    Groups(Vec<String>),
}

impl PyRegex {
    fn new(source: &str, translate: &dyn Fn(&str) -> String) -> Result<PyRegex> {
        let re = Regex::new(&translate(source)).map_err(|e| NativeFilterError::Pattern {
            pattern: source.to_string(),
            message: e.to_string(),
        })?;
        Ok(PyRegex {
            source: source.to_string(),
            re,
        })
    }

    /// Python's `findall`.
    fn findall(&self, text: &str) -> Result<Vec<Found>> {
        let groups = self.re.captures_len() - 1;
        let mut out = Vec::new();
        for caps in self.re.captures_iter(text) {
            let caps = caps.map_err(|e| NativeFilterError::Matching {
                pattern: self.source.clone(),
                message: e.to_string(),
            })?;
            let get = |i: usize| caps.get(i).map_or("", |m| m.as_str()).to_string();
            out.push(match groups {
                0 => Found::One(get(0)),
                1 => Found::One(get(1)),
                n => Found::Groups((1..=n).map(get).collect()),
            });
        }
        Ok(out)
    }
}

/// The normalisations of `ExtendedRegexFilter.filter_ignores`.
#[derive(Debug, Default)]
struct Ignores {
    regexes: Vec<PyRegex>,
    ignore_case: bool,
    ignore_punctuation: bool,
}

impl Ignores {
    /// `re.sub` of each regex (in order), then `lower()`, then every Unicode punctuation character
    /// (general category P*) removed.
    fn apply(&self, s: &str) -> String {
        let mut st = s.to_string();
        for r in &self.regexes {
            st = r.re.replace_all(&st, "").into_owned();
        }
        if self.ignore_case {
            st = pystr::lower(&st);
        }
        if self.ignore_punctuation {
            st = punctuation().replace_all(&st, "").into_owned();
        }
        st
    }
}

fn punctuation() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\p{P}").expect("static regex"))
}

/// A native filter, compiled from a step's kwargs.
#[derive(Debug)]
pub struct NativeFilter {
    kind: NativeFilterKind,
    regex: Option<PyRegex>,
    group_select: i64,
    fallback: String,
    ignores: Ignores,
    /// `MapRegexFilter`'s patterns and values, in the mapping's order.
    map: Vec<(PyRegex, String)>,
    translate: fn(&str) -> String,
}

const EXTENDED_ARGS: &str =
    "regex_pattern, group_select, fallback, ignore_case, ignore_punctuation, regexes_to_ignore";
const MAP_ARGS: &str = "regex_pattern_to_value, group_select, fallback, ignore_case, ignore_punctuation, regexes_to_ignore";

impl NativeFilter {
    /// Build the filter from a step's keyword arguments, as the class's `__init__` does (same defaults:
    /// `regex_pattern` `#### (\-?[0-9\.\,]+)`, `group_select` 0, `fallback` `[invalid]`). `translate`
    /// turns a Python `re` pattern into the equivalent fancy-regex pattern (the engine's
    /// `python_pattern_to_fancy`; the identity is right for the patterns of the built-in tasks).
    pub fn build(
        kind: NativeFilterKind,
        kwargs: &Map<String, Value>,
        translate: fn(&str) -> String,
    ) -> Result<NativeFilter> {
        let mut f = NativeFilter {
            kind,
            regex: None,
            group_select: 0,
            fallback: "[invalid]".into(),
            ignores: Ignores::default(),
            map: Vec::new(),
            translate,
        };
        if kind == NativeFilterKind::BbhWordSort {
            if let Some(k) = kwargs.keys().next() {
                return Err(NativeFilterError::UnknownArgument {
                    arg: k.clone(),
                    accepted: "no arguments",
                });
            }
            return Ok(f);
        }
        let accepted = if kind == NativeFilterKind::BbhMapRegex {
            MAP_ARGS
        } else {
            EXTENDED_ARGS
        };
        let mut pattern = String::from(r"#### (\-?[0-9\.\,]+)");
        for (k, v) in kwargs {
            match k.as_str() {
                "regex_pattern" if kind != NativeFilterKind::BbhMapRegex => {
                    pattern = want_str(v, "regex_pattern")?
                }
                "regex_pattern_to_value" if kind == NativeFilterKind::BbhMapRegex => {
                    let Value::Object(m) = v else {
                        return Err(bad("regex_pattern_to_value", "a mapping", v));
                    };
                    for (p, val) in m {
                        let val = match val {
                            Value::String(s) => s.clone(),
                            other => yardstick_core::python::value::to_str(other),
                        };
                        f.map.push((PyRegex::new(p, &translate)?, val));
                    }
                }
                "group_select" => {
                    f.group_select = v
                        .as_i64()
                        .ok_or_else(|| bad("group_select", "an integer", v))?
                }
                "fallback" => f.fallback = want_str(v, "fallback")?,
                "ignore_case" => f.ignores.ignore_case = truthy(v),
                "ignore_punctuation" => f.ignores.ignore_punctuation = truthy(v),
                "regexes_to_ignore" => match v {
                    Value::Null => {}
                    Value::Array(items) => {
                        for it in items {
                            let s = want_str(it, "regexes_to_ignore")?;
                            f.ignores.regexes.push(PyRegex::new(&s, &translate)?);
                        }
                    }
                    other => return Err(bad("regexes_to_ignore", "a list of patterns", other)),
                },
                other => {
                    return Err(NativeFilterError::UnknownArgument {
                        arg: other.to_string(),
                        accepted,
                    })
                }
            }
        }
        if kind == NativeFilterKind::BbhMapRegex {
            // The class matches the alternation of all the patterns first.
            pattern = f
                .map
                .iter()
                .map(|(r, _)| r.source.as_str())
                .collect::<Vec<_>>()
                .join("|");
        }
        f.regex = Some(PyRegex::new(&pattern, &translate)?);
        Ok(f)
    }

    pub fn kind(&self) -> NativeFilterKind {
        self.kind
    }

    /// Filter the responses of one instance (one per repeat); `doc` is the instance's doc.
    pub fn apply(&self, resps: &[String], doc: &Doc) -> Result<Vec<String>> {
        match self.kind {
            NativeFilterKind::BbhMultiChoiceRegex => self.multi_choice(resps, doc),
            NativeFilterKind::BbhMapRegex => resps.iter().map(|r| self.map_one(r)).collect(),
            NativeFilterKind::BbhNumberParseRegex => {
                resps.iter().map(|r| self.number_one(r)).collect()
            }
            NativeFilterKind::BbhWordSort => self.word_sort(resps, doc),
        }
    }

    fn main_regex(&self) -> &PyRegex {
        self.regex
            .as_ref()
            .expect("every kind but WordSortFilter has a pattern")
    }

    /// `ExtendedRegexFilter.find_match`: the `group_select`-th `findall` item (first non-empty group of a
    /// tuple), stripped, then mapped through `convert`. `""` stands for every falsy result.
    fn find_match(
        &self,
        regex: &PyRegex,
        resp: &str,
        convert: &[(String, String)],
    ) -> Result<String> {
        let found = regex.findall(resp)?;
        if found.is_empty() {
            return Ok(String::new());
        }
        let n = found.len() as i64;
        let i = if self.group_select < 0 {
            n + self.group_select
        } else {
            self.group_select
        };
        if i < 0 || i >= n {
            return Err(NativeFilterError::GroupSelect {
                group_select: self.group_select,
                found: found.len(),
                pattern: regex.source.clone(),
            });
        }
        let m = match &found[i as usize] {
            Found::One(s) => s.clone(),
            Found::Groups(g) => g.iter().find(|s| !s.is_empty()).cloned().ok_or_else(|| {
                NativeFilterError::EmptyGroups {
                    pattern: regex.source.clone(),
                }
            })?,
        };
        let m = pystr::strip(&m, None).to_string();
        if !m.is_empty() {
            if let Some((_, to)) = convert.iter().find(|(from, _)| *from == m) {
                return Ok(to.clone());
            }
        }
        Ok(m)
    }

    fn map_one(&self, resp: &str) -> Result<String> {
        let whole = self.find_match(self.main_regex(), &self.ignores.apply(resp), &[])?;
        if whole.is_empty() {
            return Ok(self.fallback.clone());
        }
        for (regex, value) in &self.map {
            let m = self.find_match(regex, &self.ignores.apply(&whole), &[])?;
            if !m.is_empty() {
                return Ok(value.clone());
            }
        }
        Ok(self.fallback.clone())
    }

    fn number_one(&self, resp: &str) -> Result<String> {
        let mut m = self.find_match(self.main_regex(), resp, &[])?;
        if m.is_empty() {
            let words = PyRegex {
                source: "<english number words>".into(),
                re: english_numbers().clone(),
            };
            m = self.find_match(&words, &pystr::lower(resp), &[])?;
            if !m.is_empty() {
                m = word_to_num(&m)?.to_string();
            }
        }
        Ok(if m.is_empty() {
            self.fallback.clone()
        } else {
            m
        })
    }

    fn multi_choice(&self, resps: &[String], doc: &Doc) -> Result<Vec<String>> {
        let input = doc_input(doc)?;
        // The choices of the question: `(A) text` up to a line break, "^" or "(", normalised.
        let listed = PyRegex {
            source: r"\([A-Z]\)([^\n^(]*)".into(),
            re: choice_list().clone(),
        };
        let texts: Vec<String> = listed
            .findall(input)?
            .into_iter()
            .map(|f| match f {
                Found::One(t) => self.ignores.apply(pystr::strip(&t, None)),
                Found::Groups(g) => g.concat(),
            })
            .collect();
        let letters: Vec<String> = (0..texts.len())
            .map(|k| char::from_u32('A' as u32 + k as u32).map_or_else(String::new, String::from))
            .collect();
        // text -> "(X)" as a dict: a repeated text keeps its first position and the later letter.
        let mut choices: Vec<(String, String)> = Vec::new();
        for (t, l) in texts.iter().zip(&letters) {
            match choices.iter_mut().find(|(k, _)| k == t) {
                Some(slot) => slot.1 = format!("({l})"),
                None => choices.push((t.clone(), format!("({l})"))),
            }
        }
        // `re.escape(text)` joined longest first (a stable sort): the order decides which alternative
        // wins, so sort by the length of Python's escaped form; the literal itself is escaped for Rust.
        let mut by_len: Vec<&String> = texts.iter().collect();
        by_len.sort_by_key(|t| std::cmp::Reverse(py_re_escape(t).chars().count()));
        let alternation = by_len
            .iter()
            .map(|t| regex::escape(t))
            .collect::<Vec<_>>()
            .join("|");
        let fallback = PyRegex {
            re: Regex::new(&alternation).map_err(|e| NativeFilterError::Pattern {
                pattern: alternation.clone(),
                message: e.to_string(),
            })?,
            source: alternation,
        };
        let no_paren = PyRegex::new(&format!(r":[\s]*({})", letters.join("|")), &self.translate)?;
        let no_paren_convert: Vec<(String, String)> = letters
            .iter()
            .map(|l| (l.clone(), format!("({l})")))
            .collect();
        resps
            .iter()
            .map(|resp| {
                let mut m = self.find_match(self.main_regex(), resp, &[])?;
                if m.is_empty() {
                    m = self.find_match(&fallback, &self.ignores.apply(resp), &choices)?;
                    if m.is_empty() {
                        m = self.find_match(&no_paren, resp, &no_paren_convert)?;
                    }
                }
                Ok(if m.is_empty() {
                    self.fallback.clone()
                } else {
                    m
                })
            })
            .collect()
    }

    fn word_sort(&self, resps: &[String], doc: &Doc) -> Result<Vec<String>> {
        let input = doc_input(doc)?;
        let after = input
            .split("List:")
            .nth(1)
            .ok_or(NativeFilterError::NoWordList)?;
        let words = pystr::split(pystr::strip(after, None), None, -1).unwrap_or_default();
        let source = words
            .iter()
            .map(|w| format!(r"\b{w}\b"))
            .collect::<Vec<_>>()
            .join("|");
        let regex = PyRegex::new(&source, &self.translate)?;
        resps
            .iter()
            .map(|resp| {
                let mut seen: Vec<String> = Vec::new();
                for f in regex.findall(resp)?.into_iter().rev() {
                    let w = match f {
                        Found::One(s) => s,
                        Found::Groups(g) => g.concat(),
                    };
                    if !seen.contains(&w) {
                        seen.push(w);
                    }
                }
                seen.reverse();
                Ok(seen.join(" "))
            })
            .collect()
    }
}

fn doc_input(doc: &Doc) -> Result<&str> {
    doc.get("input")
        .and_then(Value::as_str)
        .ok_or(NativeFilterError::DocField { field: "input" })
}

fn choice_list() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\([A-Z]\)([^\n^(]*)").expect("static regex"))
}

/// `NumberParseRegexFilter`'s English number-word pattern (for the `regex` module). Its branch-reset
/// groups `(?|teen|ty)` hold no capture group, so they are the non-capturing `(?:teen|ty)` here.
fn english_numbers() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        const UNIT: &str = "zero|one|two|three|four|five|(?:twen|thir|for|fif|six|seven|nine)(?:teen|ty)|eight(?:|een|y)|ten|eleven|twelve|fourteen|hundred|thousand|(?:m|b|tr)illion";
        const UNIT2: &str = "zero|one|two|three|four|five|(?:twen|thir|for|fif|six|seven|nine)(?:|teen|ty)|eight(?:|een|y)|ten|eleven|twelve|fourteen|hundred|thousand|(?:m|b|tr)illion";
        let p = format!(
            r"((?:(?:{UNIT})(?:{UNIT2}|[^\S\r\n]|,|and|&)+)?(?:{UNIT}))"
        );
        Regex::new(&p).expect("static regex")
    })
}

/// Python 3.7+'s `re.escape`: a backslash before each of `()[]{}?*+-|^$\.&~#`, space, `\t\n\r\v\f`.
pub fn py_re_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\u{0b}\u{0c}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn want_str(v: &Value, arg: &'static str) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| bad(arg, "a string", v))
}

fn bad(arg: &'static str, expected: &'static str, v: &Value) -> NativeFilterError {
    NativeFilterError::BadArgument {
        arg,
        expected,
        found: v.to_string(),
    }
}

#[cfg(test)]
mod tests;
