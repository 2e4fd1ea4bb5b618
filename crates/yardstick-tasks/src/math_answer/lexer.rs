//! Tokens of the LaTeX math grammar that sympy's `parse_latex` (ANTLR backend, `LaTeX.g4`) uses:
//! longest match, ties going to the rule listed first; spacing commands and `\left`/`\right` are
//! skipped; a character no rule matches is an error (sympy raises `LaTeXParsingError` there).

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Add,
    Sub,
    Mul,
    Div,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBraceLit,
    RBraceLit,
    LBracket,
    RBracket,
    Bar,
    RBar,
    LBar,
    LAngle,
    RAngle,
    /// `\int`, `\sum`, `\prod`, `\lim` and the limit arrow: constructs this port does not evaluate.
    Calculus(&'static str),
    /// `\exp`, `\log`, `\sin`, … (name without the backslash).
    FuncNormal(&'static str),
    LFloor,
    RFloor,
    LCeil,
    RCeil,
    Sqrt,
    Overline,
    Times,
    Cdot,
    CmdDiv,
    Frac,
    Binom,
    Mathit,
    Underscore,
    Caret,
    Colon,
    /// `d` followed by a letter or a command: the variable's name (without backslash).
    Differential(String),
    Letter(char),
    Digit(char),
    /// `=`, `<`, `\le…`, `>`, `\ge…`, `\neq`.
    Rel(&'static str),
    Bang,
    /// A run of `'`.
    Quotes(usize),
    /// `\name` not otherwise a token (name without backslash).
    Symbol(String),
    Comma,
    Dot,
}

/// The input has a character sequence no token rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub at: usize,
}

const NAMED_FUNCS: &[&str] = &[
    "exp", "log", "lg", "ln", "sin", "cos", "tan", "csc", "sec", "cot", "arcsin", "arccos",
    "arctan", "arccsc", "arcsec", "arccot", "sinh", "cosh", "tanh", "arsinh", "arcosh", "artanh",
];

const SKIPPED_COMMANDS: &[&str] = &[
    "thinspace",
    "medspace",
    "thickspace",
    "quad",
    "qquad",
    "negthinspace",
    "negmedspace",
    "negthickspace",
    "left",
    "right",
    "vrule",
    "vcenter",
    "vbox",
    "vskip",
    "vspace",
    "hfil",
];

fn command(name: &str) -> Option<Tok> {
    if let Some(f) = NAMED_FUNCS.iter().find(|f| **f == name) {
        return Some(Tok::FuncNormal(f));
    }
    Some(match name {
        "langle" => Tok::LAngle,
        "rangle" => Tok::RAngle,
        "lim" => Tok::Calculus("lim"),
        "to" | "rightarrow" | "Rightarrow" | "longrightarrow" | "Longrightarrow" => {
            Tok::Calculus("limit arrow")
        }
        "int" => Tok::Calculus("int"),
        "sum" => Tok::Calculus("sum"),
        "prod" => Tok::Calculus("prod"),
        "lfloor" => Tok::LFloor,
        "rfloor" => Tok::RFloor,
        "lceil" => Tok::LCeil,
        "rceil" => Tok::RCeil,
        "sqrt" => Tok::Sqrt,
        "overline" => Tok::Overline,
        "times" => Tok::Times,
        "cdot" => Tok::Cdot,
        "div" => Tok::CmdDiv,
        "frac" | "dfrac" | "tfrac" => Tok::Frac,
        "binom" | "dbinom" | "tbinom" => Tok::Binom,
        "mathit" => Tok::Mathit,
        "neq" => Tok::Rel("!="),
        "leq" | "le" | "leqq" | "leqslant" => Tok::Rel("<="),
        "geq" | "ge" | "geqq" | "geqslant" => Tok::Rel(">="),
        _ => return None,
    })
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Tokenise `s` (already stripped).
pub(crate) fn lex(s: &str) -> Result<Vec<Tok>, LexError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let letters_from = |j: usize| {
        let mut k = j;
        while k < chars.len() && chars[k].is_ascii_alphabetic() {
            k += 1;
        }
        k
    };
    let starts = |j: usize, lit: &str| {
        lit.chars()
            .enumerate()
            .all(|(k, c)| chars.get(j + k) == Some(&c))
    };
    while i < chars.len() {
        let c = chars[i];
        if is_ws(c) {
            i += 1;
            continue;
        }
        let single = match c {
            '+' => Some(Tok::Add),
            '-' => Some(Tok::Sub),
            '*' => Some(Tok::Mul),
            '/' => Some(Tok::Div),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            '|' => Some(Tok::Bar),
            '_' => Some(Tok::Underscore),
            '^' => Some(Tok::Caret),
            ':' => Some(Tok::Colon),
            '<' => Some(Tok::Rel("<")),
            '>' => Some(Tok::Rel(">")),
            '!' => Some(Tok::Bang),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            _ => None,
        };
        if let Some(t) = single {
            out.push(t);
            i += 1;
            continue;
        }
        match c {
            '0'..='9' => {
                out.push(Tok::Digit(c));
                i += 1;
            }
            '\'' => {
                let mut k = i;
                while chars.get(k) == Some(&'\'') {
                    k += 1;
                }
                out.push(Tok::Quotes(k - i));
                i = k;
            }
            '=' | '&' => {
                // EQUAL: ('&' ws*)? '=' | '=' (ws* '&')?
                let mut k = i;
                if c == '&' {
                    k += 1;
                    while k < chars.len() && is_ws(chars[k]) {
                        k += 1;
                    }
                    if chars.get(k) != Some(&'=') {
                        return Err(LexError { at: i });
                    }
                    k += 1;
                } else {
                    k += 1;
                    let mut m = k;
                    while m < chars.len() && is_ws(chars[m]) {
                        m += 1;
                    }
                    if chars.get(m) == Some(&'&') {
                        k = m + 1;
                    }
                }
                out.push(Tok::Rel("="));
                i = k;
            }
            'd' => {
                // DIFFERENTIAL: 'd' ws* ([a-zA-Z] | '\' [a-zA-Z]+), else LETTER
                let mut k = i + 1;
                while k < chars.len() && is_ws(chars[k]) {
                    k += 1;
                }
                if k < chars.len() && chars[k].is_ascii_alphabetic() {
                    out.push(Tok::Differential(chars[k].to_string()));
                    i = k + 1;
                } else if chars.get(k) == Some(&'\\')
                    && chars.get(k + 1).is_some_and(|c| c.is_ascii_alphabetic())
                {
                    let end = letters_from(k + 1);
                    out.push(Tok::Differential(chars[k + 1..end].iter().collect()));
                    i = end;
                } else {
                    out.push(Tok::Letter('d'));
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() => {
                out.push(Tok::Letter(c));
                i += 1;
            }
            '\\' => {
                let end = letters_from(i + 1);
                if end > i + 1 {
                    let name: String = chars[i + 1..end].iter().collect();
                    if starts(i, "\\left|") {
                        out.push(Tok::LBar);
                        i += 6;
                    } else if starts(i, "\\right|") {
                        out.push(Tok::RBar);
                        i += 7;
                    } else if SKIPPED_COMMANDS.contains(&name.as_str()) {
                        i = end;
                    } else if let Some(t) = command(&name) {
                        if name == "int" && starts(end, "\\limits") {
                            i = end + 7;
                        } else {
                            i = end;
                        }
                        out.push(t);
                    } else {
                        out.push(Tok::Symbol(name));
                        i = end;
                    }
                    continue;
                }
                match chars.get(i + 1) {
                    Some(',' | ':' | ';' | '!' | '*' | '-' | '.' | '/' | '"' | '(' | '=') => i += 2,
                    Some('{') => {
                        out.push(Tok::LBraceLit);
                        i += 2;
                    }
                    Some('}') => {
                        out.push(Tok::RBraceLit);
                        i += 2;
                    }
                    _ => return Err(LexError { at: i }),
                }
            }
            _ => return Err(LexError { at: i }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_match_and_skips() {
        assert_eq!(
            lex("\\left(1\\right)").unwrap(),
            vec![Tok::LParen, Tok::Digit('1'), Tok::RParen]
        );
        assert_eq!(lex("\\le(").unwrap(), vec![Tok::Rel("<="), Tok::LParen]);
        assert_eq!(lex("\\lex").unwrap(), vec![Tok::Symbol("lex".into())]);
        assert_eq!(lex("\\left|").unwrap(), vec![Tok::LBar]);
        assert_eq!(lex("da").unwrap(), vec![Tok::Differential("a".into())]);
        assert_eq!(lex("d").unwrap(), vec![Tok::Letter('d')]);
        assert_eq!(
            lex("5\\;6").unwrap(),
            vec![Tok::Digit('5'), Tok::Digit('6')]
        );
        assert!(lex("1\\%").is_err());
        assert!(lex("1&2").is_err());
        assert!(lex("3\\\\4").is_err());
        assert_eq!(lex("&=").unwrap(), vec![Tok::Rel("=")]);
    }
}
