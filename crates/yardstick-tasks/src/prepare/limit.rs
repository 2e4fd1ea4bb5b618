//! `--limit`: how many of a task's docs are evaluated. The one parser of the option, for the CLI and
//! anything else that reads it from text.

use std::fmt;

/// `--limit`: a count of docs, or a fraction (< 1.0) of the eval split (`ceil(len * limit)`); always the
/// first docs. A limit that comes to 0 means "all docs", as in lm-eval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    Count(usize),
    Fraction(f64),
}

impl Limit {
    /// How many docs of `total` are evaluated.
    pub fn resolve(&self, total: usize) -> usize {
        let n = match *self {
            Limit::Count(n) => n,
            Limit::Fraction(f) if f < 1.0 => (total as f64 * f).ceil() as usize,
            Limit::Fraction(f) => f as usize,
        };
        if n == 0 {
            total
        } else {
            n.min(total)
        }
    }
}

/// Why a `--limit` value was refused; the message says what to give instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitError(String);

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitError {}

impl std::str::FromStr for Limit {
    type Err = LimitError;

    /// A positive number: below 1 a fraction of the docs, otherwise a whole number of docs. lm-eval
    /// takes any float and truncates `2.7` to 2 docs; that is refused here rather than guessed at, as
    /// are 0, negatives, infinities and NaN.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(n) = s.parse::<usize>() {
            return match n {
                0 => Err(LimitError(format!(
                    "--limit {s}: must be positive (a number of documents, or a fraction below 1)"
                ))),
                n => Ok(Limit::Count(n)),
            };
        }
        let f: f64 = s.parse().map_err(|_| {
            LimitError(format!(
                "--limit {s}: expected a number of documents, or a fraction below 1"
            ))
        })?;
        if !f.is_finite() || f <= 0.0 {
            Err(LimitError(format!(
                "--limit {s}: must be positive and finite (a number of documents, or a fraction below 1)"
            )))
        } else if f < 1.0 {
            Ok(Limit::Fraction(f))
        } else if f.fract() == 0.0 && f <= usize::MAX as f64 {
            Ok(Limit::Count(f as usize))
        } else {
            Err(LimitError(format!(
                "--limit {s}: give a whole number of documents, or a fraction below 1"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Limit, String> {
        s.parse::<Limit>().map_err(|e| e.to_string())
    }

    #[test]
    fn counts_and_fractions() {
        assert_eq!(parse("5"), Ok(Limit::Count(5)));
        assert_eq!(parse(" 12 "), Ok(Limit::Count(12)));
        assert_eq!(parse("3.0"), Ok(Limit::Count(3)));
        assert_eq!(parse("1e2"), Ok(Limit::Count(100)));
        assert_eq!(parse("0.5"), Ok(Limit::Fraction(0.5)));
        assert_eq!(parse(".25"), Ok(Limit::Fraction(0.25)));
    }

    #[test]
    fn refused_values_say_why() {
        assert_eq!(
            parse("2.7").unwrap_err(),
            "--limit 2.7: give a whole number of documents, or a fraction below 1"
        );
        for s in ["0", "0.0", "-1", "-0.5", "nan", "NaN", "inf", "-inf"] {
            let e = parse(s).unwrap_err();
            assert!(e.contains("must be positive"), "{s}: {e}");
        }
        assert_eq!(
            parse("abc").unwrap_err(),
            "--limit abc: expected a number of documents, or a fraction below 1"
        );
        assert!(parse("").is_err());
    }

    #[test]
    fn resolve() {
        assert_eq!(Limit::Count(10).resolve(100), 10);
        assert_eq!(Limit::Count(500).resolve(100), 100);
        assert_eq!(Limit::Fraction(0.1).resolve(135), 14);
        assert_eq!(Limit::Count(0).resolve(100), 100);
    }
}
