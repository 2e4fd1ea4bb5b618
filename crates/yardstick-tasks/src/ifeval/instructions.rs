//! The 25 instruction types of lm-eval's `instructions_registry.INSTRUCTION_DICT`, built from a
//! dataset row's `instruction_id_list` and `kwargs` as lm-eval's `build_description` builds them.
//!
//! lm-eval drops falsy kwargs (`None`, `0`, `""`, empty lists) before building, and draws a random
//! value for every argument that is then missing or out of range. Yardstick refuses such rows
//! ([`IfEvalError::Argument`]) instead of guessing, with one exception that `google/IFEval` needs:
//! `keywords:letter_frequency` with a `letter` that is not one ASCII letter (`"!"` in key 1129, `"#"`
//! in key 1122). lm-eval then checks a random ASCII letter (`random.choice(string.ascii_letters)`,
//! lower-cased), so its score for these two instructions varies from run to run; Yardstick checks
//! [`INVALID_LETTER_SUBSTITUTE`] and says so in the task README.

use serde_json::{Map, Value};

use super::IfEvalError;

/// The letter Yardstick checks where lm-eval would draw a random one.
pub const INVALID_LETTER_SUBSTITUTE: char = 'e';

/// `less than` / `at least`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    LessThan,
    AtLeast,
}

impl Relation {
    pub fn holds(self, count: usize, threshold: i64) -> bool {
        let count = count as i64;
        match self {
            Relation::LessThan => count < threshold,
            Relation::AtLeast => count >= threshold,
        }
    }
}

/// One instruction with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Instruction {
    /// `keywords:existence`: every keyword (a regular expression) occurs, ignoring case.
    KeywordExistence { keywords: Vec<String> },
    /// `keywords:frequency`: the keyword's (regular expression, ignoring case) match count.
    KeywordFrequency {
        keyword: String,
        frequency: i64,
        relation: Relation,
    },
    /// `keywords:forbidden_words`: no word occurs as a whole word, ignoring case.
    ForbiddenWords { words: Vec<String> },
    /// `keywords:letter_frequency`: occurrences of a letter in the lower-cased response.
    LetterFrequency {
        letter: char,
        frequency: i64,
        relation: Relation,
    },
    /// `language:response_language`: langdetect's answer.
    ResponseLanguage { language: String },
    /// `length_constraints:number_sentences`: Punkt sentences.
    NumberSentences { num: i64, relation: Relation },
    /// `length_constraints:number_paragraphs`: `***`-separated paragraphs, exactly.
    NumberParagraphs { num: i64 },
    /// `length_constraints:number_words`: `\w+` runs.
    NumberWords { num: i64, relation: Relation },
    /// `length_constraints:nth_paragraph_first_word`: `\n\n`-separated paragraphs and a first word.
    NthParagraphFirstWord {
        num_paragraphs: i64,
        nth: i64,
        first_word: String,
    },
    /// `detectable_content:number_placeholders`: `[...]` placeholders, at least.
    NumberPlaceholders { num: i64 },
    /// `detectable_content:postscript`: a line starting with the marker.
    Postscript { marker: String },
    /// `detectable_format:number_bullet_lists`: `*` or `-` bullets, exactly.
    NumberBulletLists { num: i64 },
    /// `detectable_format:constrained_response`: one of three fixed answers.
    ConstrainedResponse,
    /// `detectable_format:number_highlighted_sections`: `*...*` / `**...**`, at least.
    NumberHighlightedSections { num: i64 },
    /// `detectable_format:multiple_sections`: `<splitter> N` markers, at least.
    MultipleSections { splitter: String, num: i64 },
    /// `detectable_format:json_format`: the whole response (minus code fences) parses as JSON.
    JsonFormat,
    /// `detectable_format:title`: a non-empty `<<title>>`.
    Title,
    /// `combination:two_responses`: two different responses separated by `******`.
    TwoResponses,
    /// `combination:repeat_prompt`: starts with the request, ignoring case.
    RepeatPrompt { prompt: String },
    /// `startend:end_checker`: ends with the phrase, ignoring case.
    EndChecker { phrase: String },
    /// `change_case:capital_word_frequency`: all-capital NLTK word tokens.
    CapitalWordFrequency { frequency: i64, relation: Relation },
    /// `change_case:english_capital`: `isupper()` and langdetect says `en`.
    EnglishCapital,
    /// `change_case:english_lowercase`: `islower()` and langdetect says `en`.
    EnglishLowercase,
    /// `punctuation:no_comma`.
    NoComma,
    /// `startend:quotation`: wrapped in double quotes.
    Quotation,
}

/// Every instruction id lm-eval 0.4.13 registers.
pub const INSTRUCTION_IDS: [&str; 25] = [
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:number_sentences",
    "length_constraints:number_paragraphs",
    "length_constraints:number_words",
    "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:number_bullet_lists",
    "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "detectable_format:json_format",
    "detectable_format:title",
    "combination:two_responses",
    "combination:repeat_prompt",
    "startend:end_checker",
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "punctuation:no_comma",
    "startend:quotation",
];

/// The kwargs of one instruction after lm-eval's `{k: v for k, v in kwargs.items() if v}`.
struct Args<'a> {
    id: &'a str,
    map: Map<String, Value>,
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

impl<'a> Args<'a> {
    fn new(id: &'a str, kwargs: &Value) -> Args<'a> {
        let map = kwargs
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| truthy(v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Args { id, map }
    }

    fn err(&self, key: &str, why: &str) -> IfEvalError {
        IfEvalError::Argument {
            instruction: self.id.to_string(),
            argument: key.to_string(),
            message: why.to_string(),
        }
    }

    fn missing(&self, key: &str) -> IfEvalError {
        self.err(
            key,
            "is missing or empty (lm-eval would draw a random value; give it explicitly)",
        )
    }

    fn str(&self, key: &str) -> Result<String, IfEvalError> {
        match self.map.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.err(key, &format!("must be a string, found {other}"))),
            None => Err(self.missing(key)),
        }
    }

