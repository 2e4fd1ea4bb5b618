//! Parsed answers and their values: exact rationals while the arithmetic allows, complex floats
//! otherwise, with free symbols and undefined functions given deterministic sample values.

use super::complex::C;

/// A function node.
#[derive(Clone, Debug, PartialEq)]
pub enum Fun {
    /// sin, cos, …, asin, …, sinh, …, exp (sympy names).
    Elementary(&'static str),
    /// `log(arg, base)`: arguments `[arg, base]`.
    Log,
    Sqrt,
    /// `root(base, n)`.
    Root,
    Abs,
    Floor,
    Ceiling,
    Factorial,
    Binomial,
    Conjugate,
    /// `f(x)` for a letter or command `f`: an undefined function.
    Undefined(String),
}

/// An answer as sympy's LaTeX converter would build it.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Digits of an integer.
    Int(String),
    /// A decimal (sympy `Float`, 53-bit).
    Float(String),
    Sym(String),
    /// sympy `oo`.
    Infinity,
    /// Euler's number (the base of `\ln`/`\log`; the letter `e` is a plain symbol).
    E,
    Add(Vec<Node>),
    Mul(Vec<Node>),
    Pow(Box<Node>, Box<Node>),
    Call(Fun, Vec<Node>),
    /// A relation (`=`, `<`, `\le`, …): sympy cannot subtract these.
    Rel(&'static str, Box<Node>, Box<Node>),
}

impl Node {
    pub fn negated(n: Node) -> Node {
        Node::Mul(vec![Node::Int("-1".into()), n])
    }
    pub fn inv(n: Node) -> Node {
        Node::Pow(Box::new(n), Box::new(Node::Int("-1".into())))
    }

    fn children(&self) -> Vec<&Node> {
        match self {
            Node::Add(v) | Node::Mul(v) | Node::Call(_, v) => v.iter().collect(),
            Node::Pow(a, b) | Node::Rel(_, a, b) => vec![a, b],
            _ => Vec::new(),
        }
    }

    /// Whether the tree contains a free symbol (sympy `atoms(Symbol)` non-empty).
    pub fn has_symbols(&self) -> bool {
        matches!(self, Node::Sym(_)) || self.children().iter().any(|c| c.has_symbols())
    }
    /// Whether the tree contains a decimal literal (a sympy `Float`).
    pub fn has_float(&self) -> bool {
        matches!(self, Node::Float(_)) || self.children().iter().any(|c| c.has_float())
    }
    /// The texts of every decimal literal in the tree.
    pub fn float_literals(&self) -> Vec<&str> {
        match self {
            Node::Float(s) => vec![s.as_str()],
            _ => self
                .children()
                .into_iter()
                .flat_map(Node::float_literals)
                .collect(),
        }
    }
    /// `(negative, text)` when the whole tree is one decimal literal, possibly negated.
    pub fn as_float_literal(&self) -> Option<(bool, &str)> {
        match self {
            Node::Float(s) => Some((false, s)),
            Node::Mul(v) if v.len() == 2 && v[0] == Node::Int("-1".into()) => match &v[1] {
                Node::Float(s) => Some((true, s)),
                _ => None,
            },
            _ => None,
        }
    }
    pub fn has_infinity(&self) -> bool {
        matches!(self, Node::Infinity) || self.children().iter().any(|c| c.has_infinity())
    }
    pub fn is_relation(&self) -> bool {
        matches!(self, Node::Rel(..))
    }

