//! lm-eval's `format_span` (`SPANFilter`): named-entity answers normalised to
//! `label: entity $ label: entity`, with the labels mapped to PER / LOC / ORG / DATE and `none`
//! entities dropped.

use std::sync::OnceLock;

use serde_json::Value;
use yardstick_core::python::text::{lower, rstrip, strip};

use super::choice::py_re_escape;
use super::repr;
use crate::scoring::pyre::{Found, PyRegex};

const LABELS: &[(&str, &str)] = &[
    ("person", "PER"),
    ("location", "LOC"),
    ("organization", "ORG"),
    ("counties", "LOC"),
    ("places", "LOC"),
    ("people", "PER"),
    ("persons", "PER"),
    ("company", "ORG"),
    ("country", "LOC"),
    ("continent", "LOC"),
    ("time", "DATE"),
    ("date", "DATE"),
    ("per", "PER"),
    ("loc", "LOC"),
    ("org", "ORG"),
];

struct Compiled {
    labels: Vec<(PyRegex, String)>,
    entities: PyRegex,
}

fn compiled() -> Result<&'static Compiled, String> {
    static C: OnceLock<Result<Compiled, String>> = OnceLock::new();
    C.get_or_init(|| {
        let labels = LABELS
            .iter()
            .map(|(k, v)| {
                PyRegex::new(&format!("\\b{}\\s*:", py_re_escape(k))).map(|r| (r, format!("{v}:")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let entities = PyRegex::new(r"\b(PER|LOC|ORG|DATE):\s*([^$]+)")?;
        Ok(Compiled { labels, entities })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// `format_named_entities(format_ner_text(resp.lower()))`.
pub(crate) fn format_span(resp: Value) -> Result<Value, String> {
    let Value::String(text) = &resp else {
        return Err(format!(
            "{} has no method `lower` (Python raises AttributeError)",
            repr(&resp)
        ));
    };
    let c = compiled()?;
    // format_ner_text
    let mut t = lower(&lower(text));
    for (re, label) in &c.labels {
        t = re.replace_all_literal(&t, label)?;
    }
    let t = t.split("$$").collect::<Vec<_>>().join("$");
    let t = rstrip(&t, Some("$")).to_string();
    // format_named_entities
    let t = t.replace('\n', "$");
    let t = strip(&t, None);
    let mut out = Vec::new();
    for f in c.entities.findall(t)? {
        let Found::Tuple(g) = f else { continue };
        for e in g[1].split(',') {
            let e = strip(e, None);
            if lower(e) != "none" {
                out.push(format!("{}: {e}", lower(&g[0])));
            }
        }
    }
    Ok(Value::String(out.join(" $ ")))
}
