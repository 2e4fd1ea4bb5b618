//! Links: every URL the pages emit is built here, from a fixed path of ours and percent-encoded parameters,
//! so a name from the store can never become a link target of its own (no `javascript:`, no other host).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but unreserved characters is encoded in a query component.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One query-string value, percent-encoded.
pub fn enc(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// `?k=v&k=v` (empty when there are no pairs).
pub fn query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k.as_ref()), enc(v.as_ref())))
        .collect();
    format!("?{}", body.join("&"))
}

/// A link to one of our pages: `path` is one of our routes (a literal), parameters are encoded.
pub fn link(path: &'static str, pairs: &[(&str, &str)]) -> String {
    debug_assert!(path.starts_with('/'));
    format!("{path}{}", query(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_query_component() {
        let l = link(
            "/model",
            &[("name", "javascript:alert(1)\"><x a='b'&c=d#e")],
        );
        assert!(l.starts_with("/model?name="));
        for bad in ['"', '\'', '<', '>', '&', '#', ':', ' '] {
            assert!(!l["/model?name=".len()..].contains(bad), "{l}");
        }
    }
}
