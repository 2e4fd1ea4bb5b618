//! A model's chat template rendered as Hugging Face transformers' `apply_chat_template(tokenize=False)`
//! renders it — what lm-eval sends for `--apply_chat_template` through a completions endpoint:
//!
//! * Jinja2 with `trim_blocks` and `lstrip_blocks`, loop controls, lenient undefined values, no
//!   auto-escaping and no kept trailing newline;
//! * the variables `messages` (`[{role, content}]`), `add_generation_prompt` and the tokenizer's special
//!   tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`, …);
//! * `raise_exception(msg)`, `strftime_now(fmt)` and a `tojson` filter that writes like Python's
//!   `json.dumps(ensure_ascii=False)` (real templates use all three), and Python string methods
//!   (`.strip()`, `.startswith()`, `.split()`, …) through the same callback as task templates;
//! * `continue_final_message` (lm-eval's choice whenever a task has a `gen_prefix`): the text is cut
//!   right after the final (assistant) message's content, so the model continues it.

use std::collections::BTreeMap;

use minijinja::value::Value as MjValue;
use minijinja::{AutoEscape, Environment, Error, ErrorKind};
use serde::Serialize;

use crate::jinja::{py_str, python_method};
use crate::prompt::ChatMessage;

/// Why a chat template could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ChatTemplateError {
    #[error("chat template from {source_name}: does not compile: {message}")]
    Compile {
        source_name: String,
        message: String,
    },
    #[error("chat template from {source_name}: rendering failed: {message}")]
    Render {
        source_name: String,
        message: String,
    },
    #[error(
        "chat template from {source_name}: continue_final_message: the final message's content {content:?} is \
         not in the rendered text (the template changes it); use a task without gen_prefix or another template"
    )]
    FinalMessageMissing {
        source_name: String,
        content: String,
    },
}

/// A compiled chat template with the special tokens it is rendered with.
pub struct ChatTemplate {
    env: Environment<'static>,
    source: String,
    source_name: String,
    special_tokens: BTreeMap<String, String>,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("source_name", &self.source_name)
            .field("sha256", &self.sha256())
            .finish()
    }
}

const TEMPLATE: &str = "chat_template";

impl ChatTemplate {
    /// Compile `source` (the template text); `source_name` says where it came from (a file, the GGUF
    /// metadata, `tokenizer_config.json`) for error messages; `special_tokens` maps `bos_token`, … to their
    /// text.
    pub fn new(
        source: &str,
        source_name: &str,
        special_tokens: BTreeMap<String, String>,
    ) -> Result<ChatTemplate, ChatTemplateError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(false);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_formatter(|out, _state, value| {
            let s = py_str(value)?;
            out.write_str(&s)
                .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
        });
        env.set_unknown_method_callback(python_method);
        env.add_function("raise_exception", |msg: String| -> Result<MjValue, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_function("strftime_now", |fmt: String| strftime_now(&fmt));
        env.add_filter("tojson", tojson);
        env.add_template_owned(TEMPLATE, source.replace("\r\n", "\n"))
            .map_err(|e| ChatTemplateError::Compile {
                source_name: source_name.to_string(),
                message: describe(&e),
            })?;
        Ok(ChatTemplate {
            env,
            source: source.to_string(),
            source_name: source_name.to_string(),
            special_tokens,
        })
    }

    /// The template text (lm-eval records it as `chat_template` in the results).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where the template came from.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// sha256 of the template text (lm-eval's `chat_template_sha`).
    pub fn sha256(&self) -> String {
        yardstick_core::sha256_hex(&self.source)
    }

