//! Python `float.__repr__`, which lm-eval's files, `str()` of numbers and `json.dumps` all go through.

/// How Python spells a non-finite float (`nan`, `inf`, `-inf`) in `repr`, `str` and format specs; `None` for
/// finite values.
pub fn py_non_finite(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some("nan")
    } else if x.is_infinite() {
        Some(if x > 0.0 { "inf" } else { "-inf" })
    } else {
        None
    }
}

/// `repr(x)` (and `str(x)`) for a Python float (`float_repr_style == 'short'`): the shortest
/// round-tripping digits, correctly rounded at that length, in positional notation for decimal
/// exponents -4..=15 and `1e-05` / `1e+16` style otherwise, always with a `.0` for integral values;
/// `nan`, `inf`, `-inf` for the non-finite values.
pub fn py_float_repr(x: f64) -> String {
    if let Some(s) = py_non_finite(x) {
        return s.to_string();
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
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            // Shortest digits are not unique here; Python picks the correctly rounded one (a bare
            // `format!("{:e}")` gives ...562.3).
            (f64::from_bits(0x4317_9085_685d_83c9), "1658206780088562.2"),
            (f64::from_bits(0x42ea_8090_bb0f_6d84), "233115890514796.12"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(*x), *want, "repr({x:e})");
        }
    }
}
