//! Text from outside (a server's response body, an imported file) made safe to print on a terminal or
//! write into a message: secrets redacted, terminal escape and other control characters neutralised.
//! No IO.

use crate::redact::REDACTED;

/// Words after which (followed by `=` or `:`, optionally quoted) a value is a secret, compared
/// case-insensitively.
const SECRET_WORDS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "access_token",
    "token",
    "password",
    "secret",
    "authorization",
];

/// `text` safe to show a person: every secret-looking part replaced by `REDACTED` ([`redact_secrets`]) and
/// every control character except newline and tab — ESC and the other C0 codes, DEL, the C1 codes, and
/// the bidirectional-override characters that reorder what is shown — written as a visible `\u{…}`
/// escape, so a hostile server or file cannot move the cursor, recolour, retitle or hide text.
///
/// ```
/// use yardstick_core::printable::safe_to_print;
/// assert_eq!(safe_to_print("ok \x1b[2Jkey sk-abcdefghijklmnop"), "ok \\u{1b}[2Jkey sk-REDACTED");
/// ```
pub fn safe_to_print(text: &str) -> String {
    let redacted = redact_secrets(text);
    let mut out = String::with_capacity(redacted.len());
    for c in redacted.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `c` is neutralised by [`safe_to_print`].
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` with secret-looking parts replaced by `REDACTED`: API keys of the `sk-…` form, `Bearer …`
/// tokens, the values after secret words (`api_key=…`, `"password": "…"`, `Authorization: …`) and the
/// credentials of URLs ([`crate::redact::redact_url`]).
pub fn redact_secrets(text: &str) -> String {
    let redacted_urls = redact_urls(text);
    let chars: Vec<char> = redacted_urls.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_ascii_lowercase()).collect();
    let mut out = String::with_capacity(redacted_urls.len());
    let mut i = 0;
    let starts = |i: usize, w: &str| -> bool {
        let w: Vec<char> = w.chars().collect();
        i + w.len() <= lower.len() && lower[i..i + w.len()] == w[..]
    };
    let word_boundary_before =
        |i: usize| i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let is_value_char = |c: char| {
        !(c.is_whitespace() || matches!(c, '"' | '\'' | '&' | ',' | ';' | '}' | ']' | '<'))
    };
    while i < chars.len() {
        // sk-… keys (OpenAI style), at least 8 characters after the prefix
        if word_boundary_before(i) && starts(i, "sk-") {
            let n = chars[i + 3..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .count();
            if n >= 8 {
                out.push_str("sk-");
                out.push_str(REDACTED);
                i += 3 + n;
                continue;
            }
        }
        // Bearer tokens
        if word_boundary_before(i) && starts(i, "bearer ") {
            let n = chars[i + 7..]
                .iter()
                .take_while(|c| is_value_char(**c))
                .count();
            if n > 0 {
                out.extend(&chars[i..i + 7]);
                out.push_str(REDACTED);
                i += 7 + n;
                continue;
            }
        }
        // secret words followed by a separator and a value
        if word_boundary_before(i) {
            if let Some(w) = SECRET_WORDS.iter().find(|w| {
                starts(i, w)
                    && chars
                        .get(i + w.len())
                        .is_none_or(|c| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
            }) {
                let mut j = i + w.len();
                // optional closing quote of a JSON key, spaces, the separator, spaces, an opening quote
                if matches!(chars.get(j), Some('"' | '\'')) {
                    j += 1;
                }
                while matches!(chars.get(j), Some(' ')) {
                    j += 1;
                }
                if matches!(chars.get(j), Some('=' | ':')) {
                    j += 1;
                    while matches!(chars.get(j), Some(' ')) {
                        j += 1;
                    }
                    if matches!(chars.get(j), Some('"' | '\'')) {
                        j += 1;
                    }
                    // "Authorization: Bearer x" / "Basic x": keep the scheme word
                    let scheme = ["bearer ", "basic "].iter().find(|s| starts(j, s));
                    if let Some(s) = scheme {
                        j += s.len();
                    }
                    let n = chars[j..].iter().take_while(|c| is_value_char(**c)).count();
                    if n > 0 {
                        out.extend(&chars[i..j]);
                        out.push_str(REDACTED);
                        i = j + n;
                        continue;
                    }
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Every `scheme://…` URL in free text through [`crate::redact::redact_url`] (a URL ends at whitespace, a quote or `>`).
fn redact_urls(text: &str) -> String {
    crate::redact::redact_urls_in(text, |c| {
        c.is_whitespace() || matches!(c, '\'' | '"' | '>' | '<')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_and_controls_are_made_visible() {
        let s = safe_to_print("a\x1b]0;pwned\x07b\x1b[31mred\r\u{9b}c\u{202e}d\x7f\n\te");
        assert!(!s.chars().any(is_unsafe_char), "{s:?}");
        assert_eq!(
            s,
            "a\\u{1b}]0;pwned\\u{7}b\\u{1b}[31mred\\u{d}\\u{9b}c\\u{202e}d\\u{7f}\n\te"
        );
        assert_eq!(safe_to_print("plain text, é 中文"), "plain text, é 中文");
    }

    #[test]
    fn secrets_in_free_text_are_redacted() {
        let cases = [
            (
                "invalid key sk-proj-abcdef0123456789xyz given",
                "sk-proj-abcdef0123456789xyz",
            ),
            ("Authorization: Bearer eyJhbGciOi.x.y", "eyJhbGciOi"),
            ("{\"api_key\": \"s3cr3tvalue\", \"x\": 1}", "s3cr3tvalue"),
            ("see http://u:hunter2@127.0.0.1/v1?token=t0k", "hunter2"),
            ("see http://u:hunter2@127.0.0.1/v1?token=t0k", "t0k"),
            ("password=pw123&user=a", "pw123"),
            ("X-Api-Key: abcd1234", "abcd1234"),
        ];
        for (text, secret) in cases {
            let r = safe_to_print(text);
            assert!(!r.contains(secret), "{text:?} → {r:?}");
            assert!(r.contains(REDACTED), "{text:?} → {r:?}");
        }
        // words that merely contain a secret word, and short sk- words, are kept
        for text in ["tokens: 12", "monkey=1", "sk-1 is a name", "secretary: bob"] {
            assert_eq!(safe_to_print(text), text);
        }
    }

    proptest::proptest! {
        #[test]
        fn safe_text_never_holds_a_control_character(s in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}a-z:=\" ]*") {
            let r = safe_to_print(&s);
            proptest::prop_assert!(!r.chars().any(is_unsafe_char));
        }
    }
}
