//! Minerva's `is_equiv(x1, x2)` on two normalised answers: lm-eval parses both with sympy's
//! `parse_latex` and checks `simplify(a - b) == 0`, any failure (parse, subtraction, timeout) being
//! False. Here both are parsed with [`super::parser`] and compared by value: exactly for rational
//! numbers, at sample points (free symbols and undefined functions get deterministic complex values)
//! otherwise. Numeric answers (integers, decimals, `+`, `·`, integer powers) are evaluated as sympy
//! evaluates them ([`super::float::Num`]): rationals exactly at any size, decimals with sympy's `Float`
//! rounding; decimals inside other expressions are compared by value only when exact in binary (`0.5x`),
//! and are otherwise undecided when the values are close.

use num_bigint::BigUint;

use super::complex::C;
use super::expr::{eval, hash_unit, EvalIssue, Node, Val};
use super::float::{FloatLiteral, Num, Undefined};
use super::parser::{parse_latex, ParseFailure};

/// The outcome of an equivalence check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Equal,
    /// Not equal, with the reason (`"unparseable"`, `"relation"`, `"different values"`, …).
    NotEqual(&'static str),
    /// This port cannot tell what the Python peer would say (the reason names the construct).
    Undecided(&'static str),
}

impl Verdict {
    /// The 0/1 score (an undecided case scores 0, as lm-eval's failure path does; count it).
    pub fn score(&self) -> i64 {
        i64::from(*self == Verdict::Equal)
    }
}

const POINTS: usize = 4;

fn env_for(point: usize) -> impl Fn(&str) -> C {
    move |name: &str| {
        let re = 4.0 * hash_unit(name, 100 + point as u64) - 2.0;
        let im = 4.0 * hash_unit(name, 200 + point as u64) - 2.0;
        C::new(re, im)
    }
}

fn close(a: C, b: C) -> bool {
    let scale = 1f64.max(a.abs()).max(b.abs());
    (a - b).abs() <= 1e-9 * scale
}

/// Compare two parsed expressions by value.
pub fn equal_values(a: &Node, b: &Node) -> Verdict {
    if a.is_relation() || b.is_relation() {
        return Verdict::NotEqual("relation");
    }
    if a.has_infinity() || b.has_infinity() {
        return Verdict::NotEqual("infinity");
    }
    if let Some(v) = numeric_verdict(a, b) {
        return v;
    }
    let v = sampled(a, b);
    let inexact_decimal = |n: &Node| {
        n.float_literals()
            .into_iter()
            .any(|t| FloatLiteral::parse(t).is_none_or(|l| !l.is_exact()))
    };
    if v == Verdict::Equal && (inexact_decimal(a) || inexact_decimal(b)) {
        return Verdict::Undecided(
            "a decimal in an expression (sympy's Float rounding is not emulated)",
        );
    }
    v
}

/// A numeric tree (integers, decimals, `+`, `·`, integer powers) evaluated as sympy evaluates it
/// ([`Num`]); `None` for anything else (symbols, functions, constants) or what is not emulated.
fn numeric(n: &Node) -> Option<Result<Num, Undefined>> {
    let fold = |v: &[Node], op: fn(&Num, &Num) -> Num| -> Option<Result<Num, Undefined>> {
        let mut acc: Option<Num> = None;
        for c in v {
            let x = match numeric(c)? {
                Ok(x) => x,
                Err(u) => return Some(Err(u)),
            };
            acc = Some(match acc {
                None => x,
                Some(a) => op(&a, &x),
            });
        }
        acc.map(Ok)
    };
    match n {
        Node::Int(s) => {
            let (neg, digits) = match s.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, s.as_str()),
            };
            BigUint::parse_bytes(digits.as_bytes(), 10).map(|m| Ok(Num::integer(neg, m)))
        }
        Node::Float(s) => FloatLiteral::parse(s).map(|l| Ok(Num::literal(l))),
        Node::Add(v) => fold(v, Num::add),
        Node::Mul(v) => fold(v, Num::mul),
        Node::Pow(b, e) => {
            let base = match numeric(b)? {
                Ok(x) => x,
                Err(u) => return Some(Err(u)),
            };
            let exponent = numeric(e);
            // sympy: `1 ** e` is 1 for any finite e, even one too large to compute here (`1^{2^{235423523}}`)
            // or symbolic; an undefined exponent (zoo) stays undefined.
            if base.equals(&Num::integer(false, BigUint::from(1u8))) {
                return match exponent {
                    Some(Err(u)) => Some(Err(u)),
                    _ if e.has_symbols() => None,
                    _ => Some(Ok(base)),
                };
            }
            let Ok(Num::Rational { neg, num, den }) = exponent? else {
                return None;
            };
            if den != BigUint::from(1u8) {
                return None;
            }
            base.pow(neg, u32::try_from(&num).ok()?)
        }
        _ => None,
    }
}

