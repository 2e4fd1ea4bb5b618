//! Minerva's `is_equiv(x1, x2)` on two normalised answers: lm-eval parses both with sympy's
//! `parse_latex` and checks `simplify(a - b) == 0`, any failure (parse, subtraction, timeout) being
//! False. Here both are parsed with [`super::parser`] and compared by value: exactly for rational
//! numbers, at sample points (free symbols and undefined functions get deterministic complex values)
//! otherwise.

use super::complex::C;
use super::expr::{eval, hash_unit, EvalIssue, Node, Val};
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
        assert_eq!(eq("(1,2)", "(1,2)"), Verdict::NotEqual("unparseable"));
        // trailing input after a complete expression is ignored: "1,2" reads as 1
        assert_eq!(eq("1,2", "1,3"), Verdict::Equal);
        assert_eq!(eq("\\infty", "\\infty"), Verdict::NotEqual("infinity"));
        assert_eq!(eq("x<1", "x<1"), Verdict::NotEqual("relation"));
        assert_eq!(eq("3:4", "\\frac{3}{4}"), Verdict::Equal);
        assert_eq!(eq("2x3", "6"), Verdict::Equal);
        assert_eq!(eq("01", "1"), Verdict::NotEqual("unparseable"));
        assert_eq!(eq("5.", "5"), Verdict::NotEqual("unparseable"));
        assert_eq!(
            eq("\\frac{1}{0}", "\\frac{1}{0}"),
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
