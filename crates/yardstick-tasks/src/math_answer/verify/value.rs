//! What `latex2sympy2_extended` (as `math_verify` calls it) makes of a normalised LaTeX answer:
//! numbers, expressions, relations (chains become a conjunction), finite sets, tuples and intervals,
//! read with this crate's LaTeX parser ([`crate::math_answer::parser`]) plus the converter's own rules
//! (mixed fractions, lower-cased symbols, `e` as Euler's number, `\pi` as π, degrees ignored). A
//! construct whose conversion this port does not know is [`Mv::Unknown`]: comparisons with it are
//! undecided rather than guessed.

use std::sync::OnceLock;

use regex::Regex;

use crate::math_answer::expr::Node;
use crate::math_answer::parser::{parse_latex_full, ParseFailure};

/// A parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Mv {
    Expr(Node),
    /// `X%` from the plain-number extractor: `X * UnevaluatedExpr(1/100)`.
    Pct(Node),
    /// A relation `op` (`=`, `<`, `<=`, `>`, `>=`, `!=`) between two sides (`x \in [1,2]` is an `=`).
    Rel(&'static str, Box<Mv>, Box<Mv>),
    /// A chain `a < b < c` (its relations in order).
    And(Vec<Mv>),
    /// A finite set, its elements in the order written.
    Set(Vec<Mv>),
    Tuple(Vec<Mv>),
    Interval {
        lo: Node,
        hi: Node,
        lopen: bool,
        ropen: bool,
    },
    /// A union of intervals and finite sets (`\cup`).
    Union(Vec<Mv>),
    /// A `pmatrix` / `bmatrix`, by rows.
    Matrix(Vec<Vec<Node>>),
    /// A literal string (the fallback of `parse`).
    Str(String),
    /// A construct this port cannot convert as latex2sympy2 would.
    Unknown(&'static str),
}

impl Mv {
    pub fn is_unknown(&self) -> bool {
        match self {
            Mv::Unknown(_) => true,
            Mv::Rel(_, a, b) => a.is_unknown() || b.is_unknown(),
            Mv::And(v) | Mv::Set(v) | Mv::Tuple(v) | Mv::Union(v) => v.iter().any(Mv::is_unknown),
            _ => false,
        }
    }
}

/// The conversion failed (latex2sympy2 raises): the extraction treats the match as unparsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;

const KNOWN_COMMANDS: &[&str] = &[
    "frac", "dfrac", "tfrac", "sqrt", "pi", "cdot", "times", "div", "infty", "le", "leq", "ge",
    "geq", "neq", "sin", "cos", "tan", "sec", "csc", "cot", "log", "ln", "exp", "mathit", "alpha",
    "beta", "gamma", "theta", "lambda", "mu", "sigma", "phi", "omega", "binom", "dbinom",
];

/// Split at top-level occurrences of `sep` (outside `()`, `[]`, `{}`).
pub(crate) fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut last) = (0i32, 0usize);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'\\' if i + 1 < s.len() && matches!(bytes[i + 1], b'{' | b'}') => {
                depth += if bytes[i + 1] == b'{' { 1 } else { -1 };
                i += 2;
                continue;
            }
            _ => {}
        }
        if depth == 0 && s[i..].starts_with(sep) {
            let after = s[i + sep.len()..].chars().next();
            let is_cmd = sep.starts_with('\\') && after.is_some_and(|c| c.is_ascii_alphabetic());
            if !is_cmd {
                parts.push(&s[last..i]);
                last = i + sep.len();
                i = last;
                continue;
            }
        }
        i += 1;
    }
    parts.push(&s[last..]);
    parts
}

fn comma_number(s: &str) -> Option<Node> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$").expect("regex"));
    if !re.is_match(s) {
        return None;
    }
    let t: String = s.trim().chars().filter(|c| *c != ',').collect();
    number_node(&t)
}

/// A plain decimal numeral as sympy's `Number` makes it (leading zeros dropped).
pub fn number_node(t: &str) -> Option<Node> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let n = if body.contains('.') {
        Node::Float(body.to_string())
    } else {
        let d = body.trim_start_matches('0');
        Node::Int(if d.is_empty() { "0".into() } else { d.into() })
    };
    Some(if neg { Node::negated(n) } else { n })
}

