//! `check_following` of each instruction (lm-eval 0.4.13 `ifeval/instructions.py`), in Rust.
//!
//! Regular expressions are translated with Python `re` semantics in mind: `\s` is Python's whitespace
//! ([`RE_SPACE`]); keywords, section splitters and postscript markers are inserted into patterns
//! unescaped, as lm-eval does (a value that is not a valid Rust pattern is matched literally).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use super::instructions::Instruction;
use super::pytext::{is_lower, is_py_word, is_upper, lstrip, rstrip, strip, RE_SPACE};

/// Compile (and cache) a pattern built from data; a pattern Rust cannot compile is taken literally.
fn re(pattern: &str) -> Regex {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = map.get(pattern) {
        return r.clone();
    }
    // An escaped pattern is valid syntax; only a size limit can still refuse it, and then nothing
    // matches (`[^\s\S]` is a constant that compiles).
    let compiled = Regex::new(pattern)
        .or_else(|_| Regex::new(&regex::escape(pattern)))
        .or_else(|_| Regex::new(r"[^\s\S]"))
        .expect("constant pattern");
    map.insert(pattern.to_string(), compiled.clone());
    compiled
}

/// `re(prefix + raw + suffix)` where `raw` comes from the data: when it is not valid Rust syntax
/// it is escaped alone, not the whole pattern.
fn re_with(prefix: &str, raw: &str, suffix: &str) -> Regex {
    let raw = if Regex::new(raw).is_ok() {
        raw.to_string()
    } else {
        regex::escape(raw)
    };
    re(&format!("{prefix}{raw}{suffix}"))
}

/// The response's language by langdetect, `None` when langdetect raises (no features).
fn detect(text: &str) -> Option<String> {
    super::language::detect(text)
}

/// lm-eval's `check_following` for `inst` on `value`.
pub fn check(inst: &Instruction, value: &str) -> bool {
    use Instruction as I;
    match inst {
        I::KeywordExistence { keywords } => keywords
            .iter()
            .all(|k| re_with("(?i)", k, "").is_match(value)),
        I::KeywordFrequency {
            keyword,
            frequency,
            relation,
        } => {
            let n = re_with("(?i)", keyword, "").find_iter(value).count();
            relation.holds(n, *frequency)
        }
        I::ForbiddenWords { words } => !words.iter().any(|w| contains_whole_word(value, w)),
        I::LetterFrequency {
            letter,
            frequency,
            relation,
        } => {
            let n = value.to_lowercase().chars().filter(|c| c == letter).count();
            relation.holds(n, *frequency)
        }
        I::ResponseLanguage { language } => detect(value).is_none_or(|l| &l == language),
        I::NumberSentences { num, relation } => {
            relation.holds(super::punkt::count_sentences(value), *num)
        }
        I::NumberParagraphs { num } => star_paragraphs(value) == Some(*num),
        I::NumberWords { num, relation } => relation.holds(count_words(value), *num),
        I::NthParagraphFirstWord {
            num_paragraphs,
            nth,
            first_word,
        } => nth_paragraph_first_word(value, *num_paragraphs, *nth, first_word),
        I::NumberPlaceholders { num } => re(r"\[.*?\]").find_iter(value).count() as i64 >= *num,
        I::Postscript { marker } => postscript(value, marker),
        I::NumberBulletLists { num } => {
            let stars = re(&format!(r"(?m)^{RE_SPACE}*\*[^\*].*$"))
                .find_iter(value)
                .count();
            let dashes = re(&format!(r"(?m)^{RE_SPACE}*-.*$"))
                .find_iter(value)
                .count();
            (stars + dashes) as i64 == *num
        }
        I::ConstrainedResponse => {
            let v = strip(value, None);
            [
                "My answer is yes.",
                "My answer is no.",
                "My answer is maybe.",
            ]
            .iter()
            .any(|o| v.contains(o))
        }
        I::NumberHighlightedSections { num } => highlights(value) >= *num,
        I::MultipleSections { splitter, num } => {
            let pat = re_with(
                &format!("{RE_SPACE}?"),
                splitter,
                &format!(r"{RE_SPACE}?\d+{RE_SPACE}?"),
            );
            pat.find_iter(value).count() as i64 >= *num
        }
        I::JsonFormat => json_format(value),
        I::Title => re(r"<<[^\n]+>>")
            .find_iter(value)
            .any(|m| !strip(rstrip(lstrip(m.as_str(), Some("<")), Some(">")), None).is_empty()),
        I::TwoResponses => two_responses(value),
        I::RepeatPrompt { prompt } => strip(value, None)
            .to_lowercase()
            .starts_with(&strip(prompt, None).to_lowercase()),
        I::EndChecker { phrase } => {
            let v = strip(strip(value, None), Some("\"")).to_lowercase();
            v.ends_with(&strip(phrase, None).to_lowercase())
        }
        I::CapitalWordFrequency {
            frequency,
            relation,
        } => {
            let n = super::word_tokenize::word_tokenize(value)
                .iter()
                .filter(|w| is_upper(w))
                .count();
            relation.holds(n, *frequency)
        }
        I::EnglishCapital => is_upper(value) && detect(value).is_none_or(|l| l == "en"),
        I::EnglishLowercase => is_lower(value) && detect(value).is_none_or(|l| l == "en"),
        I::NoComma => !value.contains(','),
        I::Quotation => {
            let v: Vec<char> = strip(value, None).chars().collect();
            v.len() > 1 && v[0] == '"' && v[v.len() - 1] == '"'
        }
    }
}

