//! The numpy operations lm-evaluation-harness applies to per-sample values, reproduced bit for bit:
//! `np.argmax` (first maximum, first NaN wins), `np.sum`/`np.mean` of float64 (pairwise summation),
//! and `np.exp` of float64.
//!
//! `np.exp` is the delicate one: numpy's result depends on the CPU it runs on. On x86-64 with
//! AVX-512 (Skylake-X and later, "AVX512_SKX") numpy wheels call Intel SVML's `__svml_exp8_ha`, which
//! differs from the C library's `exp` in the last bit for about 5% of inputs; elsewhere numpy calls the
//! C library. [`NumpyExp::detect`] picks what numpy would pick on this machine; [`svml_exp`] is a
//! scalar re-implementation of that SVML routine (same table, same operation order and fused
//! multiply-adds), checked against numpy over millions of inputs by the tests.

/// Which `np.exp` float64 kernel to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumpyExp {
    /// Intel SVML `exp8_ha` (numpy on x86-64 with AVX512_SKX).
    Svml,
    /// The C library's `exp` (numpy everywhere else).
    Libm,
}

impl NumpyExp {
    /// What numpy selects on the machine this runs on.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512cd")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                return NumpyExp::Svml;
            }
        }
        NumpyExp::Libm
    }

    pub fn exp(self, x: f64) -> f64 {
        match self {
            NumpyExp::Svml => svml_exp(x),
            NumpyExp::Libm => x.exp(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NumpyExp::Svml => "svml",
            NumpyExp::Libm => "libm",
        }
    }
}

impl Default for NumpyExp {
    fn default() -> Self {
        NumpyExp::detect()
    }
}

/// `np.argmax` over a 1-D float array: the index of the first maximum; a NaN counts as the maximum,
/// so the first NaN's index is returned. `None` for an empty slice (numpy raises).
pub fn argmax(xs: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &x) in xs.iter().enumerate() {
        if x.is_nan() {
            return Some(i);
        }
        match best {
            None => best = Some((i, x)),
            Some((_, b)) if x > b => best = Some((i, x)),
            _ => {}
        }
    }
    best.map(|(i, _)| i)
}

/// `np.max` of a 1-D float array (NaN propagates). `None` for an empty slice.
pub fn max(xs: &[f64]) -> Option<f64> {
    let mut it = xs.iter().copied();
    let mut m = it.next()?;
    if m.is_nan() {
        return Some(m);
    }
    for x in it {
        if x.is_nan() {
            return Some(x);
        }
        if x > m {
            m = x;
        }
    }
    Some(m)
}

const PW_BLOCKSIZE: usize = 128;

