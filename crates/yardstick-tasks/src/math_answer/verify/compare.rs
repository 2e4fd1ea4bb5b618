//! `math_verify.verify`'s comparison of two parsed answers (`sympy_expr_eq` and its helpers):
//! assignments unwrapped, structural equality first, then relations, sets / tuples / intervals,
//! symbols by name, and numbers by value (decimals rounded to 6 places, integers and percentages
//! compared as integers, everything else by value, free symbols sampled at real points).

use std::cmp::Ordering;

use crate::math_answer::complex::C;
use crate::math_answer::expr::{eval, hash_unit, EvalIssue, Node, Val};

use super::sets::sets_equal;
use super::value::{int_fraction, Mv};

/// A three-way outcome: this port may be unable to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Unknown(&'static str),
}

impl Tri {
    pub(super) fn or(self, other: impl FnOnce() -> Tri) -> Tri {
        match self {
            Tri::Yes => Tri::Yes,
            Tri::No => other(),
            Tri::Unknown(w) => match other() {
                Tri::Yes => Tri::Yes,
                _ => Tri::Unknown(w),
            },
        }
    }
    pub(super) fn and(self, other: impl FnOnce() -> Tri) -> Tri {
        match self {
            Tri::No => Tri::No,
            Tri::Yes => other(),
            Tri::Unknown(w) => match other() {
                Tri::No => Tri::No,
                _ => Tri::Unknown(w),
            },
        }
    }
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

pub(super) fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
    items.into_iter().fold(Tri::Yes, |acc, t| acc.and(|| t))
}

const POINTS: u64 = 4;

/// Real sample values for free symbols (latex2sympy2 makes them real); `\pi` is π.
fn env_for(point: u64) -> impl Fn(&str) -> C {
    move |name: &str| {
        if name == "pi" {
            return C::real(std::f64::consts::PI);
        }
        C::real(0.5 + 2.5 * hash_unit(name, 300 + point))
    }
}

/// The value at sample point `k` (`None`: undefined there or not computable).
fn value_at(n: &Node, k: u64) -> Option<C> {
    match eval(n, &env_for(k)) {
        Ok(v) => Some(v.to_c()),
        Err(_) => None,
    }
}

pub(super) fn exact(n: &Node) -> Option<Val> {
    if n.has_symbols() {
        return None;
    }
    eval(n, &env_for(0)).ok()
}

/// `±oo`, or the real value of a numeric node.
pub(super) fn real_value(n: &Node) -> Option<f64> {
    match n {
        Node::Infinity => Some(f64::INFINITY),
        Node::Mul(v)
            if v.len() == 2 && v[0] == Node::Int("-1".into()) && v[1] == Node::Infinity =>
        {
            Some(f64::NEG_INFINITY)
        }
        _ if n.has_symbols_except_pi() => None,
        _ => {
            let c = value_at(n, 0)?;
            (c.im.abs() < 1e-12).then_some(c.re)
        }
    }
}

/// How two numeric nodes compare (`None` when either is not a real number here).
pub fn order(a: &Node, b: &Node) -> Option<Ordering> {
    if let (Some(Val::Exact(an, ad)), Some(Val::Exact(bn, bd))) = (exact(a), exact(b)) {
        return Some((an.checked_mul(bd)?).cmp(&bn.checked_mul(ad)?));
    }
    real_value(a)?.partial_cmp(&real_value(b)?)
}

trait PiAware {
    fn has_symbols_except_pi(&self) -> bool;
}

impl PiAware for Node {
    fn has_symbols_except_pi(&self) -> bool {
        match self {
            Node::Sym(s) => s != "pi",
            Node::Add(v) | Node::Mul(v) | Node::Call(_, v) => {
                v.iter().any(PiAware::has_symbols_except_pi)
            }
            Node::Pow(a, b) | Node::Rel(_, a, b) => {
                a.has_symbols_except_pi() || b.has_symbols_except_pi()
            }
            _ => false,
        }
    }
}

/// The kind of an atomic sympy number: latex2sympy2 folds `-n`, `\frac{p}{q}`, `p/q` and mixed
/// fractions into one `Integer` / `Rational` / `Float`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Rational,
    Float,
}