/// sympy's verdict when both sides are numeric trees it evaluates to a number: rationals exactly, however
/// large (`2^{2005}`), and decimals as `Float`s (`0.3` vs `\\frac{3}{10}`, `\\frac{0.61}{1}` vs `0.61`);
/// `None` for every other shape.
fn numeric_verdict(a: &Node, b: &Node) -> Option<Verdict> {
    Some(match (numeric(a)?, numeric(b)?) {
        (Ok(x), Ok(y)) if x.equals(&y) => Verdict::Equal,
        (Ok(_), Ok(_)) => Verdict::NotEqual("different values"),
        _ => Verdict::NotEqual("undefined value"),
    })
}

/// Compare by value: exactly for rationals, at sample points otherwise.
fn sampled(a: &Node, b: &Node) -> Verdict {
    let symbolic = a.has_symbols() || b.has_symbols();
    let mut decided_points = 0;
    for point in 0..(if symbolic { 3 * POINTS } else { 1 }) {
        let env = env_for(point);
        let (va, vb) = match (eval(a, &env), eval(b, &env)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(EvalIssue::Overflow), _) | (_, Err(EvalIssue::Overflow)) => {
                return Verdict::Undecided("integer too large");
            }
            (Err(EvalIssue::Undefined), _) | (_, Err(EvalIssue::Undefined)) if !symbolic => {
                return Verdict::NotEqual("undefined value");
            }
            _ => continue, // a pole at this sample point: try another
        };
        let same = match (va, vb) {
            (Val::Exact(..), Val::Exact(..)) => va == vb,
            _ => close(va.to_c(), vb.to_c()),
        };
        if !same {
            return Verdict::NotEqual("different values");
        }
        decided_points += 1;
        if decided_points == POINTS || !symbolic {
            return Verdict::Equal;
        }
    }
    Verdict::Undecided("no sample point where both sides are defined")
}

