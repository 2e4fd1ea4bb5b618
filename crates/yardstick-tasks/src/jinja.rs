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

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};

use yardstick_core::python::{py_float_repr, text as pystr};

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

/// Python `str()` of a template value.
pub fn py_str(v: &Value) -> Result<String, Error> {
    match v.kind() {
        ValueKind::String => Ok(v.as_str().unwrap_or_default().to_string()),
        _ => py_repr(v),
    }
}

/// Python `repr()` of a template value.
pub fn py_repr(v: &Value) -> Result<String, Error> {
    Ok(match v.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(ErrorKind::UndefinedError, "undefined value"))
        }
        ValueKind::None => "None".into(),
        ValueKind::Bool => if v.is_true() { "True" } else { "False" }.into(),
        ValueKind::Number => {
            if v.is_integer() {
                v.to_string()
            } else {
                match f64::try_from(v.clone()) {
                    Ok(f) => py_float_repr(f),
                    Err(_) => v.to_string(),
                }
            }
        }
        ValueKind::String => pystr::repr_str(v.as_str().unwrap_or_default()),
        ValueKind::Bytes => {
            let bytes = v.as_bytes().unwrap_or_default();
            let mut s = String::from("b'");
            for &b in bytes {
                match b {
                    b'\\' => s.push_str("\\\\"),
                    b'\'' => s.push_str("\\'"),
                    b'\n' => s.push_str("\\n"),
                    b'\r' => s.push_str("\\r"),
                    b'\t' => s.push_str("\\t"),
                    0x20..=0x7e => s.push(b as char),
                    _ => s.push_str(&format!("\\x{b:02x}")),
                }
            }
            s.push('\'');
            s
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let mut parts = Vec::new();
            for item in v.try_iter()? {
                parts.push(py_repr(&item)?);
            }
            format!("[{}]", parts.join(", "))
        }
        ValueKind::Map => {
            let mut parts = Vec::new();
            for key in v.try_iter()? {
                let val = v.get_item(&key)?;
                parts.push(format!("{}: {}", py_repr(&key)?, py_repr(&val)?));
            }
            format!("{{{}}}", parts.join(", "))
        }
        _ => v.to_string(),
    })
}

fn join_filter(v: Value, sep: Option<&str>) -> Result<String, Error> {
    let sep = sep.unwrap_or("");
    let mut parts = Vec::new();
    for item in v.try_iter()? {
        parts.push(py_str(&item)?);
    }
    Ok(parts.join(sep))
}

fn no_kwargs(method: &str, args: &[Value]) -> Result<(), Error> {
    if args.iter().any(Value::is_kwargs) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("keyword arguments are not supported for .{method}()"),
        ));
    }
    Ok(())
}

fn arg_str<'a>(args: &'a [Value], i: usize, method: &str) -> Result<Option<&'a str>, Error> {
    match args.get(i) {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    ".{method}() argument {} must be str, not {}",
                    i + 1,
                    v.kind()
                ),
            )
        }),
    }
}

fn arg_int(args: &[Value], i: usize, default: i64) -> Result<i64, Error> {
    match args.get(i) {
        None => Ok(default),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "integer argument expected")),
    }
}

fn value_error(msg: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("ValueError: {}", msg.into()),
    )
}

