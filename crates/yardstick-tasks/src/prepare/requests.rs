//! Request construction (lm-eval `construct_requests`): the instances of one doc for its output type,
//! and the gold target scoring needs.

use serde_json::Value;
use yardstick_core::python::py_index;
use yardstick_core::{OutputType, RequestArgs, Target};

use super::render::as_int;
use super::PreparedTask;
use crate::error::Result;
use crate::pyvalue;

/// What one doc's requests are built from.
pub(super) struct DocParts<'a> {
    pub doc_id: usize,
    /// The first context (the only one unless multiple-input).
    pub context: &'a str,
    pub contexts: &'a [String],
    /// `doc_to_text(doc)`: the gold choice index of a multiple-input task.
    pub text: &'a Value,
    /// `doc_to_choice(doc)`, when the task has choices.
    pub choices: Option<&'a [Value]>,
    /// Python `str()` of each choice.
    pub choice_strings: Option<&'a [String]>,
    /// `doc_to_target(doc)` and its Python `str()`.
    pub target_value: &'a Value,
    pub target_string: &'a str,
}

impl PreparedTask {
    /// The request arguments of one doc, in lm-eval's order (`idx` = position), and its gold target.
    pub(super) fn requests(&self, p: &DocParts<'_>) -> Result<(Vec<RequestArgs>, Target)> {
        let mut args = Vec::new();
        let target = match self.config.output_type {
            OutputType::MultipleChoice => self.multiple_choice_requests(p, &mut args)?,
            OutputType::Loglikelihood => {
                let cont = self.target_text(p, "the continuation")?;
                args.push(RequestArgs::Loglikelihood {
                    context: p.context.to_string(),
                    continuation: cont.clone(),
                });
                Target::Text(cont)
            }
            OutputType::LoglikelihoodRolling => {
                let text = self.target_text(p, "the text")?;
                args.push(RequestArgs::LoglikelihoodRolling { text: text.clone() });
                Target::Text(text)
            }
            OutputType::GenerateUntil => {
                let params = self
                    .config
                    .generation_params()
                    .unwrap_or_else(|| crate::config::normalize_gen_kwargs(&Default::default()));
                args.push(RequestArgs::GenerateUntil {
                    context: p.context.to_string(),
                    params,
                });
                self.generation_target(p)?
            }
        };
        Ok((args, target))
    }

    /// One loglikelihood request per choice (per context for multiple-input tasks), then the
    /// unconditional ones of `acc_mutual_info`.
    fn multiple_choice_requests(
        &self,
        p: &DocParts<'_>,
        args: &mut Vec<RequestArgs>,
    ) -> Result<Target> {
        let td = self.choice_delimiter();
        let choices = p.choice_strings.ok_or_else(|| {
            self.doc_error(
                p.doc_id,
                "doc_to_choice",
                "multiple_choice tasks need doc_to_choice".into(),
            )
        })?;
        if self.multiple_input.is_some() {
            for c in p.contexts {
                args.push(RequestArgs::Loglikelihood {
                    context: c.clone(),
                    continuation: format!("{td}{}", p.target_string),
                });
            }
        } else {
            for c in choices {
                args.push(RequestArgs::Loglikelihood {
                    context: p.context.to_string(),
                    continuation: format!("{td}{c}"),
                });
            }
        }
        if self.config.uses_mutual_info() {
            for c in choices {
                args.push(RequestArgs::Loglikelihood {
                    context: String::new(),
                    continuation: format!("{td}{c}"),
                });
            }
        }
        let gold = if self.multiple_input.is_some() {
            p.text
        } else {
            p.target_value
        };
        mc_gold(gold, p.choices.unwrap_or_default())
            .map_err(|m| self.doc_error(p.doc_id, "doc_to_target", m))
    }

    /// The target of a loglikelihood task, which must be a string (`what` names it in the error).
    fn target_text(&self, p: &DocParts<'_>, what: &str) -> Result<String> {
        match p.target_value {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.doc_error(
                p.doc_id,
                "doc_to_target",
                format!("{what} must be a string, got {}", pyvalue::repr(other)),
            )),
        }
    }

    /// The gold of a `generate_until` task: the indexed choice when the task has choices, every
    /// target of a multiple-target task, else `str(target)`.
    fn generation_target(&self, p: &DocParts<'_>) -> Result<Target> {
        if let Some(choices) = p.choices {
            let idx = as_int(p.target_value).ok_or_else(|| {
                self.doc_error(
                    p.doc_id,
                    "doc_to_target",
                    "with doc_to_choice, doc_to_target must be a choice index".into(),
                )
            })?;
            let gold = py_index(choices, idx).ok_or_else(|| {
                self.doc_error(
                    p.doc_id,
                    "doc_to_target",
                    format!("gold index {idx} out of range"),
                )
            })?;
            Ok(Target::Text(pyvalue::to_str(gold)))
        } else if self.multiple_target {
            Ok(match p.target_value {
                Value::Array(items) => Target::Texts(items.iter().map(pyvalue::to_str).collect()),
                other => Target::Texts(vec![pyvalue::to_str(other)]),
            })
        } else {
            Ok(Target::Text(p.target_string.to_string()))
        }
    }
}

/// lm-eval's multiple-choice gold: an int (out of range → -100), a str looked up in the choices
/// (missing → -100), or a list of ints (multiple targets).
fn mc_gold(gold: &Value, choices: &[Value]) -> std::result::Result<Target, String> {
    let n = choices.len() as i64;
    match gold {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                as_int(i)
                    .map(|i| if i < n { i } else { -100 })
                    .ok_or_else(|| format!("gold list item {} is not an index", pyvalue::repr(i)))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Target::Indices),
        Value::String(s) => Ok(Target::Index(
            choices
                .iter()
                .position(|c| c.as_str() == Some(s))
                .map_or(-100, |p| p as i64),
        )),
        other => match as_int(other) {
            Some(i) => Ok(Target::Index(if i < n { i } else { -100 })),
            None => Err(format!(
                "gold {} is neither an index, a choice nor a list",
                pyvalue::repr(other)
            )),
        },
    }
}
