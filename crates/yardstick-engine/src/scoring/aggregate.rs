//! Per-task aggregation and standard errors, as lm-evaluation-harness 0.4.13 computes them
//! (`lm_eval/api/metrics.py`, `evaluator_utils._compute_task_aggregations`):
//!
//! * value: the metric's aggregation over the per-document values;
//! * stderr: `"N/A"` when `bootstrap_iters <= 0` or there is one value or fewer; the closed form
//!   `sample_stddev(x) / sqrt(n)` for `mean`; a bootstrap for `median`, `matthews_corrcoef`, `f1`,
//!   `perplexity` and `nanmean`; `"N/A"` for every other aggregation.
//!
//! The bootstrap reproduces lm-eval's replicates exactly: `iters // min(1000, iters)` chunks of
//! `min(1000, iters)` replicates, chunk `i` drawing with `random.Random(i).choices(xs, k=len(xs))`,
//! each replicate being the aggregation of its resample, and the stderr the sample standard deviation
//! of the replicates in chunk order. Chunks run in parallel (rayon); their seeding and order do not
//! depend on the number of threads.

use rayon::prelude::*;

use super::numpy;
use super::pyfloat::{py_pow2, py_sample_stddev, PySum, PySumAcc};
use super::{Gold, MetricValue, NumericEnv, ScoringError};
use yardstick_core::python::random::PyRandom;

mod labels;
use labels::{brier, label_stat};

/// An aggregation function (lm-eval `register_aggregation` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Mean,
    Median,
    Perplexity,
    WeightedPerplexity,
    BitsPerByte,
    F1,
    MatthewsCorrcoef,
    BrierScore,
    Nanmean,
    /// lm-eval ifeval's `agg_inst_level_acc` (a task-defined function): the mean of the flattened
    /// per-document lists of booleans. Not bootstrapped and not `mean`, so its stderr is `N/A`.
    InstLevelAcc,
}

impl Aggregation {
    pub fn parse(name: &str) -> Result<Self, ScoringError> {
        Ok(match name {
            "mean" => Aggregation::Mean,
            "median" => Aggregation::Median,
            "perplexity" => Aggregation::Perplexity,
            "weighted_perplexity" => Aggregation::WeightedPerplexity,
            "bits_per_byte" => Aggregation::BitsPerByte,
            "f1" => Aggregation::F1,
            "matthews_corrcoef" => Aggregation::MatthewsCorrcoef,
            "brier_score" => Aggregation::BrierScore,
            "nanmean" => Aggregation::Nanmean,
            "agg_inst_level_acc" => Aggregation::InstLevelAcc,
            other => return Err(ScoringError::UnknownAggregation(other.to_string())),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Mean => "mean",
            Aggregation::Median => "median",
            Aggregation::Perplexity => "perplexity",
            Aggregation::WeightedPerplexity => "weighted_perplexity",
            Aggregation::BitsPerByte => "bits_per_byte",
            Aggregation::F1 => "f1",
            Aggregation::MatthewsCorrcoef => "matthews_corrcoef",
            Aggregation::BrierScore => "brier_score",
            Aggregation::Nanmean => "nanmean",
            Aggregation::InstLevelAcc => "agg_inst_level_acc",
        }
    }

    /// Whether lm-eval bootstraps this aggregation's stderr.
    pub fn is_bootstrapped(self) -> bool {
        matches!(
            self,
            Aggregation::Median
                | Aggregation::MatthewsCorrcoef
                | Aggregation::F1
                | Aggregation::Perplexity
                | Aggregation::Nanmean
        )
    }

    /// The aggregation lm-eval registers for a built-in metric (`None` for unknown metrics, which
    /// lm-eval averages with `mean`).
    pub fn default_for_metric(metric: &str) -> Option<Self> {
        Some(match metric {
            "acc" | "acc_norm" | "acc_mutual_info" | "acc_bytes" | "exact_match" | "likelihood" => {
                Aggregation::Mean
            }
            "perplexity" => Aggregation::Perplexity,
            "word_perplexity" | "byte_perplexity" => Aggregation::WeightedPerplexity,
            "bits_per_byte" => Aggregation::BitsPerByte,
            "f1" => Aggregation::F1,
            "mcc" => Aggregation::MatthewsCorrcoef,
            "brier_score" => Aggregation::BrierScore,
            _ => return None,
        })
    }
}

/// lm-eval's registered `higher_is_better` for a built-in metric.
pub fn default_higher_is_better(metric: &str) -> Option<bool> {
    Some(match metric {
        "acc" | "acc_norm" | "acc_mutual_info" | "acc_bytes" | "exact_match" | "likelihood"
        | "f1" | "mcc" | "bleu" | "chrf" | "chrf++" | "bypass" => true,
        "perplexity" | "word_perplexity" | "byte_perplexity" | "bits_per_byte" | "brier_score"
        | "ter" => false,
        m if m.starts_with("pass@") => true,
        _ => return None,
    })
}

/// A standard error or lm-eval's `"N/A"`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StderrValue {
    Value(f64),
    NotAvailable,
}

