//! A recursive-descent reading of sympy's `LaTeX.g4` with the outcomes of its ANTLR parser: trailing
//! input that cannot continue the expression is ignored (`"1,2"` is 1, `"2^-3"` is 2), while the
//! decisions ANTLR commits to on one token of lookahead fail instead (`"5."`, `"x_{1"`, `"1="`).
//! The tree it builds is what sympy's converter (`_parse_latex_antlr.py`) would build, up to the
//! evaluation that decides equivalence ([`super::expr`]).

use super::expr::{Fun, Node};
use super::lexer::{lex, Tok};

/// Why a string gave no expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFailure {
    /// sympy's `parse_latex` would raise (`LaTeXParsingError`, `SympifyError`): is_equiv is False.
    Syntax,
    /// The string uses a construct this port does not evaluate (integrals, sums, limits,
    /// derivatives, bra-kets, `|_{a}^{b}`): the outcome is not decided here.
    Unsupported(&'static str),
}

type R<T> = Result<T, ParseFailure>;

/// Parse a normalised answer as sympy's `parse_latex` would (after its `strip()`).
pub fn parse_latex(s: &str) -> R<Node> {
    let toks =
        lex(yardstick_core::python::text::strip(s, None)).map_err(|_| ParseFailure::Syntax)?;
    let mut p = Parser { toks, pos: 0 };
    p.relation()
}

