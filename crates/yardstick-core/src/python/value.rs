//! Python `str()`/`repr()` of JSON values and `ast.literal_eval`, as lm-evaluation-harness relies on them.
//!
//! A Jinja template renders a value with Python's `str()`: a list becomes `['a', "b's"]`, `True`
//! stays `True`, `None` is `None`, a float prints its shortest round-trip `repr`. lm-eval then
//! `ast.literal_eval`s the rendered `doc_to_choice` (and list-looking `doc_to_target`) strings. Both
//! directions are reproduced here over `serde_json::Value` (tuples and sets parse to arrays).

use super::{py_float_repr, text::repr_str};
use serde_json::Value;

fn repr_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        py_float_repr(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Python `repr()` of a JSON value (objects as dicts, arrays as lists).
pub fn repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => repr_number(n),
        Value::String(s) => repr_str(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", repr_str(k), repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Python `str()` of a JSON value: strings as themselves, everything else as `repr`.
pub fn to_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// Why `ast.literal_eval` would fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Python literal ({message} at character {offset}): {excerpt}")]
pub struct LiteralError {
    pub message: String,
    pub offset: usize,
    pub excerpt: String,
}

/// `ast.literal_eval(text)` for the literals task templates produce: strings (with all Python escapes
/// and implicit concatenation), ints (incl. `0x`/`0o`/`0b`, underscores), floats, `True`/`False`/
/// `None`, lists, tuples, dicts and unary signs. Tuples and sets become arrays; dict keys become their
/// `str()`. Bytes, f-strings and complex numbers are refused.
pub fn literal_eval(text: &str) -> Result<Value, LiteralError> {
    let mut p = Parser {
        chars: text.char_indices().collect(),
        pos: 0,
        text,
    };
    // Python strips leading spaces and tabs before parsing in eval mode.
    p.skip_ws();
    let v = p.expr()?;
    p.skip_ws();
    if p.pos < p.chars.len() {
        return Err(p.err("unexpected trailing text"));
    }
    Ok(v)
}

struct Parser<'a> {
    chars: Vec<(usize, char)>,
    pos: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> LiteralError {
        let offset = self.pos;
        let excerpt: String = self.text.chars().take(80).collect();
        LiteralError {
            message: message.to_string(),
            offset,
            excerpt,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).map(|(_, c)| *c)
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u{0c}' {
                self.pos += 1;
            } else if c == '\\' && matches!(self.peek_at(1), Some('\n')) {
                self.pos += 2;
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    if c == '\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn expect(&mut self, c: char) -> Result<(), LiteralError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{c}'")))
        }
    }

    fn expr(&mut self) -> Result<Value, LiteralError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some('[') => {
                self.pos += 1;
                Ok(Value::Array(self.sequence(']')?.0))
            }
            Some('(') => {
                self.pos += 1;
                let (items, had_comma) = self.sequence(')')?;
                if items.len() == 1 && !had_comma {
                    // A parenthesised expression, not a tuple.
                    Ok(items.into_iter().next().unwrap_or(Value::Null))
                } else {
                    Ok(Value::Array(items))
                }
            }
            Some('{') => {
                self.pos += 1;
                self.dict_or_set()
            }
            Some('+') | Some('-') => {
                let neg = self.peek() == Some('-');
                self.pos += 1;
                self.skip_ws();
                let v = self.expr()?;
                match v {
                    Value::Number(n) => Ok(negate(&n, neg)),
                    Value::Bool(b) => Ok(Value::from(if neg { -(b as i64) } else { b as i64 })),
                    _ => Err(self.err("unary sign on a non-number")),
                }
            }
            Some(c)
                if c.is_ascii_digit()
                    || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.number()
            }
            Some(c) if c == '\'' || c == '"' => self.strings(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos]
                    .iter()
                    .map(|(_, c)| *c)
                    .collect();
                if matches!(self.peek(), Some('\'') | Some('"')) {
                    let lw = word.to_ascii_lowercase();
                    if lw == "r" || lw == "u" {
                        self.pos = start;
                        return self.strings();
                    }
                    return Err(self.err(&format!("'{word}' string prefix is not supported (bytes and f-strings are not literals)")));
                }
                match word.as_str() {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    "None" => Ok(Value::Null),
                    _ => {
                        self.pos = start;
                        Err(self.err(&format!("name '{word}' is not a literal")))
                    }
                }
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    /// Items up to `close`; returns whether any comma was seen.
    fn sequence(&mut self, close: char) -> Result<(Vec<Value>, bool), LiteralError> {
        let mut items = Vec::new();
        let mut had_comma = false;
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((items, had_comma));
            }
            items.push(self.expr()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    had_comma = true;
                    self.pos += 1;
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok((items, had_comma));
                }
                _ => return Err(self.err(&format!("expected ',' or '{close}'"))),
            }
        }
    }

    fn dict_or_set(&mut self) -> Result<Value, LiteralError> {
        let mut map = serde_json::Map::new();
        let mut set_items = Vec::new();
        let mut is_set = false;
        loop {
            self.skip_ws();
            if self.peek() == Some('}') {
                self.pos += 1;
                break;
            }
            let key = self.expr()?;
            self.skip_ws();
            if map.is_empty() && set_items.is_empty() && self.peek() != Some(':') {
                is_set = true;
            }
            if is_set {
                set_items.push(key);
            } else {
                self.expect(':')?;
                let value = self.expr()?;
                map.insert(to_str(&key), value);
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
        if is_set {
            Ok(Value::Array(set_items))
        } else {
            Ok(Value::Object(map))
        }
    }

    fn number(&mut self) -> Result<Value, LiteralError> {
        let start = self.pos;
        let mut s = String::new();
        while let Some(c) = self.peek() {
            let exp_sign = (c == '+' || c == '-')
                && s.chars().last().is_some_and(|p| p == 'e' || p == 'E')
                && !s.starts_with("0x")
                && !s.starts_with("0X");
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || exp_sign {
                s.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        if s.ends_with('j') || s.ends_with('J') {
            self.pos = start;
            return Err(self.err("complex numbers are not supported"));
        }
        if s.contains("__") || s.ends_with('_') {
            self.pos = start;
            return Err(self.err("invalid number"));
        }
        let clean: String = s.chars().filter(|c| *c != '_').collect();
        let lower = clean.to_ascii_lowercase();
        let radix = if lower.starts_with("0x") {
            Some(16)
        } else if lower.starts_with("0o") {
            Some(8)
        } else if lower.starts_with("0b") {
            Some(2)
        } else {
            None
        };
        if let Some(radix) = radix {
            return match i64::from_str_radix(&clean[2..], radix) {
                Ok(i) => Ok(Value::from(i)),
                Err(_) => match u64::from_str_radix(&clean[2..], radix) {
                    Ok(u) => Ok(Value::from(u)),
                    Err(_) => {
                        self.pos = start;
                        Err(self.err("invalid or too large integer"))
                    }
                },
            };
        }
        let is_float = lower.contains('.') || lower.contains('e');
        if !is_float {
            if clean.len() > 1 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
                self.pos = start;
                return Err(self.err("leading zeros in decimal integer literals are not permitted"));
            }
            if !clean.chars().all(|c| c.is_ascii_digit()) {
                self.pos = start;
                return Err(self.err("invalid number"));
            }
            return match clean.parse::<i64>() {
                Ok(i) => Ok(Value::from(i)),
                Err(_) => match clean.parse::<u64>() {
                    Ok(u) => Ok(Value::from(u)),
                    Err(_) => {
                        self.pos = start;
                        Err(self.err("integer too large"))
                    }
                },
            };
        }
        match clean.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)),
            _ => {
                self.pos = start;
                Err(self.err("invalid float"))
            }
        }
    }

    /// One or more adjacent string literals, concatenated.
    fn strings(&mut self) -> Result<Value, LiteralError> {
        let mut out = String::new();
        loop {
            self.skip_ws();
            let mut raw = false;
            match self.peek() {
                Some('r') | Some('R') if matches!(self.peek_at(1), Some('\'') | Some('"')) => {
                    raw = true;
                    self.pos += 1;
                }
                Some('u') | Some('U') if matches!(self.peek_at(1), Some('\'') | Some('"')) => {
                    self.pos += 1;
                }
                Some('\'') | Some('"') => {}
                _ => break,
            }
            self.string_literal(raw, &mut out)?;
        }
        Ok(Value::String(out))
    }

    fn string_literal(&mut self, raw: bool, out: &mut String) -> Result<(), LiteralError> {
        let quote = self.peek().ok_or_else(|| self.err("expected a string"))?;
        let triple = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        self.pos += if triple { 3 } else { 1 };
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            if c == quote {
                if !triple {
                    self.pos += 1;
                    return Ok(());
                }
                if self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote) {
                    self.pos += 3;
                    return Ok(());
                }
                out.push(c);
                self.pos += 1;
                continue;
            }
            if c == '\n' && !triple {
                return Err(self.err("unterminated string literal (newline)"));
            }
            if c != '\\' {
                out.push(c);
                self.pos += 1;
                continue;
            }
            // Backslash escape.
            let next = self
                .peek_at(1)
                .ok_or_else(|| self.err("unterminated string"))?;
            if raw {
                out.push('\\');
                out.push(next);
                self.pos += 2;
                continue;
            }
            self.pos += 2;
            match next {
                '\n' => {}
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                'a' => out.push('\u{07}'),
                'b' => out.push('\u{08}'),
                'f' => out.push('\u{0c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\u{0b}'),
                '0'..='7' => {
                    let mut v = next.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match self.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                v = v * 8 + d;
                                self.pos += 1;
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(v).ok_or_else(|| self.err("invalid octal escape"))?);
                }
                'x' | 'u' | 'U' => {
                    let n = match next {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let mut v: u32 = 0;
                    for _ in 0..n {
                        let d = self
                            .peek()
                            .and_then(|d| d.to_digit(16))
                            .ok_or_else(|| self.err(&format!("truncated \\{next} escape")))?;
                        v = v
                            .checked_mul(16)
                            .and_then(|v| v.checked_add(d))
                            .ok_or_else(|| self.err("escape out of range"))?;
                        self.pos += 1;
                    }
                    out.push(
                        char::from_u32(v)
                            .ok_or_else(|| self.err("escape is not a valid character"))?,
                    );
                }
                'N' => return Err(self.err("\\N{...} escapes are not supported")),
                other => {
                    // Unknown escapes are kept verbatim.
                    out.push('\\');
                    out.push(other);
                }
            }
        }
    }
}