    /// A stable text for a subscript (used in symbol names).
    pub fn canonical(&self) -> String {
        match self {
            Node::Int(s) | Node::Float(s) | Node::Sym(s) => s.clone(),
            Node::Infinity => "oo".into(),
            Node::E => "E".into(),
            Node::Add(v) => join(v, " + "),
            Node::Mul(v) => join(v, "*"),
            Node::Pow(a, b) => format!("({})**({})", a.canonical(), b.canonical()),
            Node::Call(f, v) => format!("{f:?}({})", join(v, ", ")),
            Node::Rel(op, a, b) => format!("{} {op} {}", a.canonical(), b.canonical()),
        }
    }
}

fn join(v: &[Node], sep: &str) -> String {
    v.iter().map(Node::canonical).collect::<Vec<_>>().join(sep)
}

/// sympy's `convert_func` for `\sin`, `\log_b`, `\sin^{-1}`, `\ln^2`, …
pub(crate) fn named_call(
    name: &'static str,
    arg: Node,
    sub: Option<Node>,
    sup: Option<Node>,
) -> Node {
    let elementary = |n: &'static str, a: Node| Node::Call(Fun::Elementary(n), vec![a]);
    let is_minus_one = matches!(&sup, Some(Node::Mul(v)) if v.len() == 2
        && v[0] == Node::Int("-1".into()) && v[1] == Node::Int("1".into()));
    let mut should_pow = true;
    let expr = match name {
        "arcsin" => elementary("asin", arg),
        "arccos" => elementary("acos", arg),
        "arctan" => elementary("atan", arg),
        "arccsc" => elementary("acsc", arg),
        "arcsec" => elementary("asec", arg),
        "arccot" => elementary("acot", arg),
        "arsinh" => elementary("asinh", arg),
        "arcosh" => elementary("acosh", arg),
        "artanh" => elementary("atanh", arg),
        "exp" => elementary("exp", arg),
        "log" | "lg" | "ln" => {
            let base = match sub {
                Some(b) => b,
                None if name == "lg" => Node::Int("10".into()),
                None => Node::E,
            };
            Node::Call(Fun::Log, vec![arg, base])
        }
        trig => {
            let inverse = is_minus_one;
            if inverse {
                should_pow = false;
            }
            let n: &'static str = match (trig, inverse) {
                ("sin", true) => "asin",
                ("cos", true) => "acos",
                ("tan", true) => "atan",
                ("csc", true) => "acsc",
                ("sec", true) => "asec",
                ("cot", true) => "acot",
                ("sinh", true) => "asinh",
                ("cosh", true) => "acosh",
                ("tanh", true) => "atanh",
                (t, _) => t,
            };
            elementary(n, arg)
        }
    };
    match sup {
        Some(p) if should_pow && p != Node::Int("0".into()) => {
            Node::Pow(Box::new(expr), Box::new(p))
        }
        _ => expr,
    }
}

/// Why a value could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalIssue {
    /// A division by zero or a pole (sympy `zoo`/`nan`): never equal to anything.
    Undefined,
    /// Integers too large for exact arithmetic here.
    Overflow,
}

/// A value: an exact rational (numerator, positive denominator, in lowest terms) or a complex float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    Exact(i128, i128),
    Approx(C),
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn rat(n: i128, d: i128) -> Result<Val, EvalIssue> {
    if d == 0 {
        return Err(EvalIssue::Undefined);
    }
    let g = gcd(n, d).max(1);
    let (n, d) = (n / g, d / g);
    Ok(if d < 0 {
        Val::Exact(n.checked_neg().ok_or(EvalIssue::Overflow)?, -d)
    } else {
        Val::Exact(n, d)
    })
}

impl Val {
    pub fn to_c(self) -> C {
        match self {
            Val::Exact(n, d) => C::real(n as f64 / d as f64),
            Val::Approx(c) => c,
        }
    }
    fn int(self) -> Option<i128> {
        match self {
            Val::Exact(n, 1) => Some(n),
            _ => None,
        }
    }
}

fn add(a: Val, b: Val) -> Result<Val, EvalIssue> {
    if let (Val::Exact(an, ad), Val::Exact(bn, bd)) = (a, b) {
        let exact = (|| {
            let n = an.checked_mul(bd)?.checked_add(bn.checked_mul(ad)?)?;
            Some((n, ad.checked_mul(bd)?))
        })();
        if let Some((n, d)) = exact {
            return rat(n, d);
        }
    }
    Ok(Val::Approx(a.to_c() + b.to_c()))
}

