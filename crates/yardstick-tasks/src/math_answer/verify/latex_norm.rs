//! `latex2sympy2_extended`'s `normalize_latex` with the configuration `math_verify`'s
//! `LatexExtractionConfig` uses (basic LaTeX clean-up, units, malformed operators, nits; `\boxed`
//! contents extracted, all of them or only the last run of them), and its `extract_boxed_content`.

use std::sync::OnceLock;

use fancy_regex::{Captures, Regex};

/// Which `\boxed{…}` contents `normalize_latex` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boxed {
    All,
    Last,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// `re.sub(pattern, f, text)`; a match failure (backtrack limit) leaves the text as it is.
fn sub(r: &Regex, text: &str, f: impl Fn(&Captures) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in r.captures_iter(text) {
        let Ok(caps) = caps else {
            return text.to_string();
        };
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&text[last..m.start()]);
        out.push_str(&f(&caps));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

fn group<'a>(c: &Captures<'a>, i: usize) -> &'a str {
    c.get(i).map_or("", |m| m.as_str())
}

const UNITS: &[&str] = &[
    "integerpoint",
    "feet",
    "sue",
    "digit",
    "pound",
    "meal",
    "edge",
    "student",
    "children ticket",
    "multiple",
    "east",
    "degree",
    "mph",
    "kmph",
    "ft",
    "m square",
    " m east",
    "sq m",
    "deg",
    "mile",
    "q .",
    "monkey",
    "prime",
    "ratio",
    "profit of rs",
    "rd",
    "o",
    "gm",
    "p . m",
    "lb",
    "tile",
    "per",
    "dm",
    "lt",
    "gain",
    "ab",
    "way",
    "west",
    "a .",
    "b .",
    "c .",
    "d .",
    "e .",
    "f .",
    "g .",
    "h .",
    "t",
    "h",
    "no change",
    "men",
    "soldier",
    "pie",
    "bc",
    "excess",
    "st",
    "inches",
    "noon",
    "cent",
    "by",
    "gal",
    "kmh",
    "c",
    "acre",
    "rise",
    "a . m",
    "th",
    "π r 2",
    "sq",
    "mark",
    "l",
    "toy",
    "coin",
    "sq . m",
    "gallon",
    "° f",
    "profit",
    "minw",
    "yr",
    "women",
    "am",
    "pm",
    "hr",
    "cu cm",
    "square",
    "v â € ™",
    "are",
    "rupee",
    "rounds",
    "cubic",
    "cc",
    "mtr",
    "s",
    "ohm",
    "number",
    "kmph",
    "day",
    "hour",
    "minute",
    "min",
    "second",
    "man",
    "woman",
    "sec",
    "cube",
    "mt",
    "sq inch",
    "mp",
    "∏ cm ³",
    "hectare",
    "more",
    "sec",
    "unit",
    "cu . m",
    "cm 2",
    "rs .",
    "rs",
    "kg",
    "g",
    "month",
    "km",
    "m",
    "cm",
    "mm",
    "apple",
    "liter",
    "loss",
    "yard",
    "pure",
    "year",
    "increase",
    "decrease",
    "d",
    "less",
    "Surface",
    "litre",
    "pi sq m",
    "s .",
    "metre",
    "meter",
    "inch",
];

/// The named replacements of `replace_in_latex`, tried as one alternation (name, pattern, replacement).
const REPLACEMENTS: &[(&str, &str)] = &[
    (r"\\math(?:rm|it|bf)", "\\text"),
    (r"\\text(?:normal|bf|it|rm)", "\\text"),
    (r"\\(?:d|t|c)frac", "\\frac"),
    (r"\s\.", " 0."),
    (r"\{\.", "{0."),
    (r"~=", "\\approx"),
    (r"\s*\{\s*,\s*\}", ","),
    (r"(?<![a-zA-Z])(,?\s*(?:and|or))(?![a-zA-Z])", ","),
    (r"(,?\s*\\text\{\s*(?:and|or)\s*\})", ","),
    (r"(?<!\\)\\\s", " "),
    (r"infinity", "\\infty"),
    (r",?(\\ldots)", " "),
    (r"\s*\bpercentage\b", "\\%"),
    (r"\\text\{percentage\}", "%"),
    (r"\s*\bpercent\b", "\\%"),
    (r"\\text\{percent\}", "%"),
    (r"\s*\bpct\b", "\\%"),
    (r"\\text\{pct\}", "%"),
    (r"((?<!\\)inf(?!inity))", "\\infty"),
    (r" sqrt", "\\sqrt"),
];

