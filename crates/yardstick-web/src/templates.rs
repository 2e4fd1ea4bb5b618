//! The page templates (minijinja, HTML auto-escaping on: every value from the store is escaped unless a
//! template marks it safe, which only our own SVG renderer's output is) and their number filters.

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    (
        "leaderboard.html",
        include_str!("../templates/leaderboard.html"),
    ),
    ("model.html", include_str!("../templates/model.html")),
    ("gap.html", include_str!("../templates/gap.html")),
    ("runs.html", include_str!("../templates/runs.html")),
    ("run.html", include_str!("../templates/run.html")),
    ("samples.html", include_str!("../templates/samples.html")),
    ("sample.html", include_str!("../templates/sample.html")),
    ("compare.html", include_str!("../templates/compare.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("report.html", include_str!("../templates/report.html")),
];

fn as_f64(v: &Value) -> Option<f64> {
    if v.is_none() || v.is_undefined() {
        return None;
    }
    f64::try_from(v.clone()).ok().filter(|x| x.is_finite())
}

/// `{{ x|num(3) }}`: fixed decimals, `—` when missing.
fn num(v: Value, digits: Option<usize>) -> String {
    match as_f64(&v) {
        Some(x) => format!("{:.*}", digits.unwrap_or(3), x),
        None => "—".into(),
    }
}

/// A leaderboard score: 3 decimals on a 0–1 scale, 1 on larger scales (0–100, Elo).
pub fn fmt_score(x: f64) -> String {
    if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// `{{ x|score }}`: [`fmt_score`], `—` when missing.
fn score(v: Value) -> String {
    as_f64(&v).map(fmt_score).unwrap_or_else(|| "—".into())
}

/// `{{ x|exact }}`: the shortest text that reads back as the same number (for `data-value` attributes).
fn exact(v: Value) -> String {
    match as_f64(&v) {
        Some(x) => format!("{x}"),
        None => String::new(),
    }
}

/// `{{ x|pretty }}`: JSON, indented.
fn pretty(v: Value) -> String {
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("(cannot show: {e})"))
}

/// The strings of a value that is a string or (nested) lists of strings only.
fn string_leaves(v: &serde_json::Value, out: &mut Vec<String>) -> bool {
    match v {
        serde_json::Value::String(s) => {
            out.push(s.clone());
            true
        }
        serde_json::Value::Array(items) => items.iter().all(|x| string_leaves(x, out)),
        _ => false,
    }
}

/// `{{ x|text }}`: what a model or a dataset wrote, as text: a string as is, lists of strings one per line
/// (`resps` is a list of lists), anything else (chat messages, log-likelihoods) as compact JSON.
fn text(v: Value) -> String {
    let json = match serde_json::to_value(&v) {
        Ok(j) => j,
        Err(e) => return format!("(cannot show: {e})"),
    };
    let mut leaves = Vec::new();
    if string_leaves(&json, &mut leaves) {
        return leaves.join("\n");
    }
    json.to_string()
}

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    for (name, source) in TEMPLATES {
        // The templates are part of the binary and checked by the tests; a broken one is a bug of ours.
        if let Err(e) = env.add_template(name, source) {
            panic!("built-in template {name} does not parse: {e}");
        }
    }
    env.add_filter("num", num);
    env.add_filter("score", score);
    env.add_filter("exact", exact);
    env.add_filter("pretty", pretty);
    env.add_filter("text", text);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_escapes() {
        let env = environment();
        let t = env
            .template_from_str("{{ x }}|{{ y|text }}")
            .expect("inline template");
        // Inline templates are not .html: check the callback on a named one instead.
        assert_eq!(
            t.render(minijinja::context! { x => "<b>", y => "<i>" })
                .expect("render"),
            "<b>|<i>"
        );
        let html = env
            .get_template("error.html")
            .expect("error page")
            .render(minijinja::context! { message => "<script>alert(1)</script>", status => 400 })
            .expect("render");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn number_filters() {
        assert_eq!(score(Value::from(0.51234)), "0.512");
        assert_eq!(score(Value::from(65.26)), "65.3");
        assert_eq!(num(Value::from(()), Some(2)), "—");
        assert_eq!(exact(Value::from(0.1 + 0.2)), "0.30000000000000004");
        let resps = Value::from_serialize(serde_json::json!([["a \"b\""], ["c"]]));
        assert_eq!(text(resps), "a \"b\"\nc");
        let ll = Value::from_serialize(serde_json::json!([[[-1.5, false]]]));
        assert_eq!(text(ll), "[[[-1.5,false]]]");
    }
}
