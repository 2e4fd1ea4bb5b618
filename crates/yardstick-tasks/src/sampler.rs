//! Few-shot samplers (lm-eval `lm_eval/api/samplers.py`), bit-exact with Python.
//!
//! - `default`: one `random.Random(fewshot_seed)` per task, consumed in eval-doc order. For each doc,
//!   `rnd.sample(pool, n)`; when the few-shot split is the eval split (`None == None` counts), it draws
//!   `n + 1`, removes the eval doc by equality and keeps the first `n` (0.4.13: if duplicates of the
//!   eval doc left fewer than `n`, it draws `n` again from the pool without any copy of it).
//! - `first_n`: the first `n` pool docs in order (the eval doc removed when the splits are the same).
//!
//! Samplers return indices into the pool as given (the few-shot split after `process_docs`), so the
//! chosen shots can be recorded per doc.

use yardstick_core::Doc;

use crate::config::SamplerKind;
use yardstick_core::python::random::PyRandom;

/// A sampler with its RNG state.
#[derive(Clone, Debug)]
pub struct Sampler {
    kind: SamplerKind,
    rng: PyRandom,
    /// `fewshot_config.fewshot_indices`: the default sampler draws from this subset of the pool.
    subset: Option<Vec<usize>>,
}

/// Why no shots could be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("no documents available for few-shot sampling")]
    EmptyPool,
    #[error("{requested} few-shot examples requested but the pool has {available}")]
    TooFew { requested: usize, available: usize },
    #[error("fewshot_indices refer to doc {index} but the pool has {len}")]
    BadIndex { index: usize, len: usize },
}

impl Sampler {
    pub fn new(kind: SamplerKind, seed: u64, fewshot_indices: Option<Vec<usize>>) -> Self {
        Sampler {
            kind,
            rng: PyRandom::new(seed),
            subset: fewshot_indices.filter(|v| !v.is_empty()),
        }
    }

    /// The indices (into `pool`) of the `n` shots for one eval doc. `eval_doc` is the doc being
    /// evaluated when the few-shot split equals the eval split (it is then excluded), else `None`.
    pub fn sample(
        &mut self,
        n: usize,
        pool: &[Doc],
        eval_doc: Option<&Doc>,
    ) -> Result<Vec<usize>, SampleError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        match self.kind {
            SamplerKind::FirstN => {
                // lm-eval's FirstNSampler reads `self.df` directly: fewshot_indices do not apply.
                let kept: Vec<usize> = match eval_doc {
                    Some(d) => (0..pool.len()).filter(|&i| pool[i] != *d).collect(),
                    None => (0..pool.len()).collect(),
                };
                if n > kept.len() {
                    return Err(SampleError::TooFew {
                        requested: n,
                        available: kept.len(),
                    });
                }
                Ok(kept[..n].to_vec())
            }
            SamplerKind::Default => {
                if pool.is_empty() {
                    return Err(SampleError::EmptyPool);
                }
                let population: Vec<usize> = match &self.subset {
                    Some(idx) => {
                        if let Some(&bad) = idx.iter().find(|&&i| i >= pool.len()) {
                            return Err(SampleError::BadIndex {
                                index: bad,
                                len: pool.len(),
                            });
                        }
                        idx.clone()
                    }
                    None => (0..pool.len()).collect(),
                };
                // `if not eval_doc`: an empty dict counts as no eval doc.
                let exclude = eval_doc.filter(|d| !d.is_empty());
                let k = if exclude.is_some() { n + 1 } else { n };
                let picked = self.rng.sample_indices(population.len(), k).map_err(|e| {
                    SampleError::TooFew {
                        requested: e.k,
                        available: e.population,
                    }
                })?;
                let mut out: Vec<usize> = picked.into_iter().map(|i| population[i]).collect();
                if let Some(d) = exclude {
                    out.retain(|&i| pool[i] != *d);
                    out.truncate(n);
                    if out.len() < n {
                        // lm-eval 0.4.13: more than one copy of the eval doc was drawn (duplicate rows);
                        // resample n from the pool with every copy removed.
                        let kept: Vec<usize> = population
                            .iter()
                            .copied()
                            .filter(|&i| pool[i] != *d)
                            .collect();
                        let picked = self.rng.sample_indices(kept.len(), n).map_err(|e| {
                            SampleError::TooFew {
                                requested: e.k,
                                available: e.population,
                            }
                        })?;
                        out = picked.into_iter().map(|i| kept[i]).collect();
                    }
                }
                if out.len() != n {
                    return Err(SampleError::TooFew {
                        requested: n,
                        available: out.len(),
                    });
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn docs(n: usize) -> Vec<Doc> {
        (0..n)
            .map(|i| json!({"i": i}).as_object().cloned().unwrap())
            .collect()
    }

    #[test]
    fn first_n_in_order_and_excludes_eval_doc() {
        let pool = docs(6);
        let mut s = Sampler::new(SamplerKind::FirstN, 1234, None);
        assert_eq!(s.sample(3, &pool, None).unwrap(), vec![0, 1, 2]);
        assert_eq!(s.sample(3, &pool, Some(&pool[1])).unwrap(), vec![0, 2, 3]);
        assert!(s.sample(7, &pool, None).is_err());
    }

    #[test]
    fn default_matches_python_sample() {
        // python3 -c "import random; r=random.Random(1234); print(r.sample(range(10), 3), r.sample(range(10), 3))"
        let pool = docs(10);
        let mut s = Sampler::new(SamplerKind::Default, 1234, None);
        let a = s.sample(3, &pool, None).unwrap();
        let b = s.sample(3, &pool, None).unwrap();
        let mut r = PyRandom::new(1234);
        assert_eq!(a, r.sample_indices(10, 3).unwrap());
        assert_eq!(b, r.sample_indices(10, 3).unwrap());
    }

    #[test]
    fn duplicate_eval_docs_trigger_a_resample() {
        // Pool: 0,1,2 are copies of the eval doc; 3,4 differ. n = 2.
        let mut pool = docs(5);
        for i in 1..3 {
            pool[i] = pool[0].clone();
        }
        let eval = pool[0].clone();
        for seed in 0..50u64 {
            let mut reference = PyRandom::new(seed);
            let first = reference.sample_indices(5, 3).unwrap();
            let kept: Vec<usize> = first.iter().copied().filter(|&i| i >= 3).collect();
            let expected = if kept.len() >= 2 {
                kept[..2].to_vec()
            } else {
                let again = reference.sample_indices(2, 2).unwrap();
                again.into_iter().map(|i| [3, 4][i]).collect()
            };
            let mut s = Sampler::new(SamplerKind::Default, seed, None);
            assert_eq!(
                s.sample(2, &pool, Some(&eval)).unwrap(),
                expected,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn default_draws_one_more_and_drops_eval_doc() {
        let pool = docs(10);
        let mut reference = PyRandom::new(7);
        let drawn = reference.sample_indices(10, 4).unwrap();
        let eval = pool[drawn[1]].clone();
        let mut s = Sampler::new(SamplerKind::Default, 7, None);
        let got = s.sample(3, &pool, Some(&eval)).unwrap();
        assert_eq!(got, vec![drawn[0], drawn[2], drawn[3]]);
    }
}
