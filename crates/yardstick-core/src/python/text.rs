//! Python `str` semantics that prompts, tokenization and metrics depend on: `isspace`,
//! `strip`/`lstrip`/`rstrip`, `split`/`rsplit`, `capitalize`, `find`/`index` (in characters, not
//! bytes), `count`, `replace`, `isdigit`, `isprintable` and `repr(str)`.
//!
//! Rust's `trim()` and `char::is_whitespace` follow Unicode `White_Space`, which differs from Python's
//! `str.isspace` (Python also treats U+001C–U+001F as whitespace and does not treat U+180E … as such),
//! so these helpers use Python's own definition.

/// Python `str.isspace()` for one character: bidirectional class WS, B or S, or category Zs. This is
/// also what `re`'s `\s` matches in a str pattern. The set equals Unicode `White_Space` plus the
/// information separators U+001C..U+001F; it is spelled out so that it does not follow Rust's Unicode
/// version.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0b}'
            | '\u{0c}'
            | '\r'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{1f}'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// `s.strip(chars)`: with `None`, Python whitespace.
pub fn strip<'a>(s: &'a str, chars: Option<&str>) -> &'a str {
    rstrip(lstrip(s, chars), chars)
}

/// `s.lstrip(chars)`.
pub fn lstrip<'a>(s: &'a str, chars: Option<&str>) -> &'a str {
    match chars {
        None => s.trim_start_matches(is_space),
        Some(set) => s.trim_start_matches(|c: char| set.contains(c)),
    }
}

/// `s.rstrip(chars)`.
pub fn rstrip<'a>(s: &'a str, chars: Option<&str>) -> &'a str {
    match chars {
        None => s.trim_end_matches(is_space),
        Some(set) => s.trim_end_matches(|c: char| set.contains(c)),
    }
}

/// `s.split(sep, maxsplit)`. `maxsplit < 0` means no limit. Returns `None` for an empty separator
/// (Python raises `ValueError: empty separator`).
pub fn split(s: &str, sep: Option<&str>, maxsplit: i64) -> Option<Vec<String>> {
    let limit = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    match sep {
        Some("") => None,
        Some(sep) => {
            let mut out = Vec::new();
            let mut rest = s;
            while out.len() < limit {
                match rest.find(sep) {
                    Some(pos) => {
                        out.push(rest[..pos].to_string());
                        rest = &rest[pos + sep.len()..];
                    }
                    None => break,
                }
            }
            out.push(rest.to_string());
            Some(out)
        }
        None => {
            // Runs of whitespace separate; leading/trailing whitespace yields no empty strings.
            let mut out = Vec::new();
            let mut rest = lstrip(s, None);
            while !rest.is_empty() {
                if out.len() >= limit {
                    out.push(rest.to_string());
                    return Some(out);
                }
                match rest.find(is_space) {
                    Some(pos) => {
                        out.push(rest[..pos].to_string());
                        rest = lstrip(&rest[pos..], None);
                    }
                    None => {
                        out.push(rest.to_string());
                        rest = "";
                    }
                }
            }
            Some(out)
        }
    }
}

/// `s.rsplit(sep, maxsplit)`.
pub fn rsplit(s: &str, sep: Option<&str>, maxsplit: i64) -> Option<Vec<String>> {
    if maxsplit < 0 {
        return split(s, sep, maxsplit);
    }
    let limit = maxsplit as usize;
    match sep {
        Some("") => None,
        Some(sep) => {
            let mut out = Vec::new();
            let mut rest = s;
            while out.len() < limit {
                match rest.rfind(sep) {
                    Some(pos) => {
                        out.push(rest[pos + sep.len()..].to_string());
                        rest = &rest[..pos];
                    }
                    None => break,
                }
            }
            out.push(rest.to_string());
            out.reverse();
            Some(out)
        }
        None => {
            let mut out = Vec::new();
            let mut rest = rstrip(s, None);
            while !rest.is_empty() {
                if out.len() >= limit {
                    out.push(rest.to_string());
                    break;
                }
                match rest.rfind(is_space) {
                    Some(pos) => {
                        let ch_len = rest[pos..].chars().next().map_or(1, char::len_utf8);
                        out.push(rest[pos + ch_len..].to_string());
                        rest = rstrip(&rest[..pos], None);
                    }
                    None => {
                        out.push(rest.to_string());
                        rest = "";
                    }
                }
            }
            out.reverse();
            Some(out)
        }
    }
}