fn kind(n: &Node) -> Option<Kind> {
    match n {
        Node::Int(_) => Some(Kind::Integer),
        Node::Float(_) => Some(Kind::Float),
        Node::Mul(v) if v.len() == 2 && v[0] == Node::Int("-1".into()) => kind(&v[1]),
        Node::Add(v) if v.len() == 2 && matches!(v[0], Node::Int(_)) => {
            int_fraction(&v[1]).map(|_| fraction_kind(&v[1]))
        }
        _ => int_fraction(n).map(|(p, q)| {
            if q != 0 && p % q == 0 {
                Kind::Integer
            } else {
                Kind::Rational
            }
        }),
    }
}

fn fraction_kind(frac: &Node) -> Kind {
    match int_fraction(frac) {
        Some((p, q)) if q != 0 && p % q == 0 => Kind::Integer,
        _ => Kind::Rational,
    }
}

/// (kind, is a percentage, value node with the percentage applied, the number without it).
fn atomic(m: &Mv) -> Option<(Kind, bool, Node, Node)> {
    match m {
        Mv::Expr(n) => kind(n).map(|k| (k, false, n.clone(), n.clone())),
        Mv::Pct(n) => kind(n).map(|k| (k, true, pct_value(n), n.clone())),
        _ => None,
    }
}

fn pct_value(n: &Node) -> Node {
    Node::Mul(vec![n.clone(), Node::inv(Node::Int("100".into()))])
}

pub(super) fn as_node(m: &Mv) -> Option<Node> {
    match m {
        Mv::Expr(n) => Some(n.clone()),
        Mv::Pct(n) => Some(pct_value(n)),
        _ => None,
    }
}

fn round6(c: C) -> (i128, i128) {
    let r = |x: f64| (x * 1e6).round() as i128;
    (r(c.re), r(c.im))
}

/// `sympy_numeric_eq` or'ed with `sympy_symbolic_eq` on two expressions.
fn numbers_equal(a: &Mv, b: &Mv) -> Tri {
    let (Some(na), Some(nb)) = (as_node(a), as_node(b)) else {
        return Tri::No;
    };
    if na.has_infinity() || nb.has_infinity() {
        return Tri::No;
    }
    let (ka, kb) = (atomic(a), atomic(b));
    if ka.is_some() || kb.is_some() {
        let float = |k: &Option<(Kind, bool, Node, Node)>| matches!(k, Some((Kind::Float, ..)));
        if float(&ka) || float(&kb) {
            if !na.has_symbols_except_pi() && !nb.has_symbols_except_pi() {
                if let (Some(x), Some(y)) = (value_at(&na, 0), value_at(&nb, 0)) {
                    if round6(x) == round6(y) {
                        return Tri::Yes;
                    }
                }
            }
            return same_value(&na, &nb, true);
        }
        if let (Some((Kind::Integer, _, _, x)), Some((Kind::Integer, _, _, y))) = (&ka, &kb) {
            return Tri::from_bool(exact(x) == exact(y) && exact(x).is_some());
        }
    }
    same_value(&na, &nb, na.has_float() || nb.has_float())
}

/// Equal values: exactly for rationals; at sample points otherwise (`strict_float`: a decimal
/// against an exact value must match to double precision, as sympy's `simplify` would need).
fn same_value(a: &Node, b: &Node, strict_float: bool) -> Tri {
    if let (Some(x), Some(y)) = (exact(a), exact(b)) {
        if let (Val::Exact(..), Val::Exact(..)) = (x, y) {
            return Tri::from_bool(x == y);
        }
    }
    let symbolic = a.has_symbols() || b.has_symbols();
    let overflow = |n: &Node| matches!(eval(n, &env_for(0)), Err(EvalIssue::Overflow));
    if overflow(a) || overflow(b) {
        return Tri::Unknown("integer too large");
    }
    let mut decided = 0;
    for k in 0..(if symbolic { 3 * POINTS } else { 1 }) {
        let (Some(x), Some(y)) = (value_at(a, k), value_at(b, k)) else {
            if !symbolic {
                return Tri::No;
            }
            continue;
        };
        let scale = 1f64.max(x.abs()).max(y.abs());
        // a decimal against an exact value: sympy finds them equal only when they round alike
        let tol = match (strict_float, symbolic) {
            (true, false) => 0.0,
            (true, true) => 1e-12,
            _ => 1e-10,
        };
        if (x - y).abs() > tol * scale {
            return Tri::No;
        }
        decided += 1;
        if decided == POINTS || !symbolic {
            return Tri::Yes;
        }
    }
    if matches!(eval(a, &env_for(0)), Err(EvalIssue::Overflow)) {
        return Tri::Unknown("integer too large");
    }
    Tri::Unknown("no sample point where both sides are defined")
}

