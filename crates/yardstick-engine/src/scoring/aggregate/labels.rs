//! The label statistics lm-eval takes from sklearn and numpy: binary `f1_score`, `matthews_corrcoef` and
//! `brier_score`, over the per-document (gold, prediction) pairs.

use super::{Aggregation, Scratch};
use crate::scoring::{numpy, ScoringError};

/// sklearn's binary `f1_score` (pos_label=1) or `matthews_corrcoef` over (gold, pred) label indices.
pub(super) fn label_stat(
    aggregation: Aggregation,
    labels: &[i64],
    pairs: impl Iterator<Item = (usize, usize)>,
    s: &mut Scratch,
) -> Result<f64, ScoringError> {
    let l = labels.len();
    s.labels_true.clear();
    s.labels_true.resize(l, 0);
    s.labels_pred.clear();
    s.labels_pred.resize(l, 0);
    s.confusion.clear();
    s.confusion.resize(l * l, 0);
    let mut n = 0u64;
    for (g, p) in pairs {
        s.labels_true[g] += 1;
        s.labels_pred[p] += 1;
        s.confusion[g * l + p] += 1;
        n += 1;
    }
    let present: Vec<usize> = (0..l)
        .filter(|&i| s.labels_true[i] > 0 || s.labels_pred[i] > 0)
        .collect();
    let err = |why: String| ScoringError::Aggregation {
        metric: aggregation.as_str().into(),
        aggregation: aggregation.as_str().into(),
        why,
    };
    match aggregation {
        Aggregation::F1 => {
            if present.len() > 2 {
                return Err(err(format!(
                    "labels {:?} are multiclass; sklearn's binary f1_score raises",
                    present.iter().map(|&i| labels[i]).collect::<Vec<_>>()
                )));
            }
            let pos = labels.iter().position(|&x| x == 1);
            let pos_present = pos.map(|p| present.contains(&p)).unwrap_or(false);
            if !pos_present && present.len() >= 2 {
                return Err(err(
                    "pos_label=1 is not one of the labels; sklearn raises".into()
                ));
            }
            let (tp, ts, ps) = match pos {
                Some(p) if pos_present => (
                    s.confusion[p * l + p] as f64,
                    s.labels_true[p] as f64,
                    s.labels_pred[p] as f64,
                ),
                _ => (0.0, 0.0, 0.0),
            };
            let denom = 1.0 * ts + ps;
            Ok(if denom == 0.0 {
                0.0
            } else {
                (2.0 * tp) / denom
            })
        }
        _ => {
            // sklearn: confusion matrix over the present labels.
            let t_sum: Vec<f64> = present.iter().map(|&i| s.labels_true[i] as f64).collect();
            let p_sum: Vec<f64> = present.iter().map(|&i| s.labels_pred[i] as f64).collect();
            let n_correct: f64 = present.iter().map(|&i| s.confusion[i * l + i] as f64).sum();
            let n_samples = n as f64;
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
            let cov_ytyp = n_correct * n_samples - dot(&t_sum, &p_sum);
            let cov_ypyp = n_samples * n_samples - dot(&p_sum, &p_sum);
            let cov_ytyt = n_samples * n_samples - dot(&t_sum, &t_sum);
            if cov_ypyp * cov_ytyt == 0.0 {
                Ok(0.0)
            } else {
                Ok(cov_ytyp / (cov_ytyt * cov_ypyp).sqrt())
            }
        }
    }
}

/// lm-eval's `brier_score` aggregation: `mean(sum((probs - onehot(gold))**2, axis=1))` in numpy.
pub(super) fn brier(gold: &[i64], probs: &[Vec<f64>]) -> Result<f64, ScoringError> {
    let k = probs.first().map(|p| p.len()).unwrap_or(0);
    let err = |why: String| ScoringError::Aggregation {
        metric: "brier_score".into(),
        aggregation: "brier_score".into(),
        why,
    };
    if probs.iter().any(|p| p.len() != k) {
        return Err(err(
            "documents have different numbers of choices (numpy cannot stack them)".into(),
        ));
    }
    let mut rows = Vec::with_capacity(probs.len());
    for (g, p) in gold.iter().zip(probs) {
        let gi = if *g < 0 { *g + k as i64 } else { *g };
        if gi < 0 || gi >= k as i64 {
            return Err(err(format!(
                "gold {g} is out of range for {k} classes (numpy raises IndexError)"
            )));
        }
        let row: Vec<f64> = p
            .iter()
            .enumerate()
            .map(|(j, &x)| {
                let d = x - if j as i64 == gi { 1.0 } else { 0.0 };
                d * d
            })
            .collect();
        rows.push(numpy::sum(&row));
    }
    Ok(numpy::mean(&rows))
}