/// Python methods called on template values (`question.strip()`, `choices.label.index(answerKey)`).
pub fn python_method(
    state: &State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        let handled = match method {
            "strip" | "lstrip" | "rstrip" => {
                no_kwargs(method, args)?;
                let chars = arg_str(args, 0, method)?;
                Some(Value::from(match method {
                    "strip" => pystr::strip(s, chars),
                    "lstrip" => pystr::lstrip(s, chars),
                    _ => pystr::rstrip(s, chars),
                }))
            }
            "split" | "rsplit" => {
                no_kwargs(method, args)?;
                let sep = arg_str(args, 0, method)?;
                let maxsplit = arg_int(args, 1, -1)?;
                let parts = if method == "split" {
                    pystr::split(s, sep, maxsplit)
                } else {
                    pystr::rsplit(s, sep, maxsplit)
                };
                let parts = parts.ok_or_else(|| value_error("empty separator"))?;
                Some(Value::from(parts))
            }
            "replace" => {
                no_kwargs(method, args)?;
                let old = arg_str(args, 0, method)?.unwrap_or("");
                let new = arg_str(args, 1, method)?.unwrap_or("");
                Some(Value::from(pystr::replace(
                    s,
                    old,
                    new,
                    arg_int(args, 2, -1)?,
                )))
            }
            "capitalize" => Some(Value::from(pystr::capitalize(s))),
            "lower" => Some(Value::from(pystr::lower(s))),
            "upper" => Some(Value::from(pystr::upper(s))),
            "isdigit" => Some(Value::from(pystr::isdigit(s))),
            "isspace" => Some(Value::from(!s.is_empty() && s.chars().all(pystr::is_space))),
            "find" | "rfind" | "index" | "rindex" => {
                no_kwargs(method, args)?;
                let sub = arg_str(args, 0, method)?.unwrap_or("");
                let pos = if method == "find" || method == "index" {
                    pystr::find(s, sub)
                } else {
                    pystr::rfind(s, sub)
                };
                if pos < 0 && (method == "index" || method == "rindex") {
                    return Err(value_error("substring not found"));
                }
                Some(Value::from(pos))
            }
            "count" => {
                let sub = arg_str(args, 0, method)?.unwrap_or("");
                Some(Value::from(pystr::count(s, sub)))
            }
            "join" => {
                let items = args.first().ok_or_else(|| {
                    Error::new(ErrorKind::MissingArgument, "join() takes one argument")
                })?;
                let mut parts = Vec::new();
                for (i, item) in items.try_iter()?.enumerate() {
                    match item.as_str() {
                        Some(p) => parts.push(p.to_string()),
                        None => {
                            return Err(Error::new(
                                ErrorKind::InvalidOperation,
                                format!(
                                    "TypeError: sequence item {i}: expected str instance, {} found",
                                    item.kind()
                                ),
                            ))
                        }
                    }
                }
                Some(Value::from(parts.join(s)))
            }
            _ => None,
        };
        if let Some(v) = handled {
            return Ok(v);
        }
    } else if matches!(value.kind(), ValueKind::Seq) {
        match method {
            "index" => {
                let needle = args.first().ok_or_else(|| {
                    Error::new(ErrorKind::MissingArgument, "index() takes one argument")
                })?;
                for (i, item) in value.try_iter()?.enumerate() {
                    if &item == needle {
                        return Ok(Value::from(i));
                    }
                }
                return Err(value_error(format!(
                    "{} is not in list",
                    py_repr(needle).unwrap_or_default()
                )));
            }
            "count" => {
                let needle = args.first().ok_or_else(|| {
                    Error::new(ErrorKind::MissingArgument, "count() takes one argument")
                })?;
                let n = value.try_iter()?.filter(|item| item == needle).count();
                return Ok(Value::from(n));
            }
            _ => {}
        }
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// `regex_replace(s, pattern, repl, count=0)`: Python `re.sub`.
fn regex_replace(s: &str, pattern: &str, repl: &str, count: Option<i64>) -> Result<String, Error> {
    let re = fancy_regex::Regex::new(pattern).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("regex_replace: bad pattern {pattern:?}: {e}"),
        )
    })?;
    let template = parse_python_repl(repl)?;
    let limit = match count {
        Some(n) if n > 0 => n as usize,
        _ => usize::MAX,
    };
    let mut out = String::new();
    let mut last = 0;
    let mut done = 0;
    for caps in re.captures_iter(s) {
        if done >= limit {
            break;
        }
        let caps = caps
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("regex_replace: {e}")))?;
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        for piece in &template {
            match piece {
                ReplPiece::Text(t) => out.push_str(t),
                ReplPiece::Group(i) => out.push_str(caps.get(*i).map_or("", |g| g.as_str())),
                ReplPiece::Named(name) => out.push_str(caps.name(name).map_or("", |g| g.as_str())),
            }
        }
        last = m.end();
        done += 1;
    }
    out.push_str(&s[last..]);
    Ok(out)
}

enum ReplPiece {
    Text(String),
    Group(usize),
    Named(String),
}

fn parse_python_repl(repl: &str) -> Result<Vec<ReplPiece>, Error> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let chars: Vec<char> = repl.chars().collect();
    let mut i = 0;
    let bad = |m: &str| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("regex_replace: bad replacement {repl:?}: {m}"),
        )
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            text.push(c);
            i += 1;
            continue;
        }
        let Some(&n) = chars.get(i + 1) else {
            return Err(bad("trailing backslash"));
        };
        i += 2;
        let flush = |pieces: &mut Vec<ReplPiece>, text: &mut String| {
            if !text.is_empty() {
                pieces.push(ReplPiece::Text(std::mem::take(text)));
            }
        };
        match n {
            'n' => text.push('\n'),
            't' => text.push('\t'),
            'r' => text.push('\r'),
            'f' => text.push('\u{0c}'),
            'v' => text.push('\u{0b}'),
            'a' => text.push('\u{07}'),
            'b' => text.push('\u{08}'),
            '\\' => text.push('\\'),
            'g' => {
                if chars.get(i) != Some(&'<') {
                    return Err(bad("missing < after \\g"));
                }
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '>')
                    .ok_or_else(|| bad("missing >"))?;
                let name: String = chars[i + 1..i + close].iter().collect();
                i += close + 1;
                flush(&mut pieces, &mut text);
                match name.parse::<usize>() {
                    Ok(g) => pieces.push(ReplPiece::Group(g)),
                    Err(_) => pieces.push(ReplPiece::Named(name)),
                }
            }
            d if d.is_ascii_digit() => {
                let mut g = d.to_digit(10).unwrap_or(0) as usize;
                if let Some(d2) = chars.get(i).and_then(|c| c.to_digit(10)) {
                    g = g * 10 + d2 as usize;
                    i += 1;
                }
                flush(&mut pieces, &mut text);
                pieces.push(ReplPiece::Group(g));
            }
            c if c.is_ascii_alphabetic() => return Err(bad(&format!("bad escape \\{c}"))),
            c => {
                text.push('\\');
                text.push(c);
            }
        }
    }
    if !text.is_empty() {
        pieces.push(ReplPiece::Text(text));
    }
    Ok(pieces)
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