    /// Render `messages`. With `add_generation_prompt` the template's assistant header follows; without
    /// it the final message is continued (transformers' `continue_final_message`).
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatTemplateError> {
        #[derive(Serialize)]
        struct Msg<'a> {
            role: &'a str,
            content: &'a str,
        }
        let msgs: Vec<Msg<'_>> = messages
            .iter()
            .map(|m| Msg {
                role: m.role.as_str(),
                content: &m.content,
            })
            .collect();
        let mut ctx: BTreeMap<&str, MjValue> = self
            .special_tokens
            .iter()
            .map(|(k, v)| (k.as_str(), MjValue::from(v.clone())))
            .collect();
        ctx.insert("messages", MjValue::from_serialize(&msgs));
        ctx.insert(
            "add_generation_prompt",
            MjValue::from(add_generation_prompt),
        );
        let tmpl = self
            .env
            .get_template(TEMPLATE)
            .map_err(|e| self.render_err(&e))?;
        let rendered = tmpl.render(ctx).map_err(|e| self.render_err(&e))?;
        if add_generation_prompt {
            return Ok(rendered);
        }
        match messages.last() {
            Some(last) => self.continue_final(rendered, &last.content),
            None => Ok(rendered),
        }
    }

    /// transformers: cut after the last occurrence of the final message's content (its stripped text; the
    /// unstripped length when the template kept the content's own trailing whitespace).
    fn continue_final(&self, rendered: String, content: &str) -> Result<String, ChatTemplateError> {
        let stripped = content.trim();
        let Some(loc) = rendered.rfind(stripped) else {
            return Err(ChatTemplateError::FinalMessageMissing {
                source_name: self.source_name.clone(),
                content: content.to_string(),
            });
        };
        let lstripped = content.trim_start();
        let end = if rendered.get(loc..loc + lstripped.len()) == Some(content) {
            // the template kept the message's own spacing
            loc + lstripped.len()
        } else {
            loc + stripped.len()
        };
        Ok(rendered[..end].to_string())
    }

    fn render_err(&self, e: &Error) -> ChatTemplateError {
        ChatTemplateError::Render {
            source_name: self.source_name.clone(),
            message: describe(e),
        }
    }
}

fn describe(e: &Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// `tojson` as transformers defines it: `json.dumps(x, ensure_ascii=False, indent=indent)` (Python's
/// separators: `", "` and `": "` without indent, `","` and `": "` with it).
fn tojson(value: MjValue, kwargs: minijinja::value::Kwargs) -> Result<MjValue, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    if ensure_ascii == Some(true) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "tojson(ensure_ascii=True) is not supported",
        ));
    }
    let mut v: serde_json::Value = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    if sort_keys == Some(true) {
        sort_json(&mut v);
    }
    let mut out = String::new();
    write_json(&v, indent, 0, &mut out);
    Ok(MjValue::from_safe_string(out))
}

fn sort_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> =
                std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut x) in entries {
                sort_json(&mut x);
                map.insert(k, x);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(sort_json),
        _ => {}
    }
}

fn write_json(v: &serde_json::Value, indent: Option<usize>, depth: usize, out: &mut String) {
    use serde_json::Value as J;
    let newline = |out: &mut String, depth: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * depth));
        }
    };
    let item_sep = if indent.is_some() { "," } else { ", " };
    match v {
        J::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                write_json(x, indent, depth + 1, out);
            }
            newline(out, depth);
            out.push(']');
        }
        J::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, x)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_json(x, indent, depth + 1, out);
            }
            newline(out, depth);
            out.push('}');
        }
        J::Array(_) => out.push_str("[]"),
        J::Object(_) => out.push_str("{}"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Null => out.push_str("null"),
        J::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&yardstick_core::python::py_float_repr(f)),
            _ => out.push_str(&n.to_string()),
        },
        J::String(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
    }
}

