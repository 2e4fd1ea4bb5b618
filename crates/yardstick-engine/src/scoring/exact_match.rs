//! lm-eval's generation `exact_match` (`exact_match_hf_evaluate`): for each regex in
//! `regexes_to_ignore`, `re.sub(regex, "", ·)` on the prediction and the references in order; then
//! `ignore_case` (Python `str.lower`), `ignore_punctuation` (ASCII `string.punctuation` removed),
//! `ignore_numbers` (ASCII digits removed); then string equality (numpy's, which ignores trailing NUL
//! characters). With several references (`multiple_target`) the document scores 1.0 when any matches.

pub use super::pyre::python_pattern_to_fancy;
use super::pyre::PyRegex;
use super::{MetricValue, ScoringError};

/// The metric's keyword arguments from the task's `metric_list` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExactMatchOptions {
    #[serde(default)]
    pub regexes_to_ignore: Vec<String>,
    #[serde(default)]
    pub ignore_case: bool,
    #[serde(default)]
    pub ignore_punctuation: bool,
    #[serde(default)]
    pub ignore_numbers: bool,
}

/// A compiled `exact_match` metric.
#[derive(Debug)]
pub struct ExactMatch {
    regexes: Vec<PyRegex>,
    options: ExactMatchOptions,
}

const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

impl ExactMatch {
    pub fn new(options: ExactMatchOptions) -> Result<Self, ScoringError> {
        let mut regexes = Vec::with_capacity(options.regexes_to_ignore.len());
        for p in &options.regexes_to_ignore {
            let re = PyRegex::new(p).map_err(|why| ScoringError::BadRegex {
                pattern: p.clone(),
                why,
            })?;
            regexes.push(re);
        }
        Ok(ExactMatch { regexes, options })
    }

    fn strip_regexes(&self, s: &str) -> Result<String, ScoringError> {
        let mut cur = s.to_string();
        for re in &self.regexes {
            cur = re.remove_all(&cur).map_err(|why| ScoringError::BadRegex {
                pattern: re.pattern().to_string(),
                why,
            })?;
        }
        Ok(cur)
    }

    fn normalise(&self, s: String) -> String {
        // numpy's fixed-width unicode arrays drop trailing NULs.
        let mut s = s.trim_end_matches('\0').to_string();
        if self.options.ignore_case {
            s = s.to_lowercase();
        }
        if self.options.ignore_punctuation {
            s.retain(|c| !PUNCTUATION.contains(c));
        }
        if self.options.ignore_numbers {
            s.retain(|c| !c.is_ascii_digit());
        }
        s
    }

    /// Whether `prediction` matches `reference` after the normalisations.
    pub fn matches(&self, prediction: &str, reference: &str) -> Result<bool, ScoringError> {
        let p = self.normalise(self.strip_regexes(prediction)?);
        let r = self.normalise(self.strip_regexes(reference)?);
        Ok(p == r)
    }

    /// The per-document value: 1.0 when the prediction matches the reference (any of them when there
    /// are several), else 0.0.
    pub fn score(
        &self,
        prediction: &str,
        references: &[String],
    ) -> Result<MetricValue, ScoringError> {
        let mut any = false;
        for r in references {
            if self.matches(prediction, r)? {
                any = true;
                break;
            }
        }
        Ok(MetricValue::float(if any { 1.0 } else { 0.0 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gsm8k() -> ExactMatch {
        ExactMatch::new(ExactMatchOptions {
            regexes_to_ignore: vec![
                ",".into(),
                "\\$".into(),
                "(?s).*#### ".into(),
                "\\.$".into(),
            ],
            ignore_case: true,
            ignore_punctuation: false,
            ignore_numbers: false,
        })
        .unwrap()
    }

    #[test]
    fn gsm8k_style() {
        let em = gsm8k();
        assert!(em.matches("1,000.", "Janet sells...\n#### 1000").unwrap());
        assert!(em.matches("$18", "so 18\n#### 18").unwrap());
        assert!(!em.matches("17", "#### 18").unwrap());
        // Python's `$` also matches before a final newline
        assert!(em.matches("1000.\n", "#### 1000\n").unwrap());
    }

    #[test]
    fn flags() {
        let em = ExactMatch::new(ExactMatchOptions {
            regexes_to_ignore: vec![],
            ignore_case: true,
            ignore_punctuation: true,
            ignore_numbers: true,
        })
        .unwrap();
        assert!(em.matches("Hello, World!42", "hello world").unwrap());
        assert!(!em.matches("hello  world", "hello world").unwrap());
        let plain = ExactMatch::new(ExactMatchOptions::default()).unwrap();
        assert!(!plain.matches("A", "a").unwrap());
        assert_eq!(
            plain.score("b", &["a".into(), "b".into()]).unwrap(),
            MetricValue::float(1.0)
        );
        assert_eq!(
            plain.score("c", &["a".into(), "b".into()]).unwrap(),
            MetricValue::float(0.0)
        );
    }

    #[test]
    fn translation() {
        assert_eq!(python_pattern_to_fancy("\\.$"), "\\.(?:(?=\\n\\z)|\\z)");
        assert_eq!(python_pattern_to_fancy("[$]"), "[$]");
        assert_eq!(python_pattern_to_fancy("(?m)a$"), "(?m)a$");
        assert!(ExactMatch::new(ExactMatchOptions {
            regexes_to_ignore: vec!["(".into()],
            ..Default::default()
        })
        .is_err());
    }
}