impl StderrValue {
    pub fn value(self) -> Option<f64> {
        match self {
            StderrValue::Value(v) => Some(v),
            StderrValue::NotAvailable => None,
        }
    }
}

/// One `(metric, filter)` of one task, aggregated.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricAggregate {
    pub metric: String,
    pub filter: String,
    pub aggregation: Aggregation,
    pub value: f64,
    pub stderr: StderrValue,
    /// How many per-document values were aggregated.
    pub count: usize,
}

/// All metrics of one task, in lm-eval's order (first appearance of each `(metric, filter)`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskAggregate {
    pub metrics: Vec<MetricAggregate>,
    /// lm-eval 0.4.13's `sample_len`: the largest per-metric value count.
    pub sample_len: usize,
}

/// The per-document values of one `(metric, filter)` of a task.
#[derive(Clone, Debug, PartialEq)]
pub struct RawMetric {
    pub metric: String,
    pub filter: String,
    pub aggregation: Aggregation,
    pub values: Vec<MetricValue>,
}

/// Aggregate every `(metric, filter)` of a task (`_compute_task_aggregations`). `bootstrap_iters`
/// ≤ 0 disables standard errors like lm-eval.
pub fn aggregate_task(
    raw: &[RawMetric],
    bootstrap_iters: i64,
    env: NumericEnv,
) -> Result<TaskAggregate, ScoringError> {
    let mut metrics = Vec::with_capacity(raw.len());
    let mut sample_len = 0;
    for r in raw {
        let (value, stderr) =
            aggregate_metric(&r.metric, r.aggregation, &r.values, bootstrap_iters, env)?;
        sample_len = sample_len.max(r.values.len());
        metrics.push(MetricAggregate {
            metric: r.metric.clone(),
            filter: r.filter.clone(),
            aggregation: r.aggregation,
            value,
            stderr,
            count: r.values.len(),
        });
    }
    Ok(TaskAggregate {
        metrics,
        sample_len,
    })
}

/// The aggregated value and stderr of one metric.
pub fn aggregate_metric(
    metric: &str,
    aggregation: Aggregation,
    values: &[MetricValue],
    bootstrap_iters: i64,
    env: NumericEnv,
) -> Result<(f64, StderrValue), ScoringError> {
    if values.is_empty() {
        return Err(ScoringError::Empty {
            metric: metric.to_string(),
        });
    }
    let prepared = Prepared::new(metric, aggregation, values)?;
    let value = prepared.full_value(env)?;
    let stderr = if bootstrap_iters <= 0 || values.len() <= 1 {
        StderrValue::NotAvailable
    } else if aggregation == Aggregation::Mean {
        let xs = prepared.numbers();
        match py_sample_stddev(env.py_sum, xs) {
            Some(sd) => StderrValue::Value(sd / (xs.len() as f64).sqrt()),
            None => StderrValue::NotAvailable,
        }
    } else if aggregation.is_bootstrapped() {
        StderrValue::Value(bootstrap_stderr(
            metric,
            &prepared,
            bootstrap_iters as u64,
            env,
        )?)
    } else {
        StderrValue::NotAvailable
    };
    Ok((value, stderr))
}

/// lm-eval's bootstrap: the replicates, in order.
pub fn bootstrap_replicates(
    metric: &str,
    aggregation: Aggregation,
    values: &[MetricValue],
    iters: u64,
    env: NumericEnv,
) -> Result<Vec<f64>, ScoringError> {
    let prepared = Prepared::new(metric, aggregation, values)?;
    replicates(metric, &prepared, iters, env)
}

