//! The Python filter functions of lm-eval's coding tasks (a `custom` step's `filter_fn`), applied to one
//! instance's responses: humaneval's `build_predictions` / `build_predictions_instruct` and mbpp's
//! `build_predictions` (`extract_code_blocks`).

use serde_json::Value;
use yardstick_core::Doc;

use super::repr;
use crate::scoring::pyre::{Found, PyRegex};

pub(crate) const HUMANEVAL_BUILD_PREDICTIONS: &str = "humaneval.build_predictions";
pub(crate) const HUMANEVAL_BUILD_PREDICTIONS_INSTRUCT: &str =
    "humaneval.build_predictions_instruct";
pub(crate) const MBPP_BUILD_PREDICTIONS: &str = "mbpp.build_predictions";

/// The native names of these filters.
pub const CODE_FILTERS: &[&str] = &[
    HUMANEVAL_BUILD_PREDICTIONS,
    HUMANEVAL_BUILD_PREDICTIONS_INSTRUCT,
    MBPP_BUILD_PREDICTIONS,
];

/// A fenced code block, optionally with a language word (mbpp's `extract_code_blocks`).
const FENCED: &str = r"```(?:\w+)?\n?(.*?)\n?```";

#[derive(Debug)]
pub(crate) enum CodePredictions {
    /// `doc["prompt"] + r` for each response.
    PromptPlusResponse,
    /// `doc["prompt"] + r[: r.find("```")]` (the whole `r` without a fence).
    PromptPlusResponseToFence,
    /// The first fenced block of `"```" + r`, else of `r` with "```python" read as "```", else `""`.
    ExtractCodeBlock(Box<PyRegex>),
}

impl CodePredictions {
    pub(crate) fn compile(function: &str) -> Option<Result<CodePredictions, String>> {
        Some(Ok(match function {
            HUMANEVAL_BUILD_PREDICTIONS => CodePredictions::PromptPlusResponse,
            HUMANEVAL_BUILD_PREDICTIONS_INSTRUCT => CodePredictions::PromptPlusResponseToFence,
            MBPP_BUILD_PREDICTIONS => match PyRegex::new(&format!("(?s){FENCED}")) {
                Ok(re) => CodePredictions::ExtractCodeBlock(Box::new(re)),
                Err(e) => return Some(Err(format!("code-block pattern: {e}"))),
            },
            _ => return None,
        }))
    }

    /// The instance's responses (a list) → one prediction per response (a list).
    pub(crate) fn apply(&self, v: Value, doc: &Doc) -> Result<Value, String> {
        let Value::Array(resps) = v else {
            return Err(format!(
                "build_predictions expects the instance's list of responses, got {}",
                repr(&v)
            ));
        };
        let prompt = || match doc.get("prompt") {
            Some(Value::String(p)) => Ok(p.as_str()),
            Some(other) => Err(format!(
                "doc[\"prompt\"] is {}, not a string (Python raises TypeError)",
                repr(other)
            )),
            None => Err("the doc has no `prompt` (Python raises KeyError)".to_string()),
        };
        resps
            .into_iter()
            .map(|r| {
                let Value::String(r) = r else {
                    return Err(format!("response {} is not a string", repr(&r)));
                };
                Ok(Value::String(match self {
                    CodePredictions::PromptPlusResponse => format!("{}{r}", prompt()?),
                    CodePredictions::PromptPlusResponseToFence => {
                        let cut = r.find("```").map_or(r.as_str(), |i| &r[..i]);
                        format!("{}{cut}", prompt()?)
                    }
                    CodePredictions::ExtractCodeBlock(re) => extract_code_block(re, &r)?,
                }))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }
}

fn extract_code_block(re: &PyRegex, text: &str) -> Result<String, String> {
    let first = |t: &str| -> Result<Option<String>, String> {
        Ok(re.findall(t)?.into_iter().next().map(|f| match f {
            Found::Str(s) => s,
            Found::Tuple(mut v) => v.swap_remove(0),
        }))
    };
    if let Some(code) = first(&format!("```{text}"))? {
        return Ok(code);
    }
    Ok(first(&text.replace("```python", "```"))?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Doc {
        json!({"prompt": "def f(x):\n"})
            .as_object()
            .unwrap()
            .clone()
    }

    fn apply(function: &str, resps: Value) -> Value {
        CodePredictions::compile(function)
            .unwrap()
            .unwrap()
            .apply(resps, &doc())
            .unwrap()
    }

    #[test]
    fn humaneval_prefixes_the_prompt() {
        assert_eq!(
            apply(
                HUMANEVAL_BUILD_PREDICTIONS,
                json!(["    return x\n", "    pass"])
            ),
            json!(["def f(x):\n    return x\n", "def f(x):\n    pass"])
        );
        assert_eq!(
            apply(
                HUMANEVAL_BUILD_PREDICTIONS_INSTRUCT,
                json!(["    return x\n```\nmore", "    return 1"])
            ),
            json!(["def f(x):\n    return x\n", "def f(x):\n    return 1"])
        );
    }

    #[test]
    fn mbpp_takes_the_first_code_block() {
        // Expected values from Python's `re` on the same texts. The response continues a "```python\n"
        // prefix and is read with a fence in front, so a leading word is taken for a language name
        // (lm-eval's own behaviour).
        let cases = [
            (
                "def g():\n    return 1\n```\ntext ```x```",
                " g():\n    return 1",
            ),
            ("no code", ""),
            ("python\nx = 1\n```", "x = 1"),
            ("\nx = 1\n```", "x = 1"),
            ("a ```python\nb\n```", " "),
        ];
        for (text, want) in cases {
            assert_eq!(
                apply(MBPP_BUILD_PREDICTIONS, json!([text])),
                json!([want]),
                "{text:?}"
            );
        }
    }
}
