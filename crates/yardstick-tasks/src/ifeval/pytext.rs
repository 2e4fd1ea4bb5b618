//! Python `str` predicates and `re` character classes the IFEval checkers depend on.
//!
//! lm-eval's checkers use the standard `re` module, whose `\s` is `str.isspace` (Unicode
//! `White_Space` plus U+001C..U+001F); NLTK routes its expressions through the third-party `regex`
//! module, whose `\s`, `\w` and `\d` are the Unicode properties that Rust's `regex` uses too.

pub(crate) use yardstick_core::python::text::{is_space, lstrip, rstrip, strip};

/// `re`'s `\s` (str pattern) as a Rust regex class body.
pub(crate) const RE_SPACE: &str = r"[\s\x1C-\x1F]";

/// The titlecase letters (category Lt): Python's `isupper`/`islower` treat them as cased but
/// neither upper nor lower, and fail on them.
fn is_titlecase(c: char) -> bool {
    matches!(
        c,
        '\u{01C5}'
            | '\u{01C8}'
            | '\u{01CB}'
            | '\u{01F2}'
            | '\u{1F88}'..='\u{1F8F}'
                | '\u{1F98}'..='\u{1F9F}'
                | '\u{1FA8}'..='\u{1FAF}'
                | '\u{1FBC}'
                | '\u{1FCC}'
                | '\u{1FFC}'
    )
}

/// Python `str.isupper()`: at least one cased character, and none lowercase or titlecase.
pub(crate) fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Python `str.islower()`: at least one cased character, and none uppercase or titlecase.
pub(crate) fn is_lower(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_lowercase();
    }
    cased
}

/// Python's `\w` in a `re` str pattern: `str.isalnum()` (letters, categories L*, and numbers, N*)
/// or `_`. Unlike Rust's `\w`, it excludes combining marks.
pub(crate) fn is_py_word(c: char) -> bool {
    use regex::Regex;
    use std::sync::OnceLock;
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let mut buf = [0u8; 4];
    RE.get_or_init(|| Regex::new(r"^[\p{L}\p{N}_]$").ok())
        .as_ref()
        .is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}

/// `s.split()` with no separator: runs of Python whitespace, no empty pieces.
pub(crate) fn split_whitespace(s: &str) -> Vec<&str> {
    s.split(is_space).filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_and_lower_follow_python() {
        assert!(is_upper("HELLO, WORLD 1"));
        assert!(!is_upper("HELLO world"));
        assert!(!is_upper("123 !"));
        assert!(!is_upper("ǅ"));
        assert!(is_lower("hello, world 1"));
        assert!(!is_lower("hello World"));
        assert!(!is_lower("..."));
    }

    #[test]
    fn python_word_chars() {
        assert!(is_py_word('a') && is_py_word('_') && is_py_word('7') && is_py_word('²'));
        assert!(is_py_word('ह'));
        assert!(!is_py_word('\u{093F}')); // DEVANAGARI VOWEL SIGN I (Mc)
        assert!(!is_py_word('-') && !is_py_word(' '));
    }

    #[test]
    fn split_like_python() {
        assert_eq!(split_whitespace("  a \u{1c}b\n\nc  "), vec!["a", "b", "c"]);
    }
}