fn is_symbol(m: &Mv) -> Option<&str> {
    match m {
        Mv::Expr(Node::Sym(s)) if s != "pi" => Some(s),
        _ => None,
    }
}

/// A product of symbols (or E) as one word, in the order written (the converter does not evaluate).
fn symbol_word(m: &Mv) -> Option<String> {
    fn push(n: &Node, out: &mut String) -> Option<()> {
        match n {
            Node::Sym(s) if s != "pi" => out.push_str(s),
            Node::E => out.push('e'),
            Node::Mul(v) => {
                for x in v {
                    push(x, out)?;
                }
            }
            _ => return None,
        }
        Some(())
    }
    let Mv::Expr(n @ Node::Mul(_)) = m else {
        return None;
    };
    let mut word = String::new();
    push(n, &mut word)?;
    Some(word)
}

/// `sympy_compare_symbols`.
fn symbols_equal(g: &Mv, p: &Mv) -> Tri {
    // a symbol named e (`\text{E}`) is Euler's number (a bare `e`)
    let is_e = |m: &Mv| is_symbol(m).is_some_and(|n| n.eq_ignore_ascii_case("e"));
    let euler = |m: &Mv| matches!(m, Mv::Expr(Node::E));
    if (is_e(g) && euler(p)) || (is_e(p) && euler(g)) {
        return Tri::Yes;
    }
    if let (Some(name), Some(word)) = (is_symbol(g), symbol_word(p)) {
        return Tri::from_bool(name.to_lowercase() == word.to_lowercase());
    }
    if let (Some(name), Some(word)) = (is_symbol(p), symbol_word(g)) {
        return Tri::from_bool(name.to_lowercase() == word.to_lowercase());
    }
    if let (Some(a), Some(b)) = (is_symbol(g), is_symbol(p)) {
        return Tri::from_bool(a == b);
    }
    Tri::from_bool(g == p)
}

fn only_symbols(n: &Node) -> bool {
    match n {
        Node::Sym(s) => s != "pi",
        Node::Pow(b, e) if **e == Node::Int("-1".into()) => only_symbols(b),
        Node::Add(v) | Node::Mul(v) | Node::Call(_, v) => {
            !v.is_empty() && v.iter().all(only_symbols)
        }
        Node::Pow(a, b) => only_symbols(a) && only_symbols(b),
        _ => false,
    }
}

fn is_relation(m: &Mv) -> bool {
    match m {
        Mv::Rel(..) => true,
        Mv::And(v) => !v.is_empty() && v.iter().all(|r| matches!(r, Mv::Rel(..))),
        _ => false,
    }
}

fn is_equation(m: &Mv) -> bool {
    match m {
        Mv::Rel("=", ..) => true,
        Mv::And(v) => !v.is_empty() && v.iter().all(|r| matches!(r, Mv::Rel("=", ..))),
        _ => false,
    }
}

fn lhs_only_symbols(r: &Mv) -> bool {
    matches!(r, Mv::Rel("=", l, _) if matches!(l.as_ref(), Mv::Expr(n) if only_symbols(n)))
}

pub(super) fn is_assignment(m: &Mv) -> bool {
    match m {
        Mv::Rel(..) => lhs_only_symbols(m),
        Mv::And(v) => is_equation(m) && v.first().is_some_and(lhs_only_symbols),
        _ => false,
    }
}

