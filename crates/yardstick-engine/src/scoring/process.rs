//! Per-document metrics, as lm-evaluation-harness 0.4.13 `ConfigurableTask.process_results` computes
//! them for each output type (and native `process_results` such as lm-eval's `process_results_mc2`).

use yardstick_core::python::py_index;
use yardstick_core::python::text::is_space;
use yardstick_core::{LoglikelihoodResult, Target};

use super::numpy::{self, NumpyExp};
use super::{DocMetrics, Gold, MetricValue, ScoringError};

/// One multiple-choice document's results.
#[derive(Clone, Copy, Debug)]
pub struct MultipleChoiceInput<'a> {
    /// The choice texts as `doc_to_choice` returns them (without the target delimiter): their lengths
    /// normalise `acc_norm` (code points) and `acc_bytes` (UTF-8 bytes).
    pub choices: &'a [String],
    /// `doc_to_target` (or `doc_to_text` for multiple-input tasks such as winogrande).
    pub gold: &'a Target,
    /// The task's `multiple_target` flag (lm-eval sets it when the first document's target is a list).
    pub multiple_target: bool,
    /// One result per choice, `(context, target_delimiter + choice)`, in choice order.
    pub results: &'a [LoglikelihoodResult],
    /// The unconditional `("", target_delimiter + choice)` results, present when `acc_mutual_info`
    /// was requested.
    pub unconditional: Option<&'a [LoglikelihoodResult]>,
}

/// Normalise the gold like lm-eval: an int stays (−100 when `>= len(choices)`; negative values are
/// kept), a string becomes its index among the choices (−100 when absent), a list maps each element.
pub fn normalise_gold(
    gold: &Target,
    choices: &[String],
    multiple_target: bool,
) -> Result<Gold, ScoringError> {
    let n = choices.len() as i64;
    let bad = |why: &str| ScoringError::BadGold {
        metric: "multiple_choice".into(),
        gold: format!("{gold:?}"),
        why: why.into(),
    };
    let g = match gold {
        Target::Index(i) => Gold::Index(if *i < n { *i } else { -100 }),
        Target::Text(s) => Gold::Index(
            choices
                .iter()
                .position(|c| c == s)
                .map(|p| p as i64)
                .unwrap_or(-100),
        ),
        Target::Indices(v) => {
            Gold::Indices(v.iter().map(|&i| if i < n { i } else { -100 }).collect())
        }
        Target::Texts(_) => return Err(bad(
            "a list of strings cannot be compared with choice indices (lm-eval raises TypeError)",
        )),
    };
    match (&g, multiple_target) {
        (Gold::Index(_), true) => Err(bad(
            "the task has multiple targets but this document's target is not a list",
        )),
        (Gold::Indices(_), false) => Err(bad(
            "this document's target is a list but the task's first document's target was not",
        )),
        _ => Ok(g),
    }
}

fn wants(metrics: &[&str], name: &str) -> bool {
    metrics.contains(&name)
}

/// `process_results` for `output_type: multiple_choice`. `metrics` are the task's metric names; the
/// returned values come in lm-eval's insertion order (acc, f1, mcc, acc_norm, acc_bytes, exact_match,
/// brier_score, likelihood, acc_mutual_info), each only when requested.
pub fn multiple_choice(
    input: &MultipleChoiceInput<'_>,
    metrics: &[&str],
    exp: NumpyExp,
) -> Result<DocMetrics, ScoringError> {
    let n = input.choices.len();
    if n == 0 {
        return Err(ScoringError::NoChoices);
    }
    if input.results.len() != n {
        return Err(ScoringError::ResultCount {
            metric: "multiple_choice".into(),
            expected: n,
            got: input.results.len(),
        });
    }
    let lls: Vec<f64> = input.results.iter().map(|r| r.logprob).collect();
    let preds = Predictions::of(input.choices, &lls)?;
    let gold = normalise_gold(input.gold, input.choices, input.multiple_target)?;
    let gold_pred = || MetricValue::GoldPred {
        gold: gold.clone(),
        pred: preds.raw,
    };

    let mut out: DocMetrics = Vec::new();
    if wants(metrics, "acc") {
        out.push(("acc".into(), MetricValue::float(hit(&gold, preds.raw))));
    }
    if wants(metrics, "f1") {
        out.push(("f1".into(), gold_pred()));
    }
    if wants(metrics, "mcc") {
        out.push(("mcc".into(), gold_pred()));
    }
    if wants(metrics, "acc_norm") {
        out.push((
            "acc_norm".into(),
            MetricValue::float(hit(&gold, preds.by_chars)),
        ));
    }
    if wants(metrics, "acc_bytes") {
        out.push((
            "acc_bytes".into(),
            MetricValue::float(hit(&gold, preds.by_bytes)),
        ));
    }
    if wants(metrics, "exact_match") {
        let v = exact_match_of_greedy(input.results, &gold)?;
        out.push(("exact_match".into(), MetricValue::int(v)));
    }
    if wants(metrics, "brier_score") {
        out.push((
            "brier_score".into(),
            MetricValue::GoldProbs {
                gold: gold.clone(),
                probs: numpy::softmax(&lls, exp),
            },
        ));
    }
    if wants(metrics, "likelihood") {
        out.push((
            "likelihood".into(),
            MetricValue::GoldLoglikelihoods {
                gold: gold.clone(),
                loglikelihoods: lls.clone(),
            },
        ));
    }
    if wants(metrics, "acc_mutual_info") {
        let v = acc_mutual_info(&lls, input.unconditional, &gold)?;
        out.push(("acc_mutual_info".into(), MetricValue::float(v)));
    }
    Ok(out)
}