/// `strftime_now(fmt)`: the current UTC time formatted with the common `strftime` directives (`%d %b %Y`
/// is what Llama 3 templates ask for).
fn strftime_now(fmt: &str) -> Result<String, Error> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(strftime(fmt, secs))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `secs` since the Unix epoch (UTC) formatted with `%Y %m %d %H %M %S %b %B %a %A %y %j %%`; other
/// directives are kept as written.
fn strftime(fmt: &str, secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    let yday = days - days_from_civil(y, 1, 1) + 1;
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('H') => out.push_str(&format!("{:02}", rem / 3600)),
            Some('M') => out.push_str(&format!("{:02}", rem % 3600 / 60)),
            Some('S') => out.push_str(&format!("{:02}", rem % 60)),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('B') => out.push_str(MONTHS[(m - 1) as usize]),
            Some('b') => out.push_str(&MONTHS[(m - 1) as usize][..3]),
            Some('A') => out.push_str(DAYS[weekday]),
            Some('a') => out.push_str(&DAYS[weekday][..3]),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Role;

    /// SmolLM2-135M-Instruct's template (from its GGUF metadata), as written there.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn msg(role: Role, content: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: content.to_string(),
        }
    }

    #[test]
    fn smollm2_generation_prompt() {
        let t = ChatTemplate::new(SMOLLM2, "test", BTreeMap::new()).unwrap();
        let out = t.render(&[msg(Role::User, "What is 2+2?")], true).unwrap();
        assert_eq!(
            out,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
             <|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
        );
        let out = t
            .render(
                &[msg(Role::System, "Be brief."), msg(Role::User, "Hi")],
                true,
            )
            .unwrap();
        assert_eq!(
            out,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn continue_final_message_cuts_after_the_prefill() {
        let t = ChatTemplate::new(SMOLLM2, "test", BTreeMap::new()).unwrap();
        let out = t
            .render(
                &[msg(Role::User, "Q"), msg(Role::Assistant, "The answer is")],
                false,
            )
            .unwrap();
        assert!(
            out.ends_with("<|im_start|>assistant\nThe answer is"),
            "{out:?}"
        );
        // trailing whitespace of the prefill: the template keeps it, so it is kept
        let out = t
            .render(
                &[msg(Role::User, "Q"), msg(Role::Assistant, "Answer: ")],
                false,
            )
            .unwrap();
        assert!(out.ends_with("assistant\nAnswer: "), "{out:?}");
    }

    #[test]
    fn trim_and_lstrip_blocks_and_specials() {
        let src = "{{ bos_token }}\n{% for m in messages %}\n    {% if m.role == 'user' %}\n[U]{{ m.content | trim }}\n    {% endif %}\n{% endfor %}\n";
        let mut sp = BTreeMap::new();
        sp.insert("bos_token".to_string(), "<s>".to_string());
        let t = ChatTemplate::new(src, "test", sp).unwrap();
        let out = t.render(&[msg(Role::User, "  hi  ")], true).unwrap();
        assert_eq!(out, "<s>\n[U]hi\n");
    }

    #[test]
    fn raise_exception_and_loop_controls() {
        let src = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% if loop.index > 1 %}{% break %}{% endif %}{{ m.content }}{% endfor %}";
        let t = ChatTemplate::new(src, "t.jinja", BTreeMap::new()).unwrap();
        assert_eq!(
            t.render(&[msg(Role::User, "a"), msg(Role::User, "b")], true)
                .unwrap(),
            "a"
        );
        let e = t.render(&[msg(Role::System, "s")], true).unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("System role not supported") && s.contains("t.jinja"),
            "{s}"
        );
    }

    #[test]
    fn tojson_writes_like_python() {
        let src = "{{ messages | tojson }}|{{ messages[0] | tojson(indent=2) }}|{{ messages[0] | tojson(sort_keys=true) }}";
        let t = ChatTemplate::new(src, "t", BTreeMap::new()).unwrap();
        let out = t.render(&[msg(Role::User, "<é>")], true).unwrap();
        assert_eq!(
            out,
            "[{\"role\": \"user\", \"content\": \"<é>\"}]|{\n  \"role\": \"user\",\n  \"content\": \"<é>\"\n}|{\"content\": \"<é>\", \"role\": \"user\"}"
        );
    }

    #[test]
    fn strftime_directives() {
        // 2024-07-23 13:05:09 UTC, a Tuesday, day 205
        let secs = 1_721_739_909;
        assert_eq!(strftime("%d %b %Y", secs), "23 Jul 2024");
        assert_eq!(
            strftime("%A %B %j %H:%M:%S %y %% %q", secs),
            "Tuesday July 205 13:05:09 24 % %q"
        );
        assert_eq!(strftime("%Y-%m-%d", 0), "1970-01-01");
        assert_eq!(strftime("%Y-%m-%d %a", 951_782_400), "2000-02-29 Tue");
    }
}
