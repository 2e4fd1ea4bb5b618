//! Contexts (lm-eval `fewshot_context`): the description, the few-shot turns and the doc's own
//! question, rendered as plain text — one context per choice for multiple-input tasks.

use minijinja::value::Value as MjValue;
use serde_json::Value;
use yardstick_core::Doc;

use super::render::Renderer;
use super::PreparedTask;
use crate::error::Result;
use crate::prompt::{build_qa_turn, render_plain, Message, Role};
use crate::pyvalue;

impl PreparedTask {
    /// The description (rendered against the doc) as a system message, when not empty.
    pub(super) fn description_turn(
        &self,
        r: &Renderer<'_>,
        doc: &Doc,
        ctx: &MjValue,
        doc_id: usize,
    ) -> Result<Vec<Message>> {
        let description = r.resolve_field_in_doc(
            doc,
            ctx,
            Some(&self.config.description),
            "description",
            doc_id,
        )?;
        Ok(description
            .filter(|d| !d.is_empty())
            .map(|d| Message::new(Role::System, d, ""))
            .into_iter()
            .collect())
    }

    /// The doc's contexts after the turns in `messages`. Multiple-input tasks: one per choice (each
    /// choice is the question), `messages` kept as the shared prefix. Otherwise one: the question `q`
    /// is appended to `messages` as the last turn.
    pub(super) fn contexts(
        &self,
        doc_id: usize,
        messages: &mut Vec<Message>,
        q: &Value,
        choices: Option<&[Value]>,
        gen_prefix: Option<&str>,
    ) -> Result<Vec<String>> {
        if self.multiple_input.is_some() {
            let choices = choices.ok_or_else(|| {
                self.doc_error(
                    doc_id,
                    "doc_to_choice",
                    "multiple inputs require choices".into(),
                )
            })?;
            return choices
                .iter()
                .map(|c| {
                    let c = self.context_string(doc_id, "doc_to_choice", c)?;
                    let mut m = messages.clone();
                    m.extend(build_qa_turn(&c, None, gen_prefix, "", ""));
                    Ok(render_plain(&m))
                })
                .collect();
        }
        let q = self.context_string(doc_id, "doc_to_text", q)?;
        messages.extend(build_qa_turn(
            &q,
            None,
            gen_prefix,
            &self.config.target_delimiter,
            "",
        ));
        Ok(vec![render_plain(messages)])
    }

    /// A question, which must be a string.
    fn context_string(&self, doc_id: usize, field: &str, v: &Value) -> Result<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.doc_error(
                doc_id,
                field,
                format!("Context is not a string! : {}", pyvalue::repr(other)),
            )),
        }
    }
}
