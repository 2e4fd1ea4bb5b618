//! Jinja rendering with lm-evaluation-harness's Python behaviour (reference §1.4).
//!
//! lm-eval renders with `jinja2.Environment(undefined=StrictUndefined, keep_trailing_newline=True)`
//! plus a `regex_replace` filter, passing the doc's keys as top-level variables. On top of
//! `minijinja` this module adds:
//! - output of `{{ … }}` through Python `str()` (lists as `['a', "b's"]`, `True`, `None`, float
//!   `repr`), which both the visible prompt text and the `literal_eval` round trip of `doc_to_choice`
//!   depend on;
//! - Python string methods with Python semantics (`strip` on Python whitespace, `split`, `replace`,
//!   `capitalize`, `find`/`index` in characters, …) and `list.index`, falling back to
//!   `minijinja-contrib`'s pycompat callback for the rest;
//! - the `string`, `join`, `trim` and `capitalize` filters with Python semantics, and `regex_replace`;
//! - Jinja2's newline normalisation of template text (`\r\n` and `\r` become `\n`).

use std::collections::HashSet;

mod python;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use yardstick_core::python::text as pystr;

use python::{join_filter, regex_replace};
pub use python::{py_repr, py_str, python_method};

/// A Jinja environment holding compiled templates keyed by their source text.
pub struct JinjaEnv {
    env: Environment<'static>,
    compiled: HashSet<String>,
}

impl std::fmt::Debug for JinjaEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JinjaEnv")
            .field("templates", &self.compiled.len())
            .finish()
    }
}

impl Default for JinjaEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl JinjaEnv {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_formatter(|out, _state, value| {
            let s = py_str(value)?;
            out.write_str(&s)
                .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
        });
        env.set_unknown_method_callback(python_method);
        env.add_filter("regex_replace", regex_replace);
        env.add_filter("string", |v: Value| -> Result<String, Error> { py_str(&v) });
        env.add_filter("trim", |s: &str, chars: Option<&str>| {
            pystr::strip(s, chars).to_string()
        });
        env.add_filter("capitalize", |s: &str| pystr::capitalize(s));
        env.add_filter("join", join_filter);
        JinjaEnv {
            env,
            compiled: HashSet::new(),
        }
    }

    /// Compile `source` (once) so it can be rendered with [`JinjaEnv::render`].
    pub fn compile(&mut self, source: &str) -> Result<(), Error> {
        if self.compiled.contains(source) {
            return Ok(());
        }
        let normalised = normalise_newlines(source);
        self.env
            .add_template_owned(source.to_string(), normalised)?;
        self.compiled.insert(source.to_string());
        Ok(())
    }

    /// Render a compiled template against `ctx` (usually the doc as a map, so its keys are top-level
    /// variables). Compiles on the fly if needed.
    pub fn render(&mut self, source: &str, ctx: &Value) -> Result<String, Error> {
        self.compile(source)?;
        self.render_compiled(source, ctx)
    }

    /// Render a template compiled earlier; errors if it was not.
    pub fn render_compiled(&self, source: &str, ctx: &Value) -> Result<String, Error> {
        let tmpl = self.env.get_template(source)?;
        tmpl.render(ctx)
    }
}

