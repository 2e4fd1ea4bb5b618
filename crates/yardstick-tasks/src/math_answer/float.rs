//! Numbers as sympy evaluates a numeric answer ([`Num`]: exact rationals of any size, and `Float`s).
//! Decimal literals as sympy's LaTeX parser makes them (`sympy.Number("0.4285")`, a `Float`) and how
//! lm-eval's `simplify(a - b) == 0` then compares them: a `Float` carries a binary precision chosen from
//! its significant digits (`max(15, digits)` decimal digits → `dps_to_prec`, 53 bits for up to 15), its
//! value is the decimal rounded to nearest (ties to even) at that precision, and a rational met in a
//! subtraction is rounded at the `Float`'s precision first. So `0.3` equals `3/10` (both round to the same
//! 53-bit value) while `0.42857142857142855` (17 digits, 60 bits) does not equal `3/7`, nor does
//! `0.3333333333` equal `1/3`. Checked against sympy 1.14 on 6,000 decimal/fraction pairs.

use num_bigint::BigUint;

/// A binary floating-point value `(-1)^neg · man · 2^exp` with `man` odd (or zero, then `neg` false and
/// `exp` 0): mpmath's normalised `mpf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mpf {
    neg: bool,
    man: BigUint,
    exp: i64,
}

impl Mpf {
    fn new(neg: bool, man: BigUint, exp: i64) -> Mpf {
        match man.trailing_zeros() {
            None => Mpf {
                neg: false,
                man,
                exp: 0,
            },
            Some(tz) => Mpf {
                neg,
                man: man >> tz,
                exp: exp + tz as i64,
            },
        }
    }

    /// The value negated.
    pub fn negated(self) -> Mpf {
        let zero = self.man.bits() == 0;
        Mpf {
            neg: !self.neg && !zero,
            ..self
        }
    }

    /// Whether this is exactly `num / den` (`num`, `den` > 0, with the sign `neg`).
    fn equals_rational(&self, neg: bool, num: &BigUint, den: &BigUint) -> bool {
        if num.bits() == 0 {
            return self.man.bits() == 0;
        }
        if self.neg != neg {
            return false;
        }
        // man · 2^exp == num / den  ⇔  man · den · 2^max(exp,0) == num · 2^max(-exp,0)
        let lhs = (&self.man * den) << self.exp.max(0) as u64;
        let rhs = num << (-self.exp).max(0) as u64;
        lhs == rhs
    }
}

/// mpmath's `dps_to_prec`: the binary precision for `dps` decimal digits.
pub fn dps_to_prec(dps: usize) -> u64 {
    ((dps as f64 + 1.0) * std::f64::consts::LOG2_10)
        .round()
        .max(1.0) as u64
}

/// mpmath's `from_rational(num, den, prec, round_nearest)`: `num / den` (with the sign `neg`) rounded to
/// `prec` significant bits, ties to even. `den` must not be zero.
pub fn round_rational(neg: bool, num: &BigUint, den: &BigUint, prec: u64) -> Mpf {
    if num.bits() == 0 {
        return Mpf::new(false, BigUint::from(0u8), 0);
    }
    // a quotient of prec+1 or prec+2 bits, then drop the extra bit(s) with the remainder as sticky bit
    let shift = prec as i64 - (num.bits() as i64 - den.bits() as i64) + 2;
    let (q, r) = if shift >= 0 {
        let n = num << shift as u64;
        (&n / den, &n % den)
    } else {
        let d = den << (-shift) as u64;
        (num / &d, num % &d)
    };
    let extra = q.bits().saturating_sub(prec);
    let mut man = &q >> extra;
    if extra > 0 {
        let half_bit = q.bit(extra - 1);
        let below_half = q.trailing_zeros().is_some_and(|tz| tz < extra - 1);
        let sticky = below_half || r.bits() > 0;
        if half_bit && (sticky || man.bit(0)) {
            man += 1u8;
        }
    }
    Mpf::new(neg, man, extra as i64 - shift)
}

/// A decimal literal as sympy holds it: its value and precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloatLiteral {
    pub value: Mpf,
    pub prec: u64,
    /// The decimal exactly, as `num / den`.
    num: BigUint,
    den: BigUint,
}