fn first_rel(m: &Mv) -> &Mv {
    match m {
        Mv::And(v) => v.first().unwrap_or(m),
        _ => m,
    }
}

pub(super) fn last_rel(m: &Mv) -> &Mv {
    match m {
        Mv::And(v) => v.last().map_or(m, last_rel),
        _ => m,
    }
}

fn lhs(m: &Mv) -> Mv {
    match m {
        Mv::Rel(_, l, _) => (**l).clone(),
        other => other.clone(),
    }
}

pub(super) fn rhs(m: &Mv) -> Mv {
    match m {
        Mv::Rel(_, _, r) => (**r).clone(),
        other => other.clone(),
    }
}

fn is_set(m: &Mv) -> bool {
    matches!(m, Mv::Set(_) | Mv::Interval { .. } | Mv::Union(_))
}

/// `relation.as_set()` for one variable against numbers; `None` where not emulated.
fn relation_as_set(m: &Mv) -> Option<Mv> {
    let bound = |r: &Mv| -> Option<(&'static str, Node)> {
        let Mv::Rel(op, l, r) = r else { return None };
        match (l.as_ref(), r.as_ref()) {
            (Mv::Expr(Node::Sym(_)), Mv::Expr(n)) if !n.has_symbols_except_pi() => {
                Some((op, n.clone()))
            }
            (Mv::Expr(n), Mv::Expr(Node::Sym(_))) if !n.has_symbols_except_pi() => {
                let flipped = match *op {
                    "<" => ">",
                    "<=" => ">=",
                    ">" => "<",
                    ">=" => "<=",
                    o => o,
                };
                Some((flipped, n.clone()))
            }
            _ => None,
        }
    };
    let inf = Node::Infinity;
    let ninf = Node::negated(Node::Infinity);
    let one = |(op, n): (&'static str, Node)| -> Option<Mv> {
        Some(match op {
            "<" => Mv::Interval {
                lo: ninf.clone(),
                hi: n,
                lopen: true,
                ropen: true,
            },
            "<=" => Mv::Interval {
                lo: ninf.clone(),
                hi: n,
                lopen: true,
                ropen: false,
            },
            ">" => Mv::Interval {
                lo: n,
                hi: inf.clone(),
                lopen: true,
                ropen: true,
            },
            ">=" => Mv::Interval {
                lo: n,
                hi: inf.clone(),
                lopen: false,
                ropen: true,
            },
            "=" => Mv::Set(vec![Mv::Expr(n)]),
            _ => return None,
        })
    };
    match m {
        Mv::Rel(..) => one(bound(m)?),
        _ => None,
    }
}

/// `sympy_expr_eq(gold, pred)` with `strict=True`, `allow_set_relation_comp=False`.
pub fn expr_eq(gold: &Mv, pred: &Mv) -> Tri {
    if gold.is_unknown() || pred.is_unknown() {
        return Tri::Unknown("an answer this port cannot convert");
    }
    let (ga, pa) = (is_assignment(gold), is_assignment(pred));
    let (ge, pe) = (is_equation(gold), is_equation(pred));
    let mut g = gold.clone();
    let mut p = pred.clone();
    if ga {
        g = Mv::Rel(
            "=",
            Box::new(lhs(first_rel(&g))),
            Box::new(rhs(last_rel(&g))),
        );
    }
    if pa {
        p = Mv::Rel(
            "=",
            Box::new(lhs(first_rel(&p))),
            Box::new(rhs(last_rel(&p))),
        );
    }
    if pe && !ge {
        p = rhs(last_rel(&p));
    } else if ga && !pe {
        g = rhs(last_rel(&g));
    }
    if is_relation(&g) && is_set(&p) {
        match relation_as_set(&g) {
            Some(s) => g = s,
            None => return Tri::Unknown("relation as a set"),
        }
    }
    if g == p {
        return Tri::Yes;
    }
    if is_relation(&g) && is_relation(&p) {
        return relations_equal(&g, &p);
    }
    let setlike = |m: &Mv| {
        matches!(
            m,
            Mv::Set(_) | Mv::Tuple(_) | Mv::Interval { .. } | Mv::Union(_)
        )
    };
    if setlike(&g) || setlike(&p) {
        return sets_equal(&g, &p);
    }
    if is_symbol(&g).is_some() || is_symbol(&p).is_some() {
        return symbols_equal(&g, &p);
    }
    if is_relation(&g) || is_relation(&p) {
        return Tri::No;
    }
    match (&g, &p) {
        (Mv::Matrix(a), Mv::Matrix(b)) => matrices_equal(a, b),
        (Mv::Matrix(_), _) | (_, Mv::Matrix(_)) => Tri::No,
        _ => numbers_equal(&g, &p),
    }
}