/// lm-eval's `count_words`: NLTK's `RegexpTokenizer(r"\w+")`, whose `\w` (the `regex` module's) is
/// the Unicode word class of Rust's `regex`.
pub fn count_words(text: &str) -> usize {
    re(r"\w+").find_iter(text).count()
}

/// `re.search(r"\b" + word + r"\b", value, re.IGNORECASE)` with `re`'s `\b` (Python's `\w`).
fn contains_whole_word(value: &str, word: &str) -> bool {
    let pat = re_with("(?i)", word, "");
    let boundary = |before: Option<char>, after: Option<char>| {
        before.is_some_and(is_py_word) != after.is_some_and(is_py_word)
    };
    let mut start = 0;
    while start <= value.len() {
        let Some(m) = pat.find_at(value, start) else {
            return false;
        };
        let before = value[..m.start()].chars().next_back();
        let first = value[m.start()..].chars().next();
        let last = value[..m.end()].chars().next_back();
        let after = value[m.end()..].chars().next();
        if boundary(before, first) && boundary(last, after) {
            return true;
        }
        // Try again from the next character (matches may overlap a rejected one).
        start = m.start() + value[m.start()..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// `ParagraphChecker`: paragraphs split on `***` (one optional whitespace each side); empty ones
/// only at the ends. `None` when an inner paragraph is empty.
fn star_paragraphs(value: &str) -> Option<i64> {
    let parts: Vec<&str> = re(&format!(r"{RE_SPACE}?\*\*\*{RE_SPACE}?"))
        .split(value)
        .collect();
    let mut n = parts.len() as i64;
    for (i, p) in parts.iter().enumerate() {
        if strip(p, None).is_empty() {
            if i == 0 || i == parts.len() - 1 {
                n -= 1;
            } else {
                return None;
            }
        }
    }
    Some(n)
}

fn nth_paragraph_first_word(value: &str, expected: i64, nth: i64, first_word: &str) -> bool {
    let paragraphs: Vec<&str> = value.split("\n\n").collect();
    let count = paragraphs
        .iter()
        .filter(|p| !strip(p, None).is_empty())
        .count() as i64;
    if nth > count {
        return false;
    }
    let paragraph = strip(paragraphs[(nth - 1) as usize], None);
    if paragraph.is_empty() {
        return false;
    }
    let Some(word) = super::pytext::split_whitespace(paragraph).first().copied() else {
        return false;
    };
    let word = lstrip(lstrip(strip(word, None), Some("'")), Some("\""));
    let mut first = String::new();
    for c in word.chars() {
        if matches!(c, '.' | ',' | '?' | '!' | '\'' | '"') {
            break;
        }
        first.extend(c.to_lowercase());
    }
    count == expected && first == first_word
}

fn postscript(value: &str, marker: &str) -> bool {
    let value = value.to_lowercase();
    let pat = match marker {
        "P.P.S" => re(&format!(r"(?m){RE_SPACE}*p\.{RE_SPACE}?p\.{RE_SPACE}?s.*$")),
        "P.S." => re(&format!(r"(?m){RE_SPACE}*p\.{RE_SPACE}?s\..*$")),
        other => re_with(&format!("(?m){RE_SPACE}*"), &other.to_lowercase(), ".*$"),
    };
    pat.is_match(&value)
}

fn highlights(value: &str) -> i64 {
    let single = re(r"\*[^\n\*]*\*")
        .find_iter(value)
        .filter(|m| !strip(strip(m.as_str(), Some("*")), None).is_empty())
        .count();
    let double = re(r"\*\*[^\n\*]*\*\*")
        .find_iter(value)
        .filter(|m| {
            let s = m.as_str();
            let inner = s.strip_prefix("**").unwrap_or(s);
            let inner = inner.strip_suffix("**").unwrap_or(inner);
            !strip(inner, None).is_empty()
        })
        .count();
    (single + double) as i64
}

fn json_format(value: &str) -> bool {
    let mut v = strip(value, None);
    for prefix in ["```json", "```Json", "```JSON", "```"] {
        v = v.strip_prefix(prefix).unwrap_or(v);
    }
    v = v.strip_suffix("```").unwrap_or(v);
    yardstick_core::python::json::parse(strip(v, None)).is_ok()
}

fn two_responses(value: &str) -> bool {
    let parts: Vec<&str> = value.split("******").collect();
    let mut valid = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if strip(p, None).is_empty() {
            if i != 0 && i != parts.len() - 1 {
                return false;
            }
        } else {
            valid.push(*p);
        }
    }
    valid.len() == 2 && strip(valid[0], None) != strip(valid[1], None)
}
