//! `nltk.word_tokenize(text)` (nltk 3.10.4): Punkt sentences ([`super::punkt`]), each split by NLTK's
//! improved Treebank tokenizer (`NLTKWordTokenizer`, without `convert_parentheses`): a fixed sequence
//! of regular-expression substitutions that pad quotes, punctuation, brackets, dashes and clitics with
//! spaces, then a split on whitespace.

use std::sync::OnceLock;

use fancy_regex::Regex;

/// The substitution steps, in NLTK's order (pattern, replacement in `fancy_regex` syntax).
const STEPS: &[(&str, &str)] = &[
    // starting quotes
    ("([«“‘„]|[`]+)", " ${1} "),
    (r#"^""#, "``"),
    ("(``)", " ${1} "),
    (r#"([ \(\[{<])("|'{2})"#, "${1} `` "),
    (r"(?i)(?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)", "${1} "),
    // punctuation (NLTK's possessive `*+` written as an atomic group)
    (r#"([^\.])(\.)((?>[\]\)}>"'»”’ ]*))\s*$"#, "${1} ${2} ${3} "),
    (r"([:,])([^\d])", " ${1} ${2}"),
    (r"([:,])$", " ${1} "),
    (r"\.{2,}", " ${0} "),
    (r"[;@#$%&]", " ${0} "),
    ("[\u{2012}-\u{2015}]", " ${0} "),
    (r#"([^\.])(\.)([\]\)}>"']*)\s*$"#, "${1} ${2}${3} "),
    (r"[?!]", " ${0} "),
    (r"([^'])' ", "${1} ' "),
    (r"[*]", " ${0} "),
    // parentheses and brackets
    (r"[\]\[\(\)\{\}\<\>]", " ${0} "),
    // double dashes
    (r"--", " -- "),
];

/// Applied after a space is added at both ends.
const ENDING: &[(&str, &str)] = &[
    ("([»”’])", " ${1} "),
    ("''", " '' "),
    ("\"", " '' "),
    (r"\s+", " "),
    (r"([^' ])('[sS]|'[mM]|'[dD]|') ", "${1} ${2} "),
    (r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "${1} ${2} "),
    // MacIntyre contractions (two-part, then the `'tis`/`'twas` forms)
    (r"(?i)\b(can)(not)\b", " ${1} ${2} "),
    (r"(?i)\b(d)('ye)\b", " ${1} ${2} "),
    (r"(?i)\b(gim)(me)\b", " ${1} ${2} "),
    (r"(?i)\b(gon)(na)\b", " ${1} ${2} "),
    (r"(?i)\b(got)(ta)\b", " ${1} ${2} "),
    (r"(?i)\b(lem)(me)\b", " ${1} ${2} "),
    (r"(?i)\b(more)('n)\b", " ${1} ${2} "),
    (r"(?i)\b(wan)(na)(?=\s)", " ${1} ${2} "),
    (r"(?i) ('t)(is)\b", " ${1} ${2} "),
    (r"(?i) ('t)(was)\b", " ${1} ${2} "),
];

struct Compiled {
    steps: Vec<(Regex, &'static str)>,
    ending: Vec<(Regex, &'static str)>,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        // Constant patterns; `patterns_compile` below tests them.
        let build = |list: &'static [(&'static str, &'static str)]| {
            list.iter()
                .map(|(p, r)| (Regex::new(p).expect("NLTK word-tokenizer pattern"), *r))
                .collect()
        };
        Compiled {
            steps: build(STEPS),
            ending: build(ENDING),
        }
    })
}

fn apply(text: String, steps: &[(Regex, &str)]) -> String {
    steps.iter().fold(text, |t, (re, rep)| {
        // A backtracking limit is the only error fancy-regex reports; keep the text as it is then.
        match re.try_replacen(&t, 0, *rep) {
            Ok(out) => out.into_owned(),
            Err(_) => t,
        }
    })
}

/// `NLTKWordTokenizer().tokenize(sentence)`.
pub fn treebank_tokens(sentence: &str) -> Vec<String> {
    let c = compiled();
    let text = apply(sentence.to_string(), &c.steps);
    let text = apply(format!(" {text} "), &c.ending);
    super::pytext::split_whitespace(&text)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// `nltk.word_tokenize(text)` (English, sentences split first).
pub fn word_tokenize(text: &str) -> Vec<String> {
    super::punkt::sentences(text)
        .iter()
        .flat_map(|s| treebank_tokens(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        let c = compiled();
        assert_eq!(c.steps.len(), STEPS.len());
        assert_eq!(c.ending.len(), ENDING.len());
    }

    #[test]
    fn nltk_doctest_sentence() {
        // The example of NLTKWordTokenizer's docstring.
        let s = "Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks.";
        assert_eq!(
            treebank_tokens(s),
            vec![
                "Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in",
                "New", "York.", "Please", "buy", "me", "two", "of", "them.", "Thanks", "."
            ]
        );
    }

    #[test]
    fn clitics_and_quotes() {
        assert_eq!(
            word_tokenize("I CANNOT believe it's \"REAL\". OK?"),
            vec!["I", "CAN", "NOT", "believe", "it", "'s", "``", "REAL", "''", ".", "OK", "?"]
        );
    }
}
