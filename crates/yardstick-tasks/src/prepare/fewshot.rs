//! Few-shot turns (lm-eval `ContextSampler.get_context` / `get_chat_context`): the examples drawn
//! for one doc, each rendered with the few-shot config's `doc_to_*` fields as a question/answer turn.

use minijinja::value::Value as MjValue;
use serde_json::Value;
use yardstick_core::python::py_index;
use yardstick_core::Doc;

use super::render::{as_int, is_int, truthy_field};
use super::PreparedTask;
use crate::error::{Result, TaskError};
use crate::prompt::{build_qa_turn, Message};
use crate::pyvalue;
use crate::sampler::Sampler;

/// An error about few-shot example `shot` while building doc `doc_id`.
struct ShotError<'a> {
    task: &'a PreparedTask,
    doc_id: usize,
    shot: usize,
}

impl ShotError<'_> {
    fn at(&self, field: &str, message: String) -> TaskError {
        self.task.doc_error(
            self.doc_id,
            field,
            format!("few-shot example {}: {message}", self.shot),
        )
    }
}

impl PreparedTask {
    /// Draw the few-shot examples of doc `doc_id` and append their turns to `messages`; returns the
    /// chosen indices into the few-shot pool, in order.
    pub(super) fn fewshot_turns(
        &self,
        doc_id: usize,
        doc: &Doc,
        sampler: &mut Sampler,
        messages: &mut Vec<Message>,
    ) -> Result<Vec<usize>> {
        if self.num_fewshot == 0 {
            return Ok(Vec::new());
        }
        let cfg = &self.config;
        // lm-eval removes the eval doc from the pool only when few-shot examples come from the eval
        // split itself.
        let eval_doc = if cfg.fewshot_config.split == cfg.test_split {
            Some(doc)
        } else {
            None
        };
        let ids = sampler
            .sample(self.num_fewshot, &self.fewshot_pool, eval_doc)
            .map_err(|e| TaskError::Task {
                task: cfg.task.clone(),
                message: format!("few-shot sampling for doc {doc_id}: {e}"),
            })?;
        for &shot in &ids {
            messages.extend(self.shot_turn(doc_id, shot)?);
        }
        Ok(ids)
    }

    /// One example as a question/answer turn.
    fn shot_turn(&self, doc_id: usize, shot: usize) -> Result<Vec<Message>> {
        let fs = &self.config.fewshot_config;
        let r = self.renderer();
        let doc = &self.fewshot_pool[shot];
        let ctx = MjValue::from_serialize(doc);
        let err = ShotError {
            task: self,
            doc_id,
            shot,
        };
        let q = r.doc_to_text(
            doc,
            &ctx,
            fs.doc_to_text.as_ref(),
            "fewshot_config.doc_to_text",
            doc_id,
        )?;
        let choices = if truthy_field(&fs.doc_to_choice) {
            Some(r.doc_to_choice(
                doc,
                &ctx,
                fs.doc_to_choice.as_ref(),
                "fewshot_config.doc_to_choice",
                doc_id,
            )?)
        } else {
            None
        };
        let a = r.doc_to_target(
            doc,
            &ctx,
            fs.doc_to_target.as_ref(),
            "fewshot_config.doc_to_target",
            doc_id,
        )?;
        let gen_prefix = r.resolve_field_in_doc(
            doc,
            &ctx,
            fs.gen_prefix.as_ref(),
            "fewshot_config.gen_prefix",
            doc_id,
        )?;
        let (q, choices) = self.shot_question(q, choices, &err)?;
        let answer = shot_answer(&a, choices.as_deref(), &err)?;
        Ok(build_qa_turn(
            &q,
            answer.as_deref(),
            gen_prefix.as_deref(),
            &fs.target_delimiter,
            &fs.fewshot_delimiter,
        ))
    }

    /// The example's question: for multiple-input tasks the choice `doc_to_text` indexes (the choices
    /// are then used up), otherwise the text itself.
    fn shot_question(
        &self,
        q: Value,
        mut choices: Option<Vec<Value>>,
        err: &ShotError<'_>,
    ) -> Result<(String, Option<Vec<Value>>)> {
        if self.multiple_input.is_none() {
            return match q {
                Value::String(s) => Ok((s, choices)),
                other => Err(err.at(
                    "doc_to_text",
                    format!("Context is not a string! : {}", pyvalue::repr(&other)),
                )),
            };
        }
        let list = choices
            .take()
            .ok_or_else(|| err.at("doc_to_choice", "multiple inputs require choices".into()))?;
        let idx = as_int(&q).ok_or_else(|| {
            err.at(
                "doc_to_text",
                format!("expected a choice index, got {}", pyvalue::repr(&q)),
            )
        })?;
        match py_index(&list, idx) {
            Some(Value::String(s)) => Ok((s.clone(), choices)),
            Some(other) => Err(err.at(
                "doc_to_choice",
                format!("choice is not a string: {}", pyvalue::repr(other)),
            )),
            None => Err(err.at("doc_to_text", format!("choice index {idx} out of range"))),
        }
    }
}

/// The example's answer (none when the target is empty): the indexed choice, the first of a list of
/// targets, or the target itself.
fn shot_answer(
    a: &Value,
    choices: Option<&[Value]>,
    err: &ShotError<'_>,
) -> Result<Option<String>> {
    let has_answer = !a.is_null() && *a != Value::String(String::new());
    if !has_answer {
        return Ok(None);
    }
    let text = match (choices, a) {
        (Some(choices), a) if !choices.is_empty() && is_int(a) => {
            let idx = as_int(a).unwrap_or_default();
            py_index(choices, idx).cloned().ok_or_else(|| {
                err.at(
                    "doc_to_target",
                    format!(
                        "gold index {idx} out of range for {} choices",
                        choices.len()
                    ),
                )
            })?
        }
        (_, Value::Array(items)) => items
            .first()
            .cloned()
            .ok_or_else(|| err.at("doc_to_target", "empty list of targets".into()))?,
        (_, a) => a.clone(),
    };
    match text {
        Value::String(s) => Ok(Some(s)),
        other => Err(err.at(
            "doc_to_target",
            format!("Answer is not a string! : {}", pyvalue::repr(&other)),
        )),
    }
}
