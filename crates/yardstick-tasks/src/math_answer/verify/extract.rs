//! `math_verify.parse` with its default targets (`LatexExtractionConfig`, `ExprExtractionConfig`),
//! `fallback_mode="first_match"`, `extraction_mode="any_match"`: the regexes of both targets grouped
//! by priority (0: "final answer is … I hope"; 50: "final answer … is …" and `\boxed{}`; 100/200:
//! after "answer:" / "answer"; 300: anywhere); within the first group with a match, matches are tried
//! from the rightmost end (the leftmost start on ties) until one converts; the first match's text is
//! appended as the string fallback.

use std::sync::OnceLock;

use fancy_regex::{Captures, Regex, RegexBuilder};

use super::latex_norm::{normalize_latex, Boxed};
use super::value::{convert, number_node, split_top, Mv};
use crate::math_answer::parser::parse_latex_full;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Latex,
    Expr,
}

struct Pattern {
    re: Regex,
    priority: u32,
    target: Target,
    groups: Vec<String>,
}

fn env_pattern(prefix: &str, boxed: bool) -> String {
    let (mut dd, mut db, mut id, mut ip, mut ib) = (
        r"(?:[^$]|\$(?!\$))".to_string(),
        r"(?:[^\\]|\\(?!\]))".to_string(),
        r"(?:\\[$]|[^\n$])".to_string(),
        r"(?:[^\\\n]|\\(?!\)))".to_string(),
        r"[^\n\]\[]".to_string(),
    );
    for c in [&mut dd, &mut db, &mut id, &mut ip, &mut ib] {
        *c = if boxed {
            format!(r"{c}*?\\boxed\{{{c}+?\}}{c}*?")
        } else {
            format!("{c}+?")
        };
    }
    let mut pats = vec![
        format!(r"(?<!\\)\$\$(?P<{prefix}latexDisplayDollar>{dd})(?<!\\)\$\$"),
        format!(r"(?<!\\)\\\[(?P<{prefix}latexDisplayBracket>{db})(?<!\\)\\\]"),
        format!(r"(?<!\\|\d)\$(?P<{prefix}latexInlineDollar>{id})(?<!\\)\$"),
        format!(r"(?<!\\)\\\((?P<{prefix}latexInlineParenthesis>{ip})(?<!\\)\\\)"),
        format!(r"\s\[(?P<{prefix}latexInlineBracket>{ib})\]\s"),
    ];
    if !boxed {
        let n = r"-?\d+(?:[.,]\d+)?";
        pats.push(format!(
            r"(?P<{prefix}latexFraction>-?\\frac\{{{n}\}}\{{{n}\}})"
        ));
    }
    format!(
        r"(?:(?:{})\s*(?P<{prefix}percent>(?:\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct))?)",
        pats.join("|")
    )
}

fn latex_patterns() -> Vec<(String, u32)> {
    let next: String = (1..6)
        .map(|i| {
            format!(
                r"(?:\s*(?:,?and|,?or|,)\s*{})?",
                env_pattern(&format!("next{i}_"), false)
            )
        })
        .collect();
    let envs = format!("(?:{}{next})", env_pattern("first_", false));
    let boxed_next: String = (1..6)
        .map(|i| {
            format!(
                r"\s*(?:\s*(?:,?and|,?or|,)\s*{})?",
                env_pattern(&format!("next{i}_"), true)
            )
        })
        .collect();
    vec![
        (format!(r"(?i:final answer is):?\s*{envs}\.?\s?I hope"), 0),
        (format!(r"(?i:final answer.{{0,100}}?)\s+is:?\s*{envs}"), 50),
        (format!(r"(?i:answer):.{{0,50}}?{envs}"), 100),
        (format!(r"(?i:answer).{{0,50}}?{envs}"), 200),
        (envs.clone(), 300),
        (format!("{}{boxed_next}", env_pattern("first_", true)), 50),
        (r"(?P<first_latexBoxed>\\boxed\{.+\})".to_string(), 50),
    ]
    .into_iter()
    .map(|(p, n)| (format!("(?s){p}"), n))
    .collect()
}

