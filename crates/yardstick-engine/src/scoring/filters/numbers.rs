//! BBH's `NumberParseRegexFilter`: the filter's regex, else a number written in English words
//! (`twenty four` → `24`) converted the way the `word2number` package (1.1) does it.

use std::sync::OnceLock;

use serde_json::{Map, Value};
use yardstick_core::python::py_float_repr;
use yardstick_core::python::text::{lower, split, strip};

use super::choice::{find_match_bbh, MultiChoiceArgs};
use super::repr;
use crate::scoring::pyre::PyRegex;

/// BBH's English-number pattern (written for the `regex` package, whose branch-reset groups `(?|…)`
/// hold no captures here, so they are plain groups).
const ENGLISH_NUMBER: &str = r"((?:(?:zero|one|two|three|four|five|(?:twen|thir|for|fif|six|seven|nine)(?|teen|ty)|eight(?:|een|y)|ten|eleven|twelve|fourteen|hundred|thousand|(?:m|b|tr)illion)(?:zero|one|two|three|four|five|(?:twen|thir|for|fif|six|seven|nine)(?:|teen|ty)|eight(?|een|y)|ten|eleven|twelve|fourteen|hundred|thousand|(?:m|b|tr)illion|[^\S\r\n]|,|and|&)+)?(?:zero|one|two|three|four|five|(?:twen|thir|for|fif|six|seven|nine)(?|teen|ty)|eight(?|een|y)|ten|eleven|twelve|fourteen|hundred|thousand|(?:m|b|tr)illion))";

fn english_number() -> Result<&'static PyRegex, String> {
    static RE: OnceLock<Result<PyRegex, String>> = OnceLock::new();
    RE.get_or_init(|| PyRegex::new(&ENGLISH_NUMBER.replace("(?|", "(?:")))
        .as_ref()
        .map_err(Clone::clone)
}

#[derive(Debug)]
pub(crate) struct NumberParse {
    args: MultiChoiceArgs,
}

impl NumberParse {
    pub(crate) fn compile(kwargs: &Map<String, Value>) -> Result<Self, String> {
        Ok(NumberParse {
            args: MultiChoiceArgs::compile(kwargs)?,
        })
    }

    pub(crate) fn apply_one(&self, resp: Value) -> Result<Value, String> {
        let Value::String(text) = &resp else {
            return Err(format!(
                "{} is not a string (Python raises TypeError)",
                repr(&resp)
            ));
        };
        let gs = self.args.group_select;
        let mut m = find_match_bbh(&self.args.re, text, gs)?;
        if m.is_empty() {
            m = find_match_bbh(english_number()?, &lower(text), gs)?;
            if !m.is_empty() {
                m = word_to_num(&m)?;
            }
        }
        Ok(if m.is_empty() {
            self.args.fallback.clone()
        } else {
            Value::String(m)
        })
    }
}