/// Parse `s` as one whole expression or relation (nothing left over), for `math_verify`'s reading
/// of an answer element ([`super::verify`]).
pub fn parse_latex_full(s: &str) -> R<Node> {
    let toks =
        lex(yardstick_core::python::text::strip(s, None)).map_err(|_| ParseFailure::Syntax)?;
    let mut p = Parser { toks, pos: 0 };
    let node = p.relation()?;
    if p.pos == p.toks.len() {
        Ok(node)
    } else {
        syntax()
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

fn syntax<T>() -> R<T> {
    Err(ParseFailure::Syntax)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k)
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &Tok) -> R<()> {
        if self.eat(t) {
            Ok(())
        } else {
            syntax()
        }
    }

    /// Try `f`; on a syntax failure rewind and give `None` (ANTLR's exit from a loop whose
    /// continuation does not parse).
    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<Option<T>> {
        let save = self.pos;
        match f(self) {
            Ok(v) => Ok(Some(v)),
            Err(ParseFailure::Syntax) => {
                self.pos = save;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn relation(&mut self) -> R<Node> {
        let mut left = self.expr()?;
        // `relation` is followed only by the end of the input: on a relation operator ANTLR
        // commits, so a missing right-hand side is an error.
        while let Some(Tok::Rel(op)) = self.peek() {
            let op = *op;
            self.pos += 1;
            let right = self.expr()?;
            left = Node::Rel(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn expr(&mut self) -> R<Node> {
        self.additive(false)
    }

    fn additive(&mut self, nofunc: bool) -> R<Node> {
        let mut left = self.mp(nofunc)?;
        loop {
            let neg = match self.peek() {
                Some(Tok::Add) => false,
                Some(Tok::Sub) => true,
                _ => break,
            };
            let Some(right) = self.attempt(|p| {
                p.pos += 1;
                p.mp(nofunc)
            })?
            else {
                break;
            };
            let right = if neg { Node::negated(right) } else { right };
            left = Node::Add(vec![left, right]);
        }
        Ok(left)
    }

    fn mp(&mut self, nofunc: bool) -> R<Node> {
        let mut left = self.unary(nofunc)?;
        loop {
            let div = match self.peek() {
                Some(Tok::Mul | Tok::Times | Tok::Cdot) => false,
                Some(Tok::Div | Tok::CmdDiv | Tok::Colon) => true,
                _ => break,
            };
            let Some(right) = self.attempt(|p| {
                p.pos += 1;
                p.unary(nofunc)
            })?
            else {
                break;
            };
            let right = if div { Node::inv(right) } else { right };
            left = Node::Mul(vec![left, right]);
        }
        Ok(left)
    }

    fn unary(&mut self, nofunc: bool) -> R<Node> {
        match self.peek() {
            Some(Tok::Add) => {
                self.pos += 1;
                return self.unary(nofunc);
            }
            Some(Tok::Sub) => {
                self.pos += 1;
                return Ok(Node::negated(self.unary(nofunc)?));
            }
            _ => {}
        }
        let mut items = vec![self.postfix(false)?];
        // `postfix+` (or `postfix postfix_nofunc*`): implicit multiplication
        while let Some(next) = self.attempt(|p| p.postfix(nofunc))? {
            items.push(next);
        }
        Ok(postfix_product(items))
    }

    fn postfix(&mut self, nofunc: bool) -> R<Node> {
        let mut e = self.exp(nofunc)?;
        loop {
            match self.peek() {
                Some(Tok::Bang) => {
                    self.pos += 1;
                    e = Node::Call(Fun::Factorial, vec![e]);
                }
                Some(Tok::Bar)
                    if matches!(self.peek_at(1), Some(Tok::Caret | Tok::Underscore))
                        && self.peek_at(2) == Some(&Tok::LBrace) =>
                {
                    return Err(ParseFailure::Unsupported("evaluation bar |_{a}^{b}"));
                }
                _ => break,
            }
        }
        Ok(e)
    }

    fn exp(&mut self, nofunc: bool) -> R<Node> {
        let mut base = self.comp(nofunc)?;
        while self.peek() == Some(&Tok::Caret) {
            let Some(exponent) = self.attempt(|p| {
                p.pos += 1;
                p.atom_or_braced()
            })?
            else {
                break;
            };
            if self.peek() == Some(&Tok::Underscore) {
                self.subexpr()?; // parsed, and ignored by sympy's converter
            }
            base = Node::Pow(Box::new(base), Box::new(exponent));
        }
        Ok(base)
    }

    /// `atom | '{' expr '}'` (exponents, subscripts).
    fn atom_or_braced(&mut self) -> R<Node> {
        if self.eat(&Tok::LBrace) {
            let e = self.expr()?;
            self.expect(&Tok::RBrace)?;
            Ok(e)
        } else {
            self.atom()
        }
    }

    fn subexpr(&mut self) -> R<Node> {
        self.expect(&Tok::Underscore)?;
        self.atom_or_braced()
    }

    fn comp(&mut self, nofunc: bool) -> R<Node> {
        match self.peek() {
            Some(Tok::LParen) => self.group(&Tok::RParen),
            Some(Tok::LBracket) => self.group(&Tok::RBracket),
            Some(Tok::LBrace) => self.group(&Tok::RBrace),
            Some(Tok::LBraceLit) => self.group(&Tok::RBraceLit),
            Some(Tok::Bar) => {
                if let Some(v) = self.attempt(|p| {
                    p.pos += 1;
                    let e = p.expr()?;
                    p.expect(&Tok::Bar)?;
                    Ok(Node::Call(Fun::Abs, vec![e]))
                })? {
                    return Ok(v);
                }
                self.atom()
            }
            Some(Tok::LFloor) => self.delimited(&Tok::RFloor, Fun::Floor),
            Some(Tok::LCeil) => self.delimited(&Tok::RCeil, Fun::Ceiling),
            Some(Tok::FuncNormal(_) | Tok::Sqrt | Tok::Overline) if !nofunc => self.func(),
            Some(Tok::Calculus(what)) => Err(ParseFailure::Unsupported(what)),
            Some(Tok::Letter(_) | Tok::Symbol(_)) if !nofunc && self.applied_function_ahead() => {
                if let Some(v) = self.attempt(|p| p.applied_function())? {
                    return Ok(v);
                }
                self.atom()
            }
            _ => self.atom(),
        }
    }

    fn group(&mut self, close: &Tok) -> R<Node> {
        self.pos += 1;
        let e = self.expr()?;
        self.expect(close)?;
        Ok(e)
    }

    fn delimited(&mut self, close: &Tok, f: Fun) -> R<Node> {
        self.pos += 1;
        let e = self.expr()?;
        self.expect(close)?;
        Ok(Node::Call(f, vec![e]))
    }

    /// A letter/command (with optional subscript and primes) followed by `(`.
    fn applied_function_ahead(&self) -> bool {
        let mut k = 1;
        loop {
            match self.peek_at(k) {
                Some(Tok::LParen) => return true,
                Some(Tok::Quotes(_)) => k += 1,
                Some(Tok::Underscore) => return true, // decided by trying
                _ => return false,
            }
        }
    }

    /// `(LETTER | SYMBOL) subscript? primes? '(' args ')'`: an undefined function applied.
    fn applied_function(&mut self) -> R<Node> {
        let name = self.symbol_name()?;
        self.expect(&Tok::LParen)?;
        let mut args = vec![self.expr()?];
        while self.eat(&Tok::Comma) {
            args.push(self.expr()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(Node::Call(Fun::Undefined(name), args))
    }

    /// The name sympy gives a letter or command with its subscript and primes.
    fn symbol_name(&mut self) -> R<String> {
        let mut name = match self.peek() {
            Some(Tok::Letter(c)) => c.to_string(),
            Some(Tok::Symbol(s)) => s.clone(),
            _ => return syntax(),
        };
        self.pos += 1;
        let mut quotes = 0;
        if let Some(Tok::Quotes(n)) = self.peek() {
            quotes = *n;
            self.pos += 1;
        }
        if self.peek() == Some(&Tok::Underscore) {
            let sub = self.subexpr()?;
            name.push_str(&format!("_{{{}}}", sub.canonical()));
        }
        if quotes == 0 {
            if let Some(Tok::Quotes(n)) = self.peek() {
                quotes = *n;
                self.pos += 1;
            }
        }
        name.push_str(&"'".repeat(quotes));
        Ok(name)
    }

    fn atom(&mut self) -> R<Node> {
        match self.peek().cloned() {
            Some(Tok::Letter(_)) => Ok(Node::Sym(self.symbol_name()?)),
            Some(Tok::Symbol(s)) => {
                if s == "infty" {
                    self.pos += 1;
                    // sympy drops a subscript on \infty only when there is none; keep it simple
                    return Ok(Node::Infinity);
                }
                if s == "partial" {
                    return Err(ParseFailure::Unsupported("partial derivative"));
                }
                Ok(Node::Sym(self.symbol_name()?))
            }
            Some(Tok::Digit(_)) => self.number(),
            Some(Tok::Differential(v)) => {
                self.pos += 1;
                Ok(Node::Sym(format!("d{v}")))
            }
            Some(Tok::Mathit) => {
                self.pos += 1;
                self.expect(&Tok::LBrace)?;
                let mut text = String::new();
                while let Some(Tok::Letter(c)) = self.peek() {
                    text.push(*c);
                    self.pos += 1;
                }
                self.expect(&Tok::RBrace)?;
                Ok(Node::Sym(text))
            }
            Some(Tok::Frac) => self.frac(),
            Some(Tok::Binom) => {
                self.pos += 1;
                self.expect(&Tok::LBrace)?;
                let n = self.expr()?;
                self.expect(&Tok::RBrace)?;
                self.expect(&Tok::LBrace)?;
                let k = self.expr()?;
                self.expect(&Tok::RBrace)?;
                Ok(Node::Call(Fun::Binomial, vec![n, k]))
            }
            Some(Tok::LAngle | Tok::LBar) => Err(ParseFailure::Unsupported("bra-ket")),
            Some(Tok::Bar) => {
                // `ket: BAR expr R_ANGLE`
                let save = self.pos;
                self.pos += 1;
                let _ = self.expr()?;
                if self.peek() == Some(&Tok::RAngle) {
                    return Err(ParseFailure::Unsupported("bra-ket"));
                }
                self.pos = save;
                syntax()
            }
            _ => syntax(),
        }
    }

    fn number(&mut self) -> R<Node> {
        let mut text = String::new();
        while let Some(Tok::Digit(d)) = self.peek() {
            text.push(*d);
            self.pos += 1;
        }
        // (',' DIGIT DIGIT DIGIT)*: only complete groups are taken
        while self.peek() == Some(&Tok::Comma)
            && (1..=3).all(|k| matches!(self.peek_at(k), Some(Tok::Digit(_))))
        {
            for k in 1..=3 {
                if let Some(Tok::Digit(d)) = self.peek_at(k) {
                    text.push(*d);
                }
            }
            self.pos += 4;
        }
        // ('.' DIGIT+)?: committed on the '.'
        if self.eat(&Tok::Dot) {
            let mut frac = String::new();
            while let Some(Tok::Digit(d)) = self.peek() {
                frac.push(*d);
                self.pos += 1;
            }
            if frac.is_empty() {
                return syntax();
            }
            return Ok(Node::Float(format!("{text}.{frac}")));
        }
        // sympy.Number("01") is a SympifyError (a Python int literal cannot have a leading zero)
        if text.len() > 1 && text.starts_with('0') && text.chars().any(|c| c != '0') {
            return syntax();
        }
        Ok(Node::Int(text))
    }

    fn frac_part(&mut self) -> R<Node> {
        match self.peek() {
            Some(Tok::Digit(d)) => {
                let d = d.to_string();
                self.pos += 1;
                Ok(Node::Int(d))
            }
            Some(Tok::LBrace) => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(&Tok::RBrace)?;
                Ok(e)
            }
            _ => syntax(),
        }
    }

    fn frac(&mut self) -> R<Node> {
        self.pos += 1;
        let upper = self.frac_part()?;
        let lower_start = self.pos;
        let lower = self.frac_part()?;
        // `\frac{d}{dx}`, `\frac{\partial}{\partial x}`: derivatives
        if self.pos == lower_start + 3
            && matches!(self.toks.get(lower_start + 1), Some(Tok::Differential(_)))
        {
            return Err(ParseFailure::Unsupported("derivative"));
        }
        if matches!(self.toks.get(lower_start + 1), Some(Tok::Symbol(s)) if s == "partial") {
            return Err(ParseFailure::Unsupported("partial derivative"));
        }
        Ok(Node::Mul(vec![upper, Node::inv(lower)]))
    }

    fn func(&mut self) -> R<Node> {
        match self.peek().cloned() {
            Some(Tok::Sqrt) => {
                self.pos += 1;
                let root = if self.eat(&Tok::LBracket) {
                    let r = self.expr()?;
                    self.expect(&Tok::RBracket)?;
                    Some(r)
                } else {
                    None
                };
                self.expect(&Tok::LBrace)?;
                let base = self.expr()?;
                self.expect(&Tok::RBrace)?;
                Ok(match root {
                    None => Node::Call(Fun::Sqrt, vec![base]),
                    Some(r) => Node::Call(Fun::Root, vec![base, r]),
                })
            }
            Some(Tok::Overline) => {
                self.pos += 1;
                self.expect(&Tok::LBrace)?;
                let base = self.expr()?;
                self.expect(&Tok::RBrace)?;
                Ok(Node::Call(Fun::Conjugate, vec![base]))
            }
            Some(Tok::FuncNormal(name)) => {
                self.pos += 1;
                self.named_function(name)
            }
            _ => syntax(),
        }
    }

    /// `func_normal (subexpr? supexpr? | supexpr? subexpr?) ('(' func_arg ')' | mp_nofunc)`.
    fn named_function(&mut self, name: &'static str) -> R<Node> {
        let mut sub = None;
        let mut sup = None;
        for _ in 0..2 {
            match self.peek() {
                Some(Tok::Underscore) if sub.is_none() => sub = Some(self.subexpr()?),
                Some(Tok::Caret) if sup.is_none() => {
                    self.pos += 1;
                    sup = Some(self.atom_or_braced()?);
                }
                _ => break,
            }
        }
        let paren = self.attempt(|p| {
            p.expect(&Tok::LParen)?;
            let a = p.expr()?;
            // func_arg: expr (',' func_arg)?: only the first expression is used
            while p.eat(&Tok::Comma) {
                p.expr()?;
            }
            p.expect(&Tok::RParen)?;
            Ok(a)
        })?;
        let arg = match paren {
            Some(a) => a,
            None => self.mp(true)?,
        };
        Ok(super::expr::named_call(name, arg, sub, sup))
    }
}

/// sympy's `convert_postfix_list`: a product of the postfix items, where a bare `x` between two
/// symbol-free items is read as a times sign (`2x3` is 6).
fn postfix_product(items: Vec<Node>) -> Node {
    if items.len() == 1 {
        return items.into_iter().next().unwrap_or(Node::Int("0".into()));
    }
    let mut kept = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        let is_x = matches!(&items[i], Node::Sym(s) if s == "x");
        if is_x
            && i > 0
            && i + 1 < items.len()
            && !items[i - 1].has_symbols()
            && !items[i + 1].has_symbols()
        {
            continue;
        }
        kept.push(items[i].clone());
    }
    Node::Mul(kept)
}