impl FloatLiteral {
    /// `sympy.Number(text)` for an unsigned decimal `DIGITS.DIGITS` (the parser's `Node::Float` text);
    /// `None` for anything else.
    pub fn parse(text: &str) -> Option<FloatLiteral> {
        let (int, frac) = text.split_once('.')?;
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{int}{frac}");
        // Decimal(text).as_tuple().digits: the coefficient's digits (leading zeros dropped, "0" for zero)
        let significant = digits.trim_start_matches('0').len().max(1);
        let num = BigUint::parse_bytes(digits.as_bytes(), 10).unwrap_or_default();
        let den = BigUint::from(10u8).pow(frac.len() as u32);
        let prec = dps_to_prec(significant.max(15));
        Some(FloatLiteral {
            value: round_rational(false, &num, &den, prec),
            prec,
            num,
            den,
        })
    }

    /// Whether the binary value is the decimal itself (`0.5`, `18.75`; not `0.1`).
    pub fn is_exact(&self) -> bool {
        self.value.equals_rational(false, &self.num, &self.den)
    }
}

/// Whether the Float `value` (of precision `prec`) minus the rational `num/den` (sign `neg`) is zero in
/// sympy: the rational rounded at `prec` equals the value.
pub fn equals_rational(value: &Mpf, prec: u64, neg: bool, num: &BigUint, den: &BigUint) -> bool {
    *value == round_rational(neg, num, den, prec)
}

/// A number as sympy evaluates a numeric expression with decimals: exact rational arithmetic until a
/// `Float` takes part, then `Float`s, each operation rounded to nearest at the larger precision of its
/// operands (a rational operand first rounded at the `Float`'s precision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Num {
    /// `(-1)^neg · num / den`, `den` > 0.
    Rational {
        neg: bool,
        num: BigUint,
        den: BigUint,
    },
    Float {
        value: Mpf,
        prec: u64,
    },
}

/// Why a numeric expression has no value (sympy `zoo`/`nan`: never equal to anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undefined;

impl Num {
    pub fn integer(neg: bool, n: BigUint) -> Num {
        Num::Rational {
            neg: neg && n.bits() > 0,
            num: n,
            den: BigUint::from(1u8),
        }
    }

    pub fn literal(l: FloatLiteral) -> Num {
        Num::Float {
            value: l.value,
            prec: l.prec,
        }
    }

    /// The value as an mpf at `prec` (a rational rounded, a Float as it is).
    fn mpf(&self, prec: u64) -> Mpf {
        match self {
            Num::Rational { neg, num, den } => round_rational(*neg, num, den, prec),
            Num::Float { value, .. } => value.clone(),
        }
    }

    /// The precision of a Float operation on `self` and `other`, `None` when both are rational.
    fn float_prec(&self, other: &Num) -> Option<u64> {
        match (self, other) {
            (Num::Float { prec: a, .. }, Num::Float { prec: b, .. }) => Some(*a.max(b)),
            (Num::Float { prec, .. }, _) | (_, Num::Float { prec, .. }) => Some(*prec),
            _ => None,
        }
    }

    pub fn add(&self, other: &Num) -> Num {
        if let Some(prec) = self.float_prec(other) {
            let (a, b) = (self.mpf(prec), other.mpf(prec));
            let e = a.exp.min(b.exp);
            let ma = &a.man << (a.exp - e) as u64;
            let mb = &b.man << (b.exp - e) as u64;
            let (neg, man) = match (a.neg == b.neg, ma >= mb) {
                (true, _) => (a.neg, ma + mb),
                (false, true) => (a.neg, ma - mb),
                (false, false) => (b.neg, mb - ma),
            };
            return Num::Float {
                value: round_dyadic(neg, &man, e, prec),
                prec,
            };
        }
        let (
            Num::Rational {
                neg: na,
                num: a,
                den: da,
            },
            Num::Rational {
                neg: nb,
                num: b,
                den: db,
            },
        ) = (self, other)
        else {
            unreachable!("float_prec is None only for two rationals")
        };
        let (x, y) = (a * db, b * da);
        let (neg, num) = match (na == nb, x >= y) {
            (true, _) => (*na, x + y),
            (false, true) => (*na, x - y),
            (false, false) => (*nb, y - x),
        };
        Num::Rational {
            neg: neg && num.bits() > 0,
            num,
            den: da * db,
        }
    }