/// Title case of one character as Python's `str.capitalize`/`str.title` apply it (close to upper case,
/// except for digraphs and ligatures).
fn push_titlecase(out: &mut String, c: char) {
    match c {
        '\u{01c4}'..='\u{01c6}' => out.push('\u{01c5}'),
        '\u{01c7}'..='\u{01c9}' => out.push('\u{01c8}'),
        '\u{01ca}'..='\u{01cc}' => out.push('\u{01cb}'),
        '\u{01f1}'..='\u{01f3}' => out.push('\u{01f2}'),
        'ß' => out.push_str("Ss"),
        '\u{fb00}' => out.push_str("Ff"),
        '\u{fb01}' => out.push_str("Fi"),
        '\u{fb02}' => out.push_str("Fl"),
        '\u{fb03}' => out.push_str("Ffi"),
        '\u{fb04}' => out.push_str("Ffl"),
        '\u{fb05}' | '\u{fb06}' => out.push_str("St"),
        '\u{0587}' => out.push_str("\u{0535}\u{0582}"),
        _ => out.extend(c.to_uppercase()),
    }
}

/// `s.capitalize()` (Python ≥ 3.8): first character title-cased, the rest lower-cased.
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::with_capacity(s.len());
    if let Some(first) = chars.next() {
        push_titlecase(&mut out, first);
        out.push_str(&chars.as_str().to_lowercase());
    }
    out
}

/// `s.lower()`.
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// `s.upper()`.
pub fn upper(s: &str) -> String {
    s.to_uppercase()
}

/// `s.find(sub)`: index in characters, or -1.
pub fn find(s: &str, sub: &str) -> i64 {
    match s.find(sub) {
        Some(pos) => s[..pos].chars().count() as i64,
        None => -1,
    }
}

/// `s.rfind(sub)`: index in characters, or -1.
pub fn rfind(s: &str, sub: &str) -> i64 {
    match s.rfind(sub) {
        Some(pos) => s[..pos].chars().count() as i64,
        None => -1,
    }
}

/// `s.count(sub)`: non-overlapping occurrences (`len(s) + 1` for an empty `sub`).
pub fn count(s: &str, sub: &str) -> usize {
    if sub.is_empty() {
        return s.chars().count() + 1;
    }
    s.matches(sub).count()
}

/// `s.replace(old, new, count)`; `count < 0` replaces all.
pub fn replace(s: &str, old: &str, new: &str, count: i64) -> String {
    if count < 0 {
        s.replace(old, new)
    } else {
        s.replacen(old, new, count as usize)
    }
}

/// `s.isdigit()`: non-empty and every character a digit. Exact for ASCII, decimal digits of other
/// scripts, superscripts and circled digits; vulgar fractions and Roman numerals are not digits.
pub fn isdigit(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_digit()
                || (!c.is_ascii()
                    && c.is_numeric()
                    && !matches!(c, '\u{bc}'..='\u{be}' | '\u{2150}'..='\u{218f}' | '\u{3007}'))
        })
}

/// Python `str.isprintable()` for one character: false for categories Cc, Cf, Cs, Co, Zl, Zp and Zs
/// other than the ASCII space. Unassigned code points (Cn) are non-printable for the
/// noncharacters, the wholly unassigned planes 4–13 and plane 14 outside the tag characters and
/// the variation selectors supplement (U+E0100..U+E01EF, category Mn, printable); other scattered
/// unassigned code points are treated as printable.
pub fn is_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || (0x7f..=0xa0).contains(&u) {
        return false;
    }
    !matches!(
        u,
        0xad | 0x600..=0x605
            | 0x61c
            | 0x6dd
            | 0x70f
            | 0x890..=0x891
            | 0x8e2
            | 0x1680
            | 0x180e
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x2064
            | 0x2066..=0x206f
            | 0x3000
            | 0xe000..=0xf8ff
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0x110bd
            | 0x110cd
            | 0x13430..=0x1343f
            | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
            | 0xf0000..=0xffffd
            | 0x100000..=0x10fffd
            | 0xfdd0..=0xfdef
            | 0x40000..=0xdffff
            | 0xe0080..=0xe00ff
            | 0xe01f0..=0xeffff
    ) && (u & 0xfffe) != 0xfffe
}

/// Python `len(s)`: Unicode code points.
pub fn len(s: &str) -> usize {
    s.chars().count()
}