fn replicates(
    metric: &str,
    p: &Prepared,
    iters: u64,
    env: NumericEnv,
) -> Result<Vec<f64>, ScoringError> {
    if iters == 0 {
        return Ok(Vec::new());
    }
    let chunk = iters.min(1000) as usize;
    let chunks = iters / chunk as u64;
    let per_chunk: Result<Vec<Vec<f64>>, ScoringError> = (0..chunks)
        .into_par_iter()
        .map(|i| {
            let mut rng = PyRandom::new(i);
            let mut scratch = Scratch::default();
            let mut out = Vec::with_capacity(chunk);
            for _ in 0..chunk {
                out.push(p.replicate(metric, &mut rng, &mut scratch, env)?);
            }
            Ok(out)
        })
        .collect();
    Ok(per_chunk?.into_iter().flatten().collect())
}

fn bootstrap_stderr(
    metric: &str,
    p: &Prepared,
    iters: u64,
    env: NumericEnv,
) -> Result<f64, ScoringError> {
    let res = replicates(metric, p, iters, env)?;
    py_sample_stddev(env.py_sum, &res).ok_or_else(|| ScoringError::Aggregation {
        metric: metric.to_string(),
        aggregation: p.aggregation().as_str().to_string(),
        why: format!(
            "bootstrap_iters={iters} gives {} replicate(s); a standard deviation needs two (lm-eval divides by zero)",
            res.len()
        ),
    })
}

#[derive(Default)]
struct Scratch {
    counts: Vec<u32>,
    buf: Vec<f64>,
    labels_true: Vec<u32>,
    labels_pred: Vec<u32>,
    confusion: Vec<u64>,
}

/// Per-document values converted once into the shape each aggregation needs.
enum Prepared {
    Numbers {
        aggregation: Aggregation,
        xs: Vec<f64>,
    },
    Median {
        xs: Vec<f64>,
        sorted: Vec<f64>,
        rank: Vec<usize>,
    },
    Weighted {
        aggregation: Aggregation,
        lls: Vec<f64>,
        counts: Vec<i64>,
    },
    Labels {
        aggregation: Aggregation,
        labels: Vec<i64>,
        gold: Vec<usize>,
        pred: Vec<usize>,
    },
    Brier {
        gold: Vec<i64>,
        probs: Vec<Vec<f64>>,
    },
}

fn wrong_kind(metric: &str, v: &MetricValue, agg: Aggregation) -> ScoringError {
    ScoringError::WrongValueKind {
        metric: metric.to_string(),
        value: v.describe(),
        aggregation: agg.as_str().into(),
    }
}

impl Prepared {
    fn new(
        metric: &str,
        aggregation: Aggregation,
        values: &[MetricValue],
    ) -> Result<Self, ScoringError> {
        let numbers = || -> Result<Vec<f64>, ScoringError> {
            values
                .iter()
                .map(|v| {
                    v.as_number()
                        .ok_or_else(|| wrong_kind(metric, v, aggregation))
                })
                .collect()
        };
        Ok(match aggregation {
            Aggregation::Mean | Aggregation::Perplexity | Aggregation::Nanmean => {
                Prepared::Numbers {
                    aggregation,
                    xs: numbers()?,
                }
            }
            Aggregation::InstLevelAcc => Prepared::Numbers {
                aggregation,
                xs: flattened_bools(metric, values)?,
            },
            Aggregation::Median => {
                let xs = numbers()?;
                let mut order: Vec<usize> = (0..xs.len()).collect();
                order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
                let sorted: Vec<f64> = order.iter().map(|&i| xs[i]).collect();
                let mut rank = vec![0; xs.len()];
                for (pos, &i) in order.iter().enumerate() {
                    rank[i] = pos;
                }
                Prepared::Median { xs, sorted, rank }
            }
            Aggregation::WeightedPerplexity | Aggregation::BitsPerByte => {
                let mut lls = Vec::with_capacity(values.len());
                let mut counts = Vec::with_capacity(values.len());
                for v in values {
                    match v {
                        MetricValue::LoglikelihoodCount {
                            loglikelihood,
                            count,
                        } => {
                            lls.push(*loglikelihood);
                            counts.push(*count);
                        }
                        other => return Err(wrong_kind(metric, other, aggregation)),
                    }
                }
                Prepared::Weighted {
                    aggregation,
                    lls,
                    counts,
                }
            }
            Aggregation::F1 | Aggregation::MatthewsCorrcoef => {
                let mut pairs = Vec::with_capacity(values.len());
                for v in values {
                    match v {
                        MetricValue::GoldPred {
                            gold: Gold::Index(g),
                            pred,
                        } => pairs.push((*g, *pred)),
                        other => return Err(wrong_kind(metric, other, aggregation)),
                    }
                }
                let mut labels: Vec<i64> = pairs.iter().flat_map(|&(g, p)| [g, p]).collect();
                labels.sort_unstable();
                labels.dedup();
                let idx = |x: i64| labels.binary_search(&x).unwrap_or(0);
                let gold = pairs.iter().map(|&(g, _)| idx(g)).collect();
                let pred = pairs.iter().map(|&(_, p)| idx(p)).collect();
                Prepared::Labels {
                    aggregation,
                    labels,
                    gold,
                    pred,
                }
            }
            Aggregation::BrierScore => {
                let mut gold = Vec::with_capacity(values.len());
                let mut probs = Vec::with_capacity(values.len());
                for v in values {
                    match v {
                        MetricValue::GoldProbs {
                            gold: Gold::Index(g),
                            probs: p,
                        } => {
                            gold.push(*g);
                            probs.push(p.clone());
                        }
                        other => return Err(wrong_kind(metric, other, aggregation)),
                    }
                }
                Prepared::Brier { gold, probs }
            }
        })
    }