fn replace_in_latex(text: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let pattern = REPLACEMENTS
        .iter()
        .enumerate()
        .map(|(i, (p, _))| format!("(?P<g{i}>{p})"))
        .collect::<Vec<_>>()
        .join("|");
    let r = re(&RE, &pattern);
    sub(r, text, |c| {
        (0..REPLACEMENTS.len())
            .find(|i| c.name(&format!("g{i}")).is_some())
            .map_or(String::new(), |i| REPLACEMENTS[i].1.to_string())
    })
}

/// The text of each `\boxed{…}` / `\fbox{…}`, scanning from the right: all of them, or (`Last`) the
/// last one and those just before it that a separator joins to it; joined by commas. A box whose
/// braces never close (or that has no brace) ends the scan with the rest of the text.
pub fn extract_boxed_content(text: &str, mode: Boxed) -> String {
    let chars: Vec<char> = text.chars().collect();
    let find = |needle: &str, end: usize| -> Option<usize> {
        let n: Vec<char> = needle.chars().collect();
        (0..end.saturating_sub(n.len() - 1))
            .rev()
            .find(|&i| i + n.len() <= end && chars[i..i + n.len()] == n[..])
    };
    let mut results: Vec<String> = Vec::new();
    let mut current = chars.len();
    let mut max_pos = chars.len();
    let mut last_start: Option<usize> = None;
    loop {
        let b = find("\\boxed", current);
        let f = find("\\fbox", current);
        let (start, cmd_end) = match (b, f) {
            (None, None) => break,
            (Some(b), Some(f)) if f > b => (f, f + 5),
            (Some(b), _) => (b, b + 6),
            (None, Some(f)) => (f, f + 5),
        };
        let mut next = cmd_end;
        while next < max_pos && chars[next].is_whitespace() {
            next += 1;
        }
        if next >= max_pos {
            break;
        }
        if chars[next] != '{' {
            if results.is_empty() {
                results.push(chars[next..].iter().collect());
            }
            break;
        }
        let mut depth = 1;
        let mut close = None;
        let mut i = next;
        while i + 1 < max_pos {
            i += 1;
            match chars[i] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            if results.is_empty() {
                results.push(chars[next..].iter().collect());
            }
            break;
        };
        let content: String = chars[next + 1..close].iter().collect();
        let content = yardstick_core::python::text::strip(&content, None).to_string();
        if let (Boxed::Last, Some(ls)) = (mode, last_start) {
            let between: String = chars[(close + 1).min(ls)..ls].iter().collect();
            let prev = results.last().cloned().unwrap_or_default();
            if !joined_boxes(&between, &content, &prev) {
                break;
            }
        }
        if results.last() != Some(&content) {
            results.push(content);
        }
        last_start = Some(start);
        max_pos = start;
        current = start;
    }
    if results.is_empty() {
        return text.to_string();
    }
    results.reverse();
    results.join(",")
}

/// `should_extract_boxed`: two boxes belong together when close, or separated by `and`/`or`/`,`/`;`.
fn joined_boxes(between: &str, content: &str, prev: &str) -> bool {
    static SEP: OnceLock<Regex> = OnceLock::new();
    let n = between.chars().count();
    if n < 10 {
        return true;
    }
    prev != content
        && n < 70
        && re(&SEP, r"\b(and|or)\b|,|;")
            .is_match(between)
            .unwrap_or(false)
}

