//! Typed errors for every fallible statistic in this crate.

use thiserror::Error;

/// What went wrong, and where. Every public function validates its input and returns one of these
/// instead of panicking or silently producing `NaN`.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// An input that must hold at least one value was empty.
    #[error("{what}: input is empty")]
    Empty { what: &'static str },

    /// Too few observations for the statistic (e.g. a variance needs n >= 2).
    #[error("{what}: needs at least {needed} observations, got {got}")]
    TooFew {
        what: &'static str,
        needed: usize,
        got: usize,
    },

    /// Two inputs that must be parallel have different lengths.
    #[error("{what}: length mismatch ({left} vs {right})")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },

    /// A value is NaN or infinite.
    #[error("{what}: value at index {index} is not finite ({value})")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },

    /// A value is outside the domain the statistic accepts (e.g. a p-value outside [0, 1]).
    #[error("{what}: value at index {index} is invalid ({value}): {reason}")]
    InvalidValue {
        what: &'static str,
        index: usize,
        value: f64,
        reason: &'static str,
    },

    /// A scalar parameter (confidence level, k, n, weights, ...) is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: &'static str, reason: String },

    /// The data do not determine the quantity (zero variance, no discordant pairs, disconnected
    /// comparison graph, collinear design, ...).
    #[error("{what}: {reason}")]
    Degenerate { what: &'static str, reason: String },

    /// An iterative fit did not converge.
    #[error("{what}: did not converge after {iterations} iterations ({reason})")]
    NoConvergence {
        what: &'static str,
        iterations: usize,
        reason: String,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, StatsError>;

/// Reject NaN / infinite values.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatsError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Reject an empty slice or non-finite values.
pub(crate) fn check_nonempty_finite(what: &'static str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(StatsError::Empty { what });
    }
    check_finite(what, values)
}

/// Require at least `needed` finite values.
pub(crate) fn check_at_least(what: &'static str, values: &[f64], needed: usize) -> Result<()> {
    if values.len() < needed {
        return Err(StatsError::TooFew {
            what,
            needed,
            got: values.len(),
        });
    }
    check_finite(what, values)
}

pub(crate) fn check_same_len(what: &'static str, left: usize, right: usize) -> Result<()> {
    if left != right {
        return Err(StatsError::LengthMismatch { what, left, right });
    }
    Ok(())
}

/// A confidence level must lie strictly between 0 and 1.
pub(crate) fn check_level(level: f64) -> Result<()> {
    if !(level.is_finite() && level > 0.0 && level < 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "level",
            reason: format!("confidence level must be in (0, 1), got {level}"),
        });
    }
    Ok(())
}