    fn aggregation(&self) -> Aggregation {
        match self {
            Prepared::Numbers { aggregation, .. }
            | Prepared::Weighted { aggregation, .. }
            | Prepared::Labels { aggregation, .. } => *aggregation,
            Prepared::Median { .. } => Aggregation::Median,
            Prepared::Brier { .. } => Aggregation::BrierScore,
        }
    }

    fn numbers(&self) -> &[f64] {
        match self {
            Prepared::Numbers { xs, .. } | Prepared::Median { xs, .. } => xs,
            _ => &[],
        }
    }

    fn full_value(&self, env: NumericEnv) -> Result<f64, ScoringError> {
        match self {
            Prepared::Numbers { aggregation, xs } => Ok(match aggregation {
                Aggregation::Mean => mean(env.py_sum, xs.iter().copied(), xs.len()),
                Aggregation::Perplexity => (-mean(env.py_sum, xs.iter().copied(), xs.len())).exp(),
                Aggregation::InstLevelAcc => inst_level_acc(metric_of_empty(xs)?),
                _ => nanmean_lm_eval(xs),
            }),
            Prepared::Median { sorted, .. } => Ok(sorted[sorted.len() / 2]),
            Prepared::Weighted {
                aggregation,
                lls,
                counts,
            } => {
                let num = {
                    let mut acc = PySumAcc::new(env.py_sum);
                    for &l in lls {
                        acc.add(l);
                    }
                    acc.value()
                };
                let den: i64 = counts.iter().sum();
                let wm = num / den as f64;
                Ok(match aggregation {
                    Aggregation::WeightedPerplexity => (-wm).exp(),
                    _ => -wm / std::f64::consts::LN_2,
                })
            }
            Prepared::Labels {
                aggregation,
                labels,
                gold,
                pred,
            } => {
                let g: Vec<usize> = gold.clone();
                let p: Vec<usize> = pred.clone();
                label_stat(
                    *aggregation,
                    labels,
                    g.iter().copied().zip(p.iter().copied()),
                    &mut Scratch::default(),
                )
            }
            Prepared::Brier { gold, probs } => brier(gold, probs),
        }
    }

    fn replicate(
        &self,
        metric: &str,
        rng: &mut PyRandom,
        s: &mut Scratch,
        env: NumericEnv,
    ) -> Result<f64, ScoringError> {
        let _ = metric;
        match self {
            Prepared::Numbers { aggregation, xs } => {
                let n = xs.len();
                match aggregation {
                    Aggregation::Nanmean => {
                        s.buf.clear();
                        rng.for_each_choice(n, n, |i| s.buf.push(xs[i]));
                        Ok(nanmean_lm_eval(&s.buf))
                    }
                    _ => {
                        let mut acc = PySumAcc::new(env.py_sum);
                        rng.for_each_choice(n, n, |i| acc.add(xs[i]));
                        let m = acc.value() / n as f64;
                        Ok(if *aggregation == Aggregation::Perplexity {
                            (-m).exp()
                        } else {
                            m
                        })
                    }
                }
            }
            Prepared::Median { sorted, rank, .. } => {
                let n = sorted.len();
                s.counts.clear();
                s.counts.resize(n, 0);
                let counts = &mut s.counts;
                rng.for_each_choice(n, n, |i| counts[rank[i]] += 1);
                let target = n / 2;
                let mut seen = 0usize;
                for (pos, &c) in counts.iter().enumerate() {
                    seen += c as usize;
                    if seen > target {
                        return Ok(sorted[pos]);
                    }
                }
                Ok(sorted[n - 1])
            }
            Prepared::Labels {
                aggregation,
                labels,
                gold,
                pred,
            } => {
                let n = gold.len();
                s.buf.clear();
                let mut picks: Vec<usize> = Vec::with_capacity(n);
                rng.for_each_choice(n, n, |i| picks.push(i));
                let pairs: Vec<(usize, usize)> =
                    picks.iter().map(|&i| (gold[i], pred[i])).collect();
                label_stat(*aggregation, labels, pairs.into_iter(), s)
            }
            Prepared::Weighted { .. } | Prepared::Brier { .. } => Err(ScoringError::Aggregation {
                metric: metric.to_string(),
                aggregation: self.aggregation().as_str().into(),
                why: "lm-eval does not bootstrap this aggregation".into(),
            }),
        }
    }
}

