//! Python `re` semantics on top of fancy-regex: a pattern translator for the places where the two
//! syntaxes or character classes differ, and `findall` / `sub` with Python's handling of empty
//! matches.
//!
//! What the translation covers (outside a `(?m)` pattern for `$`):
//! * `$` also matches just before a final newline; `\Z` is the absolute end;
//! * `\s` is Python's whitespace (Unicode `White_Space` plus U+001C..U+001F), `\w` is a letter, a
//!   number or `_` (Python's `str.isalnum()`), `\b` / `\B` are boundaries of that `\w`; `\S` and
//!   `\W` inside a class are nested negated classes of the same sets;
//! * `\<` and `\>` are the literal characters (word boundaries in fancy-regex);
//! * a `{` that does not start a valid repetition is a literal, and `{,n}` means `{0,n}`;
//! * inside a character class, `[`, `&` and `~` are literals (set operators in fancy-regex);
//! * `(?P=name)` is a named back-reference.

use fancy_regex::Regex;

const WORD: &str = r"\p{L}\p{N}_";
const SPACE_EXTRA: &str = r"\x1c-\x1f";

/// Rewrite a Python `re` pattern so that fancy-regex matches what Python matches.
pub fn python_pattern_to_fancy(pattern: &str) -> String {
    let multiline = has_inline_multiline(pattern);
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i) else {
                    out.push('\\');
                    continue;
                };
                i += 1;
                translate_escape(n, in_class, &mut out);
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // a ']' right after '[' or '[^' is literal
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '$' if !in_class && !multiline => out.push_str("(?:(?=\\n\\z)|\\z)"),
            '{' if !in_class => match repetition(&chars[i..]) {
                Some((text, used)) => {
                    out.push_str(&text);
                    i += used;
                }
                None => out.push_str("\\{"),
            },
            '}' if !in_class => out.push_str("\\}"),
            '(' if !in_class && chars[i..].starts_with(&['?', 'P', '=']) => {
                let rest: String = chars[i + 3..].iter().collect();
                match rest.find(')') {
                    Some(end) => {
                        out.push_str("\\k<");
                        out.push_str(&rest[..end]);
                        out.push('>');
                        i += 3 + rest[..end].chars().count() + 1;
                    }
                    None => out.push('('),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn translate_escape(n: char, in_class: bool, out: &mut String) {
    match (n, in_class) {
        ('Z', false) => out.push_str("\\z"),
        ('s', false) => out.push_str(&format!("[\\s{SPACE_EXTRA}]")),
        ('S', false) => out.push_str(&format!("[^\\s{SPACE_EXTRA}]")),
        ('s', true) => out.push_str(&format!("\\s{SPACE_EXTRA}")),
        ('w', false) => out.push_str(&format!("[{WORD}]")),
        ('W', false) => out.push_str(&format!("[^{WORD}]")),
        ('w', true) => out.push_str(WORD),
        // nested classes (fancy-regex accepts them inside a class)
        ('S', true) => out.push_str(&format!("[^\\s{SPACE_EXTRA}]")),
        ('W', true) => out.push_str(&format!("[^{WORD}]")),
        ('b', false) => out.push_str(&format!(
            "(?:(?<=[{WORD}])(?![{WORD}])|(?<![{WORD}])(?=[{WORD}]))"
        )),
        ('B', false) => out.push_str(&format!(
            "(?:(?<=[{WORD}])(?=[{WORD}])|(?<![{WORD}])(?![{WORD}]))"
        )),
        ('<' | '>', _) => out.push(n),
        _ => {
            out.push('\\');
            out.push(n);
        }
    }
}

/// A Python repetition `{m}`, `{m,}`, `{,n}`, `{m,n}` or `{,}` starting after a `{`: its fancy-regex
/// spelling and how many characters (after the `{`) it used. `None` when Python reads a literal `{`.
fn repetition(rest: &[char]) -> Option<(String, usize)> {
    if rest.first() == Some(&'}') {
        return None;
    }
    let lo: String = rest.iter().take_while(|c| c.is_ascii_digit()).collect();
    let mut k = lo.len();
    let hi = if rest.get(k) == Some(&',') {
        k += 1;
        let hi: String = rest[k..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        k += hi.len();
        Some(hi)
    } else {
        None
    };
    if rest.get(k) != Some(&'}') {
        return None;
    }
    let lo = if lo.is_empty() { "0".to_string() } else { lo };
    let text = match hi {
        None => format!("{{{lo}}}"),
        Some(h) => format!("{{{lo},{h}}}"),
    };
    Some((text, k + 1))
}

fn has_inline_multiline(pattern: &str) -> bool {
    // Python only accepts global inline flags like (?m) / (?im) (and scoped (?m:...)); treat any
    // flag group containing 'm' as multiline.
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i + 2 < bytes.len() {
        if bytes[i] == b'(' && bytes[i + 1] == b'?' {
            let mut j = i + 2;
            while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                if bytes[j] == b'm' {
                    return true;
                }
                j += 1;
            }
        }
        i += 1;
    }
    false
}

/// One item of `re.findall`: the whole match (no group), the group (one group) or a tuple of groups
/// (a group that did not take part is `""`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Str(String),
    Tuple(Vec<String>),
}

/// A compiled Python pattern.
#[derive(Debug)]
pub struct PyRegex {
    pattern: String,
    re: Regex,
    /// `\G(?:pattern)(?!\G)`: a non-empty match at the search position (what Python looks for after an
    /// empty match, before moving on). `None` if that wrapper does not compile; the search then just
    /// moves on, which differs only for patterns that prefer an empty match where a longer one exists.
    non_empty_here: Option<Regex>,
}

impl PyRegex {
    /// Compile `pattern` (Python syntax). The error is fancy-regex's message.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let translated = python_pattern_to_fancy(pattern);
        let re = Regex::new(&translated).map_err(|e| e.to_string())?;
        let non_empty_here = Regex::new(&format!("\\G(?:{translated})(?!\\G)")).ok();
        Ok(PyRegex {
            pattern: pattern.to_string(),
            re,
            non_empty_here,
        })
    }

    /// The pattern as written (Python syntax).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The number of capture groups.
    pub fn groups(&self) -> usize {
        self.re.captures_len().saturating_sub(1)
    }

    /// The spans of the successive matches, with Python's rule for empty matches: an empty match may
    /// directly follow a non-empty one, and after an empty match the next one must not be empty at the
    /// same position.
    fn for_each_match(
        &self,
        text: &str,
        mut f: impl FnMut(&fancy_regex::Captures<'_>),
    ) -> Result<(), String> {
        let mut pos = 0;
        let mut must_advance = false;
        while pos <= text.len() {
            let caps = if must_advance {
                let here = match &self.non_empty_here {
                    Some(re) => re.captures_from_pos(text, pos).map_err(|e| e.to_string())?,
                    None => None,
                };
                match here {
                    Some(c) => Some(c),
                    None => {
                        let Some(next) = text[pos..].chars().next() else {
                            break;
                        };
                        pos += next.len_utf8();
                        self.re
                            .captures_from_pos(text, pos)
                            .map_err(|e| e.to_string())?
                    }
                }
            } else {
                self.re
                    .captures_from_pos(text, pos)
                    .map_err(|e| e.to_string())?
            };
            let Some(caps) = caps else { break };
            let Some(m) = caps.get(0) else { break };
            f(&caps);
            must_advance = m.start() == m.end();
            pos = m.end();
        }
        Ok(())
    }

    /// `re.findall(pattern, text)`.
    pub fn findall(&self, text: &str) -> Result<Vec<Found>, String> {
        let groups = self.groups();
        let mut out = Vec::new();
        self.for_each_match(text, |caps| {
            let group = |g: usize| {
                caps.get(g)
                    .map_or(String::new(), |m| m.as_str().to_string())
            };
            out.push(match groups {
                0 => Found::Str(group(0)),
                1 => Found::Str(group(1)),
                n => Found::Tuple((1..=n).map(group).collect()),
            });
        })?;
        Ok(out)
    }

    /// `re.sub(pattern, "", text)`.
    pub fn remove_all(&self, text: &str) -> Result<String, String> {
        self.replace_all_literal(text, "")
    }

    /// `re.sub(pattern, replacement, text)` for a replacement without backslashes (taken literally).
    pub fn replace_all_literal(&self, text: &str, replacement: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        self.for_each_match(text, |caps| {
            if let Some(m) = caps.get(0) {
                out.push_str(&text[last..m.start()]);
                out.push_str(replacement);
                last = m.end();
            }
        })?;
        out.push_str(&text[last..]);
        Ok(out)
    }
}

/// Python's `re.escape`-then-compile for literal text: a fancy-regex pattern matching `text`.
pub fn escape(text: &str) -> String {
    fancy_regex::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<Found> {
        v.iter().map(|s| Found::Str(s.to_string())).collect()
    }

    #[test]
    fn translation() {
        assert_eq!(python_pattern_to_fancy("\\.$"), "\\.(?:(?=\\n\\z)|\\z)");
        assert_eq!(python_pattern_to_fancy("[$]"), "[$]");
        assert_eq!(python_pattern_to_fancy("(?m)a$"), "(?m)a$");
        assert_eq!(python_pattern_to_fancy("a{,3}b{2}c{x"), "a{0,3}b{2}c\\{x");
        assert_eq!(python_pattern_to_fancy("[[&~]"), "[\\[\\&\\~]");
        assert!(PyRegex::new("(").is_err());
    }

    #[test]
    fn empty_matches_follow_python() {
        // re.findall(r'x*', 'abxd') == ['', '', 'x', '', '']
        let r = PyRegex::new("x*").unwrap();
        assert_eq!(r.findall("abxd").unwrap(), strs(&["", "", "x", "", ""]));
        // re.findall(r'|a', 'a') == ['', 'a', '']
        let r = PyRegex::new("|a").unwrap();
        assert_eq!(r.findall("a").unwrap(), strs(&["", "a", ""]));
        // re.sub('x*', '-', 'abxd') has 5 replacements; removing them leaves 'abd'
        assert_eq!(
            PyRegex::new("x*").unwrap().remove_all("abxd").unwrap(),
            "abd"
        );
    }

    #[test]
    fn groups_and_anchors() {
        let r = PyRegex::new("(a)|(b)").unwrap();
        assert_eq!(
            r.findall("ab").unwrap(),
            vec![
                Found::Tuple(vec!["a".into(), "".into()]),
                Found::Tuple(vec!["".into(), "b".into()])
            ]
        );
        // `$` before a final newline; `\Z` only at the very end
        assert_eq!(
            PyRegex::new("\\d$").unwrap().findall("1\n2\n").unwrap(),
            strs(&["2"])
        );
        assert_eq!(
            PyRegex::new("\\d\\Z").unwrap().findall("1\n2\n").unwrap(),
            vec![]
        );
        // `^` stays the start of the text when the search resumes later
        assert_eq!(
            PyRegex::new("^a").unwrap().findall("aaa").unwrap(),
            strs(&["a"])
        );
        // Python's \s includes U+001C..U+001F; \w excludes combining marks
        assert_eq!(
            PyRegex::new("\\s")
                .unwrap()
                .findall("\u{1c}")
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            PyRegex::new("\\w+").unwrap().findall("कि").unwrap(),
            strs(&["क"])
        );
        assert_eq!(
            PyRegex::new("\\bcat\\b")
                .unwrap()
                .findall("cat concat cat.")
                .unwrap(),
            strs(&["cat", "cat"])
        );
        assert_eq!(
            PyRegex::new("a\\<\\>").unwrap().findall("a<>").unwrap(),
            strs(&["a<>"])
        );
        assert_eq!(
            PyRegex::new("(?P<x>a)(?P=x)")
                .unwrap()
                .findall("aab")
                .unwrap(),
            strs(&["a"])
        );
    }
}