/// The predicted choice (numpy's `argmax`) of the raw log-likelihoods and of the ones normalised by the
/// choice's length in code points (`acc_norm`) and in UTF-8 bytes (`acc_bytes`).
struct Predictions {
    raw: i64,
    by_chars: i64,
    by_bytes: i64,
}

impl Predictions {
    fn of(choices: &[String], lls: &[f64]) -> Result<Predictions, ScoringError> {
        let by_chars: Vec<f64> = choices
            .iter()
            .zip(lls)
            .map(|(c, ll)| ll / c.chars().count() as f64)
            .collect();
        let by_bytes: Vec<f64> = choices
            .iter()
            .zip(lls)
            .map(|(c, ll)| ll / c.len() as f64)
            .collect();
        Ok(Predictions {
            raw: numpy::argmax(lls).ok_or(ScoringError::NoChoices)? as i64,
            by_chars: numpy::argmax(&by_chars).ok_or(ScoringError::NoChoices)? as i64,
            by_bytes: numpy::argmax(&by_bytes).ok_or(ScoringError::NoChoices)? as i64,
        })
    }
}

/// 1.0 when the prediction `p` is the gold (or one of the golds), else 0.0.
fn hit(gold: &Gold, p: i64) -> f64 {
    let ok = match gold {
        Gold::Index(g) => p == *g,
        Gold::Indices(v) => v.contains(&p),
    };
    if ok {
        1.0
    } else {
        0.0
    }
}

/// `exact_match` of a multiple-choice document: whether the gold choice (any gold choice of a list) was
/// the greedy continuation; 0 for an out-of-range gold (−100).
fn exact_match_of_greedy(
    results: &[LoglikelihoodResult],
    gold: &Gold,
) -> Result<i64, ScoringError> {
    let n = results.len();
    let is_greedy: Vec<bool> = results.iter().map(|r| r.is_greedy).collect();
    let greedy_at = |g: i64| -> Result<bool, ScoringError> {
        py_index(&is_greedy, g)
            .copied()
            .ok_or_else(|| ScoringError::BadGold {
                metric: "exact_match".into(),
                gold: g.to_string(),
                why: format!("index out of range for {n} choices (lm-eval raises IndexError)"),
            })
    };
    Ok(match gold {
        Gold::Index(g) => {
            if *g == -100 {
                0
            } else {
                greedy_at(*g)? as i64
            }
        }
        Gold::Indices(gs) => {
            let mut any = false;
            for &g in gs {
                if g != -100 && greedy_at(g)? {
                    any = true;
                    break;
                }
            }
            any as i64
        }
    })
}

/// `acc_mutual_info`: whether the choice with the largest `ll(choice | context) − ll(choice)` is the gold.
fn acc_mutual_info(
    lls: &[f64],
    unconditional: Option<&[LoglikelihoodResult]>,
    gold: &Gold,
) -> Result<f64, ScoringError> {
    let n = lls.len();
    let unconditional = unconditional.ok_or_else(|| ScoringError::ResultCount {
        metric: "acc_mutual_info".into(),
        expected: n,
        got: 0,
    })?;
    if unconditional.len() != n {
        return Err(ScoringError::ResultCount {
            metric: "acc_mutual_info".into(),
            expected: n,
            got: unconditional.len(),
        });
    }
    let mi: Vec<f64> = lls
        .iter()
        .zip(unconditional)
        .map(|(c, u)| c - u.logprob)
        .collect();
    let pred_mi = numpy::argmax(&mi).ok_or(ScoringError::NoChoices)? as i64;
    // lm-eval compares with `==` even for a list gold: numpy broadcasts, which works for one
    // element and raises for more.
    match gold {
        Gold::Index(g) => Ok((pred_mi == *g) as u8 as f64),
        Gold::Indices(v) if v.len() == 1 => Ok((pred_mi == v[0]) as u8 as f64),
        Gold::Indices(_) => Err(ScoringError::BadGold {
            metric: "acc_mutual_info".into(),
            gold: gold.to_string(),
            why: "a multi-element list gold (lm-eval raises: truth value of an array is ambiguous)"
                .into(),
        }),
    }
}

