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
mod debug {
    #[test]
    fn debug_env() {
        if let Ok(t) = std::env::var("MV_DEBUG") {
            for s in t.split("|||") {
                println!("{s:?} -> {:?}", super::parse(s));
            }
            let v: Vec<&str> = t.split("|||").collect();
            if v.len() == 2 {
                println!("verify -> {:?}", super::math_verify(v[0], v[1]));
            }
        }
    }
}
