//! The answer-string handling of lm-eval's `minerva_math/utils.py`: finding the last `\boxed{…}` of a
//! solution, unwrapping it, reading the answer after "Final Answer: The final answer is", and the
//! Minerva normalisation (Lewkowycz et al. 2022, appendix D) that both sides go through before the
//! equivalence check.

use std::sync::OnceLock;

use regex::{Captures, Regex};
use yardstick_core::python::text as pystr;

/// What `get_unnormalized_answer` returns when the response has no "Final Answer" sentence.
pub const INVALID_ANSWER: &str = "[invalidanswer]";

/// Replacements applied in order (before, after).
const SUBSTITUTIONS: &[(&str, &str)] = &[
    ("an ", ""),
    ("a ", ""),
    (".$", "$"),
    ("\\$", ""),
    ("\\ ", ""),
    (" ", ""),
    ("mbox", "text"),
    (",\\text{and}", ","),
    ("\\text{and}", ","),
    ("\\text{m}", "\\text{}"),
];

/// Substrings deleted in order.
const REMOVED_EXPRESSIONS: &[&str] = &[
    "square",
    "ways",
    "integers",
    "dollars",
    "mph",
    "inches",
    "ft",
    "hours",
    "km",
    "units",
    "\\ldots",
    "sue",
    "points",
    "feet",
    "minutes",
    "digits",
    "cents",
    "degrees",
    "cm",
    "gm",
    "pounds",
    "meters",
    "meals",
    "edges",
    "students",
    "childrentickets",
    "multiples",
    "\\text{s}",
    "\\text{.}",
    "\\text{\ns}",
    "\\text{}^2",
    "\\text{}^3",
    "\\text{\n}",
    "\\text{}",
    "\\mathrm{th}",
    "^\\circ",
    "^{\\circ}",
    "\\;",
    ",\\!",
    "{,}",
    "\"",
    "\\dots",
];

