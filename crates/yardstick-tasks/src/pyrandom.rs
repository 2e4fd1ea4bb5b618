//! A bit-exact port of CPython's `random.Random` (MT19937) for the parts lm-evaluation-harness uses
//! to pick few-shot examples: seeding from an integer, `random()`, `getrandbits(k)`, `_randbelow(n)`
//! and `sample(population, k)`.
//!
//! CPython seeds with `init_by_array` over the 32-bit little-endian chunks of `abs(seed)` (seed 0 gives
//! the one-word key `[0]`), draws `random()` from two 32-bit outputs (53 bits), and `_randbelow(n)` by
//! rejection over `getrandbits(n.bit_length())`. `sample` switches between a pool algorithm and a
//! set-of-selected-indices algorithm depending on the population size and `k`; both are reproduced
//! here, so the same seed selects the same items in the same order as Python.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// Python's `random.Random`, seeded with an integer.
#[derive(Clone)]
pub struct PyRandom {
    mt: Box<[u32; N]>,
    mti: usize,
}

impl std::fmt::Debug for PyRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyRandom")
            .field("mti", &self.mti)
            .finish_non_exhaustive()
    }
}

/// Why `sample` refused (Python raises `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Sample larger than population or is negative (population {population}, k {k})")]
pub struct SampleError {
    pub population: usize,
    pub k: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for a non-negative integer seed (Python uses `abs(seed)`).
    pub fn new(seed: u64) -> Self {
        let mut key: Vec<u32> = Vec::with_capacity(2);
        let mut s = seed;
        while s != 0 {
            key.push((s & 0xffff_ffff) as u32);
            s >>= 32;
        }
        if key.is_empty() {
            key.push(0);
        }
        Self::from_key(&key)
    }

    /// `random.Random(seed)` for a signed seed: Python seeds with `abs(seed)`.
    pub fn new_signed(seed: i64) -> Self {
        Self::new(seed.unsigned_abs())
    }

    fn init_genrand(s: u32) -> Box<[u32; N]> {
        let mut mt = Box::new([0u32; N]);
        mt[0] = s;
        for i in 1..N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        mt
    }

    /// `init_by_array(key)` exactly as in CPython's `_randommodule.c`.
    pub fn from_key(key: &[u32]) -> Self {
        let mut mt = Self::init_genrand(19_650_218);
        let key_length = key.len().max(1);
        let mut i: usize = 1;
        let mut j: usize = 0;
        let mut k = N.max(key_length);
        while k > 0 {
            let kj = key.get(j).copied().unwrap_or(0);
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(kj)
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key_length {
                j = 0;
            }
            k -= 1;
        }
        k = N - 1;
        while k > 0 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            k -= 1;
        }
        mt[0] = 0x8000_0000;
        PyRandom { mt, mti: N }
    }

    /// One 32-bit MT19937 output (`genrand_uint32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.mti >= N {
            let mag01 = [0u32, MATRIX_A];
            let mt = &mut self.mt;
            let mut kk = 0;
            while kk < N - M {
                let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M] ^ (y >> 1) ^ mag01[(y & 1) as usize];
                kk += 1;
            }
            while kk < N - 1 {
                let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M - N] ^ (y >> 1) ^ mag01[(y & 1) as usize];
                kk += 1;
            }
            let y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
            mt[N - 1] = mt[M - 1] ^ (y >> 1) ^ mag01[(y & 1) as usize];
            self.mti = 0;
        }
        let mut y = self.mt[self.mti];
        self.mti += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `random.random()`: a float in [0, 1) with 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `random.getrandbits(k)` for `k <= 64`.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits is implemented for k <= 64");
        if k == 0 {
            return 0;
        }
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k));
        }
        // Words are filled least significant first; the last (most significant) word keeps only the
        // top bits it needs.
        let low = u64::from(self.next_u32());
        let rest = k - 32;
        let high = u64::from(self.next_u32() >> (32 - rest));
        low | (high << 32)
    }

    /// `random._randbelow(n)` (`_randbelow_with_getrandbits`): uniform in `[0, n)` by rejection.
    /// `n == 0` returns 0 without consuming randomness.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = 64 - n.leading_zeros();
        let mut r = self.getrandbits(k);
        while r >= n {
            r = self.getrandbits(k);
        }
        r
    }

    /// `random.sample(range(n), k)`: the indices Python's `Random.sample` selects from a population of
    /// `n` items, in selection order.
    pub fn sample_indices(&mut self, n: usize, k: usize) -> Result<Vec<usize>, SampleError> {
        if k > n {
            return Err(SampleError { population: n, k });
        }
        let mut result = Vec::with_capacity(k);
        let mut setsize: usize = 21;
        if k > 5 {
            // 4 ** ceil(log(3k, 4)) computed the way CPython does: math.log(x, base) = log(x) / log(base).
            let e = ((k as f64 * 3.0).ln() / 4f64.ln()).ceil();
            setsize = setsize.saturating_add(4usize.saturating_pow(e as u32));
        }
        if n <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.randbelow((n - i) as u64) as usize;
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = std::collections::HashSet::with_capacity(k);
            for _ in 0..k {
                let mut j = self.randbelow(n as u64) as usize;
                while selected.contains(&j) {
                    j = self.randbelow(n as u64) as usize;
                }
                selected.insert(j);
                result.push(j);
            }
        }
        Ok(result)
    }

    /// `random.sample(population, k)` over a slice.
    pub fn sample<'a, T>(
        &mut self,
        population: &'a [T],
        k: usize,
    ) -> Result<Vec<&'a T>, SampleError> {
        Ok(self
            .sample_indices(population.len(), k)?
            .into_iter()
            .map(|i| &population[i])
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_first_outputs() {
        // python3 -c "import random; r=random.Random(1234); print([r.getrandbits(32) for _ in range(3)])"
        let mut r = PyRandom::new(1234);
        let got: Vec<u64> = (0..3).map(|_| r.getrandbits(32)).collect();
        assert_eq!(got, vec![4150886329, 3342196574, 1892932127]);
        // python3 -c "import random; print(random.Random(0).random())"
        assert_eq!(PyRandom::new(0).random(), 0.8444218515250481);
        // python3 -c "import random; print(random.Random(42).random())"
        assert_eq!(PyRandom::new(42).random(), 0.6394267984578837);
    }

    #[test]
    fn sample_too_large_is_an_error() {
        let mut r = PyRandom::new(1);
        assert_eq!(
            r.sample_indices(3, 4),
            Err(SampleError {
                population: 3,
                k: 4
            })
        );
        assert_eq!(r.sample_indices(3, 0), Ok(vec![]));
    }

    #[test]
    fn sample_returns_distinct_indices() {
        let mut r = PyRandom::new(7);
        for (n, k) in [(10, 10), (100, 6), (1000, 50), (22, 5), (21, 5)] {
            let s = r.sample_indices(n, k).unwrap();
            let set: std::collections::HashSet<_> = s.iter().collect();
            assert_eq!(set.len(), k);
            assert!(s.iter().all(|&i| i < n));
        }
    }
}