/// The 0/1 values of every boolean of every document's list (`agg_inst_level_acc`'s flattening).
fn flattened_bools(metric: &str, values: &[MetricValue]) -> Result<Vec<f64>, ScoringError> {
    let mut xs = Vec::new();
    for v in values {
        match v {
            MetricValue::BoolList { values } => {
                xs.extend(values.iter().map(|b| if *b { 1.0 } else { 0.0 }))
            }
            other => return Err(wrong_kind(metric, other, Aggregation::InstLevelAcc)),
        }
    }
    Ok(xs)
}

/// lm-eval divides by `len(flat_items)`: no instruction at all is a ZeroDivisionError there.
fn metric_of_empty(xs: &[f64]) -> Result<&[f64], ScoringError> {
    if xs.is_empty() {
        return Err(ScoringError::Aggregation {
            metric: "agg_inst_level_acc".into(),
            aggregation: Aggregation::InstLevelAcc.as_str().into(),
            why: "no instruction in any document (lm-eval divides by zero)".into(),
        });
    }
    Ok(xs)
}

/// `sum(flat_items) / len(flat_items)`: an exact count of `True` over the count.
fn inst_level_acc(xs: &[f64]) -> f64 {
    xs.iter().filter(|x| **x == 1.0).count() as f64 / xs.len() as f64
}

fn mean(mode: PySum, xs: impl Iterator<Item = f64>, n: usize) -> f64 {
    let mut acc = PySumAcc::new(mode);
    for x in xs {
        acc.add(x);
    }
    acc.value() / n as f64
}

/// lm-eval's `nanmean`: NaN when empty or all NaN, else `np.nanmean`.
fn nanmean_lm_eval(xs: &[f64]) -> f64 {
    if xs.is_empty() || xs.iter().all(|x| x.is_nan()) {
        f64::NAN
    } else {
        numpy::nanmean(xs)
    }
}

/// `pooled_sample_stderr(stderrs, sizes)`:
/// `sqrt(sum((n_i - 1) * se_i**2 * n_i) / (sum(n_i) - k) / sum(n_i))`.
pub fn pooled_sample_stderr(mode: PySum, stderrs: &[f64], sizes: &[usize]) -> Option<f64> {
    let total: usize = sizes.iter().sum();
    let denom = total as i64 - sizes.len() as i64;
    if denom == 0 || total == 0 {
        return None;
    }
    let mut acc = PySumAcc::new(mode);
    for (&se, &n) in stderrs.iter().zip(sizes) {
        acc.add(((n as f64 - 1.0) * py_pow2(se)) * n as f64);
    }
    let var = acc.value() / denom as f64;
    Some((var / total as f64).sqrt())
}

/// 0.4.13's `unweighted_mean_stderr(stderrs) = sqrt(sum(se**2)) / k`.
pub fn unweighted_mean_stderr(mode: PySum, stderrs: &[f64]) -> Option<f64> {
    if stderrs.is_empty() {
        return None;
    }
    let mut acc = PySumAcc::new(mode);
    for &se in stderrs {
        acc.add(py_pow2(se));
    }
    Some(acc.value().sqrt() / stderrs.len() as f64)
}