/// `process_results` for `output_type: loglikelihood`: `perplexity` (the log-likelihood itself) and
/// `acc` (`int(is_greedy)`).
pub fn loglikelihood(result: LoglikelihoodResult, metrics: &[&str]) -> DocMetrics {
    let mut out = Vec::new();
    if wants(metrics, "perplexity") {
        out.push(("perplexity".into(), MetricValue::float(result.logprob)));
    }
    if wants(metrics, "acc") {
        out.push(("acc".into(), MetricValue::int(result.is_greedy as i64)));
    }
    out
}

/// One rolling-loglikelihood document.
#[derive(Clone, Copy, Debug)]
pub struct RollingInput<'a> {
    /// `doc_to_target(doc)`: the text whose words and bytes are counted.
    pub text: &'a str,
    /// The summed log-likelihood over all windows.
    pub loglikelihood: f64,
}

/// `len(re.split(r"\s+", text))`: the number of whitespace runs plus one (so a leading or trailing
/// run adds an empty piece, and "" counts as one word).
pub fn count_words(text: &str) -> i64 {
    let mut runs = 0i64;
    let mut in_space = false;
    for c in text.chars() {
        let s = is_space(c);
        if s && !in_space {
            runs += 1;
        }
        in_space = s;
    }
    runs + 1
}

/// `len(text.encode("utf-8"))`.
pub fn count_bytes(text: &str) -> i64 {
    text.len() as i64
}

/// `process_results` for `output_type: loglikelihood_rolling`: `(ll, words)` for `word_perplexity`,
/// `(ll, bytes)` for `byte_perplexity` and `bits_per_byte`.
pub fn loglikelihood_rolling(input: &RollingInput<'_>, metrics: &[&str]) -> DocMetrics {
    let mut out = Vec::new();
    let ll = input.loglikelihood;
    if wants(metrics, "word_perplexity") {
        out.push((
            "word_perplexity".into(),
            MetricValue::LoglikelihoodCount {
                loglikelihood: ll,
                count: count_words(input.text),
            },
        ));
    }
    if wants(metrics, "byte_perplexity") {
        out.push((
            "byte_perplexity".into(),
            MetricValue::LoglikelihoodCount {
                loglikelihood: ll,
                count: count_bytes(input.text),
            },
        ));
    }
    if wants(metrics, "bits_per_byte") {
        out.push((
            "bits_per_byte".into(),
            MetricValue::LoglikelihoodCount {
                loglikelihood: ll,
                count: count_bytes(input.text),
            },
        ));
    }
    out
}