fn mul(a: Val, b: Val) -> Result<Val, EvalIssue> {
    if let (Val::Exact(an, ad), Val::Exact(bn, bd)) = (a, b) {
        let (g1, g2) = (gcd(an, bd).max(1), gcd(bn, ad).max(1));
        let exact = (|| {
            Some((
                (an / g1).checked_mul(bn / g2)?,
                (ad / g2).checked_mul(bd / g1)?,
            ))
        })();
        if let Some((n, d)) = exact {
            return rat(n, d);
        }
    }
    Ok(Val::Approx(a.to_c() * b.to_c()))
}

fn pow(b: Val, e: Val) -> Result<Val, EvalIssue> {
    if let (Val::Exact(bn, bd), Some(k)) = (b, e.int()) {
        if bn == 0 && k < 0 {
            return Err(EvalIssue::Undefined);
        }
        if k.unsigned_abs() <= 4096 {
            let (mut n, mut d) = (1i128, 1i128);
            let mut ok = true;
            for _ in 0..k.unsigned_abs() {
                match (n.checked_mul(bn), d.checked_mul(bd)) {
                    (Some(x), Some(y)) => (n, d) = (x, y),
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                return if k < 0 { rat(d, n) } else { rat(n, d) };
            }
        }
        // an exact power too large for i128 (sympy keeps it exact): not decided here
        return Err(EvalIssue::Overflow);
    }
    // a real decimal's reciprocal and square root, rounded once (as sympy's `Float` arithmetic is)
    if let (Val::Approx(c), Val::Exact(-1, 1)) = (b, e) {
        if c.im == 0.0 && c.re != 0.0 {
            return Ok(Val::Approx(C::real(1.0 / c.re)));
        }
    }
    if let (Val::Approx(c), Val::Exact(1, 2)) = (b, e) {
        if c.im == 0.0 && c.re >= 0.0 {
            return Ok(Val::Approx(C::real(c.re.sqrt())));
        }
    }
    let r = b.to_c().pow(e.to_c()).ok_or(EvalIssue::Undefined)?;
    Ok(Val::Approx(r))
}

/// A deterministic pseudo-random number in [0, 1) from a name and a salt.
pub(crate) fn hash_unit(name: &str, salt: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// An undefined function's value: smooth, different per name, same for the same arguments.
fn opaque(name: &str, args: &[C]) -> C {
    let mut z = C::real(hash_unit(name, 7));
    for (k, a) in args.iter().enumerate() {
        z = z + C::real(0.5 + hash_unit(name, k as u64 + 11)) * *a;
    }
    C::real(0.5 + hash_unit(name, 3)) * (z * C::real(0.7)).exp() + z * z
}

/// Evaluate `node`, giving each free symbol the value `env(name)`.
pub fn eval(node: &Node, env: &dyn Fn(&str) -> C) -> Result<Val, EvalIssue> {
    let v = match node {
        Node::Int(s) => match s.parse::<i128>() {
            Ok(n) => Val::Exact(n, 1),
            Err(_) => return Err(EvalIssue::Overflow),
        },
        Node::Float(s) => Val::Approx(C::real(s.parse::<f64>().map_err(|_| EvalIssue::Overflow)?)),
        Node::Sym(s) => Val::Approx(env(s)),
        Node::Infinity => return Err(EvalIssue::Undefined),
        Node::E => Val::Approx(C::real(std::f64::consts::E)),
        Node::Add(v) => {
            let mut acc = Val::Exact(0, 1);
            for c in v {
                acc = add(acc, eval(c, env)?)?;
            }
            acc
        }
        Node::Mul(v) => {
            let mut acc = Val::Exact(1, 1);
            for c in v {
                acc = mul(acc, eval(c, env)?)?;
            }
            acc
        }
        Node::Pow(b, e) => pow(eval(b, env)?, eval(e, env)?)?,
        Node::Call(f, args) => {
            let vals = args
                .iter()
                .map(|a| eval(a, env))
                .collect::<Result<Vec<_>, _>>()?;
            call(f, &vals)?
        }
        Node::Rel(..) => return Err(EvalIssue::Undefined),
    };
    match v {
        Val::Approx(c) if !c.is_finite() => Err(EvalIssue::Undefined),
        v => Ok(v),
    }
}

fn call(f: &Fun, vals: &[Val]) -> Result<Val, EvalIssue> {
    let a = vals.first().copied().unwrap_or(Val::Exact(0, 1));
    let z = a.to_c();
    let approx = |c: C| Ok(Val::Approx(c));
    match f {
        Fun::Sqrt => pow(a, Val::Exact(1, 2)),
        Fun::Root => {
            let n = vals.get(1).copied().unwrap_or(Val::Exact(1, 1));
            let inv = pow(n, Val::Exact(-1, 1))?;
            pow(a, inv)
        }
        Fun::Abs => match a {
            Val::Exact(n, d) => Ok(Val::Exact(n.abs(), d)),
            Val::Approx(c) => approx(C::real(c.abs())),
        },
        Fun::Floor | Fun::Ceiling => match a {
            Val::Exact(n, d) => {
                let fl = n.div_euclid(d);
                let up = *f == Fun::Ceiling && n.rem_euclid(d) != 0;
                Ok(Val::Exact(fl + i128::from(up), 1))
            }
            Val::Approx(c) if c.im.abs() < 1e-12 => {
                let r = if *f == Fun::Floor {
                    c.re.floor()
                } else {
                    c.re.ceil()
                };
                approx(C::real(r))
            }
            Val::Approx(c) => approx(opaque(&format!("{f:?}"), &[c])),
        },
        Fun::Factorial => match a.int() {
            Some(n) if n < 0 => Err(EvalIssue::Undefined),
            Some(n) => {
                let mut acc: i128 = 1;
                for k in 2..=n {
                    acc = acc.checked_mul(k).ok_or(EvalIssue::Overflow)?;
                }
                Ok(Val::Exact(acc, 1))
            }
            None => approx(opaque("factorial", &[z])),
        },
        Fun::Binomial => {
            let k = vals.get(1).copied().unwrap_or(Val::Exact(0, 1));
            match k.int() {
                Some(k) if k < 0 => Ok(Val::Exact(0, 1)),
                Some(k) if k <= 200 => {
                    let mut acc = Val::Exact(1, 1);
                    for j in 0..k {
                        let term = add(a, Val::Exact(-j, 1))?;
                        acc = mul(acc, term)?;
                        acc = mul(acc, Val::Exact(1, j + 1))?;
                    }
                    Ok(acc)
                }
                _ => approx(opaque("binomial", &[z, k.to_c()])),
            }
        }
        Fun::Conjugate => match a {
            Val::Exact(..) => Ok(a),
            Val::Approx(c) => approx(c.conj()),
        },
        Fun::Log => {
            let base = vals.get(1).copied().unwrap_or(Val::Exact(1, 1)).to_c();
            if z.abs() == 0.0 || base.abs() == 0.0 {
                return Err(EvalIssue::Undefined);
            }
            approx(z.ln() / base.ln())
        }
        Fun::Elementary(name) => approx(elementary(name, z)?),
        Fun::Undefined(name) => {
            let cs: Vec<C> = vals.iter().map(|v| v.to_c()).collect();
            approx(opaque(name, &cs))
        }
    }
}

fn elementary(name: &str, z: C) -> Result<C, EvalIssue> {
    let one = C::real(1.0);
    Ok(match name {
        "sin" => z.sin(),
        "cos" => z.cos(),
        "tan" => z.sin() / z.cos(),
        "csc" => one / z.sin(),
        "sec" => one / z.cos(),
        "cot" => z.cos() / z.sin(),
        "asin" => z.asin(),
        "acos" => z.acos(),
        "atan" => z.atan(),
        "acsc" => (one / z).asin(),
        "asec" => (one / z).acos(),
        "acot" => (one / z).atan(),
        "sinh" => z.sinh(),
        "cosh" => z.cosh(),
        "tanh" => z.sinh() / z.cosh(),
        "asinh" => z.asinh(),
        "acosh" => z.acosh(),
        "atanh" => z.atanh(),
        "exp" => z.exp(),
        _ => return Err(EvalIssue::Undefined),
    })
}
