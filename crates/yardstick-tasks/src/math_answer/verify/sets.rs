//! `math_verify`'s comparison of sets, tuples and intervals (`sympy_compare_sets`,
//! `sympy_compare_interval`, `sympy_deep_compare_set_and_tuple`): intervals by their ends and openness,
//! unions of intervals as subsets of the real line, finite sets sorted by value (their elements in any
//! order), tuples in order.

use std::cmp::Ordering;

use crate::math_answer::expr::{Node, Val};

use super::compare::{all, as_node, exact, expr_eq, is_assignment, last_rel, real_value, rhs, Tri};
use super::value::Mv;

/// `sympy_compare_sets`.
pub(super) fn sets_equal(g: &Mv, p: &Mv) -> Tri {
    let wrap = |m: &Mv| match m {
        Mv::Set(_) | Mv::Tuple(_) | Mv::Interval { .. } | Mv::Union(_) => m.clone(),
        other => Mv::Set(vec![other.clone()]),
    };
    let (a, b) = (wrap(g), wrap(p));
    if matches!(a, Mv::Union(_)) || matches!(b, Mv::Union(_)) {
        return match (a == b, real_set(&a), real_set(&b)) {
            (true, ..) => Tri::Yes,
            (_, Some(x), Some(y)) => Tri::from_bool(x == y),
            _ => Tri::Unknown("a union with symbolic ends"),
        };
    }
    if let (
        Mv::Interval {
            lo: al,
            hi: ah,
            lopen: alo,
            ropen: aro,
        },
        Mv::Interval {
            lo: bl,
            hi: bh,
            lopen: blo,
            ropen: bro,
        },
    ) = (&a, &b)
    {
        if alo != blo || aro != bro {
            return Tri::No;
        }
        return endpoint_eq(al, bl).and(|| endpoint_eq(ah, bh));
    }
    if a == b {
        return Tri::Yes;
    }
    match (&a, &b) {
        (Mv::Set(_) | Mv::Tuple(_), Mv::Set(_) | Mv::Tuple(_)) => {
            let same_set = if let (Mv::Set(x), Mv::Set(y)) = (&a, &b) {
                numeric_sets_equal(x, y)
            } else {
                false
            };
            if same_set {
                Tri::Yes
            } else {
                deep_compare(&a, &b)
            }
        }
        (
            Mv::Interval {
                lo,
                hi,
                lopen: true,
                ropen: true,
            },
            Mv::Set(v) | Mv::Tuple(v),
        ) if dedup_len(&b, v) == 2 => deep_compare(
            &Mv::Tuple(vec![Mv::Expr(lo.clone()), Mv::Expr(hi.clone())]),
            &b,
        ),
        (
            Mv::Set(v) | Mv::Tuple(v),
            Mv::Interval {
                lo,
                hi,
                lopen: true,
                ropen: true,
            },
        ) if dedup_len(&a, v) == 2 => deep_compare(
            &a,
            &Mv::Tuple(vec![Mv::Expr(lo.clone()), Mv::Expr(hi.clone())]),
        ),
        _ => Tri::No,
    }
}

/// A piece of the real line: (lo, lo open, hi, hi open), ends as exact fractions or ±∞.
type Piece = (End, bool, End, bool);

#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    NegInf,
    Val(i128, i128),
    Approx(f64),
    PosInf,
}

impl End {
    fn of(n: &Node) -> Option<End> {
        match real_value(n)? {
            f if f == f64::INFINITY => Some(End::PosInf),
            f if f == f64::NEG_INFINITY => Some(End::NegInf),
            f => Some(match exact(n) {
                Some(Val::Exact(p, q)) => End::Val(p, q),
                _ => End::Approx(f),
            }),
        }
    }
    fn key(self) -> f64 {
        match self {
            End::NegInf => f64::NEG_INFINITY,
            End::PosInf => f64::INFINITY,
            End::Val(p, q) => p as f64 / q as f64,
            End::Approx(f) => f,
        }
    }
}