fn negate(n: &serde_json::Number, neg: bool) -> Value {
    if !neg {
        return Value::Number(n.clone());
    }
    if let Some(i) = n.as_i64() {
        return Value::from(-i);
    }
    if let Some(u) = n.as_u64() {
        if u == 1u64 << 63 {
            return Value::from(i64::MIN);
        }
        return serde_json::Number::from_f64(-(u as f64))
            .map(Value::Number)
            .unwrap_or(Value::Null);
    }
    serde_json::Number::from_f64(-n.as_f64().unwrap_or(0.0))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repr_values() {
        let v = json!([1, 2.0, "x", "y's", null, true, {"k": [false]}]);
        assert_eq!(
            repr(&v),
            "[1, 2.0, 'x', \"y's\", None, True, {'k': [False]}]"
        );
        assert_eq!(to_str(&json!("plain")), "plain");
    }

    #[test]
    fn literal_eval_basics() {
        assert_eq!(literal_eval("['a', \"b's\"]").unwrap(), json!(["a", "b's"]));
        assert_eq!(literal_eval(" 3").unwrap(), json!(3));
        assert_eq!(literal_eval("-3").unwrap(), json!(-3));
        assert_eq!(literal_eval("00").unwrap(), json!(0));
        assert!(literal_eval("01").is_err());
        assert_eq!(literal_eval("1_000").unwrap(), json!(1000));
        assert_eq!(literal_eval("0x1F").unwrap(), json!(31));
        assert_eq!(literal_eval("1.5e3").unwrap(), json!(1500.0));
        assert_eq!(literal_eval("(1,)").unwrap(), json!([1]));
        assert_eq!(literal_eval("(1)").unwrap(), json!(1));
        assert_eq!(literal_eval("()").unwrap(), json!([]));
        assert_eq!(
            literal_eval("{'a': 1, 'b': [None, True]}").unwrap(),
            json!({"a": 1, "b": [null, true]})
        );
        assert_eq!(literal_eval("'a' 'b'").unwrap(), json!("ab"));
        assert_eq!(
            literal_eval(r"'\x41\u00e9\n\t\\\''").unwrap(),
            json!("Aé\n\t\\'")
        );
        assert_eq!(literal_eval(r"r'\n'").unwrap(), json!("\\n"));
        assert_eq!(literal_eval("'''a\nb'''").unwrap(), json!("a\nb"));
        assert_eq!(literal_eval("[1, 2,]").unwrap(), json!([1, 2]));
        assert!(literal_eval("foo").is_err());
        assert!(literal_eval("[1, 2").is_err());
        assert!(literal_eval("b'x'").is_err());
        assert!(literal_eval("1j").is_err());
        assert!(literal_eval("'a\nb'").is_err());
        assert!(literal_eval("").is_err());
    }

    #[test]
    fn repr_then_literal_eval_round_trips() {
        let tricky = [
            "plain",
            "it's",
            "say \"hi\"",
            "both ' and \"",
            "back\\slash\\n",
            "new\nline\r\ttab",
            "\u{0}\u{1f}\u{7f}\u{85}\u{a0}\u{ad}",
            "中文，答案：\u{3000}",
            "emoji 😀 \u{200b} \u{feff} \u{e000} \u{10ffff}",
            "",
        ];
        for s in tricky {
            let v = json!([s, s]);
            assert_eq!(literal_eval(&repr(&v)).unwrap(), v, "{s:?}");
        }
    }
}
