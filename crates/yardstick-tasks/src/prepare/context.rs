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
    /// The system instruction and the description (rendered against the doc), joined by the few-shot
    /// delimiter, as a system message when not empty (lm-eval `fewshot_context`).
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
        let system = crate::prompt::maybe_delimit(
            self.format.system_instruction.as_deref(),
            description.as_deref(),
            &self.config.fewshot_delimiter,
        );
        Ok((!system.is_empty())
            .then(|| Message::new(Role::System, system, ""))
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
                    self.render(doc_id, &m, gen_prefix)
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
        Ok(vec![self.render(doc_id, messages, gen_prefix)?])
    }

    /// The prompt text of `messages`: plain, or through the chat template (lm-eval: the message list as is
    /// with `fewshot_as_multiturn`, else collapsed to one user turn; a generation prompt unless a
    /// `gen_prefix` is continued).
    fn render(
        &self,
        doc_id: usize,
        messages: &[Message],
        gen_prefix: Option<&str>,
    ) -> Result<String> {
        let Some(chat) = &self.format.chat else {
            return Ok(render_plain(messages));
        };
        let chat_messages = if chat.fewshot_as_multiturn {
            crate::prompt::to_chat(messages)
        } else {
            crate::prompt::multiturn_to_singleturn(messages)
        };
        match &chat.renderer {
            super::ChatRenderer::Template(t) => {
                let add_generation_prompt = gen_prefix.is_none_or(str::is_empty);
                t.render(&chat_messages, add_generation_prompt)
                    .map_err(|e| self.doc_error(doc_id, "chat template", e.to_string()))
            }
            super::ChatRenderer::Messages => Ok(crate::prompt::messages_json(&chat_messages)),
        }
    }

    /// The delimiter between a context and each choice: with a chat template lm-eval drops it unless the
    /// task's `gen_prefix` ends in something other than whitespace.
    pub(super) fn choice_delimiter(&self) -> &str {
        if self.format.chat.is_none() {
            return &self.config.target_delimiter;
        }
        match self.config.gen_prefix.as_deref() {
            Some(g) if !g.is_empty() && !g.ends_with(char::is_whitespace) => {
                &self.config.target_delimiter
            }
            _ => "",
        }
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
