//! Python float semantics that lm-evaluation-harness's numbers depend on, bit for bit:
//!
//! * `sum()` of floats: a plain left-to-right sum up to CPython 3.11, Neumaier-compensated from 3.12
//!   on (gh-100425). `mean`, `sample_stddev` and the group aggregations all go through it, so the two
//!   give different last bits; [`PySum`] selects which CPython is being matched.
//! * `x ** 2` on a float calls the C library's `pow(x, 2.0)`, which is *not* always `x * x` (glibc's
//!   `pow` is not correctly rounded); [`py_pow2`] calls the same `pow`.
//!
//! `repr(float)` lives in [`yardstick_core::python::float`].

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

/// Python's `f"{x:.4f}"` (round-half-even on the exact binary value, like C's printf).
pub fn py_format_fixed(x: f64, decimals: usize) -> String {
    if let Some(s) = yardstick_core::python::float::py_non_finite(x) {
        return s.to_string();
    }
    format!("{:.*}", decimals, x)
}

#[cfg(test)]
mod tests {
    use super::*;

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