/// numpy's `DOUBLE_pairwise_sum` (the kernel of `np.add.reduce` over a contiguous float64 axis).
fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= PW_BLOCKSIZE {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// `np.sum` of a 1-D float64 array (the reduction starts from the identity 0.0).
pub fn sum(a: &[f64]) -> f64 {
    0.0 + pairwise(a)
}

/// `np.mean` of a 1-D float64 array; NaN for an empty array (numpy warns and returns nan).
pub fn mean(a: &[f64]) -> f64 {
    sum(a) / a.len() as f64
}

/// `np.nanmean` of a 1-D float64 array: NaNs are replaced by 0 for the (pairwise) sum and left out of
/// the count.
pub fn nanmean(a: &[f64]) -> f64 {
    let cleaned: Vec<f64> = a
        .iter()
        .map(|&x| if x.is_nan() { 0.0 } else { x })
        .collect();
    let count = a.iter().filter(|x| !x.is_nan()).count();
    sum(&cleaned) / count as f64
}

/// `lm_eval.utils.softmax(x)`: `e = np.exp(x - np.max(x)); e / e.sum()`.
pub fn softmax(x: &[f64], exp: NumpyExp) -> Vec<f64> {
    let m = max(x).unwrap_or(f64::NAN);
    let e: Vec<f64> = x.iter().map(|&v| exp.exp(v - m)).collect();
    let s = sum(&e);
    e.iter().map(|&v| v / s).collect()
}

// ---------------------------------------------------------------------------------------------------
// SVML exp8_ha, one lane at a time.
//
// Main path (|x| < 707.70…): with N = x/ln2 rounded *toward zero* onto a 1/16 grid (a fused
// multiply-add against a shifter), j = the grid index mod 16 and r = x − N·ln2 (in two parts),
// exp(x) = 2^floor(N) · T[j]·(1 + r·P(r) + t[j]) with a degree-5 polynomial P and the 16-entry
// tables T[j] = 2^(j/16) (rounded) and t[j] (its correction). Other inputs take a scalar path with a
// 64-entry table and its own subnormal handling.

const SV_TOP: [u64; 16] = [
    0x3ff0000000000000,
    0x3ff0b5586cf9890f,
    0x3ff172b83c7d517b,
    0x3ff2387a6e756238,
    0x3ff306fe0a31b715,
    0x3ff3dea64c123422,
    0x3ff4bfdad5362a27,
    0x3ff5ab07dd485429,
    0x3ff6a09e667f3bcd,
    0x3ff7a11473eb0187,
    0x3ff8ace5422aa0db,
    0x3ff9c49182a3f090,
    0x3ffae89f995ad3ad,
    0x3ffc199bdd85529c,
    0x3ffd5818dcfba487,
    0x3ffea4afa2a490da,
];
const SV_TAIL: [u64; 16] = [
    0x0000000000000000,
    0x3c979aa65d837b6d,
    0xbc801b15eaa59348,
    0x3c968efde3a8a894,
    0x3c834d754db0abb6,
    0x3c859f48a72a4c6d,
    0x3c7690cebb7aafb0,
    0x3c9063e1e21c5409,
    0xbc93b3efbf5e2228,
    0xbc7b32dcb94da51d,
    0x3c8db72fc1f0eab4,
    0x3c71affc2b91ce27,
    0x3c8c1a7792cb3387,
    0x3c736eae30af0cb3,
    0x3c74a385a63d07a7,
    0xbc8ff7128fd391f0,
];
const SV_INV_LN2: u64 = 0x3ff71547652b82fe;
const SV_LN2_HI: u64 = 0x3fe62e42fefa39ef;
const SV_LN2_LO: u64 = 0x3c7abc9e3b39803f;
const SV_R_MASK: u64 = 0xbfffffffffffffff;
const SV_C5: u64 = 0x3f57411836940c04;
const SV_C4: u64 = 0x3f81101cbbc265c0;
const SV_C3: u64 = 0x3fa55557242d68fe;
const SV_C2: u64 = 0x3fc5555553939732;
const SV_C1: u64 = 0x3fe000000000d008;
const SV_C0: u64 = 0x3fefffffffffff70;
const SV_THRESHOLD: u64 = 0x40861da04cbafe44;

#[inline]
fn f(bits: u64) -> f64 {
    f64::from_bits(bits)
}

/// Decompose a finite double into (sign * integer mantissa, binary exponent): x = m · 2^e.
#[inline]
fn decompose(x: f64) -> (i128, i32) {
    let bits = x.to_bits();
    let sign = if bits >> 63 != 0 { -1i128 } else { 1 };
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i128;
    if exp == 0 {
        (sign * frac, -1074)
    } else {
        (sign * (frac | (1i128 << 52)), exp - 1075)
    }
}

/// floor(16 · (x · INV_LN2)) computed exactly: the grid index that SVML's round-toward-zero FMA
/// `x · INV_LN2 + 0x42f8000000003ff0` (a positive shifter of size 1.5·2^48 whose ulp is 1/16) leaves in
/// the low bits of its result.
#[inline]
fn grid_floor_16(x: f64) -> i64 {
    let (mx, ex) = decompose(x);
    let (ma, ea) = decompose(f(SV_INV_LN2));
    let prod = mx * ma; // |prod| < 2^106
    let k = ex + ea + 4; // value·16 = prod · 2^k
    if k >= 0 {
        // |x| < 708 here, so this cannot overflow.
        (prod << k) as i64
    } else {
        let sh = -k;
        if sh >= 127 {
            if prod < 0 {
                -1
            } else {
                0
            }
        } else {
            (prod >> sh) as i64 // arithmetic shift = floor
        }
    }
}

/// Scalar equivalent of one lane of SVML `__svml_exp8_ha`.
pub fn svml_exp(x: f64) -> f64 {
    if x.is_nan() {
        return x + x;
    }
    if x.abs() >= f(SV_THRESHOLD) {
        return svml_exp_rare(x);
    }
    let g = grid_floor_16(x);
    let j = g.rem_euclid(16) as usize;
    let m = g.div_euclid(16);
    let n = g as f64 / 16.0; // exact
    let r1 = (-n).mul_add(f(SV_LN2_HI), x);
    let r = (-f(SV_LN2_LO)).mul_add(n, r1);
    let r = f(r.to_bits() & SV_R_MASK);
    let r2 = r * r;
    let p = f(SV_C5).mul_add(r, f(SV_C4));
    let q = f(SV_C3).mul_add(r, f(SV_C2));
    let t = f(SV_C1).mul_add(r, f(SV_C0));
    let p = r2.mul_add(p, q);
    let p = r2.mul_add(p, t);
    let top = f(SV_TOP[j]);
    let y = p.mul_add(r, f(SV_TAIL[j]));
    let y = top.mul_add(y, top);
    // |x| < 707.7 keeps m within the normal exponent range: the scaling is exact.
    y * f((((m + 1023) as u64) & 0x7ff) << 52)
}

// Scalar fallback table (`_imldExpHATab`): 64 pairs (2^(j/64) high, low) then constants.
const RARE_TAB: [u64; 128] = [
    0x3ff0000000000000,
    0x0000000000000000,
    0x3ff02c9a3e778061,
    0xbc7160139cd8dc5d,
    0x3ff059b0d3158574,
    0x3c8cd2523567f613,
    0x3ff0874518759bc8,
    0x3c60f74e61e6c861,
    0x3ff0b5586cf9890f,
    0x3c979aa65d837b6d,
    0x3ff0e3ec32d3d1a2,
    0x3c3ebe3d702f9cd1,
    0x3ff11301d0125b51,
    0xbc9556522a2fbd0e,
    0x3ff1429aaea92de0,
    0xbc91c923b9d5f416,
    0x3ff172b83c7d517b,
    0xbc801b15eaa59348,
    0x3ff1a35beb6fcb75,
    0x3c8b898c3f1353bf,
    0x3ff1d4873168b9aa,
    0x3c9aecf73e3a2f60,
    0x3ff2063b88628cd6,
    0x3c8a6f4144a6c38d,
    0x3ff2387a6e756238,
    0x3c968efde3a8a894,
    0x3ff26b4565e27cdd,
    0x3c80472b981fe7f2,
    0x3ff29e9df51fdee1,
    0x3c82f7e16d09ab31,
    0x3ff2d285a6e4030b,
    0x3c8b3782720c0ab4,
    0x3ff306fe0a31b715,
    0x3c834d754db0abb6,
    0x3ff33c08b26416ff,
    0x3c8fdd395dd3f84a,
    0x3ff371a7373aa9cb,
    0xbc924aedcc4b5068,
    0x3ff3a7db34e59ff7,
    0xbc71d1e83e9436d2,
    0x3ff3dea64c123422,
    0x3c859f48a72a4c6d,
    0x3ff4160a21f72e2a,
    0xbc58a78f4817895b,
    0x3ff44e086061892d,
    0x3c4363ed60c2ac11,
    0x3ff486a2b5c13cd0,
    0x3c6ecce1daa10379,
    0x3ff4bfdad5362a27,
    0x3c7690cebb7aafb0,
    0x3ff4f9b2769d2ca7,
    0xbc8f94340071a38e,
    0x3ff5342b569d4f82,
    0xbc78dec6bd0f385f,
    0x3ff56f4736b527da,
    0x3c93350518fdd78e,
    0x3ff5ab07dd485429,
    0x3c9063e1e21c5409,
    0x3ff5e76f15ad2148,
    0x3c9432e62b64c035,
    0x3ff6247eb03a5585,
    0xbc8c33c53bef4da8,
    0x3ff6623882552225,
    0xbc93cedd78565858,
    0x3ff6a09e667f3bcd,
    0xbc93b3efbf5e2228,
    0x3ff6dfb23c651a2f,
    0xbc6367efb86da9ee,
    0x3ff71f75e8ec5f74,
    0xbc781f647e5a3ecf,
    0x3ff75feb564267c9,
    0xbc8619321e55e68a,
    0x3ff7a11473eb0187,
    0xbc7b32dcb94da51d,
    0x3ff7e2f336cf4e62,
    0x3c65ebe1abd66c55,
    0x3ff82589994cce13,
    0xbc9369b6f13b3734,
    0x3ff868d99b4492ed,
    0xbc94d450d872576e,
    0x3ff8ace5422aa0db,
    0x3c8db72fc1f0eab4,
    0x3ff8f1ae99157736,
    0x3c7bf68359f35f44,
    0x3ff93737b0cdc5e5,
    0xbc5da9b88b6c1e29,
    0x3ff97d829fde4e50,
    0xbc92434322f4f9aa,
    0x3ff9c49182a3f090,
    0x3c71affc2b91ce27,
    0x3ffa0c667b5de565,
    0xbc87c50422622263,
    0x3ffa5503b23e255d,
    0xbc91bbd1d3bcbb15,
    0x3ffa9e6b5579fdbf,
    0x3c8469846e735ab3,
    0x3ffae89f995ad3ad,
    0x3c8c1a7792cb3387,
    0x3ffb33a2b84f15fb,
    0xbc55c3d956dcaeba,
    0x3ffb7f76f2fb5e47,
    0xbc68d6f438ad9334,
    0x3ffbcc1e904bc1d2,
    0x3c74ffd70a5fddcd,
    0x3ffc199bdd85529c,
    0x3c736eae30af0cb3,
    0x3ffc67f12e57d14b,
    0x3c84e08fd10959ac,
    0x3ffcb720dcef9069,
    0x3c676b2c6c921968,
    0x3ffd072d4a07897c,
    0xbc8fad5d3ffffa6f,
    0x3ffd5818dcfba487,
    0x3c74a385a63d07a7,
    0x3ffda9e603db3285,
    0x3c8e5a50d5c192ac,
    0x3ffdfc97337b9b5f,
    0xbc82d52107b43e1f,
    0x3ffe502ee78b3ff6,
    0x3c74b604603a88d3,
    0x3ffea4afa2a490da,
    0xbc8ff7128fd391f0,
    0x3ffefa1bee615a27,
    0x3c8ec3bc41aa2008,
    0x3fff50765b6e4540,
    0x3c8a64a931d185ee,
    0x3fffa7c1819e90d8,
    0x3c77893b4d91cd9d,
];
const RARE_INV_LN2_64: u64 = 0x40571547652b82fe;
const RARE_SHIFTER: u64 = 0x4338000000000000;
const RARE_C2: u64 = 0x3fe0000000000000;
const RARE_C3: u64 = 0x3fc55555555548f8;
const RARE_C4: u64 = 0x3fa5555555558fcc;
const RARE_C5: u64 = 0x3f8111123aaf20d3;
const RARE_C6: u64 = 0x3f56c16a1c2a3ffd;
const RARE_OVERFLOW: u64 = 0x40862e42fefa39ef;
const RARE_SUBNORMAL: u64 = 0xc086232bdd7abcd2;
const RARE_UNDERFLOW: u64 = 0xc0874910d52d3051;
const RARE_LN2_64_HI: u64 = 0x3f862e42fefa0000;
const RARE_LN2_64_LO: u64 = 0x3d1cf79abc9e3b3a;
const RARE_TINY: u64 = 0x0010000000000001;
const RARE_HUGE: u64 = 0x7fefffffffffffff;
const RARE_TWO_M60: u64 = 0x3c30000000000000;
const RARE_SPLITTER: u64 = 0x41f8000000000000;

fn svml_exp_rare(x: f64) -> f64 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as u32;
    if biased == 0x7ff {
        let negative = bits >> 63 != 0;
        let mantissa = bits & ((1u64 << 52) - 1);
        if negative && mantissa == 0 {
            return 0.0;
        }
        return x * x;
    }
    if biased <= 0x3ca {
        return 1.0 + x;
    }
    if x > f(RARE_OVERFLOW) {
        return f(RARE_HUGE) * f(RARE_HUGE);
    }
    if x < f(RARE_UNDERFLOW) {
        return f(RARE_TINY) * f(RARE_TINY);
    }
    let t = x * f(RARE_INV_LN2_64);
    let s = t + f(RARE_SHIFTER);
    let n32 = s.to_bits() as u32;
    let j = (n32 & 0x3f) as usize;
    let hi_bits = n32 >> 6;
    let nd = s - f(RARE_SHIFTER);
    let mut r = x - nd * f(RARE_LN2_64_HI);
    r -= nd * f(RARE_LN2_64_LO);
    let mut p = f(RARE_C6) * r;
    p += f(RARE_C5);
    p *= r;
    p += f(RARE_C4);
    p *= r;
    p += f(RARE_C3);
    p *= r;
    p += f(RARE_C2);
    p *= r;
    p *= r;
    p += r;
    p += f(RARE_TAB[2 * j + 1]);
    let hi = f(RARE_TAB[2 * j]);
    p *= hi;
    if x < f(RARE_SUBNORMAL) {
        let e2 = hi_bits.wrapping_add(0x43b) & 0x7ff;
        let scale = f((e2 as u64) << 52);
        let p2 = p * scale;
        let sh = scale * hi;
        let a = sh + p2;
        if e2 > 0x32 {
            let lo = (sh - a) + p2;
            let c = a * f(RARE_SPLITTER);
            let d = a + c;
            let e = d - c;
            let mut ff = a - e;
            ff += lo;
            let e = e * f(RARE_TWO_M60);
            let ff = ff * f(RARE_TWO_M60);
            e + ff
        } else {
            a * f(RARE_TWO_M60)
        }
    } else {
        let e = hi_bits.wrapping_add(0x3ff) & 0x7ff;
        p += hi;
        if e > 0x7fe {
            let e2 = (e - 1) & 0x7ff;
            p * f((e2 as u64) << 52) * 2.0
        } else {
            p * f((e as u64) << 52)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_first_max_and_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[1.0, f64::NAN, 5.0, f64::NAN]), Some(1));
        assert_eq!(argmax(&[-0.0, 0.0]), Some(0));
        assert_eq!(argmax(&[]), None);
    }

    #[test]
    fn pairwise_blocks() {
        let xs: Vec<f64> = (0..300).map(|i| (i as f64) * 0.1).collect();
        let s = sum(&xs);
        assert!((s - 4485.0).abs() < 1e-9);
    }

    #[test]
    fn svml_exp_simple_values() {
        assert_eq!(svml_exp(0.0), 1.0);
        assert_eq!(svml_exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(svml_exp(f64::NEG_INFINITY), 0.0);
        assert!(svml_exp(f64::NAN).is_nan());
        assert_eq!(svml_exp(-800.0), 0.0);
        assert_eq!(svml_exp(800.0), f64::INFINITY);
        for x in [-10.0f64, -1.0, 0.5, 1.0, 3.25, 100.0, -700.0] {
            let rel = (svml_exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-15, "exp({x})");
        }
    }
}
