//! minerva_math's second metric, `math_verify`: lm-eval 0.4.13 scores a response 1 when
//! `math_verify.verify(gold=parse(solution), target=parse(response))` (math-verify 0.9.0, on
//! latex2sympy2_extended 1.11.0 and sympy 1.14.0) holds. This is a native reading of that pipeline:
//! [`extract`] finds and normalises the answers as `parse` does ([`latex_norm`]), [`value`] converts
//! them as latex2sympy2 would, and [`compare`] applies `verify`'s comparison strategies. Where the
//! conversion or the comparison rests on sympy machinery this port does not reproduce, the verdict
//! is [`Verdict::Undecided`] (scored 0, and counted) rather than a guess.

pub mod compare;
pub mod extract;
pub mod latex_norm;
mod sets;
pub mod value;

use super::equiv::Verdict;
use compare::{expr_eq, Tri};
use value::Mv;

pub use extract::parse;

/// `verify(gold, target)` on two `parse` results: true when any (gold, target) pair matches.
pub fn verify(gold: &[Mv], target: &[Mv]) -> Verdict {
    let mut undecided: Option<&'static str> = None;
    for g in gold {
        for t in target {
            let r = match (g, t) {
                (Mv::Str(a), Mv::Str(b)) => {
                    let (a, b) = (a.trim(), b.trim());
                    Tri::from_bool(!a.is_empty() && a == b)
                }
                (Mv::Str(_), _) | (_, Mv::Str(_)) => Tri::No,
                _ => expr_eq(g, t),
            };
            match r {
                Tri::Yes => return Verdict::Equal,
                Tri::Unknown(why) => undecided = undecided.or(Some(why)),
                Tri::No => {}
            }
        }
    }
    match undecided {
        Some(why) => Verdict::Undecided(why),
        None => Verdict::NotEqual("no matching extraction"),
    }
}

/// lm-eval's minerva_math `math_verify` for one response: `verify(parse(solution), parse(response))`.
pub fn math_verify(solution: &str, response: &str) -> Verdict {
    verify(&parse(solution), &parse(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(gold: &str, response: &str) -> Verdict {
        math_verify(gold, response)
    }

    const FINAL: &str = "Final Answer: The final answer is";

    /// Hand-reasoned cases (each also checked with math-verify 0.9.0).
    #[test]
    fn extraction_and_comparison_cases() {
        let half = "So it is $\\boxed{\\frac{1}{2}}$.";
        // a decimal equal to six places; "0.5" itself is normalised to \frac{1}{2}
        assert_eq!(
            mv(half, &format!("{FINAL} $0.5$. I hope it is correct.")),
            Verdict::Equal
        );
        assert_eq!(
            mv(half, &format!("{FINAL} $0.500000$. I hope it is correct.")),
            Verdict::Equal
        );
        // 1/3 against 0.333 differs in the sixth place
        let third = "$\\boxed{\\frac{1}{3}}$";
        assert!(matches!(
            mv(third, "The answer is 0.333."),
            Verdict::NotEqual(_)
        ));
        assert_eq!(mv(third, "The answer is 0.3333333."), Verdict::Equal);
        // no answer anywhere: nothing to compare
        assert!(matches!(
            mv(half, "I could not solve it."),
            Verdict::NotEqual(_)
        ));
        // a boxed answer counts without the final-answer sentence
        assert_eq!(mv("$\\boxed{3}$", "so \\boxed{3}."), Verdict::Equal);
        // an assignment against a bare value: the right side is compared
        assert_eq!(
            mv(
                "$\\boxed{5}$",
                &format!("{FINAL} $x = 5$. I hope it is correct.")
            ),
            Verdict::Equal
        );
        // percent: 9% and 9 are equal as integers
        assert_eq!(mv("$\\boxed{9}$", "The answer is 9%."), Verdict::Equal);
        // mixed fraction 2 1/2 is 5/2
        assert_eq!(
            mv(
                "$\\boxed{\\frac{5}{2}}$",
                &format!("{FINAL} $2\\frac{{1}}{{2}}$. I hope it is correct.")
            ),
            Verdict::Equal
        );
        // sets in another order, an open interval written as a pair, a union of intervals merged
        assert_eq!(
            mv(
                "$\\boxed{1, 2, 3}$",
                &format!("{FINAL} $3, 1, 2$. I hope it is correct.")
            ),
            Verdict::Equal
        );
        assert_eq!(
            mv("$\\boxed{(1, 2)}$", "The answer is $1, 2$."),
            Verdict::Equal
        );
        let union = "$\\boxed{(-\\infty, 2) \\cup (2, \\infty)}$";
        assert_eq!(
            mv(
                union,
                &format!("{FINAL} $(-\\infty,2)\\cup(2,\\infty)$. I hope it is correct.")
            ),
            Verdict::Equal
        );
        assert!(matches!(
            mv(
                union,
                &format!("{FINAL} $(-\\infty,3)\\cup(3,\\infty)$. I hope it is correct.")
            ),
            Verdict::NotEqual(_)
        ));
        // \text{} words against letters, and a decimal against a rational that does not round alike
        assert_eq!(
            mv(
                "$\\boxed{\\text{MAKE}}$",
                &format!("{FINAL} $MAKE$. I hope it is correct.")
            ),
            Verdict::Equal
        );
        // (Python reads `3/5.` as 3 * (1/5.0) = 0.6000000000000001, which sympy does not equate to 3/5)
        assert!(matches!(
            mv("$\\boxed{\\frac{3}{5}}$", "The answer is 3/5. and more"),
            Verdict::NotEqual(_)
        ));
        // a degree sign after a tuple does not parse
        assert!(matches!(
            mv(
                "$\\boxed{(1,2)}$",
                &format!("{FINAL} $(1,2)^\\circ$. I hope it is correct.")
            ),
            Verdict::NotEqual(_)
        ));
        // matrices entry by entry
        let m = "$\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$";
        assert_eq!(
            mv(
                m,
                &format!(
                    "{FINAL} $\\begin{{pmatrix}} 1 \\\\ 2 \\end{{pmatrix}}$. I hope it is correct."
                )
            ),
            Verdict::Equal
        );
        assert!(matches!(
            mv(
                m,
                &format!(
                    "{FINAL} $\\begin{{pmatrix}} 2 \\\\ 1 \\end{{pmatrix}}$. I hope it is correct."
                )
            ),
            Verdict::NotEqual(_)
        ));
    }
}