/// `latex2sympy(s)`: `Err` where it raises.
pub fn convert(s: &str) -> Result<Mv, Failed> {
    // spacing commands are whitespace to the grammar
    let mut spaced = s.to_string();
    for space in ["\\qquad", "\\quad", "\\;", "\\,", "\\:"] {
        spaced = spaced.replace(space, " ");
    }
    let t = spaced.trim();
    if t.is_empty() {
        return Err(Failed);
    }
    if let Some(n) = comma_number(t) {
        return Ok(Mv::Expr(n));
    }
    if t.contains('%') {
        // latex2sympy2 1.11 raises on every percent atom (`AtomContext` has no `FUNC_GAMMA`)
        return Err(Failed);
    }
    if split_top(t, ";").len() > 1 {
        return Ok(Mv::Unknown("semicolon-separated elements"));
    }
    let parts = split_top(t, ",");
    let mut elems = Vec::new();
    for p in &parts {
        elems.extend(element(p.trim())?);
    }
    Ok(if elems.len() == 1 {
        elems.pop().unwrap_or(Mv::Unknown("empty"))
    } else {
        Mv::Set(elems)
    })
}

/// One comma-separated element; `\pm` gives two.
fn element(t: &str) -> Result<Vec<Mv>, Failed> {
    if t.is_empty() {
        return Err(Failed);
    }
    let plain = t
        .trim_end_matches("^{\\circ}")
        .trim_end_matches("^\\circ")
        .trim();
    if let Some(word) = whole_text(plain) {
        return Ok(vec![Mv::Expr(Node::Sym(word))]);
    }
    if let Some(m) = matrix(plain) {
        // a degree sign after a matrix is ignored
        return Ok(vec![m?]);
    }
    if plain != t && (set_like(plain)?.is_some() || split_top(plain, ",").len() > 1) {
        // a degree sign after a set or tuple does not parse
        return Err(Failed);
    }
    if let Some(m) = set_like(t)? {
        if !matches!(m, Mv::Interval { .. } | Mv::Set(_) | Mv::Tuple(_)) {
            return Ok(vec![m]);
        }
    }
    if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        if balanced(inner) && split_top(inner, ",").len() == 1 && !inner.trim().is_empty() {
            let mut v = element(inner.trim())?;
            return Ok(if v.len() == 1 {
                vec![v.remove(0)]
            } else {
                vec![Mv::Tuple(v)]
            });
        }
    }
    let eqs = split_top(t, "=");
    if eqs.len() == 2 {
        if let Some(set) = set_like(eqs[1].trim())? {
            let lhs = expr(eqs[0])?;
            return Ok(vec![Mv::Rel("=", Box::new(Mv::Expr(lhs)), Box::new(set))]);
        }
    }
    let pm = split_top(t, "\\pm");
    if pm.len() == 2 {
        let b = expr(pm[1])?;
        if pm[0].trim().is_empty() {
            return Ok(vec![Mv::Expr(Node::negated(b.clone())), Mv::Expr(b)]);
        }
        let a = expr(pm[0])?;
        return Ok(vec![
            Mv::Expr(Node::Add(vec![a.clone(), b.clone()])),
            Mv::Expr(Node::Add(vec![a, Node::negated(b)])),
        ]);
    }
    if pm.len() > 2 || t.contains("\\mp") {
        return Ok(vec![Mv::Unknown("several \\pm")]);
    }
    let inside = split_top(t, "\\in");
    if inside.len() == 2 {
        let lhs = expr(inside[0])?;
        let rhs = element(inside[1].trim())?;
        return Ok(match <[Mv; 1]>::try_from(rhs) {
            Ok([r]) => vec![Mv::Rel("=", Box::new(Mv::Expr(lhs)), Box::new(r))],
            Err(_) => vec![Mv::Unknown("\\in a \\pm")],
        });
    }
    if let Some(set) = set_atom(t)? {
        return Ok(vec![set]);
    }
    Ok(vec![relation(t)?])
}