/// Python `repr()` of a string: single quotes unless the text contains `'` and no `"`; backslash,
/// `\t`, `\n`, `\r` and the quote escaped, other non-printable characters as `\xNN`, `\uNNNN` or
/// `\UNNNNNNNN`.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_ascii() || is_printable(c) => out.push(c),
            c => {
                let u = c as u32;
                if u < 0x100 {
                    out.push_str(&format!("\\x{u:02x}"));
                } else if u < 0x10000 {
                    out.push_str(&format!("\\u{u:04x}"));
                } else {
                    out.push_str(&format!("\\U{u:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(strip("\u{1c} a \u{3000}\n", None), "a");
        // U+200B ZERO WIDTH SPACE is not whitespace in Python.
        assert_eq!(strip("\u{200b}a", None), "\u{200b}a");
        assert_eq!(strip("xxaxx", Some("x")), "a");
        assert_eq!(lstrip("  a ", None), "a ");
        assert_eq!(rstrip("  a ", None), "  a");
    }

    #[test]
    fn split_like_python() {
        let s = |v: &[&str]| Some(v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(split("  a  b \n c ", None, -1), s(&["a", "b", "c"]));
        assert_eq!(split("", None, -1), s(&[]));
        assert_eq!(split("a,b,,c", Some(","), -1), s(&["a", "b", "", "c"]));
        assert_eq!(split("a,b,c", Some(","), 1), s(&["a", "b,c"]));
        assert_eq!(split(" a b c ", None, 1), s(&["a", "b c "]));
        assert_eq!(split("a", Some(""), -1), None);
        assert_eq!(rsplit("a,b,c", Some(","), 1), s(&["a,b", "c"]));
        assert_eq!(rsplit(" a b c ", None, 1), s(&[" a b", "c"]));
    }

    #[test]
    fn capitalize_like_python() {
        assert_eq!(capitalize("hELLO wORLD"), "Hello world");
        assert_eq!(capitalize("ǆemal"), "ǅemal");
        assert_eq!(capitalize("ßa"), "Ssa");
        assert_eq!(capitalize(""), "");
    }

    #[test]
    fn find_counts_characters() {
        assert_eq!(find("答案：A", "A"), 3);
        assert_eq!(find("abc", "z"), -1);
        assert_eq!(count("aaa", ""), 4);
        assert_eq!(count("aaaa", "aa"), 2);
    }

    #[test]
    fn digits() {
        assert!(isdigit("0123"));
        assert!(!isdigit(""));
        assert!(!isdigit("1.5"));
        assert!(!isdigit("-1"));
        assert!(isdigit("²"));
        assert!(!isdigit("½"));
    }

    #[test]
    fn python_whitespace_definition() {
        for c in [
            ' ', '\t', '\n', '\r', '\x0b', '\x0c', '\u{1c}', '\u{1f}', '\u{85}', '\u{a0}',
            '\u{3000}', '\u{2028}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in ['a', '\u{200b}', '\u{180e}', '\u{feff}'] {
            assert!(!is_space(c), "{c:?}");
        }
    }

    #[test]
    fn is_space_is_white_space_plus_information_separators() {
        // The definition the backends' and the scoring copies used; identical on every code point.
        for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
            assert_eq!(
                is_space(c),
                c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c),
                "{c:?}"
            );
        }
    }

    #[test]
    fn printable_like_python() {
        for c in [
            'a',
            ' ',
            'é',
            '中',
            '😀',
            '\u{e0100}',
            '\u{e01ef}',
            '\u{30000}',
        ] {
            assert!(is_printable(c), "{c:?}");
        }
        for c in [
            '\u{0}',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{ad}',
            '\u{200b}',
            '\u{2028}',
            '\u{3000}',
            '\u{feff}',
            '\u{e000}',
            '\u{fffe}',
            '\u{40000}',
            '\u{e0001}',
            '\u{e0080}',
            '\u{e01f0}',
            '\u{10fffd}',
        ] {
            assert!(!is_printable(c), "{c:?}");
        }
    }

    #[test]
    fn repr_strings() {
        assert_eq!(repr_str("a"), "'a'");
        assert_eq!(repr_str("abc"), "'abc'");
        assert_eq!(repr_str("b's"), "\"b's\"");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(repr_str("tab\there\n"), "'tab\\there\\n'");
        assert_eq!(
            repr_str("tab\there\n\u{1}é\u{a0}"),
            "'tab\\there\\n\\x01é\\xa0'"
        );
        assert_eq!(repr_str("back\\slash"), "'back\\\\slash'");
        assert_eq!(repr_str("\u{7}\u{7f}"), "'\\x07\\x7f'");
        assert_eq!(repr_str("nb\u{a0}sp"), "'nb\\xa0sp'");
        assert_eq!(repr_str("中文\u{3000}"), "'中文\\u3000'");
        assert_eq!(repr_str("é"), "'é'");
        assert_eq!(repr_str("\u{e0100}\u{40000}"), "'\u{e0100}\\U00040000'");
    }
}