fn expr_patterns() -> Vec<(String, u32)> {
    let number = concat!(
        r"(?<!\d)(?:(?P<integer1>-?[1-9]\d{0,2}(?:[ ,]\d{3})+)(?P<decimal1>\.\d+)?|",
        r"(?P<integer2>-?\d+)(?P<decimal2>[.,]\d+)|(?P<decimal3>\.\d+)|(?P<integer3>-?\d+))",
        r"(?P<percent>\s*(?:%|[Pp]ercent|\s*[Pp]ercentage|\s*[Pp]ct))?"
    );
    let ops = r"\+\-\*×/\^\(\)÷";
    let chars = format!(r"[\d\.\s{ops}]");
    let expr = format!(r"(?P<expr>-?\(?-?\d{chars}*[{ops}]{chars}+\)?)");
    let currency = r"\$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₴₵₶₷₸₹₺₻₼₽₾₿";
    let prefix = r"(?:^|\s|=)(?:\*\*)?";
    let suffix = r"(?:\*\*)?(?:\.|,|:|\s|\)|\$|$)";
    let with_anchors = format!("(?:{prefix}{expr}{suffix})");
    let number_anchored = format!("(?:{prefix}[{currency}]?{number})");
    let either = format!("(?:{with_anchors}|{number_anchored})");
    vec![
        (format!(r"(?i:final answer is):?\s*{either}\.?\s?I hope"), 0),
        (format!(r"(?i:final answer.{{0,100}}?)\s+is:?{either}"), 50),
        (
            format!(r"(?i:answer):(?:.{{0,100}}=\s*|.{{0,50}}?){either}(?!\s*=)"),
            100,
        ),
        (
            format!(r"(?i:answer)(?:.{{0,100}}=\s*|.{{0,50}}?){either}(?!\s*=)"),
            200,
        ),
        (with_anchors, 300),
        (number_anchored, 300),
    ]
}

fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let mut all: Vec<Pattern> = Vec::new();
        let build = |(p, n): (String, u32), target| {
            let re = RegexBuilder::new(&p)
                .backtrack_limit(100_000_000)
                .build()
                .expect("static regex");
            let groups = re.capture_names().flatten().map(str::to_string).collect();
            Pattern {
                re,
                priority: n,
                target,
                groups,
            }
        };
        for p in latex_patterns() {
            all.push(build(p, Target::Latex));
        }
        for p in expr_patterns() {
            all.push(build(p, Target::Expr));
        }
        // a stable sort: patterns of one priority keep the order latex, then expressions
        all.sort_by_key(|p| p.priority);
        all
    })
}

/// What one match gave: the converted value (if any) and its text.
type Extraction = (Option<Mv>, String);

fn extract_latex(caps: &Captures, groups: &[String]) -> Extraction {
    let found = |prefix: &str| {
        groups
            .iter()
            .filter(|g| g.starts_with(prefix) && !g.ends_with("percent"))
            .find_map(|g| {
                caps.name(g)
                    .filter(|m| !m.as_str().is_empty())
                    .map(|m| (g.clone(), m.as_str()))
            })
    };
    let mut items = Vec::new();
    if let Some(f) = found("first_latex") {
        items.push(f);
    }
    for i in 1..6 {
        if let Some(f) = found(&format!("next{i}_latex")) {
            items.push(f);
        }
    }
    let mut values: Vec<Option<Mv>> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for (name, latex) in &items {
        let prefix = name.split('_').next().unwrap_or("");
        let boxed = if name.ends_with("_latexBoxed") {
            Boxed::Last
        } else {
            Boxed::All
        };
        let pct = caps
            .name(&format!("{prefix}_percent"))
            .is_some_and(|m| !m.as_str().is_empty());
        let norm = normalize_latex(latex, boxed);
        let v = parse_latex_cached(&norm).and_then(|v| {
            if !pct {
                return Some(v);
            }
            match v {
                Mv::Expr(n) => Some(Mv::Pct(n)),
                Mv::Unknown(w) => Some(Mv::Unknown(w)),
                _ => None,
            }
        });
        texts.push(norm);
        values.push(v);
    }
    if values.is_empty() {
        return (None, String::new());
    }
    if values.len() > 1 && values.iter().all(Option::is_some) {
        let mut elems = Vec::new();
        for v in values.into_iter().flatten() {
            match v {
                Mv::Set(inner) => elems.extend(inner),
                other => elems.push(other),
            }
        }
        return (Some(Mv::Set(elems)), texts.join(" and "));
    }
    (values.swap_remove(0), texts.swap_remove(0))
}

/// `parse_latex_cached`: the whole string, else its last `=`-separated part.
fn parse_latex_cached(s: &str) -> Option<Mv> {
    match convert(s) {
        Ok(v) => Some(v),
        Err(_) => {
            let last = last_eq(s);
            if last != s {
                convert(last).ok()
            } else {
                None
            }
        }
    }
}

fn last_eq(s: &str) -> &str {
    if s.contains(',') || s.contains(';') {
        return s;
    }
    let mut parts = Vec::new();
    let mut last = 0;
    let b = s.as_bytes();
    for (i, c) in s.char_indices() {
        if c == '=' && !(i > 0 && matches!(b[i - 1], b'\\' | b'<' | b'!' | b'>')) {
            parts.push(&s[last..i]);
            last = i + 1;
        }
    }
    parts.push(&s[last..]);
    if parts.len() > 2 {
        parts[parts.len() - 1]
    } else {
        s
    }
}