/// lm-eval's `process_results_mc2`: `p = np.exp(lls)`, normalised by `np.sum(p)`, then the sum of the
/// normalised probabilities whose label is 1. Returns `{"acc": pm_true}`.
pub fn probability_mass_of_true(
    lls: &[f64],
    labels: &[i64],
    exp: NumpyExp,
) -> Result<DocMetrics, ScoringError> {
    if lls.len() != labels.len() {
        return Err(ScoringError::Mc2(format!(
            "{} log-likelihoods but {} labels (numpy raises IndexError on the boolean mask)",
            lls.len(),
            labels.len()
        )));
    }
    let probs: Vec<f64> = lls.iter().map(|&ll| exp.exp(ll)).collect();
    let total = numpy::sum(&probs);
    let norm: Vec<f64> = probs.iter().map(|p| p / total).collect();
    let picked: Vec<f64> = norm
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l == 1)
        .map(|(p, _)| *p)
        .collect();
    Ok(vec![(
        "acc".into(),
        MetricValue::float(numpy::sum(&picked)),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(logprob: f64, is_greedy: bool) -> LoglikelihoodResult {
        LoglikelihoodResult { logprob, is_greedy }
    }

    fn get<'a>(m: &'a DocMetrics, k: &str) -> &'a MetricValue {
        &m.iter().find(|(n, _)| n == k).unwrap().1
    }

    #[test]
    fn acc_and_acc_norm_differ_on_length() {
        let choices = vec!["a".to_string(), "bbbb".to_string()];
        let results = [r(-2.0, false), r(-3.0, true)];
        let gold = Target::Index(1);
        let input = MultipleChoiceInput {
            choices: &choices,
            gold: &gold,
            multiple_target: false,
            results: &results,
            unconditional: None,
        };
        let m =
            multiple_choice(&input, &["acc", "acc_norm", "exact_match"], NumpyExp::Libm).unwrap();
        assert_eq!(
            m.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["acc", "acc_norm", "exact_match"]
        );
        assert_eq!(get(&m, "acc"), &MetricValue::float(0.0));
        assert_eq!(get(&m, "acc_norm"), &MetricValue::float(1.0)); // -2/1 < -3/4
        assert_eq!(get(&m, "exact_match"), &MetricValue::int(1));
    }

    #[test]
    fn acc_bytes_uses_utf8_length() {
        // "é" is 1 code point but 2 bytes: per char -1.0 vs -1.1; per byte -0.5 vs -1.1.
        let choices = vec!["é".to_string(), "x".to_string()];
        let results = [r(-1.0, false), r(-1.1, false)];
        let gold = Target::Text("é".into());
        let input = MultipleChoiceInput {
            choices: &choices,
            gold: &gold,
            multiple_target: false,
            results: &results,
            unconditional: None,
        };
        let m = multiple_choice(&input, &["acc_bytes", "acc_norm"], NumpyExp::Libm).unwrap();
        assert_eq!(get(&m, "acc_bytes"), &MetricValue::float(1.0));
        assert_eq!(get(&m, "acc_norm"), &MetricValue::float(1.0));
    }

    #[test]
    fn ties_pick_first_and_out_of_range_gold_is_wrong() {
        let choices = vec!["A".to_string(), "B".to_string()];
        let results = [r(-1.0, true), r(-1.0, true)];
        for (gold, want) in [
            (Target::Index(0), 1.0),
            (Target::Index(1), 0.0),
            (Target::Index(7), 0.0),
        ] {
            let input = MultipleChoiceInput {
                choices: &choices,
                gold: &gold,
                multiple_target: false,
                results: &results,
                unconditional: None,
            };
            let m = multiple_choice(&input, &["acc", "exact_match"], NumpyExp::Libm).unwrap();
            assert_eq!(get(&m, "acc"), &MetricValue::float(want));
        }
        let gold = Target::Text("C".into());
        let input = MultipleChoiceInput {
            choices: &choices,
            gold: &gold,
            multiple_target: false,
            results: &results,
            unconditional: None,
        };
        let m = multiple_choice(&input, &["exact_match", "f1"], NumpyExp::Libm).unwrap();
        assert_eq!(get(&m, "exact_match"), &MetricValue::int(0));
        assert_eq!(
            get(&m, "f1"),
            &MetricValue::GoldPred {
                gold: Gold::Index(-100),
                pred: 0
            }
        );
    }

    #[test]
    fn multiple_target_and_mutual_info() {
        let choices = vec!["x".to_string(), "y".to_string(), "z".to_string()];
        let results = [r(-3.0, false), r(-1.0, false), r(-2.0, true)];
        let unc = [r(-0.5, false), r(-0.1, false), r(-5.0, false)];
        let gold = Target::Indices(vec![2, 1]);
        let input = MultipleChoiceInput {
            choices: &choices,
            gold: &gold,
            multiple_target: true,
            results: &results,
            unconditional: Some(&unc),
        };
        let m = multiple_choice(&input, &["acc", "exact_match"], NumpyExp::Libm).unwrap();
        assert_eq!(get(&m, "acc"), &MetricValue::float(1.0));
        assert_eq!(get(&m, "exact_match"), &MetricValue::int(1));
        let gold1 = Target::Indices(vec![0]);
        let input1 = MultipleChoiceInput {
            gold: &gold1,
            ..input
        };
        // mutual information: -3+0.5=-2.5, -1+0.1=-0.9, -2+5=3 -> argmax 2
        let m = multiple_choice(&input1, &["acc_mutual_info"], NumpyExp::Libm).unwrap();
        assert_eq!(get(&m, "acc_mutual_info"), &MetricValue::float(0.0));
        assert!(multiple_choice(&input, &["acc_mutual_info"], NumpyExp::Libm).is_err());
        let m = multiple_choice(&input, &["acc", "exact_match"], NumpyExp::Libm).unwrap();
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn words_like_re_split() {
        assert_eq!(count_words(""), 1);
        assert_eq!(count_words("a b"), 2);
        assert_eq!(count_words(" a  b\n"), 4);
        assert_eq!(count_words("a\u{1f}b"), 2);
        assert_eq!(count_bytes("héllo"), 6);
    }

    #[test]
    fn mc2_mass_on_true_answers() {
        let lls = [(0.6f64).ln(), (0.2f64).ln(), (0.2f64).ln()];
        let m = probability_mass_of_true(&lls, &[1, 0, 0], NumpyExp::Libm).unwrap();
        match &m[0].1 {
            MetricValue::Float { value } => assert!((value - 0.6).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        assert!(probability_mass_of_true(&lls, &[1, 0], NumpyExp::Libm).is_err());
    }
}
