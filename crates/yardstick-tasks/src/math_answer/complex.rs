//! Just enough complex arithmetic (principal branches) to evaluate parsed answers at sample points.

use std::ops::{Add, Div, Mul, Neg, Sub};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct C {
    pub re: f64,
    pub im: f64,
}

pub const I: C = C { re: 0.0, im: 1.0 };

impl C {
    pub fn new(re: f64, im: f64) -> C {
        C { re, im }
    }
    pub fn real(re: f64) -> C {
        C { re, im: 0.0 }
    }
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }
    pub fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }
    pub fn conj(self) -> C {
        C::new(self.re, -self.im)
    }
    pub fn exp(self) -> C {
        let m = self.re.exp();
        C::new(m * self.im.cos(), m * self.im.sin())
    }
    pub fn ln(self) -> C {
        C::new(self.abs().ln(), self.im.atan2(self.re))
    }
    pub fn sqrt(self) -> C {
        if self.re == 0.0 && self.im == 0.0 {
            return C::real(0.0);
        }
        let r = self.abs();
        let re = ((r + self.re) / 2.0).sqrt();
        let im = ((r - self.re) / 2.0).sqrt();
        C::new(re, if self.im < 0.0 { -im } else { im })
    }
    /// Principal `self^e`; `None` for 0 to a power with non-positive real part.
    pub fn pow(self, e: C) -> Option<C> {
        if self.re == 0.0 && self.im == 0.0 {
            return (e.re > 0.0).then_some(C::real(0.0));
        }
        Some((e * self.ln()).exp())
    }
    pub fn sin(self) -> C {
        C::new(
            self.re.sin() * self.im.cosh(),
            self.re.cos() * self.im.sinh(),
        )
    }
    pub fn cos(self) -> C {
        C::new(
            self.re.cos() * self.im.cosh(),
            -self.re.sin() * self.im.sinh(),
        )
    }
    pub fn sinh(self) -> C {
        (self.exp() - (-self).exp()) / C::real(2.0)
    }
    pub fn cosh(self) -> C {
        (self.exp() + (-self).exp()) / C::real(2.0)
    }
    pub fn asin(self) -> C {
        // -i ln(iz + sqrt(1 - z^2))
        -I * (I * self + (C::real(1.0) - self * self).sqrt()).ln()
    }
    pub fn acos(self) -> C {
        C::real(std::f64::consts::FRAC_PI_2) - self.asin()
    }
    pub fn atan(self) -> C {
        // (i/2) ln((i + z)/(i - z))
        (I / C::real(2.0)) * ((I + self) / (I - self)).ln()
    }
    pub fn asinh(self) -> C {
        (self + (self * self + C::real(1.0)).sqrt()).ln()
    }
    pub fn acosh(self) -> C {
        (self + (self + C::real(1.0)).sqrt() * (self - C::real(1.0)).sqrt()).ln()
    }
    pub fn atanh(self) -> C {
        ((C::real(1.0) + self) / (C::real(1.0) - self)).ln() / C::real(2.0)
    }
}

impl Add for C {
    type Output = C;
    fn add(self, o: C) -> C {
        C::new(self.re + o.re, self.im + o.im)
    }
}
impl Sub for C {
    type Output = C;
    fn sub(self, o: C) -> C {
        C::new(self.re - o.re, self.im - o.im)
    }
}
impl Mul for C {
    type Output = C;
    fn mul(self, o: C) -> C {
        C::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}
impl Div for C {
    type Output = C;
    fn div(self, o: C) -> C {
        let d = o.re * o.re + o.im * o.im;
        C::new(
            (self.re * o.re + self.im * o.im) / d,
            (self.im * o.re - self.re * o.im) / d,
        )
    }
}
impl Neg for C {
    type Output = C;
    fn neg(self) -> C {
        C::new(-self.re, -self.im)
    }
}