/// The last `\boxed{…}` (or `\fbox{…}`) of `s` with its braces balanced, or the text after the last
/// `\boxed ` up to the next `$`; `None` when there is none or its braces never close.
pub fn last_boxed_only_string(s: &str) -> Option<String> {
    if s.contains("\\boxed ") {
        let tail = s.rsplit("\\boxed ").next().unwrap_or("");
        let upto = tail.split('$').next().unwrap_or("");
        return Some(format!("\\boxed {upto}"));
    }
    let start = s.rfind("\\boxed").or_else(|| s.rfind("\\fbox"))?;
    let mut depth: i64 = 0;
    for (i, c) in s[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(s[start..start + i + 1].to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// Why `remove_boxed` refused its input (lm-eval raises `AssertionError` there).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not of the form \\boxed{{…}} or `\\boxed …`")]
pub struct NotBoxed(pub String);

/// The content of `\boxed{…}` / `\boxed …`.
pub fn remove_boxed(s: &str) -> Result<&str, NotBoxed> {
    if s.contains("\\boxed ") {
        return s
            .strip_prefix("\\boxed ")
            .ok_or_else(|| NotBoxed(s.to_string()));
    }
    s.strip_prefix("\\boxed{")
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(|| NotBoxed(s.to_string()))
}

/// The answer stated as "Final Answer: The final answer is X. I hope it is correct." (X stripped), or
/// [`INVALID_ANSWER`]. The closing sentence is appended first, so a response cut off right after X
/// still counts.
pub fn get_unnormalized_answer(text: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"Final Answer: The final answer is(.*?). I hope it is correct.")
            .expect("static regex")
    });
    let text = format!("{text}I hope it is correct.");
    match re.captures(&text) {
        Some(c) => pystr::strip(c.get(1).map_or("", |m| m.as_str()), None).to_string(),
        None => INVALID_ANSWER.to_string(),
    }
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// A word character of Python's `re` (`\\w` on `str`): alphanumeric or `_`.
fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Python's `re.sub(rf"(?<!\\)\b{word}\b", "", s)` for an alphabetic `word`: each occurrence not preceded by a word character or a backslash and not followed by a word
/// character is deleted (boundaries are judged on the original text, scanning left to right).
fn remove_whole_word(s: &str, word: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut copied, mut from) = (0, 0);
    while let Some(rel) = s[from..].find(word) {
        let (i, j) = (from + rel, from + rel + word.len());
        let before_ok = s[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c) && c != '\\');
        let after_ok = s[j..].chars().next().is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            out.push_str(&s[copied..i]);
            copied = j;
            from = j;
        } else {
            from = i + word.chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// `s.replace(word, "")` outside LaTeX command names: Python's `re.split(r"(\\[a-zA-Z]+)", s)`, the
/// replacement applied to the even (non-command) segments only, joined again.
fn remove_outside_commands(s: &str, word: &str) -> String {
    static COMMAND: OnceLock<Regex> = OnceLock::new();
    let re = regex(&COMMAND, r"\\[a-zA-Z]+");
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in re.find_iter(s) {
        out.push_str(&s[last..m.start()].replace(word, ""));
        out.push_str(m.as_str());
        last = m.end();
    }
    out.push_str(&s[last..].replace(word, ""));
    out
}

/// Python's `str.isalpha()`.
fn is_alpha(s: &str) -> bool {
    !s.is_empty() && s.chars().all(char::is_alphabetic)
}

/// Minerva's `normalize_final_answer`, as lm-eval 0.4.13 has it: the last `=`-separated part; unit words
/// removed while whitespace still delimits them (not inside a LaTeX command name: `\\left` keeps its
/// `ft`); the substitutions; the removed expressions (alphabetic ones outside command names); the
/// `$…$`, `\\text{}`, `\\textbf{}`, `\\overline{}`, `\\boxed{}` extraction; `\\fracab` / `\\sqrt[3]a` /
/// `\\sqrta` shorthands braced; `$` dropped; thousands separators dropped from a number like `-100,000`.
pub fn normalize_final_answer(answer: &str) -> String {
    static DOLLARS: OnceLock<Regex> = OnceLock::new();
    static TEXT: OnceLock<Regex> = OnceLock::new();
    static TEXTBF: OnceLock<Regex> = OnceLock::new();
    static OVERLINE: OnceLock<Regex> = OnceLock::new();
    static BOXED: OnceLock<Regex> = OnceLock::new();
    static FRAC: OnceLock<Regex> = OnceLock::new();
    static INDEXED_SQRT: OnceLock<Regex> = OnceLock::new();
    static SQRT: OnceLock<Regex> = OnceLock::new();
    static THOUSANDS: OnceLock<Regex> = OnceLock::new();

    let mut s = answer.rsplit('=').next().unwrap_or("").to_string();
    for expr in REMOVED_EXPRESSIONS.iter().filter(|e| is_alpha(e)) {
        s = remove_whole_word(&s, expr);
    }
    for (before, after) in SUBSTITUTIONS {
        s = s.replace(before, after);
    }
    for expr in REMOVED_EXPRESSIONS {
        s = if is_alpha(expr) {
            remove_outside_commands(&s, expr)
        } else {
            s.replace(expr, "")
        };
    }
    let group = |n: usize| move |c: &Captures| c.get(n).map_or("", |m| m.as_str()).to_string();
    s = regex(&DOLLARS, r"(.*?)(\$)(.*?)(\$)(.*)")
        .replace_all(&s, |c: &Captures| {
            format!("${}$", c.get(3).map_or("", |m| m.as_str()))
        })
        .into_owned();
    s = regex(&TEXT, r"(\\text\{)(.*?)(\})")
        .replace_all(&s, group(2))
        .into_owned();
    s = regex(&TEXTBF, r"(\\textbf\{)(.*?)(\})")
        .replace_all(&s, group(2))
        .into_owned();
    s = regex(&OVERLINE, r"(\\overline\{)(.*?)(\})")
        .replace_all(&s, group(2))
        .into_owned();
    s = regex(&BOXED, r"(\\boxed\{)(.*)(\})")
        .replace_all(&s, group(2))
        .into_owned();
    s = regex(&FRAC, r"(frac)([^{])(.)")
        .replace_all(&s, |c: &Captures| {
            format!(
                "frac{{{}}}{{{}}}",
                c.get(2).map_or("", |m| m.as_str()),
                c.get(3).map_or("", |m| m.as_str())
            )
        })
        .into_owned();
    s = regex(&INDEXED_SQRT, r"(sqrt)(\[[^\]]*\])(\w)")
        .replace_all(&s, |c: &Captures| {
            format!(
                "sqrt{}{{{}}}",
                c.get(2).map_or("", |m| m.as_str()),
                c.get(3).map_or("", |m| m.as_str())
            )
        })
        .into_owned();
    // Python: `(sqrt)(?!\[)([^{])`; the lookahead only excludes `[` from the next character.
    s = regex(&SQRT, r"(sqrt)([^{\[])")
        .replace_all(&s, |c: &Captures| {
            format!("sqrt{{{}}}", c.get(2).map_or("", |m| m.as_str()))
        })
        .into_owned();
    s = s.replace('$', "");
    if regex(&THOUSANDS, r"^-?\d{1,3}(,\d{3})+$").is_match(&s) {
        s = s.replace(',', "");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_extraction() {
        assert_eq!(
            last_boxed_only_string("so $\\boxed{\\frac{1}{2}}$ and \\boxed{3}.").as_deref(),
            Some("\\boxed{3}")
        );
        assert_eq!(
            last_boxed_only_string("a \\boxed{x^{2}} b").as_deref(),
            Some("\\boxed{x^{2}}")
        );
        assert_eq!(
            last_boxed_only_string("is \\boxed 5$ and").as_deref(),
            Some("\\boxed 5")
        );
        assert_eq!(
            last_boxed_only_string("\\fbox{7}").as_deref(),
            Some("\\fbox{7}")
        );
        assert_eq!(last_boxed_only_string("\\boxed{1"), None);
        assert_eq!(last_boxed_only_string("none"), None);
        assert_eq!(remove_boxed("\\boxed{x^{2}}"), Ok("x^{2}"));
        assert_eq!(remove_boxed("\\boxed 5"), Ok("5"));
        assert!(remove_boxed("\\fbox{7}").is_err());
    }

    #[test]
    fn final_answer_sentence() {
        assert_eq!(
            get_unnormalized_answer(
                "blah\nFinal Answer: The final answer is $24$. I hope it is correct."
            ),
            "$24$"
        );
        // cut off before the closing sentence: the appended one completes it only after ". "
        // (checked with Python's re)
        assert_eq!(
            get_unnormalized_answer("Final Answer: The final answer is $7$. "),
            "$7$"
        );
        assert_eq!(
            get_unnormalized_answer("Final Answer: The final answer is $7$."),
            INVALID_ANSWER
        );
        assert_eq!(get_unnormalized_answer("The answer is 7."), INVALID_ANSWER);
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_final_answer("$x = 5$"), "5");
        assert_eq!(normalize_final_answer("100,000"), "100000");
        assert_eq!(normalize_final_answer("(1,2)"), "(1,2)");
        assert_eq!(normalize_final_answer("\\frac12"), "\\frac{1}{2}");
        assert_eq!(normalize_final_answer("\\sqrt2"), "\\sqrt{2}");
        assert_eq!(normalize_final_answer("10 \\text{ inches}"), "10");
        assert_eq!(normalize_final_answer("30^\\circ"), "30");
        assert_eq!(normalize_final_answer("\\$18.90"), "18.90");
        assert_eq!(normalize_final_answer("\\textbf{(A)}"), "(A)");
        assert_eq!(
            normalize_final_answer("\\boxed{\\frac{1}{2}}"),
            "\\frac{1}{2}"
        );
        assert_eq!(normalize_final_answer(INVALID_ANSWER), "[invalidanswer]");
        // lm-eval 0.4.13's refinements: commas only as thousands separators, units as whole words,
        // never inside a command name, indexed roots braced
        assert_eq!(normalize_final_answer("4,6,14,15"), "4,6,14,15");
        assert_eq!(normalize_final_answer("-1,234,567"), "-1234567");
        assert_eq!(normalize_final_answer("0,1"), "0,1");
        assert_eq!(normalize_final_answer("2\\pi cm"), "2\\pi");
        assert_eq!(
            normalize_final_answer("\\left(3,4\\right)"),
            "\\left(3,4\\right)"
        );
        assert_eq!(normalize_final_answer("\\sqrt[3]{8}"), "\\sqrt[3]{8}");
        assert_eq!(normalize_final_answer("\\sqrt[3]8"), "\\sqrt[3]{8}");
        assert_eq!(normalize_final_answer("5 feet"), "5");
        assert_eq!(normalize_final_answer("5feet"), "5");
    }
}