/// `is_equiv(x1, x2)` of lm-eval's minerva_math.
pub fn is_equiv(x1: &str, x2: &str) -> Verdict {
    // lm-eval 0.4.13 first accepts identical non-empty strings (parse_latex rejects tuples, intervals
    // and matrices, which would otherwise make an answer identical to the gold wrong).
    if !x1.is_empty() && x1 == x2 {
        return Verdict::Equal;
    }
    let a = parse_latex(x1);
    let b = parse_latex(x2);
    match (a, b) {
        (Ok(a), Ok(b)) => equal_values(&a, &b),
        (Err(ParseFailure::Unsupported(what)), _) | (_, Err(ParseFailure::Unsupported(what))) => {
            Verdict::Undecided(what)
        }
        _ => Verdict::NotEqual("unparseable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(a: &str, b: &str) -> Verdict {
        is_equiv(a, b)
    }

    #[test]
    fn hand_reasoned_cases() {
        assert_eq!(eq("\\frac{1}{2}", "0.5"), Verdict::Equal);
        assert_eq!(
            eq("\\frac{1}{3}", "0.333"),
            Verdict::NotEqual("different values")
        );
        assert_eq!(eq("2\\sqrt{2}", "\\sqrt{8}"), Verdict::Equal);
        assert_eq!(eq("x^2+2x+1", "(x+1)^2"), Verdict::Equal);
        assert_eq!(
            eq("\\sqrt{x^2}", "x"),
            Verdict::NotEqual("different values")
        );
        // \pi is a plain symbol for sympy's parser
        assert_eq!(
            eq("2\\pi", "6.283185307179586"),
            Verdict::NotEqual("different values")
        );
        // identical strings are equal before any parsing (lm-eval 0.4.13), even where sympy fails
        assert_eq!(eq("(1,2)", "(1,2)"), Verdict::Equal);
        assert_eq!(eq("x<1", "x<1"), Verdict::Equal);
        assert_eq!(eq("", ""), Verdict::NotEqual("unparseable"));
        assert_eq!(eq("(1,2)", "(1, 2)"), Verdict::NotEqual("unparseable"));
        // trailing input after a complete expression is ignored: "1,2" reads as 1
        assert_eq!(eq("1,2", "1,3"), Verdict::Equal);
        assert_eq!(eq("\\infty", "{\\infty}"), Verdict::NotEqual("infinity"));
        assert_eq!(eq("x<1", "x < 1"), Verdict::NotEqual("relation"));
        assert_eq!(eq("3:4", "\\frac{3}{4}"), Verdict::Equal);
        assert_eq!(eq("2x3", "6"), Verdict::Equal);
        assert_eq!(eq("01", "1"), Verdict::NotEqual("unparseable"));
        // decimals follow sympy's Float rounding (checked with sympy 1.14)
        assert_eq!(eq("0.3", "\\frac{3}{10}"), Verdict::Equal);
        assert_eq!(eq("\\frac{3}{10}", "0.3"), Verdict::Equal);
        assert_eq!(
            eq("0.42857142857142855", "\\frac{3}{7}"),
            Verdict::NotEqual("different values")
        );
        assert_eq!(
            eq("-0.5", "\\frac{1}{2}"),
            Verdict::NotEqual("different values")
        );
        assert_eq!(eq("-0.5", "-\\frac{1}{2}"), Verdict::Equal);
        assert_eq!(eq("0.5", "0.50"), Verdict::Equal);
        assert_eq!(
            eq("0.5", "0.500000000000000000001"),
            Verdict::NotEqual("different values")
        );
        assert_eq!(eq("2.0", "2"), Verdict::Equal);
        assert_eq!(eq("0.5x", "\\frac{x}{2}"), Verdict::Equal);
        assert_eq!(eq("\\frac{0.61}{1}", "0.61"), Verdict::Equal);
        assert_eq!(eq("\\frac{1}{0.25}", "4"), Verdict::Equal);
        assert_eq!(eq("0.5^{-2}", "4"), Verdict::Equal);
        assert_eq!(eq("1.5\\times1000", "1500"), Verdict::Equal);
        assert_eq!(eq("0.1+0.2", "0.3"), Verdict::NotEqual("different values"));
        assert_eq!(
            eq("0.1\\cdot3", "0.3"),
            Verdict::NotEqual("different values")
        );
        // rationals of any size are exact
        assert_eq!(eq("\\frac{2^{2005}}{1}", "2^{2005}"), Verdict::Equal);
        // sympy: 1 ** e is 1 however large e is (MATH-500 doc 65, SmolLM2's answer)
        assert_eq!(eq("1^{(2^{235423523})}", "1"), Verdict::Equal);
        assert_eq!(
            eq("1^{2^{99999999}}", "2"),
            Verdict::NotEqual("different values")
        );
        assert_eq!(
            eq("2^{2005}+1", "2^{2005}"),
            Verdict::NotEqual("different values")
        );
        assert!(matches!(
            eq("0.3x", "\\frac{3x}{10}"),
            Verdict::Undecided(_)
        ));
        assert!(matches!(
            eq("4.242640687119285", "3\\sqrt{2}"),
            Verdict::Undecided(_)
        ));
        assert_eq!(eq("5.", "5"), Verdict::NotEqual("unparseable"));
        assert_eq!(
            eq("\\frac{1}{0}", "{\\frac{1}{0}}"),
            Verdict::NotEqual("undefined value")
        );
        assert_eq!(eq("k(k+1)", "k^2+k"), Verdict::NotEqual("different values"));
        assert_eq!(eq("\\sin^2x+\\cos^2x", "1"), Verdict::Equal);
        assert!(matches!(eq("\\int x dx", "1"), Verdict::Undecided(_)));
        assert_eq!(
            eq("2^{100}", "1267650600228229401496703205376"),
            Verdict::Equal
        );
    }
}

#[cfg(test)]
mod oracle_survey {
    use super::*;

    /// Agreement with sympy on which of the 5,000 MATH test gold answers `parse_latex` accepts,
    /// from a survey file written by the peer (one JSON per line: `{"a": answer, "ok": bool}`);
    /// set `YARDSTICK_MATH_GOLD_PARSE` to it. Prints the agreement and the disagreements.
    #[test]
    fn gold_answers_parse_like_sympy() {
        let Ok(path) = std::env::var("YARDSTICK_MATH_GOLD_PARSE") else {
            println!("SKIP: YARDSTICK_MATH_GOLD_PARSE not set");
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let (mut n, mut agree, mut undecided) = (0, 0, 0);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let a = v["a"].as_str().unwrap();
            let ok = v["ok"].as_bool().unwrap();
            n += 1;
            match (parse_latex(a), ok) {
                (Ok(_), true) | (Err(ParseFailure::Syntax), false) => agree += 1,
                (Err(ParseFailure::Unsupported(_)), _) => undecided += 1,
                (mine, _) => println!("DISAGREE sympy_ok={ok} ours={:?} {a:?}", mine.is_ok()),
            }
            // an answer always equals itself when sympy parses it (unless it holds oo)
            if ok {
                let same = is_equiv(a, a);
                if same != Verdict::Equal && !a.contains("infty") {
                    println!("SELF {a:?} -> {same:?}");
                }
            }
        }
        println!("gold parse agreement: {agree}/{n}, undecided {undecided}");
        assert!(agree * 100 >= n * 95, "agreement {agree}/{n} below 95%");
    }
}