    pub fn mul(&self, other: &Num) -> Num {
        if let Some(prec) = self.float_prec(other) {
            let (a, b) = (self.mpf(prec), other.mpf(prec));
            return Num::Float {
                value: round_dyadic(a.neg != b.neg, &(&a.man * &b.man), a.exp + b.exp, prec),
                prec,
            };
        }
        let (
            Num::Rational {
                neg: na,
                num: a,
                den: da,
            },
            Num::Rational {
                neg: nb,
                num: b,
                den: db,
            },
        ) = (self, other)
        else {
            unreachable!("float_prec is None only for two rationals")
        };
        let num = a * b;
        Num::Rational {
            neg: na != nb && num.bits() > 0,
            num,
            den: da * db,
        }
    }

    /// `self ** n` for an integer `n`; `None` where mpmath rounds more than once (a Float to a power
    /// below -1) or the power is too large to compute here.
    pub fn pow(&self, neg_exp: bool, n: u32) -> Option<Result<Num, Undefined>> {
        if n == 0 {
            return Some(Ok(match self {
                Num::Rational { .. } => Num::integer(false, BigUint::from(1u8)),
                Num::Float { prec, .. } => Num::Float {
                    value: round_dyadic(false, &BigUint::from(1u8), 0, *prec),
                    prec: *prec,
                },
            }));
        }
        match self {
            Num::Rational { neg, num, den } => {
                if u64::from(n) * num.bits().max(den.bits()) > 100_000 {
                    return None;
                }
                let (num, den) = (num.pow(n), den.pow(n));
                let neg = *neg && n % 2 == 1;
                if !neg_exp {
                    return Some(Ok(Num::Rational { neg, num, den }));
                }
                if num.bits() == 0 {
                    return Some(Err(Undefined));
                }
                Some(Ok(Num::Rational {
                    neg,
                    num: den,
                    den: num,
                }))
            }
            Num::Float { value, prec } => {
                if value.man.bits() == 0 {
                    return if neg_exp {
                        Some(Err(Undefined))
                    } else {
                        Some(Ok(self.clone()))
                    };
                }
                if neg_exp {
                    // mpf_div(1, s): one rounding for n = 1 only
                    if n != 1 {
                        return None;
                    }
                    let num = BigUint::from(1u8) << (-value.exp).max(0) as u64;
                    let den = &value.man << value.exp.max(0) as u64;
                    return Some(Ok(Num::Float {
                        value: round_rational(value.neg, &num, &den, *prec),
                        prec: *prec,
                    }));
                }
                if u64::from(n) * value.man.bits() >= 1000 {
                    return None;
                }
                Some(Ok(Num::Float {
                    value: round_dyadic(
                        value.neg && n % 2 == 1,
                        &value.man.pow(n),
                        value.exp * i64::from(n),
                        *prec,
                    ),
                    prec: *prec,
                }))
            }
        }
    }

    /// Whether `self - other` is zero in sympy.
    pub fn equals(&self, other: &Num) -> bool {
        match (self, other) {
            (Num::Rational { .. }, Num::Rational { .. }) => self.add(&other.negated()).is_zero(),
            (Num::Float { value, prec }, Num::Rational { neg, num, den })
            | (Num::Rational { neg, num, den }, Num::Float { value, prec }) => {
                equals_rational(value, *prec, *neg, num, den)
            }
            (Num::Float { value: a, .. }, Num::Float { value: b, .. }) => a == b,
        }
    }

    pub fn negated(&self) -> Num {
        match self {
            Num::Rational { neg, num, den } => Num::Rational {
                neg: !neg && num.bits() > 0,
                num: num.clone(),
                den: den.clone(),
            },
            Num::Float { value, prec } => Num::Float {
                value: value.clone().negated(),
                prec: *prec,
            },
        }
    }

    fn is_zero(&self) -> bool {
        match self {
            Num::Rational { num, .. } => num.bits() == 0,
            Num::Float { value, .. } => value.man.bits() == 0,
        }
    }
}

