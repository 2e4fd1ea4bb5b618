//! Prompt assembly as messages (lm-eval ≥ 0.4.10 `Message`, `build_qa_turn`, `fewshot_context`).
//!
//! A prompt is a list of messages (system / user / assistant), each carrying the delimiter that
//! follows it when rendered as plain text. Plain text is the concatenation of `content + delimiter`;
//! a chat template can instead consume the roles and contents ([`Message::role`]). For plain text
//! (reference §2.1):
//!
//! ```text
//! ctx = S + Σ ( Qᵢ + TD + Aᵢ + FD ) + Q  [+ (TD if needed) + G]
//! ```
//! where `S` is the rendered description glued with no delimiter.

use serde::Serialize;

use yardstick_core::python::text as pystr;

/// Who says a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Appended after `content` when the prompt is rendered as plain text (target or few-shot
    /// delimiter); not part of a chat message.
    pub delimiter: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>, delimiter: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            delimiter: delimiter.into(),
        }
    }

    /// Plain-text rendering: content then delimiter.
    pub fn to_text(&self) -> String {
        format!("{}{}", self.content, self.delimiter)
    }
}

/// Concatenate messages as plain text.
pub fn render_plain(messages: &[Message]) -> String {
    let mut s = String::new();
    for m in messages {
        s.push_str(&m.content);
        s.push_str(&m.delimiter);
    }
    s
}

fn starts_with_space(s: &str) -> bool {
    s.chars().next().is_some_and(pystr::is_space)
}

fn ends_with_space(s: &str) -> bool {
    s.chars().last().is_some_and(pystr::is_space)
}

/// Join `prefix` and `suffix`, with `delimiter` only if neither has whitespace at the boundary; either
/// alone if the other is empty.
pub fn maybe_delimit(prefix: Option<&str>, suffix: Option<&str>, delimiter: &str) -> String {
    match (
        prefix.filter(|p| !p.is_empty()),
        suffix.filter(|s| !s.is_empty()),
    ) {
        (None, s) => s.unwrap_or("").to_string(),
        (Some(p), None) => p.to_string(),
        (Some(p), Some(s)) => {
            if ends_with_space(p) || starts_with_space(s) {
                format!("{p}{s}")
            } else {
                format!("{p}{delimiter}{s}")
            }
        }
    }
}

/// True if neither string has whitespace at the join (and `prefix` is not empty).
pub fn requires_delimiter(prefix: &str, suffix: &str) -> bool {
    if prefix.is_empty() {
        return false;
    }
    !(ends_with_space(prefix) || starts_with_space(suffix))
}

/// True if the string ends with whitespace.
pub fn ends_with_whitespace(s: &str) -> bool {
    ends_with_space(s)
}

/// One question/answer turn (lm-eval `build_qa_turn`): the user message carries the target delimiter
/// when an answer (without gen_prefix) follows, or when a gen_prefix needs one; the assistant message
/// (answer, prefixed by the gen_prefix if any) carries the few-shot delimiter. Without an answer, a
/// gen_prefix becomes an assistant message of its own.
pub fn build_qa_turn(
    q: &str,
    answer: Option<&str>,
    gen_prefix: Option<&str>,
    target_delimiter: &str,
    fewshot_delimiter: &str,
) -> Vec<Message> {
    let gen_prefix = gen_prefix.filter(|g| !g.is_empty());
    let has_answer = answer.is_some();
    let user_delim = if (has_answer && gen_prefix.is_none())
        || gen_prefix.is_some_and(|g| requires_delimiter(q, g))
    {
        target_delimiter
    } else {
        ""
    };
    let mut msgs = vec![Message::new(Role::User, q, user_delim)];
    if let Some(a) = answer {
        msgs.push(Message::new(
            Role::Assistant,
            maybe_delimit(gen_prefix, Some(a), " "),
            fewshot_delimiter,
        ));
    } else if let Some(g) = gen_prefix {
        msgs.push(Message::new(Role::Assistant, g, ""));
    }
    msgs
}

/// A chat message (role and content) for a chat template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