fn fix_malformed_operators(text: &str) -> String {
    static PATS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let pats = PATS.get_or_init(|| {
        [
            (r"\^\s?\((.*?)\)", "^{$1}"),
            (r"sqrt\s?\((.*?)\)", "\\sqrt{$1}"),
            (r"\\frac\s?(\d)\s?(\d+)", "\\frac{$1}{$2}"),
            (r"\\log_\s?(\d)\s?(\d+)", "\\log_{$1}{$2}"),
            (r"\\frac\s?\{(.*?)\}\s?(\d)", "\\frac{$1}{$2}"),
            (r"\\frac\s?(\d)\s?\{(.*?)\}", "\\frac{$1}{$2}"),
            (r"\\sqrt\s?(\d)", "\\sqrt{$1}"),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("static regex"), r))
        .collect()
    });
    let mut s = text.to_string();
    for (r, rep) in pats {
        s = sub(r, &s, |c| {
            rep.replace("$1", group(c, 1)).replace("$2", group(c, 2))
        });
    }
    s.replace(" sqrt", "\\sqrt")
}

fn fix_sqrt(text: &str) -> String {
    if !text.contains("\\sqrt") {
        return text.to_string();
    }
    let mut parts = text.split("\\sqrt");
    let mut out = parts.next().unwrap_or("").to_string();
    for part in parts {
        let p = part.trim_start();
        match p.chars().next() {
            Some(c) if c != '{' && c != '[' => {
                out.push_str(&format!("\\sqrt{{{c}}}{}", &p[c.len_utf8()..]));
            }
            _ => {
                out.push_str("\\sqrt");
                out.push_str(p);
            }
        }
    }
    out
}

fn fix_fracs(text: &str) -> String {
    let mut parts = text.split("\\frac");
    let mut out = parts.next().unwrap_or("").to_string();
    for part in parts {
        let p = part.trim_start();
        out.push_str("\\frac");
        let cs: Vec<char> = p.chars().collect();
        if cs.first() == Some(&'{') {
            out.push_str(p);
        } else if cs.len() < 2 {
            return text.to_string();
        } else {
            let rest: String = cs[2..].iter().collect();
            if cs[1] != '{' {
                out.push_str(&format!("{{{}}}{{{}}}{rest}", cs[0], cs[1]));
            } else {
                out.push_str(&format!("{{{}}}{}{rest}", cs[0], cs[1]));
            }
        }
    }
    out
}

/// Python's `int(s)` on a string (surrounding whitespace, sign, underscores between digits).
fn python_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || t.contains("__") || t.starts_with('_') || t.ends_with('_') {
        return None;
    }
    let body = t.strip_prefix('-').unwrap_or(t);
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    t.replace('_', "").parse().ok()
}

fn fix_a_slash_b(text: &str) -> String {
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() != 2 {
        return text.to_string();
    }
    match (python_int(parts[0]), python_int(parts[1])) {
        (Some(a), Some(b)) if text == format!("{a}/{b}") => format!("\\frac{{{a}}}{{{b}}}"),
        _ => text.to_string(),
    }
}

fn basic_latex(text: &str) -> String {
    static LEFT: OnceLock<Regex> = OnceLock::new();
    static RIGHT: OnceLock<Regex> = OnceLock::new();
    static PERM: OnceLock<Regex> = OnceLock::new();
    static REMOVE: OnceLock<Regex> = OnceLock::new();
    static SLASH: OnceLock<Regex> = OnceLock::new();
    let mut s = text
        .replace("\\mathrm{T}", "T")
        .replace("\\mathrm{d}", "d")
        .replace("{\\rm d}", "d")
        .replace("\\left[\\begin{matrix}", "\\begin{bmatrix}")
        .replace("\\end{matrix}\\right]", "\\end{bmatrix}");
    let left = re(
        &LEFT,
        r"\\m?left(\\\{|\{|\\\||\||\[|\(|\\rbracl|\\lgroup|\\lbrace|\\lbrack|\\vert|\\lvert|\\lceil|\\lfloor|\\vert|\\lvert|\\langle|\\llcorner|\\ulcorner)",
    );
    s = sub(left, &s, |c| group(c, 1).to_string());
    let right = re(
        &RIGHT,
        r"\\m?right(\\\}|\}|\\\||\||\]|\)|\\rbrack|\\rgroup|\\rbrace|\\rbrack|\\vert|\\rvert|\\rceil|\\rfloor|\\vert|\\rvert|\\rangle|\\lrcorner|\\urcorner)",
    );
    s = sub(right, &s, |c| group(c, 1).to_string());
    let perm = re(
        &PERM,
        r"\(([a-zA-Z0-9+\-*/\\ ]+?)\)_\{([a-zA-Z0-9+\-*/\\ ]+?)\}",
    );
    s = sub(perm, &s, |c| {
        let (a, b) = (group(c, 1), group(c, 2));
        format!("\\frac{{({a})!}}{{(({a})-({b}))!}}")
    });
    let remove = re(
        &REMOVE,
        r#"\\mathrm\{th\}|\\!\s*|\\text\s*\{\s*\}|\\text\s*\{\s*\}|\\\$|\$|(?<!\\)["']|\\displaystyle"#,
    );
    s = sub(remove, &s, |_| String::new());
    s = replace_in_latex(&s);
    s = s.replace(['\n', '\t'], " ");
    if !s.contains("matrix") {
        s = sub(re(&SLASH, r"\\\\(?=[a-zA-Z])"), &s, |_| "\\".to_string());
    }
    s
}