/// `(-1)^neg · man · 2^exp` rounded to `prec` bits.
fn round_dyadic(neg: bool, man: &BigUint, exp: i64, prec: u64) -> Mpf {
    let num = man << exp.max(0) as u64;
    let den = BigUint::from(1u8) << (-exp).max(0) as u64;
    round_rational(neg, &num, &den, prec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> FloatLiteral {
        FloatLiteral::parse(s).unwrap()
    }

    fn eq_frac(s: &str, neg: bool, p: u64, q: u64) -> bool {
        let l = lit(s);
        equals_rational(&l.value, l.prec, neg, &BigUint::from(p), &BigUint::from(q))
    }

    #[test]
    fn precision_from_digits() {
        assert_eq!(dps_to_prec(15), 53);
        assert_eq!(dps_to_prec(17), 60);
        assert_eq!(lit("0.42857142857142855").prec, 60);
        assert_eq!(lit("0.5").prec, 53);
        assert_eq!(lit("0.00000000000000000001").prec, 53);
        assert_eq!(lit("12345678901234567.5").prec, dps_to_prec(18));
    }

    #[test]
    fn values_as_sympy_compares_them() {
        assert!(eq_frac("0.5", false, 1, 2));
        assert!(eq_frac("0.3", false, 3, 10));
        assert!(eq_frac("0.1", false, 1, 10));
        assert!(!eq_frac("0.333333333333333", false, 1, 3)); // 15 digits, 53 bits
        assert!(!eq_frac("0.3333333333333333", false, 1, 3)); // 16 digits, 56 bits
        assert_eq!(lit("0.3333333333333333").prec, 56);
        assert!(!eq_frac("0.42857142857142855", false, 3, 7)); // 17 digits: 60 bits
        assert!(!eq_frac("0.3333333333", false, 1, 3));
        assert!(!eq_frac("0.333", false, 1, 3));
        assert!(eq_frac("2.0", false, 2, 1));
        assert!(!eq_frac("0.5", true, 1, 2));
        assert!(eq_frac("0.0", false, 0, 1));
        assert_eq!(lit("0.5").value, lit("0.50").value);
        assert_ne!(lit("0.5").value, lit("0.500000000000000000001").value);
        assert!(lit("18.75").is_exact());
        assert!(!lit("0.1").is_exact());
        assert_eq!(lit("0.0").value, lit("0.0").value.negated());
    }

    #[test]
    fn ties_round_to_even() {
        // 2^53 + 1 at 53 bits is a tie between 2^53 and 2^53 + 2: even mantissa wins
        let two53 = BigUint::from(1u8) << 53u64;
        let one = BigUint::from(1u8);
        assert_eq!(
            round_rational(false, &(&two53 + 1u8), &one, 53),
            round_rational(false, &two53, &one, 53)
        );
        assert_eq!(
            round_rational(false, &(&two53 + 3u8), &one, 53),
            round_rational(false, &(&two53 + 4u8), &one, 53)
        );
    }

    #[test]
    fn arithmetic_as_sympy_rounds_it() {
        let f = |s: &str| Num::literal(lit(s));
        let int = |n: u32| Num::integer(false, BigUint::from(n));
        let third = Num::Rational {
            neg: false,
            num: BigUint::from(1u8),
            den: BigUint::from(3u8),
        };
        // 0.1 + 0.2 is neither 0.3 nor the 17-digit (60-bit) 0.30000000000000004 (sympy agrees)
        assert!(!f("0.1").add(&f("0.2")).equals(&f("0.3")));
        assert!(!f("0.1").add(&f("0.2")).equals(&f("0.30000000000000004")));
        assert!(f("0.61").mul(&int(1)).equals(&f("0.61")));
        assert!(f("1.5").mul(&int(1000)).equals(&int(1500)));
        assert!(f("0.5").mul(&int(3)).equals(&Num::Rational {
            neg: false,
            num: BigUint::from(3u8),
            den: BigUint::from(2u8),
        }));
        assert!(!f("0.333").equals(&third));
        assert!(int(1).mul(&third).add(&third.negated()).is_zero());
        let inv = f("0.25").pow(true, 1).unwrap().unwrap();
        assert!(inv.equals(&int(4)));
        assert!(f("2.5").pow(false, 2).unwrap().unwrap().equals(&f("6.25")));
        assert_eq!(int(0).pow(true, 1), Some(Err(Undefined)));
        assert_eq!(f("0.5").pow(true, 2), None);
    }

    #[test]
    fn not_literals() {
        assert!(FloatLiteral::parse("12").is_none());
        assert!(FloatLiteral::parse("1.2.3").is_none());
        assert!(FloatLiteral::parse("-1.2").is_none());
    }
}
