//! Python float semantics that lm-evaluation-harness's numbers depend on, bit for bit:
//!
//! * `sum()` of floats: a plain left-to-right sum up to CPython 3.11, Neumaier-compensated from 3.12
//!   on (gh-100425). `mean`, `sample_stddev` and the group aggregations all go through it, so the two
//!   give different last bits; [`PySum`] selects which CPython is being matched.
//! * `x ** 2` on a float calls the C library's `pow(x, 2.0)`, which is *not* always `x * x` (glibc's
//!   `pow` is not correctly rounded); [`py_pow2`] calls the same `pow`.
//! * `repr(float)`: the shortest round-tripping digits, in positional notation for decimal exponents
//!   -4..=15 and `1e-05` style otherwise, always with a `.0` for integral values.

use std::hint::black_box;

/// Which CPython `sum()` of floats to reproduce.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PySum {
    /// CPython ≤ 3.11: `((0 + x0) + x1) + …`.
    Sequential,
    /// CPython ≥ 3.12: Neumaier's compensated summation, with the compensation added at the end only
    /// when it is non-zero and finite.
    #[default]
    Neumaier,
}

impl PySum {
    /// The mode for a CPython `major.minor` version.
    pub fn for_python_version(major: u32, minor: u32) -> Self {
        if (major, minor) >= (3, 12) {
            PySum::Neumaier
        } else {
            PySum::Sequential
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PySum::Sequential => "sequential",
            PySum::Neumaier => "neumaier",
        }
    }
}

/// A running CPython float `sum()` (the start value is the integer 0).
#[derive(Clone, Copy, Debug)]
pub struct PySumAcc {
    mode: PySum,
    sum: f64,
    comp: f64,
    started: bool,
}

impl PySumAcc {
    pub fn new(mode: PySum) -> Self {
        PySumAcc {
            mode,
            sum: 0.0,
            comp: 0.0,
            started: false,
        }
    }

    #[inline]
    pub fn add(&mut self, x: f64) {
        if !self.started {
            // `0 + x0`: int 0 converted to float, then added.
            self.sum = 0.0 + x;
            self.started = true;
            return;
        }
        match self.mode {
            PySum::Sequential => self.sum += x,
            PySum::Neumaier => {
                let f = self.sum;
                let t = f + x;
                if f.abs() >= x.abs() {
                    self.comp += (f - t) + x;
                } else {
                    self.comp += (x - t) + f;
                }
                self.sum = t;
            }
        }
    }

    /// The value `sum()` returns. For an empty input this is 0 (CPython returns the int 0).
    #[inline]
    pub fn value(&self) -> f64 {
        match self.mode {
            PySum::Sequential => self.sum,
            PySum::Neumaier => {
                if self.comp != 0.0 && self.comp.is_finite() {
                    self.sum + self.comp
                } else {
                    self.sum
                }
            }
        }
    }
}

/// CPython `sum(xs)` over floats.
pub fn py_sum(mode: PySum, xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut acc = PySumAcc::new(mode);
    for x in xs {
        acc.add(x);
    }
    acc.value()
}

/// lm-eval's `mean(arr) = sum(arr) / len(arr)`; `None` for an empty list (Python raises).
pub fn py_mean(mode: PySum, xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    Some(py_sum(mode, xs.iter().copied()) / xs.len() as f64)
}

/// Python `x ** 2` for a float `x`: the C library's `pow(x, 2.0)`.
#[inline]
pub fn py_pow2(x: f64) -> f64 {
    x.powf(black_box(2.0))
}

/// lm-eval's `sample_stddev(arr)`: `sqrt(sum((x - mu) ** 2) / (n - 1))` with `mu = mean(arr)`.
/// `None` when fewer than two values (Python raises or divides by zero).
pub fn py_sample_stddev(mode: PySum, xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let mu = py_mean(mode, xs)?;
    let ss = py_sum(mode, xs.iter().map(|&x| py_pow2(x - mu)));
    Some((ss / (xs.len() - 1) as f64).sqrt())
}

/// lm-eval's `mean_stderr(arr) = sample_stddev(arr) / sqrt(len(arr))`.
pub fn py_mean_stderr(mode: PySum, xs: &[f64]) -> Option<f64> {
    Some(py_sample_stddev(mode, xs)? / (xs.len() as f64).sqrt())
}

/// `repr(x)` for a Python float.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".to_string()
        } else {
            "0.0".to_string()
        };
    }
    // Rust's `{:e}` yields the shortest round-tripping digit count; Python picks, among strings of
    // that length, the one nearest to the exact value with ties to even, which is the correctly
    // rounded value at that precision.
    let shortest = format!("{:e}", x);
    let ndigits = shortest
        .split('e')
        .next()
        .map(|m| m.chars().filter(|c| c.is_ascii_digit()).count())
        .unwrap_or(1);
    let sci = format!("{:.*e}", ndigits.saturating_sub(1), x);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let decpt = exp + 1; // position of the decimal point relative to the digit string
    if (-4 < decpt) && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..(-decpt) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let d = decpt as usize;
            if digits.len() <= d {
                out.push_str(&digits);
                for _ in 0..(d - digits.len()) {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..d]);
                out.push('.');
                out.push_str(&digits[d..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    }
    out
}

/// Python's `f"{x:.4f}"` (round-half-even on the exact binary value, like C's printf).
pub fn py_format_fixed(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    format!("{:.*}", decimals, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python_rules() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (1.2345678901234567e16, "1.2345678901234568e+16"),
            (123.456, "123.456"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.30000000000000004, "0.30000000000000004"),
            (100.0, "100.0"),
            (-0.0, "-0.0"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(*x), *want, "repr({x:e})");
        }
    }

    #[test]
    fn neumaier_differs_from_sequential() {
        let xs = [1.0, 1e100, 1.0, -1e100];
        assert_eq!(py_sum(PySum::Sequential, xs), 0.0);
        assert_eq!(py_sum(PySum::Neumaier, xs), 2.0);
    }

    #[test]
    fn sample_stddev_small() {
        let xs = [1.0, 0.0, 1.0, 1.0];
        let sd = py_sample_stddev(PySum::Sequential, &xs).unwrap();
        assert!((sd - 0.5).abs() < 1e-15);
        assert!(py_sample_stddev(PySum::Sequential, &[1.0]).is_none());
    }
}