/// Same shape and every entry equal (`sympy_numeric_eq` entry by entry, else `simplify(a - b)`).
fn matrices_equal(a: &[Vec<Node>], b: &[Vec<Node>]) -> Tri {
    if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.len() != y.len()) {
        return Tri::No;
    }
    all(a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| numbers_equal(&Mv::Expr(x.clone()), &Mv::Expr(y.clone()))))
}

fn inverse(op: &str) -> Option<&'static str> {
    Some(match op {
        ">=" => "<=",
        "<=" => ">=",
        ">" => "<",
        "<" => ">",
        "=" => "=",
        _ => return None,
    })
}

fn diff(r: &Mv, flip: bool) -> Option<Mv> {
    let Mv::Rel(_, l, r) = r else { return None };
    let (a, b) = (as_node(l)?, as_node(r)?);
    let (a, b) = if flip { (b, a) } else { (a, b) };
    Some(Mv::Expr(Node::Add(vec![a, Node::negated(b)])))
}

/// `sympy_compare_relational`.
fn relations_equal(g: &Mv, p: &Mv) -> Tri {
    match (g, p) {
        (Mv::And(gv), Mv::And(pv)) => {
            if gv.len() != pv.len() {
                return Tri::No;
            }
            all(gv.iter().zip(pv).map(|(a, b)| relations_equal(a, b)))
        }
        (Mv::Rel(gop, ..), Mv::Rel(pop, ..)) => {
            let (Some(gd), Some(pd)) = (diff(g, false), diff(p, false)) else {
                return Tri::Unknown("a relation between sets");
            };
            let same = if gop == pop {
                expr_eq(&gd, &pd)
            } else {
                Tri::No
            };
            let Some(inv) = inverse(gop) else {
                return same;
            };
            same.or(|| {
                if inv == *pop {
                    diff(p, true).map_or(Tri::No, |pf| expr_eq(&gd, &pf))
                } else {
                    Tri::No
                }
            })
            .or(|| solved_equal(gop, pop, &gd, &pd))
        }
        _ => Tri::No,
    }
}

/// `sympy_solve_and_compare`, for relations whose sides differ by a constant factor (then both
/// solve the same way); other cases are not decided.
fn solved_equal(gop: &str, pop: &str, gd: &Mv, pd: &Mv) -> Tri {
    let (Some(a), Some(b)) = (as_node(gd), as_node(pd)) else {
        return Tri::No;
    };
    if !a.has_symbols() || !b.has_symbols() {
        return Tri::No;
    }
    let mut ratio: Option<f64> = None;
    for k in 0..POINTS {
        let (Some(x), Some(y)) = (value_at(&a, k), value_at(&b, k)) else {
            return Tri::Unknown("solving relations");
        };
        if y.abs() < 1e-12 {
            return Tri::Unknown("solving relations");
        }
        let r = (x / y).re;
        if ratio.is_some_and(|q| (q - r).abs() > 1e-9 * q.abs().max(1.0)) || r.abs() < 1e-12 {
            return Tri::Unknown("solving relations");
        }
        ratio = Some(r);
    }
    let r = ratio.unwrap_or(1.0);
    let ok = (gop == "=" && pop == "=")
        || (gop == pop && r > 0.0)
        || (inverse(gop) == Some(pop) && r < 0.0);
    if ok {
        Tri::Yes
    } else {
        Tri::Unknown("solving relations")
    }
}
