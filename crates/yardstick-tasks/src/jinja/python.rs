//! Python semantics of template values: `str()` / `repr()` output, Python `str` and `list` methods
//! (`question.strip()`, `choices.label.index(answerKey)`), the `join` filter and `regex_replace`
//! (Python `re.sub`, with its replacement-template syntax). The string rules themselves come from
//! [`yardstick_core::python::text`]; this module adapts them to `minijinja` values.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use yardstick_core::python::{py_float_repr, text as pystr};

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

pub(super) fn join_filter(v: Value, sep: Option<&str>) -> Result<String, Error> {
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
pub(super) fn regex_replace(
    s: &str,
    pattern: &str,
    repl: &str,
    count: Option<i64>,
) -> Result<String, Error> {
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
