//! `word2number` 1.1's `w2n.word_to_num` (a dependency of lm-eval 0.4.13, used by BBH's
//! `NumberParseRegexFilter`): English number words → a number, with the same errors.

use std::fmt;

/// What `word_to_num` returns: Python `int`, or a `float` when the words had a "point" part.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i128),
    Float(f64),
}

impl fmt::Display for Number {
    /// Python `str()` of the result.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => f.write_str(&yardstick_core::python::float::py_float_repr(*x)),
        }
    }
}

/// The `ValueError`s (and one `IndexError`) `word_to_num` raises.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WordToNumError {
    #[error("no valid number words found in {0:?}")]
    NoNumberWords(String),
    #[error("redundant number word in {0:?} (thousand, million, billion or point twice)")]
    Redundant(String),
    #[error("malformed number {0:?} (a smaller multiplier before a larger one)")]
    Malformed(String),
    /// `number_formation([])` indexes an empty list (e.g. "thousand five").
    #[error("number words {0:?} leave a multiplier without a value (Python raises IndexError)")]
    MissingMultiplier(String),
}

fn value(word: &str) -> Option<i128> {
    Some(match word {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        "hundred" => 100,
        "thousand" => 1000,
        "million" => 1_000_000,
        "billion" => 1_000_000_000,
        _ => return None,
    })
}

/// `number_formation`: up to four words → a multiplier (`[a, b, c, d]` → a·b + c + d, …).
fn formation(words: &[&str], sentence: &str) -> Result<i128, WordToNumError> {
    let n: Vec<i128> = words.iter().filter_map(|w| value(w)).collect();
    Ok(match n.len() {
        0 => return Err(WordToNumError::MissingMultiplier(sentence.to_string())),
        4 => n[0] * n[1] + n[2] + n[3],
        3 => n[0] * n[1] + n[2],
        2 if n.contains(&100) => n[0] * n[1],
        2 => n[0] + n[1],
        _ => n[0],
    })
}

/// `get_decimal_sum`: digit words after "point" → `float("0.<digits>")`, or 0 on any other word.
fn decimal_sum(words: &[&str]) -> f64 {
    let mut digits = String::from("0.");
    for w in words {
        match value(w) {
            Some(d) if d < 10 => digits.push_str(&d.to_string()),
            _ => return 0.0,
        }
    }
    digits.parse().unwrap_or(0.0)
}

/// `w2n.word_to_num(sentence)`.
pub fn word_to_num(sentence: &str) -> Result<Number, WordToNumError> {
    use yardstick_core::python::text as pystr;
    let s = pystr::lower(&sentence.replace('-', " "));
    if pystr::isdigit(&s) {
        if let Ok(i) = s.parse::<i128>() {
            return Ok(Number::Int(i));
        }
    }
    let words = pystr::split(pystr::strip(&s, None), None, -1).unwrap_or_default();
    let mut clean: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| value(w).is_some() || *w == "point")
        .collect();
    if clean.is_empty() {
        return Err(WordToNumError::NoNumberWords(sentence.to_string()));
    }
    let count = |w: &str| clean.iter().filter(|x| **x == w).count();
    if ["thousand", "million", "billion", "point"]
        .iter()
        .any(|w| count(w) > 1)
    {
        return Err(WordToNumError::Redundant(sentence.to_string()));
    }
    let mut decimals: Vec<&str> = Vec::new();
    if let Some(p) = clean.iter().position(|w| *w == "point") {
        decimals = clean[p + 1..].to_vec();
        clean.truncate(p);
    }
    let idx = |w: &str| clean.iter().position(|x| *x == w).map_or(-1, |i| i as i64);
    let (b, m, t) = (idx("billion"), idx("million"), idx("thousand"));
    if (t > -1 && (t < m || t < b)) || (m > -1 && m < b) {
        return Err(WordToNumError::Malformed(sentence.to_string()));
    }
    let slice = |from: i64, to: i64| -> &[&str] {
        let from = from.max(0) as usize;
        let to = (to.max(0) as usize).min(clean.len());
        if from >= to {
            &[]
        } else {
            &clean[from..to]
        }
    };
    let last = clean.len() as i64 - 1;
    let mut total: i128 = 0;
    if clean.len() == 1 {
        total += value(clean[0]).unwrap_or(0);
    } else if !clean.is_empty() {
        if b > -1 {
            total += formation(slice(0, b), sentence)? * 1_000_000_000;
        }
        if m > -1 {
            let from = if b > -1 { b + 1 } else { 0 };
            total += formation(slice(from, m), sentence)? * 1_000_000;
        }
        if t > -1 {
            let from = if m > -1 {
                m + 1
            } else if b > -1 {
                b + 1
            } else {
                0
            };
            total += formation(slice(from, t), sentence)? * 1000;
        }
        total += if t > -1 && t != last {
            formation(slice(t + 1, last + 1), sentence)?
        } else if m > -1 && m != last {
            formation(slice(m + 1, last + 1), sentence)?
        } else if b > -1 && b != last {
            formation(slice(b + 1, last + 1), sentence)?
        } else if t == -1 && m == -1 && b == -1 {
            formation(&clean, sentence)?
        } else {
            0
        };
    }
    if !decimals.is_empty() {
        return Ok(Number::Float(total as f64 + decimal_sum(&decimals)));
    }
    Ok(Number::Int(total))
}
