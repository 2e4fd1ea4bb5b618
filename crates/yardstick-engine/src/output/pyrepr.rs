//! Python `str()` / `repr()` renderings that end up in lm-eval's files: `str(target)` (hashed into
//! `target_hash` and written as `target`), and `str(ndarray)` for the per-sample `brier_score`.

use yardstick_core::Target;

use yardstick_core::python::py_float_repr;
use yardstick_core::python::text::repr_str;

/// Python `str(target)` for what `doc_to_target` returned.
pub fn target_str(target: &Target) -> String {
    match target {
        Target::Index(i) => i.to_string(),
        Target::Text(s) => s.clone(),
        Target::Indices(v) => format!(
            "[{}]",
            v.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Target::Texts(v) => format!(
            "[{}]",
            v.iter().map(|s| repr_str(s)).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The digits of `x` as numpy's Dragon4 prints them in "unique" mode with at most `precision`
/// digits after the point (positional) or after the first digit (scientific): the shortest
/// round-tripping digits, or the value correctly rounded at `precision` when those are longer.
/// Returns (sign, integer part, fraction part, decimal exponent for scientific).
fn dragon4_parts(x: f64, precision: usize, scientific: bool) -> (bool, String, String, i32) {
    let neg = x.is_sign_negative();
    let a = x.abs();
    if scientific {
        let shortest = format!("{:e}", a);
        let (mant, _) = shortest.split_once('e').unwrap_or((&shortest, "0"));
        let frac_len = mant.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
        let s = if frac_len > precision {
            format!("{:.*e}", precision, a)
        } else {
            shortest
        };
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        (
            neg,
            ip.to_string(),
            fp.to_string(),
            exp.parse().unwrap_or(0),
        )
    } else {
        let shortest = format!("{}", a);
        let frac_len = shortest.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
        let s = if frac_len > precision {
            format!("{:.*}", precision, a)
        } else {
            shortest
        };
        let (ip, fp) = s.split_once('.').unwrap_or((&s, ""));
        let fp = fp.trim_end_matches('0');
        (neg, ip.to_string(), fp.to_string(), 0)
    }
}

/// `str(np.array(xs))` for a 1-D float64 array with numpy's default print options (precision 8,
/// `floatmode='maxprec'`, no small-number suppression, line width 75).
pub fn numpy_array_str(xs: &[f64]) -> String {
    const PRECISION: usize = 8;
    let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let abs_non_zero: Vec<f64> = finite
        .iter()
        .filter(|x| **x != 0.0)
        .map(|x| x.abs())
        .collect();
    let mut exp_format = false;
    if !abs_non_zero.is_empty() {
        let max = abs_non_zero.iter().copied().fold(f64::MIN, f64::max);
        let min = abs_non_zero.iter().copied().fold(f64::MAX, f64::min);
        if max >= 1e8 || min < 0.0001 || max / min > 1000.0 {
            exp_format = true;
        }
    }
    let words: Vec<String> = if exp_format {
        let parts: Vec<_> = finite
            .iter()
            .map(|&x| dragon4_parts(x, PRECISION, true))
            .collect();
        let precision = parts.iter().map(|p| p.2.len()).max().unwrap_or(0);
        let exp_digits = parts
            .iter()
            .map(|p| format!("{:02}", p.3.unsigned_abs()).len())
            .max()
            .unwrap_or(2);
        let pad_left = parts
            .iter()
            .map(|p| p.1.len() + p.0 as usize)
            .max()
            .unwrap_or(1);
        let pad_right = exp_digits + 2 + precision;
        xs.iter()
            .map(|&x| {
                if !x.is_finite() {
                    let s = non_finite(x);
                    return format!("{:>w$}", s, w = pad_left + pad_right + 1);
                }
                let (neg, ip, fp, exp) = dragon4_parts(x, precision, true);
                let mut fp = fp;
                while fp.len() < precision {
                    fp.push('0');
                }
                let int = format!("{}{}", if neg { "-" } else { "" }, ip);
                let e = format!(
                    "{}{:0w$}",
                    if exp < 0 { '-' } else { '+' },
                    exp.unsigned_abs(),
                    w = exp_digits
                );
                format!("{:>pl$}.{}e{}", int, fp, e, pl = pad_left)
            })
            .collect()
    } else {
        let parts: Vec<_> = finite
            .iter()
            .map(|&x| dragon4_parts(x, PRECISION, false))
            .collect();
        let pad_left = parts
            .iter()
            .map(|p| p.1.len() + p.0 as usize)
            .max()
            .unwrap_or(0);
        let pad_right = parts.iter().map(|p| p.2.len()).max().unwrap_or(0);
        let pad_left = if finite.len() != xs.len() {
            pad_left.max(3usize.saturating_sub(pad_right + 1))
        } else {
            pad_left
        };
        xs.iter()
            .map(|&x| {
                if !x.is_finite() {
                    let s = non_finite(x);
                    return format!("{:>w$}", s, w = pad_left + pad_right + 1);
                }
                let (neg, ip, fp, _) = dragon4_parts(x, PRECISION, false);
                let int = format!("{}{}", if neg { "-" } else { "" }, ip);
                format!("{:>pl$}.{:<pr$}", int, fp, pl = pad_left, pr = pad_right)
            })
            .collect()
    };
    // numpy's _formatArray for one dimension: separator ' ', wrap at 75 - 1 with a one-space hanging
    // indent.
    let line_width = 75 - 1;
    let hanging = " ";
    let mut s = String::new();
    let mut line = hanging.to_string();
    let n = words.len();
    for (k, w) in words.iter().enumerate() {
        let needs_wrap = line.len() + w.len() > line_width && line.len() > hanging.len();
        if needs_wrap {
            s.push_str(line.trim_end());
            s.push('\n');
            line = hanging.to_string();
        }
        line.push_str(w);
        if k + 1 < n {
            line.push(' ');
        }
    }
    s.push_str(&line);
    format!("[{}]", &s[hanging.len()..])
}

fn non_finite(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x > 0.0 {
        "inf".to_string()
    } else {
        "-inf".to_string()
    }
}

/// `str(x)` for a Python float.
pub fn py_float_str(x: f64) -> String {
    py_float_repr(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_str_repr() {
        assert_eq!(
            target_str(&Target::Texts(vec!["a".into(), "it's".into()])),
            "['a', \"it's\"]"
        );
        assert_eq!(target_str(&Target::Indices(vec![0, 2])), "[0, 2]");
        assert_eq!(target_str(&Target::Index(3)), "3");
    }

    #[test]
    fn numpy_str_basic() {
        assert_eq!(numpy_array_str(&[0.5, 0.25]), "[0.5  0.25]");
        assert_eq!(numpy_array_str(&[1.0, 0.0]), "[1. 0.]");
        assert_eq!(numpy_array_str(&[0.9999, 1e-5]), "[9.999e-01 1.000e-05]");
    }
}
