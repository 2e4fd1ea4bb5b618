//! Small dense linear algebra by hand (≤ a few hundred columns): Cholesky factorisation and solves for
//! symmetric positive-definite matrices, and Householder QR for least squares. Row-major storage.

/// Cholesky factor L (lower triangular, row-major n×n) of a symmetric positive-definite `a`, or `None`
/// when a pivot is not positive relative to `rel_tol × max diagonal`.
pub(crate) fn cholesky(a: &[f64], n: usize, rel_tol: f64) -> Option<Vec<f64>> {
    debug_assert_eq!(a.len(), n * n);
    let max_diag = (0..n).map(|i| a[i * n + i].abs()).fold(0.0, f64::max);
    let tol = rel_tol * max_diag.max(f64::MIN_POSITIVE);
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if d.is_nan() || d <= tol || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        l[j * n + j] = d;
        for i in (j + 1)..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = s / d;
        }
    }
    Some(l)
}

/// Solve L Lᵀ x = b given the Cholesky factor.
pub(crate) fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = b.to_vec();
    for i in 0..n {
        let mut s = y[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in (i + 1)..n {
            s -= l[k * n + i] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    y
}

/// Inverse of an SPD matrix from its Cholesky factor.
pub(crate) fn cholesky_inverse(l: &[f64], n: usize) -> Vec<f64> {
    let mut inv = vec![0.0; n * n];
    let mut e = vec![0.0; n];
    for j in 0..n {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[j] = 1.0;
        let col = cholesky_solve(l, n, &e);
        for i in 0..n {
            inv[i * n + j] = col[i];
        }
    }
    // symmetrise against round-off
    for i in 0..n {
        for j in (i + 1)..n {
            let v = 0.5 * (inv[i * n + j] + inv[j * n + i]);
            inv[i * n + j] = v;
            inv[j * n + i] = v;
        }
    }
    inv
}

/// C = A·B·A for symmetric n×n A and B (the sandwich A B A).
pub(crate) fn sandwich(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut ab = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..n {
                ab[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let v = ab[i * n + k];
            if v == 0.0 {
                continue;
            }
            for j in 0..n {
                c[i * n + j] += v * a[k * n + j];
            }
        }
    }
    for i in 0..n {
        for j in (i + 1)..n {
            let v = 0.5 * (c[i * n + j] + c[j * n + i]);
            c[i * n + j] = v;
            c[j * n + i] = v;
        }
    }
    c
}

/// Householder QR least squares of an n×p (row-major) `a` against `b`.
/// Returns (β, R⁻¹ as p×p upper-triangular row-major) or the index of the first column found
/// (numerically) linearly dependent on the earlier ones.
pub(crate) fn qr_least_squares(
    a: &[f64],
    n: usize,
    p: usize,
    b: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), usize> {
    let mut r = a.to_vec();
    let mut qtb = b.to_vec();
    let col_norms: Vec<f64> = (0..p)
        .map(|j| (0..n).map(|i| r[i * p + j].powi(2)).sum::<f64>().sqrt())
        .collect();
    for j in 0..p {
        let norm = (j..n).map(|i| r[i * p + j].powi(2)).sum::<f64>().sqrt();
        if norm <= 1e-10 * col_norms[j].max(f64::MIN_POSITIVE) || norm == 0.0 {
            return Err(j);
        }
        let alpha = if r[j * p + j] > 0.0 { -norm } else { norm };
        // v = x − alpha e₁
        let mut v: Vec<f64> = (j..n).map(|i| r[i * p + j]).collect();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|x| x * x).sum();
        if vnorm2 > 0.0 {
            for k in j..p {
                let dot: f64 = v
                    .iter()
                    .enumerate()
                    .map(|(t, vi)| vi * r[(j + t) * p + k])
                    .sum();
                let f = 2.0 * dot / vnorm2;
                for (t, vi) in v.iter().enumerate() {
                    r[(j + t) * p + k] -= f * vi;
                }
            }
            let dot: f64 = v.iter().enumerate().map(|(t, vi)| vi * qtb[j + t]).sum();
            let f = 2.0 * dot / vnorm2;
            for (t, vi) in v.iter().enumerate() {
                qtb[j + t] -= f * vi;
            }
        }
        if r[j * p + j].abs() <= 1e-10 * col_norms[j] {
            return Err(j);
        }
    }
    // back-substitution for β
    let mut beta = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = qtb[i];
        for k in (i + 1)..p {
            s -= r[i * p + k] * beta[k];
        }
        beta[i] = s / r[i * p + i];
    }
    // R⁻¹ (upper triangular)
    let mut rinv = vec![0.0; p * p];
    for j in 0..p {
        rinv[j * p + j] = 1.0 / r[j * p + j];
        for i in (0..j).rev() {
            let mut s = 0.0;
            for k in (i + 1)..=j {
                s += r[i * p + k] * rinv[k * p + j];
            }
            rinv[i * p + j] = -s / r[i * p + i];
        }
    }
    Ok((beta, rinv))
}

/// (XᵀX)⁻¹ = R⁻¹ R⁻ᵀ from R⁻¹.
pub(crate) fn rinv_to_inverse(rinv: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            let mut s = 0.0;
            for k in i.max(j)..p {
                s += rinv[i * p + k] * rinv[j * p + k];
            }
            out[i * p + j] = s;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_spd_system() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let l = cholesky(&a, 3, 1e-12).expect("SPD");
        let x = cholesky_solve(&l, 3, &[1.0, 2.0, 3.0]);
        for i in 0..3 {
            let ax: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((ax - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let inv = cholesky_inverse(&l, 3);
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[1.0, 1.0, 1.0, 1.0], 2, 1e-12).is_none());
    }

    #[test]
    fn qr_detects_collinear_column() {
        let a = [1.0, 2.0, 4.0, 1.0, 3.0, 6.0, 1.0, 5.0, 10.0];
        assert_eq!(qr_least_squares(&a, 3, 3, &[1.0, 2.0, 3.0]).err(), Some(2));
    }
}
