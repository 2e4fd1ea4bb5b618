//! Removing secrets from URLs and command lines before they are stored, written or printed.
//!
//! A model server URL may carry credentials (`http://user:pass@host/v1`) or a key in its query
//! (`…?api_key=…`). The HTTP client still uses them; everything a person or a file sees goes through
//! [`redact_url`] / [`redact_command_line`] first. No IO.

/// Query keys whose values are replaced (compared case-insensitively, after percent-decoding).
pub const SECRET_QUERY_KEYS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "access_token",
    "password",
    "secret",
    "sig",
    "signature",
];

/// What a redacted query value becomes.
pub const REDACTED: &str = "REDACTED";

/// `url` without its userinfo (`user:pass@`) and with the values of secret-looking query keys
/// ([`SECRET_QUERY_KEYS`]) replaced by `REDACTED`. Text that is not a `scheme://…` URL is returned as is.
///
/// ```
/// use yardstick_core::redact::redact_url;
/// assert_eq!(redact_url("http://u:p@127.0.0.1:8080/v1?api_key=s&x=1"),
///            "http://127.0.0.1:8080/v1?api_key=REDACTED&x=1");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let scheme = &url[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return url.to_string();
    }
    let after = &url[scheme_end + 3..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..authority_end];
    let host = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let tail = &after[authority_end..];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..scheme_end + 3]);
    out.push_str(host);
    out.push_str(&redact_query(tail));
    out
}

/// `path?query#fragment` with secret query values replaced.
fn redact_query(tail: &str) -> String {
    let (before_fragment, fragment) = match tail.find('#') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    let Some(q) = before_fragment.find('?') else {
        return tail.to_string();
    };
    let (path, query) = (&before_fragment[..q], &before_fragment[q + 1..]);
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_key(k) => format!("{k}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}{fragment}", pairs.join("&"))
}

fn is_secret_key(key: &str) -> bool {
    let decoded = percent_decode(key).to_ascii_lowercase();
    SECRET_QUERY_KEYS.iter().any(|k| *k == decoded)
}

/// Percent-decoding of a URL component (`%41` → `A`; an invalid escape is kept literally; bytes that do
/// not form UTF-8 are replaced).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every `scheme://…` URL inside a command line (as recorded for a run: shell-quoted arguments joined by
/// spaces) passed through [`redact_url`]. A URL ends at whitespace or a quote character.
///
/// ```
/// use yardstick_core::redact::redact_command_line;
/// assert_eq!(redact_command_line("yardstick run --model 'http://u:p@h/v1' --tasks x"),
///            "yardstick run --model 'http://h/v1' --tasks x");
/// ```
pub fn redact_command_line(line: &str) -> String {
    redact_urls_in(line, |c| c.is_whitespace() || matches!(c, '\'' | '"'))
}

/// Every `scheme://…` URL inside `text` passed through [`redact_url`]; a URL ends at a character for which
/// `ends_url` holds (or at the end of the text).
pub fn redact_urls_in(text: &str, ends_url: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // the scheme: the run of scheme characters just before "://"
        let scheme_start = rest[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map(|(j, _)| j)
            .unwrap_or(i);
        let end = rest[i + 3..]
            .find(&ends_url)
            .map(|e| i + 3 + e)
            .unwrap_or(rest.len());
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_stripped() {
        assert_eq!(
            redact_url("http://user:pass@127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(redact_url("https://tok@h/v1"), "https://h/v1");
        // an '@' inside the password (unencoded): the last '@' of the authority ends the userinfo
        assert_eq!(redact_url("http://u:p@ss@h:1/x@y"), "http://h:1/x@y");
        assert_eq!(
            redact_url("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(redact_url("http://u:p@h"), "http://h");
    }

    #[test]
    fn secret_query_values_are_replaced_case_insensitively() {
        assert_eq!(
            redact_url("http://h/v1?API_KEY=abc&model=m&Token=t&sig=s#frag"),
            "http://h/v1?API_KEY=REDACTED&model=m&Token=REDACTED&sig=REDACTED#frag"
        );
        for k in SECRET_QUERY_KEYS {
            let r = redact_url(&format!("http://h/?{}=s3cr3t", k.to_uppercase()));
            assert!(!r.contains("s3cr3t"), "{k}: {r}");
        }
        assert_eq!(
            redact_url("http://h/?api%5Fkey=s3cr3t"),
            "http://h/?api%5Fkey=REDACTED"
        );
        // keys that merely contain a secret word are kept
        assert_eq!(redact_url("http://h/?monkey=1"), "http://h/?monkey=1");
        // '?' after '#' is not a query
        assert_eq!(redact_url("http://h/#?key=1"), "http://h/#?key=1");
    }

    #[test]
    fn non_urls_are_untouched() {
        for s in [
            "./model.gguf",
            "",
            "user:pass@host",
            "C:\\x",
            "://x",
            "a b://c",
        ] {
            assert_eq!(redact_url(s), s);
        }
    }

    #[test]
    fn command_lines_are_redacted_everywhere() {
        assert_eq!(
            redact_command_line(
                "yardstick run --model http://user:pass@127.0.0.1:9/v1 --tasks mmlu"
            ),
            "yardstick run --model http://127.0.0.1:9/v1 --tasks mmlu"
        );
        assert_eq!(
            redact_command_line(
                "y run '--model=https://a:b@h/v1?token=t&x=1' base_url=http://c:d@h2/v1,model=m"
            ),
            "y run '--model=https://h/v1?token=REDACTED&x=1' base_url=http://h2/v1,model=m"
        );
        assert_eq!(redact_command_line("y tasks list"), "y tasks list");
        assert_eq!(redact_command_line("é http://u:p@h é"), "é http://h é");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("p%40ss%3A"), "p@ss:");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
