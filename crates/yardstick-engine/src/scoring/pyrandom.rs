//! A bit-exact port of the parts of CPython's `random.Random` that lm-evaluation-harness's bootstrap
//! uses: MT19937 seeded from an integer (`init_by_array` over the 32-bit chunks of `abs(seed)`),
//! `random()` (53 bits from two 32-bit draws) and `choices(population, k=n)` without weights
//! (`population[floor(random() * n)]`).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// Python's `random.Random`, restricted to what the bootstrap needs.
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

impl PyRandom {
    /// `random.Random(seed)` for a non-negative integer seed that fits in 64 bits (CPython seeds from
    /// `abs(seed)`, so a negative seed behaves like its absolute value; pass that instead).
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

    /// Seed from an arbitrary little-endian array of 32-bit words (CPython's `init_by_array`).
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
            mt[kk] = mt[kk + M - N] ^ (y >> 1) ^ (if y & 1 != 0 { MATRIX_A } else { 0 });
        }
        let y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
        mt[N - 1] = mt[M - 1] ^ (y >> 1) ^ (if y & 1 != 0 { MATRIX_A } else { 0 });
        self.index = 0;
    }

    /// One tempered 32-bit output (`genrand_uint32`).
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

    /// `random.getrandbits(k)` for `k <= 32`.
    pub fn getrandbits32(&mut self, k: u32) -> u32 {
        if k == 0 {
            return 0;
        }
        self.next_u32() >> (32 - k.min(32))
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

    /// `choices(population, k=len(population))` as indices, calling `f` for each pick in order. Avoids
    /// the allocation of [`choices_indices`](Self::choices_indices) in hot loops.
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
}