fn remove_units(text: &str) -> String {
    static SUPER: OnceLock<Regex> = OnceLock::new();
    static UNIT: OnceLock<Regex> = OnceLock::new();
    let mut s = text.to_string();
    let sup = re(&SUPER, r"(\\(?:text|mbox)\{.*?\})(\^\d|\{\^\d\})?$");
    let t = sub(sup, &s, |_| String::new());
    let t = yardstick_core::python::text::strip(&t, None).to_string();
    if !t.is_empty() && t != s {
        s = t;
    }
    let units = re(
        &UNIT,
        &format!(r"(\d|\}}|\s)\s*(?:(?:{})(?:s|es)?)\s*$", UNITS.join("|")),
    );
    for _ in 0..2 {
        let t = sub(units, &s, |c| group(c, 1).to_string());
        if !t.is_empty() && t != s {
            s = t;
        }
    }
    s
}

/// `normalize_latex(text, config)` with `math_verify`'s default LaTeX extraction configuration.
pub fn normalize_latex(text: &str, boxed: Boxed) -> String {
    let mut s = extract_boxed_content(text, boxed);
    s = basic_latex(&s);
    s = remove_units(&s);
    if s.starts_with('.') {
        s.insert(0, '0');
    }
    if s == "0.5" {
        s = "\\frac{1}{2}".into();
    }
    s = fix_malformed_operators(&s);
    s = fix_sqrt(&s);
    s = fix_fracs(&s);
    s = fix_a_slash_b(&s);
    yardstick_core::python::text::strip(&s, None).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_contents() {
        assert_eq!(
            extract_boxed_content("a \\boxed{1} b \\boxed{2}", Boxed::All),
            "1,2"
        );
        assert_eq!(
            extract_boxed_content("\\boxed{1} and \\boxed{2}", Boxed::Last),
            "1,2"
        );
        let far = "\\boxed{1} is a long way from the next box which is \\boxed{2}";
        assert_eq!(extract_boxed_content(far, Boxed::Last), "2");
        assert_eq!(extract_boxed_content("\\boxed 5", Boxed::All), "5");
        assert_eq!(extract_boxed_content("\\boxed{1", Boxed::All), "{1");
        assert_eq!(extract_boxed_content("no box", Boxed::All), "no box");
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_latex("\\dfrac{1}{2}", Boxed::All), "\\frac{1}{2}");
        assert_eq!(normalize_latex("0.5", Boxed::All), "\\frac{1}{2}");
        // a leading-dot decimal gets its 0 first, and then 0.5 becomes a fraction
        assert_eq!(normalize_latex(".5", Boxed::All), "\\frac{1}{2}");
        assert_eq!(normalize_latex(".25", Boxed::All), "0.25");
        assert_eq!(normalize_latex("5 \\text{ cm}", Boxed::All), "5");
        assert_eq!(
            normalize_latex("\\left( 1, 2 \\right)", Boxed::All),
            "( 1, 2 )"
        );
        assert_eq!(normalize_latex("\\frac12", Boxed::All), "\\frac{1}{2}");
        assert_eq!(normalize_latex("\\sqrt2", Boxed::All), "\\sqrt{2}");
        assert_eq!(normalize_latex("3/4", Boxed::All), "\\frac{3}{4}");
        assert_eq!(normalize_latex("10 percent", Boxed::All), "10\\%");
        assert_eq!(normalize_latex("\\$5", Boxed::All), "5");
    }
}