/// `aggregate_subtask_metrics(metrics, sizes, weight_by_size)`:
/// `sum(m_i * n_i) / sum(n_i)` (every `n_i = 1` when not weighting).
pub fn aggregate_subtask_metrics(
    mode: PySum,
    metrics: &[f64],
    sizes: &[usize],
    weight_by_size: bool,
) -> Option<f64> {
    let sizes: Vec<usize> = if weight_by_size {
        sizes.to_vec()
    } else {
        vec![1; sizes.len()]
    };
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return None;
    }
    let mut acc = PySumAcc::new(mode);
    for (&m, &n) in metrics.iter().zip(&sizes) {
        acc.add(m * n as f64);
    }
    Some(acc.value() / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> NumericEnv {
        NumericEnv {
            py_sum: PySum::Sequential,
            numpy_exp: super::super::NumpyExp::Libm,
        }
    }

    fn floats(xs: &[f64]) -> Vec<MetricValue> {
        xs.iter().map(|&x| MetricValue::float(x)).collect()
    }

    #[test]
    fn mean_and_closed_form_stderr() {
        let (v, se) = aggregate_metric(
            "acc",
            Aggregation::Mean,
            &floats(&[1.0, 0.0, 1.0, 1.0]),
            100000,
            env(),
        )
        .unwrap();
        assert_eq!(v, 0.75);
        // sample sd 0.5, / sqrt(4)
        assert_eq!(se, StderrValue::Value(0.25));
        let (_, se) =
            aggregate_metric("acc", Aggregation::Mean, &floats(&[1.0]), 100000, env()).unwrap();
        assert_eq!(se, StderrValue::NotAvailable);
        let (_, se) =
            aggregate_metric("acc", Aggregation::Mean, &floats(&[1.0, 0.0]), 0, env()).unwrap();
        assert_eq!(se, StderrValue::NotAvailable);
    }

    #[test]
    fn weighted_and_bpb() {
        let vals = vec![
            MetricValue::LoglikelihoodCount {
                loglikelihood: -10.0,
                count: 5,
            },
            MetricValue::LoglikelihoodCount {
                loglikelihood: -20.0,
                count: 10,
            },
        ];
        let (v, se) = aggregate_metric(
            "word_perplexity",
            Aggregation::WeightedPerplexity,
            &vals,
            1000,
            env(),
        )
        .unwrap();
        assert_eq!(v, 2.0f64.exp());
        assert_eq!(se, StderrValue::NotAvailable);
        let (v, _) = aggregate_metric(
            "bits_per_byte",
            Aggregation::BitsPerByte,
            &vals,
            1000,
            env(),
        )
        .unwrap();
        assert_eq!(v, 2.0 / std::f64::consts::LN_2);
    }

    #[test]
    fn median_is_upper_and_bootstrap_runs() {
        let vals = floats(&[3.0, 1.0, 2.0, 4.0]);
        let (v, se) = aggregate_metric("m", Aggregation::Median, &vals, 2000, env()).unwrap();
        assert_eq!(v, 3.0);
        assert!(matches!(se, StderrValue::Value(x) if x > 0.0));
        let reps = bootstrap_replicates("m", Aggregation::Median, &vals, 2500, env()).unwrap();
        assert_eq!(
            reps.len(),
            2000,
            "iters not a multiple of 1000 drops the remainder"
        );
    }

    #[test]
    fn mcc_and_f1() {
        let pairs = [(1, 1), (0, 0), (1, 0), (0, 0), (1, 1)];
        let vals: Vec<MetricValue> = pairs
            .iter()
            .map(|&(g, p)| MetricValue::GoldPred {
                gold: Gold::Index(g),
                pred: p,
            })
            .collect();
        let (f1, _) = aggregate_metric("f1", Aggregation::F1, &vals, 0, env()).unwrap();
        assert_eq!(f1, 0.8); // tp=2, fn=1, fp=0 -> 4/5
        let (mcc, _) =
            aggregate_metric("mcc", Aggregation::MatthewsCorrcoef, &vals, 0, env()).unwrap();
        // tp=2 tn=2 fp=0 fn=1: (2*2-0*1)/sqrt(2*3*2*3)
        assert!((mcc - 4.0 / 6.0).abs() < 1e-15);
        let multi = vec![
            MetricValue::GoldPred {
                gold: Gold::Index(0),
                pred: 2,
            },
            MetricValue::GoldPred {
                gold: Gold::Index(1),
                pred: 1,
            },
        ];
        assert!(aggregate_metric("f1", Aggregation::F1, &multi, 0, env()).is_err());
    }

    #[test]
    fn pooled() {
        let se = pooled_sample_stderr(PySum::Sequential, &[0.1, 0.2], &[10, 20]).unwrap();
        let want = ((9.0 * 0.010000000000000002 * 10.0 + 19.0 * 0.04000000000000001 * 20.0)
            / 28.0
            / 30.0f64)
            .sqrt();
        assert!((se - want).abs() < 1e-15);
        assert!(pooled_sample_stderr(PySum::Sequential, &[0.1], &[1]).is_none());
    }
}