fn extract_expr(caps: &Captures, groups: &[String]) -> Extraction {
    let first = |p: &str| {
        groups
            .iter()
            .filter(|g| g.starts_with(p))
            .find_map(|g| caps.name(g).map(|m| m.as_str()).filter(|s| !s.is_empty()))
            .unwrap_or("")
    };
    let (integer, decimal) = (first("integer"), first("decimal"));
    let pct = caps.name("percent").is_some_and(|m| !m.as_str().is_empty());
    if !integer.is_empty() || !decimal.is_empty() {
        let int: String = integer.chars().filter(|c| *c != ',' && *c != ' ').collect();
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let text = format!("{int}{}", decimal.replace(',', "."));
        let value = number_node(&text).map(|n| if pct { Mv::Pct(n) } else { Mv::Expr(n) });
        let value = value.unwrap_or(Mv::Unknown("number"));
        return (Some(value), text);
    }
    let expr = caps.name("expr").map_or("", |m| m.as_str());
    if expr.is_empty() {
        return (None, String::new());
    }
    (python_expr(expr), expr.to_string())
}

/// `parse_expr(expr, evaluate=False)` on digits, `.`, spaces and `+ - * / ^ ( )` (`^` read as `**`).
fn python_expr(expr: &str) -> Option<Mv> {
    if expr.contains(['×', '÷']) {
        return None;
    }
    static DOT: OnceLock<regex::Regex> = OnceLock::new();
    static POW: OnceLock<regex::Regex> = OnceLock::new();
    let t = expr.replace('\n', " ");
    // spaces between two digits, `**`, `//` or implicit products are Python-specific: not decided
    let b: Vec<char> = t.chars().collect();
    let tricky = b.windows(2).any(|w| {
        matches!(
            w,
            ['*', '*'] | ['/', '/'] | [')', '('] | [')', '0'..='9'] | ['0'..='9', '(']
        )
    }) || spaced_digits(&t);
    // Python reads `2.` as the float 2.0 and `2^10` (as `2**10`) with the whole exponent
    let dot = DOT.get_or_init(|| regex::Regex::new(r"(\d)\.(\D|$)").expect("regex"));
    let t = dot.replace_all(&t, "${1}.0$2").into_owned();
    let pow = POW.get_or_init(|| regex::Regex::new(r"\^\s*(\d+(?:\.\d+)?)").expect("regex"));
    let t = pow.replace_all(&t, "^{$1}").into_owned();
    if tricky {
        return Some(Mv::Unknown("a Python expression"));
    }
    if split_top(&t, ",").len() > 1 {
        return Some(Mv::Unknown("a Python expression"));
    }
    match parse_latex_full(&t) {
        Ok(n) => Some(Mv::Expr(n)),
        Err(_) => None,
    }
}

fn spaced_digits(t: &str) -> bool {
    let c: Vec<char> = t.chars().filter(|c| *c != ' ').collect();
    let spaced: Vec<char> = t.chars().collect();
    let _ = c;
    spaced.windows(3).any(|w| {
        w[0].is_ascii_digit() && w[1].is_whitespace() && (w[2].is_ascii_digit() || w[2] == '.')
    })
}

/// `math_verify.parse(text)` with its defaults: the converted answer (if any) and the string fallback.
pub fn parse(text: &str) -> Vec<Mv> {
    let pats = patterns();
    let mut out = Vec::new();
    let mut fallback: Option<String> = None;
    let mut i = 0;
    while i < pats.len() {
        let prio = pats[i].priority;
        let mut j = i;
        let mut matches: Vec<(usize, usize, usize, Captures)> = Vec::new();
        while j < pats.len() && pats[j].priority == prio {
            for caps in pats[j].re.captures_iter(text) {
                let Ok(caps) = caps else { break };
                if let Some(m) = caps.get(0) {
                    matches.push((m.end(), m.start(), j, caps));
                }
            }
            j += 1;
        }
        matches.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut found = false;
        for (_, _, k, caps) in &matches {
            let p = &pats[*k];
            let (value, s) = match p.target {
                Target::Latex => extract_latex(caps, &p.groups),
                Target::Expr => extract_expr(caps, &p.groups),
            };
            if !s.is_empty() && fallback.is_none() {
                fallback = Some(s);
            }
            if let Some(v) = value {
                out.push(v);
                found = true;
                break;
            }
        }
        if found {
            break;
        }
        i = j;
    }
    if let Some(f) = fallback {
        out.push(Mv::Str(f));
    }
    out
}