/// A matrix, a union (`\cup`) of sets, or a set atom.
fn set_like(t: &str) -> Result<Option<Mv>, Failed> {
    if let Some(m) = matrix(t) {
        return m.map(Some);
    }
    let cups = split_top(t, "\\cup");
    if cups.len() > 1 {
        let mut parts = Vec::new();
        for c in cups {
            match set_atom(c.trim())? {
                Some(m @ (Mv::Interval { .. } | Mv::Set(_))) => parts.push(m),
                Some(_) => return Ok(Some(Mv::Unknown("a union with a tuple"))),
                None => return Ok(None),
            }
        }
        return Ok(Some(Mv::Union(parts)));
    }
    set_atom(t)
}

/// `\{…\}`, intervals and tuples.
fn set_atom(t: &str) -> Result<Option<Mv>, Failed> {
    if let Some(inner) = t.strip_prefix("\\{").and_then(|r| r.strip_suffix("\\}")) {
        if split_top(&format!("\\{{{inner}\\}}"), ",").len() == 1 && balanced(inner) {
            if inner.trim().is_empty() {
                return Ok(Some(Mv::Set(Vec::new())));
            }
            let mut v = Vec::new();
            for p in split_top(inner, ",") {
                v.extend(element(p.trim())?);
            }
            return Ok(Some(Mv::Set(v)));
        }
    }
    let (Some(open), Some(close)) = (t.chars().next(), t.chars().last()) else {
        return Ok(None);
    };
    if !matches!(open, '(' | '[') || !matches!(close, ')' | ']') || t.len() < 2 {
        return Ok(None);
    }
    let inner = &t[1..t.len() - 1];
    if !balanced(inner) {
        return Ok(None);
    }
    let parts = split_top(inner, ",");
    match parts.len() {
        1 => Ok(None),
        2 => {
            let lo = expr(parts[0])?;
            let hi = expr(parts[1])?;
            let (lopen, ropen) = (open == '(', close == ')');
            let empty = match crate::math_answer::verify::compare::order(&hi, &lo) {
                Some(ord) => (lopen && ropen && ord.is_le()) || (!lopen && !ropen && ord.is_lt()),
                None => false,
            };
            Ok(Some(if empty {
                Mv::Tuple(vec![Mv::Expr(lo), Mv::Expr(hi)])
            } else {
                // sympy opens an interval at an infinite end
                let lopen = lopen || is_infinite(&lo);
                let ropen = ropen || is_infinite(&hi);
                Mv::Interval {
                    lo,
                    hi,
                    lopen,
                    ropen,
                }
            }))
        }
        _ if (open == '(' && close == ')') || (open == '[' && close == ']') => {
            let mut v = Vec::new();
            for p in parts {
                v.extend(element(p.trim())?);
            }
            Ok(Some(Mv::Tuple(v)))
        }
        _ => Ok(Some(Mv::Unknown("bracketed list"))),
    }
}

fn is_infinite(n: &Node) -> bool {
    match n {
        Node::Infinity => true,
        Node::Mul(v) => v.len() == 2 && v[0] == Node::Int("-1".into()) && v[1] == Node::Infinity,
        _ => false,
    }
}

/// `\text{…}` alone: a symbol named by its text (spaces and parentheses dropped, lower-cased).
fn whole_text(t: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^\\(?:text|mbox)\{([^{}]*)\}$").expect("regex"));
    let c = re.captures(t)?;
    let name: String = c[1]
        .chars()
        .filter(|ch| !matches!(ch, ' ' | '(' | ')'))
        .collect();
    (!name.is_empty()).then(|| name.to_lowercase())
}