/// A union of intervals and finite sets of real numbers as sorted, merged pieces (what sympy's
/// `symmetric_difference(...).is_empty` decides on); `None` when an end is not a real number.
fn real_set(m: &Mv) -> Option<Vec<Piece>> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut add = |m: &Mv| -> Option<()> {
        match m {
            Mv::Interval {
                lo,
                hi,
                lopen,
                ropen,
            } => pieces.push((End::of(lo)?, *lopen, End::of(hi)?, *ropen)),
            Mv::Set(v) => {
                for e in v {
                    let Mv::Expr(n) = e else { return None };
                    let x = End::of(n)?;
                    pieces.push((x, false, x, false));
                }
            }
            _ => return None,
        }
        Some(())
    };
    match m {
        Mv::Union(v) => {
            for x in v {
                add(x)?;
            }
        }
        other => add(other)?,
    }
    pieces.sort_by(|a, b| {
        a.0.key()
            .partial_cmp(&b.0.key())
            .unwrap_or(Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    let mut merged: Vec<Piece> = Vec::new();
    for p in pieces {
        if let Some(last) = merged.last_mut() {
            let touch = p.0.key() < last.2.key() || (p.0.key() == last.2.key() && !(p.1 && last.3));
            if touch {
                if p.2.key() > last.2.key() || (p.2.key() == last.2.key() && !p.3) {
                    last.2 = p.2;
                    last.3 = p.3;
                }
                continue;
            }
        }
        merged.push(p);
    }
    Some(merged)
}

fn endpoint_eq(a: &Node, b: &Node) -> Tri {
    if a == b {
        return Tri::Yes;
    }
    if a.has_infinity() || b.has_infinity() {
        return Tri::from_bool(real_value(a).is_some() && real_value(a) == real_value(b));
    }
    expr_eq(&Mv::Expr(a.clone()), &Mv::Expr(b.clone()))
}

/// Two finite sets of exact numbers with the same elements (sympy's `symmetric_difference` is empty).
fn numeric_sets_equal(x: &[Mv], y: &[Mv]) -> bool {
    let vals = |v: &[Mv]| -> Option<Vec<Val>> {
        v.iter()
            .map(|m| match m {
                Mv::Expr(n) => match exact(n)? {
                    e @ Val::Exact(..) => Some(e),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    };
    match (vals(x), vals(y)) {
        (Some(a), Some(b)) => a.iter().all(|e| b.contains(e)) && b.iter().all(|e| a.contains(e)),
        _ => false,
    }
}

/// Equal as sympy's set construction sees it: the same tree, or the same exact number.
fn same_element(a: &Mv, b: &Mv) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (Mv::Expr(x), Mv::Expr(y)) => matches!(
            (exact(x), exact(y)),
            (Some(p @ Val::Exact(..)), Some(q @ Val::Exact(..))) if p == q
        ),
        _ => false,
    }
}

fn dedup(v: &[Mv]) -> Vec<Mv> {
    let mut out: Vec<Mv> = Vec::new();
    for m in v {
        if !out.iter().any(|o| same_element(o, m)) {
            out.push(m.clone());
        }
    }
    out
}

fn dedup_len(outer: &Mv, v: &[Mv]) -> usize {
    match outer {
        Mv::Set(_) => dedup(v).len(),
        _ => v.len(),
    }
}

/// The sort key `math_verify` orders set elements by: the value of the element (of the right side
/// of an assignment); `None` when not a real number.
fn sort_value(m: &Mv) -> Option<f64> {
    let m = if is_assignment(m) {
        rhs(last_rel(m))
    } else {
        m.clone()
    };
    real_value(&as_node(&m)?)
}

fn sorted(v: &[Mv]) -> Option<Vec<Mv>> {
    let mut keyed: Vec<(f64, Mv)> = v
        .iter()
        .map(|m| sort_value(m).map(|k| (k, m.clone())))
        .collect::<Option<_>>()?;
    keyed.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
    Some(keyed.into_iter().map(|(_, m)| m).collect())
}

/// `sympy_deep_compare_set_and_tuple`.
fn deep_compare(g: &Mv, p: &Mv) -> Tri {
    let (gv, pv) = match (g, p) {
        (Mv::Set(a), Mv::Set(b) | Mv::Tuple(b)) => (
            dedup(a),
            if matches!(p, Mv::Set(_)) {
                dedup(b)
            } else {
                b.clone()
            },
        ),
        (Mv::Tuple(a), Mv::Set(b)) => (a.clone(), dedup(b)),
        (Mv::Tuple(a), Mv::Tuple(b)) => (a.clone(), b.clone()),
        _ => return Tri::No,
    };
    if gv.len() != pv.len() {
        return Tri::No;
    }
    let pairwise = |a: &[Mv], b: &[Mv]| all(a.iter().zip(b).map(|(x, y)| expr_eq(x, y)));
    match (g, p) {
        (Mv::Set(_), _) => match (sorted(&gv), sorted(&pv)) {
            (Some(a), Some(b)) => pairwise(&a, &b),
            _ => match pairwise(&gv, &pv) {
                Tri::Yes => Tri::Yes,
                // the same elements in another order sort the same way
                _ if gv.iter().all(|x| pv.contains(x)) && pv.iter().all(|x| gv.contains(x)) => {
                    Tri::Yes
                }
                _ => Tri::Unknown("ordering non-numeric set elements"),
            },
        },
        (Mv::Tuple(_), Mv::Set(b)) => {
            // the prediction's elements as written (duplicates kept)
            if b.len() != gv.len() {
                return Tri::No;
            }
            pairwise(&gv, b)
        }
        _ => pairwise(&gv, &pv),
    }
}