/// lm-eval `multiturn_to_singleturn` (used when `fewshot_as_multiturn` is false with a chat template):
/// keep a leading system message, collapse everything else into one user message (plain text, last
/// delimiter dropped), keeping a trailing assistant prefill separate.
pub fn multiturn_to_singleturn(messages: &[Message]) -> Vec<ChatMessage> {
    let (system, rest) = match messages.first() {
        Some(m) if m.role == Role::System => (Some(m), &messages[1..]),
        _ => (None, messages),
    };
    let mut out = Vec::new();
    if let Some(s) = system {
        out.push(ChatMessage {
            role: Role::System,
            content: s.content.clone(),
        });
    }
    let (body, prefill) = match rest.last() {
        Some(m) if m.role == Role::Assistant => (&rest[..rest.len() - 1], Some(m)),
        _ => (rest, None),
    };
    let mut text = String::new();
    for (i, m) in body.iter().enumerate() {
        text.push_str(&m.content);
        if i + 1 < body.len() {
            text.push_str(&m.delimiter);
        }
    }
    out.push(ChatMessage {
        role: Role::User,
        content: text,
    });
    if let Some(p) = prefill {
        out.push(ChatMessage {
            role: Role::Assistant,
            content: p.content.clone(),
        });
    }
    out
}

/// `json.dumps([{"role": …, "content": …}, …], ensure_ascii=False)`: the message list as lm-eval hands it
/// to a chat completions backend (and logs it as the request's context).
pub fn messages_json(messages: &[ChatMessage]) -> String {
    let mut out = String::from("[");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("{\"role\": ");
        out.push_str(&serde_json::Value::from(m.role.as_str()).to_string());
        out.push_str(", \"content\": ");
        out.push_str(&serde_json::Value::from(m.content.as_str()).to_string());
        out.push('}');
    }
    out.push(']');
    out
}

/// The messages as chat messages, one per turn (`fewshot_as_multiturn`).
pub fn to_chat(messages: &[Message]) -> Vec<ChatMessage> {
    messages
        .iter()
        .map(|m| ChatMessage {
            role: m.role,
            content: m.content.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiting() {
        assert_eq!(maybe_delimit(Some("a"), Some("b"), " "), "a b");
        assert_eq!(maybe_delimit(Some("a "), Some("b"), "-"), "a b");
        assert_eq!(maybe_delimit(Some("a"), Some("\nb"), "-"), "a\nb");
        assert_eq!(maybe_delimit(None, Some("b"), "-"), "b");
        assert_eq!(maybe_delimit(Some("a"), Some(""), "-"), "a");
        assert_eq!(maybe_delimit(None, None, "-"), "");
        assert!(requires_delimiter("Answer:", "The"));
        assert!(!requires_delimiter("Answer: ", "The"));
        assert!(!requires_delimiter("", "The"));
    }

    #[test]
    fn qa_turns() {
        let shot = build_qa_turn("Q1", Some("A"), None, " ", "\n\n");
        assert_eq!(render_plain(&shot), "Q1 A\n\n");
        let shot = build_qa_turn(
            "Q1\nAnswer:",
            Some("D"),
            Some("The answer is:"),
            " ",
            "\n\n",
        );
        assert_eq!(render_plain(&shot), "Q1\nAnswer: The answer is: D\n\n");
        let eval = build_qa_turn("Q2\nAnswer:", None, None, " ", "");
        assert_eq!(render_plain(&eval), "Q2\nAnswer:");
        let eval = build_qa_turn("Q2\nAnswer:", None, Some("The answer is:"), " ", "");
        assert_eq!(render_plain(&eval), "Q2\nAnswer: The answer is:");
        let eval = build_qa_turn("Q2\nAnswer: ", None, Some("X"), " ", "");
        assert_eq!(render_plain(&eval), "Q2\nAnswer: X");
    }

    #[test]
    fn singleturn_collapse() {
        let mut msgs = vec![Message::new(Role::System, "Desc.\n\n", "")];
        msgs.extend(build_qa_turn("Q1", Some("A"), None, " ", "\n\n"));
        msgs.extend(build_qa_turn("Q2", None, Some("G"), " ", ""));
        let chat = multiturn_to_singleturn(&msgs);
        assert_eq!(chat.len(), 3);
        assert_eq!(chat[1].content, "Q1 A\n\nQ2");
        assert_eq!(
            chat[2],
            ChatMessage {
                role: Role::Assistant,
                content: "G".into()
            }
        );
    }
}