/// `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` (or `bmatrix`).
fn matrix(t: &str) -> Option<Result<Mv, Failed>> {
    let kind = ["pmatrix", "bmatrix"]
        .into_iter()
        .find(|k| t.starts_with(&format!("\\begin{{{k}}}")))?;
    let inner = t
        .strip_prefix(&format!("\\begin{{{kind}}}"))?
        .strip_suffix(&format!("\\end{{{kind}}}"))?;
    if inner.contains("\\begin") {
        return Some(Ok(Mv::Unknown("nested matrix")));
    }
    let mut rows = Vec::new();
    for row in inner.split("\\\\") {
        if row.trim().is_empty() {
            continue;
        }
        let mut cells = Vec::new();
        for cell in row.split('&') {
            match expr(cell) {
                Ok(n) => cells.push(n),
                Err(Failed) => return Some(Err(Failed)),
            }
        }
        rows.push(cells);
    }
    if rows.is_empty() || rows.iter().any(|r| r.len() != rows[0].len()) {
        return Some(Err(Failed));
    }
    Some(Ok(Mv::Matrix(rows)))
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn relation(t: &str) -> Result<Mv, Failed> {
    let node = parse(t)?;
    Ok(match node {
        Err(why) => Mv::Unknown(why),
        Ok(n) => rel_chain(n),
    })
}

/// `a < b < c` as the converter builds it: a conjunction of the links, in order.
fn rel_chain(n: Node) -> Mv {
    fn links(n: Node, out: &mut Vec<(&'static str, Node, Node)>) -> Node {
        match n {
            Node::Rel(op, a, b) => {
                let left = links(*a, out);
                let right = *b;
                out.push((op, left, right.clone()));
                right
            }
            other => other,
        }
    }
    if !n.is_relation() {
        return Mv::Expr(n);
    }
    let mut v = Vec::new();
    links(n, &mut v);
    let mut rels: Vec<Mv> = v
        .into_iter()
        .map(|(op, a, b)| Mv::Rel(op, Box::new(Mv::Expr(a)), Box::new(Mv::Expr(b))))
        .collect();
    if rels.len() == 1 {
        rels.pop().unwrap_or(Mv::Unknown("empty relation"))
    } else {
        Mv::And(rels)
    }
}

fn expr(t: &str) -> Result<Node, Failed> {
    match parse(t)? {
        Ok(n) if !n.is_relation() => Ok(n),
        Ok(_) => Err(Failed),
        Err(_) => Err(Failed),
    }
}

/// Parse one expression or relation: `Err` = latex2sympy2 raises; `Ok(Err(why))` = not decidable here.
fn parse(t: &str) -> Result<Result<Node, &'static str>, Failed> {
    let prepared = match prepare(t) {
        Ok(p) => p,
        Err(why) => return Ok(Err(why)),
    };
    match parse_latex_full(&prepared) {
        Ok(n) => Ok(Ok(fix(n))),
        Err(ParseFailure::Unsupported(why)) => Ok(Err(why)),
        // taken as latex2sympy2 raising too (its grammar is close to sympy's on these answers)
        Err(ParseFailure::Syntax) => Err(Failed),
    }
}

/// String-level rewrites before parsing: degrees dropped, `\text{…}` as a symbol; commands outside
/// the known set are not decided.
fn prepare(t: &str) -> Result<String, &'static str> {
    static TEXT: OnceLock<Regex> = OnceLock::new();
    static CMD: OnceLock<Regex> = OnceLock::new();
    static BASE: OnceLock<Regex> = OnceLock::new();
    let mut s = t.replace("^{\\circ}", "").replace("^\\circ", "");

    // a number's subscript (a base) is ignored
    let base = BASE.get_or_init(|| Regex::new(r"(\d)_(?:\{[^{}]*\}|[0-9a-zA-Z])").expect("regex"));
    s = base.replace_all(&s, "$1").into_owned();
    let text = TEXT.get_or_init(|| Regex::new(r"\\(?:text|mbox)\{([^{}]*)\}").expect("regex"));
    let mut bad = false;
    s = text
        .replace_all(&s, |c: &regex::Captures| {
            let inner: String = c[1]
                .chars()
                .filter(|ch| !matches!(ch, ' ' | '(' | ')'))
                .collect();
            if inner.is_empty() || !inner.chars().all(|ch| ch.is_ascii_alphabetic()) {
                bad = true;
            }
            format!("\u{1}{inner}\u{2}")
        })
        .into_owned();
    if bad {
        return Err("\\text{} holding more than letters");
    }
    let cmd = CMD.get_or_init(|| Regex::new(r"\\([a-zA-Z]+|.)").expect("regex"));
    for c in cmd.captures_iter(&s) {
        if !KNOWN_COMMANDS.contains(&&c[1]) {
            return Err("a LaTeX command this port does not convert");
        }
    }
    // a word in \text{} is one symbol: spelled as a command, which the lexer keeps whole
    Ok(s.replace('\u{1}', "\\").replace('\u{2}', " "))
}

