//! A bit-exact port of CPython's `random.Random` (MT19937) for the parts lm-evaluation-harness uses:
//! seeding from an integer, `random()`, `getrandbits(k)`, `_randbelow(n)`, `sample(population, k)`
//! (few-shot selection) and `choices(population, k=n)` without weights (the bootstrap of standard
//! errors).
//!
//! CPython seeds with `init_by_array` over the 32-bit little-endian chunks of `abs(seed)` (seed 0 gives
//! the one-word key `[0]`), draws `random()` from two 32-bit outputs (53 bits), and `_randbelow(n)` by
//! rejection over `getrandbits(n.bit_length())`. `sample` switches between a pool algorithm and a
//! set-of-selected-indices algorithm depending on the population size and `k`; both are reproduced
//! here, so the same seed selects the same items in the same order as Python. `choices` without
//! weights picks `population[floor(random() * n)]` for each draw.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// Python's `random.Random`, seeded with an integer (or a raw `init_by_array` key).
#[derive(Clone)]
pub struct PyRandom {
    state: [u32; N],
    index: usize,
}

impl std::fmt::Debug for PyRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyRandom")
            .field("index", &self.index)
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
    /// `random.Random(seed)` for a non-negative integer seed that fits in 64 bits (CPython seeds from
    /// `abs(seed)`; see [`new_signed`](Self::new_signed)).
    pub fn new(seed: u64) -> Self {
        let key: Vec<u32> = if seed == 0 {
            vec![0]
        } else if seed >> 32 == 0 {
            vec![seed as u32]
        } else {
            vec![seed as u32, (seed >> 32) as u32]
        };
        Self::from_key(&key)
    }

    /// `random.Random(seed)` for a signed seed: Python seeds with `abs(seed)`.
    pub fn new_signed(seed: i64) -> Self {
        Self::new(seed.unsigned_abs())
    }

    /// Seed from an arbitrary little-endian array of 32-bit words, exactly as `init_by_array` in
    /// CPython's `_randommodule.c` (an empty key behaves like `[0]`).
    pub fn from_key(key: &[u32]) -> Self {
        let mut rng = PyRandom {
            state: [0; N],
            index: N,
        };
        rng.init_genrand(19_650_218);
        let mut i: usize = 1;
        let mut j: usize = 0;
        let key_len = key.len().max(1);
        let mut k = N.max(key_len);
        while k > 0 {
            let prev = rng.state[i - 1];
            let kj = key.get(j).copied().unwrap_or(0);
            rng.state[i] = (rng.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(kj)
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                rng.state[0] = rng.state[N - 1];
                i = 1;
            }
            if j >= key_len {
                j = 0;
            }
            k -= 1;
        }
        k = N - 1;
        while k > 0 {
            let prev = rng.state[i - 1];
            rng.state[i] = (rng.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                rng.state[0] = rng.state[N - 1];
                i = 1;
            }
            k -= 1;
        }
        rng.state[0] = 0x8000_0000;
        rng.index = N;
        rng
    }

    fn init_genrand(&mut self, s: u32) {
        self.state[0] = s;
        for i in 1..N {
            let prev = self.state[i - 1];
            self.state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn twist(&mut self) {
        let mt = &mut self.state;
        for kk in 0..N - M {
            let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + M] ^ (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A);
        }
        for kk in N - M..N - 1 {
            let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + M - N] ^ (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A);
        }
        let y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
        mt[N - 1] = mt[M - 1] ^ (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A);
        self.index = 0;
    }

    /// One tempered 32-bit MT19937 output (`genrand_uint32`).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `random.random()`: a float in [0, 1) with 53 random bits.
    #[inline]
    pub fn random(&mut self) -> f64 {
        // CPython: (a*67108864.0+b)*(1.0/9007199254740992.0) with a = draw>>5, b = draw>>6. The sum is
        // an integer below 2^53, so forming it in integers gives the identical double.
        let a = (self.next_u32() >> 5) as u64;
        let b = (self.next_u32() >> 6) as u64;
        ((a << 26) | b) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `random.getrandbits(k)` for `k <= 64` (panics above).
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

    /// The indices that `choices(population, k=k)` picks from a population of `n` items (no weights):
    /// `floor(random() * n)` each, written into `out` (cleared first).
    pub fn choices_indices(&mut self, n: usize, k: usize, out: &mut Vec<usize>) {
        out.clear();
        out.reserve(k);
        let nf = n as f64;
        for _ in 0..k {
            // floor() of a non-negative value: truncation
            out.push((self.random() * nf) as usize);
        }
    }

    /// `choices(population, k=k)` as indices, calling `f` for each pick in order. Avoids the
    /// allocation of [`choices_indices`](Self::choices_indices) in hot loops.
    #[inline]
    pub fn for_each_choice(&mut self, n: usize, k: usize, mut f: impl FnMut(usize)) {
        let nf = n as f64;
        for _ in 0..k {
            f((self.random() * nf) as usize);
        }
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
    fn reference_mt19937_sequence_for_seed_5489_array() {
        // The MT19937 reference implementation (mt19937ar.c) seeded with init_by_array({0x123, 0x234,
        // 0x345, 0x456}) starts with these outputs.
        let mut r = PyRandom::from_key(&[0x123, 0x234, 0x345, 0x456]);
        let first: Vec<u32> = (0..5).map(|_| r.next_u32()).collect();
        assert_eq!(
            first,
            vec![
                1_067_595_299,
                955_945_823,
                477_289_528,
                4_107_218_783,
                4_228_976_476
            ]
        );
    }

    #[test]
    fn python_random_seed_zero_known_value() {
        // python3 -c 'import random; print(repr(random.Random(0).random()))'
        let mut r = PyRandom::new(0);
        assert_eq!(r.random(), 0.844_421_851_525_048_1);
        // python3 -c 'import random; print(repr(random.Random(42).random()))'
        let mut r = PyRandom::new(42);
        assert_eq!(r.random(), 0.639_426_798_457_883_7);
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