fn word_value(w: &str) -> Option<i128> {
    Some(match w {
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

fn malformed(why: &str) -> String {
    format!("word2number: {why} (Python raises ValueError)")
}

/// word2number's `number_formation`: how a group of number words before a multiplier combines.
fn number_formation(words: &[&str]) -> Result<i128, String> {
    let n: Vec<i128> = words.iter().filter_map(|w| word_value(w)).collect();
    Ok(match n.len() {
        0 => return Err("word2number: an empty number group (Python raises IndexError)".into()),
        4 => n[0] * n[1] + n[2] + n[3],
        3 => n[0] * n[1] + n[2],
        2 if n.contains(&100) => n[0] * n[1],
        2 => n[0] + n[1],
        _ => n[0],
    })
}

/// `str(w2n.word_to_num(text))`.
pub(crate) fn word_to_num(text: &str) -> Result<String, String> {
    let text = lower(&text.replace('-', " "));
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        return Ok(text.trim_start_matches('0').to_string()).map(|s| {
            if s.is_empty() {
                "0".into()
            } else {
                s
            }
        });
    }
    let words = split(strip(&text, None), None, -1).unwrap_or_default();
    let mut clean: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| *w == "point" || word_value(w).is_some())
        .collect();
    if clean.is_empty() {
        return Err(malformed("no valid number words"));
    }
    let count = |w: &str, v: &[&str]| v.iter().filter(|x| **x == w).count();
    if ["thousand", "million", "billion", "point"]
        .iter()
        .any(|w| count(w, &clean) > 1)
    {
        return Err(malformed("redundant number word"));
    }
    let mut decimals: Vec<&str> = Vec::new();
    if let Some(p) = clean.iter().position(|w| *w == "point") {
        decimals = clean[p + 1..].to_vec();
        clean.truncate(p);
    }
    let idx = |w: &str| clean.iter().position(|x| *x == w).map_or(-1, |i| i as i64);
    let (b, m, t) = (idx("billion"), idx("million"), idx("thousand"));
    if (t > -1 && (t < m || t < b)) || (m > -1 && m < b) {
        return Err(malformed("malformed number"));
    }
    let total = if clean.len() == 1 {
        word_value(clean[0]).unwrap_or(0)
    } else if clean.is_empty() {
        0
    } else {
        multiplied(&clean, b, m, t)?
    };
    let decimal = decimal_sum(&decimals);
    Ok(match decimal {
        None => total.to_string(),
        Some(d) => py_float_repr(total as f64 + d),
    })
}

/// The sum over billions, millions, thousands and the rest (several words, indices −1 when absent).
fn multiplied(clean: &[&str], b: i64, m: i64, t: i64) -> Result<i128, String> {
    let at = |i: i64| i as usize;
    let mut total: i128 = 0;
    if b > -1 {
        total += number_formation(&clean[..at(b)])? * 1_000_000_000;
    }
    if m > -1 {
        let from = if b > -1 { at(b) + 1 } else { 0 };
        total += number_formation(slice(clean, from, at(m)))? * 1_000_000;
    }
    if t > -1 {
        let from = if m > -1 {
            at(m) + 1
        } else if b > -1 {
            at(b) + 1
        } else {
            0
        };
        total += number_formation(slice(clean, from, at(t)))? * 1000;
    }
    let last = clean.len() as i64 - 1;
    let hundreds = if t > -1 && t != last {
        number_formation(&clean[at(t) + 1..])?
    } else if m > -1 && m != last {
        number_formation(&clean[at(m) + 1..])?
    } else if b > -1 && b != last {
        number_formation(&clean[at(b) + 1..])?
    } else if t == -1 && m == -1 && b == -1 {
        number_formation(clean)?
    } else {
        0
    };
    Ok(total + hundreds)
}

/// Python's `list[a:b]` for `a <= len` (empty when `b < a`).
fn slice<'a, 'b>(v: &'a [&'b str], from: usize, to: usize) -> &'a [&'b str] {
    let to = to.min(v.len());
    if from >= to {
        &[]
    } else {
        &v[from..to]
    }
}

/// word2number's `get_decimal_sum`: `None` without decimal words; `0` (an int, leaving the total an
/// int) when one is not a digit word.
fn decimal_sum(words: &[&str]) -> Option<f64> {
    if words.is_empty() {
        return None;
    }
    let mut digits = String::from("0.");
    for w in words {
        match word_value(w) {
            Some(d) if (0..=9).contains(&d) && *w != "point" => digits.push_str(&d.to_string()),
            _ => return None,
        }
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_to_numbers() {
        assert_eq!(word_to_num("twenty four").unwrap(), "24");
        assert_eq!(word_to_num("one hundred and five").unwrap(), "105");
        assert_eq!(word_to_num("two thousand twenty").unwrap(), "2020");
        assert_eq!(word_to_num("seven million three").unwrap(), "7000003");
        assert_eq!(word_to_num("three point five").unwrap(), "3.5");
        // five words in a group: only the first counts (number_formation's quirk)
        assert_eq!(word_to_num("one two three four five").unwrap(), "1");
        assert!(word_to_num("thousand thousand").is_err());
        assert!(word_to_num("and").is_err());
    }
}