/// The converter's own readings: lower-cased symbols, `e` is Euler's number, `2\frac{1}{2}` is 5/2.
fn fix(n: Node) -> Node {
    match n {
        Node::Sym(name) if name == "e" || name == "E" => Node::E,
        Node::Sym(name) if name == "pi" => Node::Sym(name),
        Node::Sym(name) => Node::Sym(name.to_lowercase()),
        Node::Mul(v) => {
            let v: Vec<Node> = v.into_iter().map(fix).collect();
            if let [Node::Int(a), frac] = v.as_slice() {
                if a == "-1" {
                    return Node::Mul(v);
                }
                if let Some((p, q)) = int_fraction(frac) {
                    if p > 0 && q > 0 {
                        return Node::Add(vec![Node::Int(a.clone()), frac.clone()]);
                    }
                }
            }
            Node::Mul(v)
        }
        Node::Add(v) => Node::Add(v.into_iter().map(fix).collect()),
        // `1^x` is 1 for sympy whatever x is (`1^{2^{235423523}}`)
        Node::Pow(a, _) if *a == Node::Int("1".into()) => Node::Int("1".into()),
        Node::Pow(a, b) => Node::Pow(Box::new(fix(*a)), Box::new(fix(*b))),
        Node::Call(f, v) => Node::Call(f, v.into_iter().map(fix).collect()),
        Node::Rel(op, a, b) => Node::Rel(op, Box::new(fix(*a)), Box::new(fix(*b))),
        other => other,
    }
}

/// `(p, q)` when the node is `\frac{p}{q}` with integer literals.
pub fn int_fraction(n: &Node) -> Option<(i128, i128)> {
    let int = |n: &Node| -> Option<i128> {
        match n {
            Node::Int(s) => s.parse().ok(),
            Node::Mul(v) if v.len() == 2 && v[0] == Node::Int("-1".into()) => match &v[1] {
                Node::Int(s) => s.parse::<i128>().ok().map(|x| -x),
                _ => None,
            },
            _ => None,
        }
    };
    if let Node::Mul(v) = n {
        if let [p, Node::Pow(q, e)] = v.as_slice() {
            if **e == Node::Int("-1".into()) {
                return Some((int(p)?, int(q)?));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(matches!(convert("1,000"), Ok(Mv::Expr(Node::Int(s))) if s == "1000"));
        assert!(matches!(convert("1, 2"), Ok(Mv::Set(v)) if v.len() == 2));
        assert!(matches!(
            convert("(1,2)"),
            Ok(Mv::Interval {
                lopen: true,
                ropen: true,
                ..
            })
        ));
        assert!(matches!(convert("(2,1)"), Ok(Mv::Tuple(v)) if v.len() == 2));
        assert!(matches!(convert("(1,2,3)"), Ok(Mv::Tuple(v)) if v.len() == 3));
        assert!(matches!(convert("\\{3\\}"), Ok(Mv::Set(v)) if v.len() == 1));
        assert!(matches!(convert("x=3"), Ok(Mv::Rel("=", ..))));
        assert!(matches!(convert("a<x<b"), Ok(Mv::And(v)) if v.len() == 2));
        assert!(matches!(convert("\\pm 2"), Ok(Mv::Set(v)) if v.len() == 2));
        assert_eq!(convert("5\\%"), Err(Failed));
        assert!(matches!(convert("\\text{Evelyn}"), Ok(Mv::Expr(Node::Sym(s))) if s == "evelyn"));
    }
}