/// Render one template once (tests and one-off uses).
pub fn render_once(
    source: &str,
    doc: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, Error> {
    let mut env = JinjaEnv::new();
    env.render(source, &Value::from_serialize(doc))
}

fn normalise_newlines(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(src: &str, doc: serde_json::Value) -> Result<String, Error> {
        let map = doc.as_object().cloned().unwrap_or_default();
        render_once(src, &map)
    }

    #[test]
    fn lists_render_like_python() {
        let doc = json!({"choices": {"text": ["a", "b's", "say \"x\""], "label": ["A", "B", "C"]}});
        assert_eq!(
            r("{{choices.text}}", doc.clone()).unwrap(),
            "['a', \"b's\", 'say \"x\"']"
        );
        assert_eq!(
            r("{{choices}}", doc).unwrap(),
            "{'text': ['a', \"b's\", 'say \"x\"'], 'label': ['A', 'B', 'C']}"
        );
    }

    #[test]
    fn scalars_render_like_python() {
        let doc = json!({"t": true, "f": false, "n": null, "x": 1.0, "y": 0.00001, "i": 7});
        assert_eq!(
            r("{{t}} {{f}} {{n}} {{x}} {{y}} {{i}}", doc).unwrap(),
            "True False None 1.0 1e-05 7"
        );
        assert_eq!(r("{{ 1/2 }}", json!({})).unwrap(), "0.5");
    }

    #[test]
    fn list_index_and_str_methods() {
        let doc = json!({"choices": {"label": ["1", "2", "3", "4"]}, "answerKey": "3", "q": "  Why?\u{1c} "});
        assert_eq!(
            r("{{choices.label.index(answerKey)}}", doc.clone()).unwrap(),
            "2"
        );
        assert_eq!(
            r("{{['A', 'B', 'C', 'D'].index('C')}}", doc.clone()).unwrap(),
            "2"
        );
        assert_eq!(r("[{{q.strip()}}]", doc.clone()).unwrap(), "[Why?]");
        assert_eq!(
            r("{{ 'a b  c'.split() }}", doc.clone()).unwrap(),
            "['a', 'b', 'c']"
        );
        assert_eq!(r("{{ 'a,b'.split(',')[-1] }}", doc.clone()).unwrap(), "b");
        assert_eq!(
            r("{{ 'hELLO'.capitalize() }}", doc.clone()).unwrap(),
            "Hello"
        );
        assert_eq!(r("{{ '答案：A'.find('A') }}", doc.clone()).unwrap(), "3");
        assert_eq!(
            r("{{ 'x-y-z'.replace('-', '+', 1) }}", doc.clone()).unwrap(),
            "x+y-z"
        );
        assert_eq!(
            r("{{ ', '.join(['a', 'b']) }}", doc.clone()).unwrap(),
            "a, b"
        );
        assert!(r("{{ ['a'].index('z') }}", doc).is_err());
    }

    #[test]
    fn filters_use_python_str() {
        let doc = json!({"xs": [1, "a", true]});
        assert_eq!(
            r("{{ xs | join(', ') }}", doc.clone()).unwrap(),
            "1, a, True"
        );
        assert_eq!(
            r("{{ xs | string }}", doc.clone()).unwrap(),
            "[1, 'a', True]"
        );
        assert_eq!(r("{{ xs | length }}", doc).unwrap(), "3");
        assert_eq!(
            r("{{ 'a1b22' | regex_replace('[0-9]+', '#') }}", json!({})).unwrap(),
            "a#b#"
        );
        assert_eq!(
            r(
                "{{ 'ab' | regex_replace('(a)(b)', '\\\\2\\\\1') }}",
                json!({})
            )
            .unwrap(),
            "ba"
        );
        assert_eq!(
            r("{{ 'aaa' | regex_replace('a', 'b', 2) }}", json!({})).unwrap(),
            "bba"
        );
    }

    #[test]
    fn strict_undefined_but_defined_tests_work() {
        assert!(r("{{ missing }}", json!({})).is_err());
        assert!(r("{{ missing.attr }}", json!({})).is_err());
        assert_eq!(
            r(
                "{% if missing is defined %}x{% else %}y{% endif %}",
                json!({})
            )
            .unwrap(),
            "y"
        );
        assert_eq!(
            r("{% if few is undefined %}u{% endif %}", json!({})).unwrap(),
            "u"
        );
    }

    #[test]
    fn trailing_newline_is_kept_and_newlines_normalised() {
        assert_eq!(r("a\n", json!({})).unwrap(), "a\n");
        assert_eq!(r("a\r\nb", json!({})).unwrap(), "a\nb");
    }

    #[test]
    fn set_and_concatenation() {
        let doc = json!({"question": "Q?"});
        let src = "{% set p = 'Pre.\n\n' %}{{p + 'Q: ' + question + '\nA:'}}";
        assert_eq!(r(src, doc).unwrap(), "Pre.\n\nQ: Q?\nA:");
    }
}