    /// A non-negative integer (lm-eval redraws negative ones).
    fn count(&self, key: &str) -> Result<i64, IfEvalError> {
        match self.map.get(key) {
            Some(v) => match v.as_i64() {
                Some(n) if n >= 0 => Ok(n),
                _ => Err(self.err(key, &format!("must be a non-negative integer, found {v}"))),
            },
            None => Err(self.missing(key)),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, IfEvalError> {
        let list = match self.map.get(key) {
            Some(Value::Array(a)) => a,
            Some(other) => return Err(self.err(key, &format!("must be a list, found {other}"))),
            None => return Err(self.missing(key)),
        };
        list.iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.err(key, &format!("holds {v}, not a string")))
            })
            .collect()
    }

    fn relation(&self, key: &str) -> Result<Relation, IfEvalError> {
        match self.str(key)?.as_str() {
            "less than" => Ok(Relation::LessThan),
            "at least" => Ok(Relation::AtLeast),
            other => Err(self.err(
                key,
                &format!("must be `less than` or `at least`, found `{other}`"),
            )),
        }
    }

    fn letter(&self) -> Result<char, IfEvalError> {
        let raw = self.map.get("letter").and_then(Value::as_str).unwrap_or("");
        let mut chars = raw.chars();
        let valid = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                let lower: Vec<char> = c.to_lowercase().collect();
                lower.len() == 1 && lower[0].is_ascii_lowercase()
            }
            _ => false,
        };
        if !valid {
            return Ok(INVALID_LETTER_SUBSTITUTE);
        }
        Ok(raw
            .trim()
            .to_lowercase()
            .chars()
            .next()
            .unwrap_or(INVALID_LETTER_SUBSTITUTE))
    }
}

impl Instruction {
    /// Build instruction `id` from its kwargs (`prompt` is the row's prompt; no registered
    /// instruction uses it, as in lm-eval).
    pub fn build(id: &str, kwargs: &Value) -> Result<Instruction, IfEvalError> {
        let a = Args::new(id, kwargs);
        use Instruction as I;
        Ok(match id {
            "keywords:existence" => I::KeywordExistence {
                keywords: a.strings("keywords")?,
            },
            "keywords:frequency" => I::KeywordFrequency {
                keyword: super::pytext::strip(&a.str("keyword")?, None).to_string(),
                frequency: a.count("frequency")?,
                relation: a.relation("relation")?,
            },
            "keywords:forbidden_words" => I::ForbiddenWords {
                words: a.strings("forbidden_words")?,
            },
            "keywords:letter_frequency" => I::LetterFrequency {
                letter: a.letter()?,
                frequency: a.count("let_frequency")?,
                relation: a.relation("let_relation")?,
            },
            "language:response_language" => I::ResponseLanguage {
                language: a.str("language")?,
            },
            "length_constraints:number_sentences" => I::NumberSentences {
                num: a.count("num_sentences")?,
                relation: a.relation("relation")?,
            },
            "length_constraints:number_paragraphs" => I::NumberParagraphs {
                num: a.count("num_paragraphs")?,
            },
            "length_constraints:number_words" => I::NumberWords {
                num: a.count("num_words")?,
                relation: a.relation("relation")?,
            },
            "length_constraints:nth_paragraph_first_word" => {
                let num_paragraphs = a.count("num_paragraphs")?;
                let nth = a.count("nth_paragraph")?;
                if nth == 0 || nth > num_paragraphs {
                    return Err(a.err("nth_paragraph", "must be between 1 and num_paragraphs"));
                }
                I::NthParagraphFirstWord {
                    num_paragraphs,
                    nth,
                    first_word: a.str("first_word")?.to_lowercase(),
                }
            }
            "detectable_content:number_placeholders" => I::NumberPlaceholders {
                num: a.count("num_placeholders")?,
            },
            "detectable_content:postscript" => I::Postscript {
                marker: super::pytext::strip(&a.str("postscript_marker")?, None).to_string(),
            },
            "detectable_format:number_bullet_lists" => I::NumberBulletLists {
                num: a.count("num_bullets")?,
            },
            "detectable_format:constrained_response" => I::ConstrainedResponse,
            "detectable_format:number_highlighted_sections" => I::NumberHighlightedSections {
                num: a.count("num_highlights")?,
            },
            "detectable_format:multiple_sections" => I::MultipleSections {
                splitter: super::pytext::strip(&a.str("section_spliter")?, None).to_string(),
                num: a.count("num_sections")?,
            },
            "detectable_format:json_format" => I::JsonFormat,
            "detectable_format:title" => I::Title,
            "combination:two_responses" => I::TwoResponses,
            "combination:repeat_prompt" => I::RepeatPrompt {
                prompt: a.str("prompt_to_repeat")?,
            },
            "startend:end_checker" => I::EndChecker {
                phrase: super::pytext::strip(&a.str("end_phrase")?, None).to_string(),
            },
            "change_case:capital_word_frequency" => I::CapitalWordFrequency {
                frequency: a.count("capital_frequency")?,
                relation: a.relation("capital_relation")?,
            },
            "change_case:english_capital" => I::EnglishCapital,
            "change_case:english_lowercase" => I::EnglishLowercase,
            "punctuation:no_comma" => I::NoComma,
            "startend:quotation" => I::Quotation,
            other => return Err(IfEvalError::UnknownInstruction(other.to_string())),
        })
    }
}
