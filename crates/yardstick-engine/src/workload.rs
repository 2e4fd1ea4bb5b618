//! How much work a task is, for the progress line's ETA: requests, prompt tokens and generations. Before a
//! task is prepared it is estimated from its first document; once prepared, it is counted exactly from the
//! requests still to send (what the ledger already holds costs nothing).

use crate::run::plan::TaskSummary;
use crate::schedule::Unit;
use yardstick_backends::Tokenizer;
use yardstick_core::OutputType;

/// Characters per token assumed where no local tokenizer can count (English text averages about four).
const CHARS_PER_TOKEN: u64 = 4;
/// lm-eval's `max_gen_toks` when a generation task does not set one.
const DEFAULT_MAX_GEN_TOKS: u64 = 256;

/// The work of one task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskWorkload {
    pub name: String,
    /// Requests to send (log-likelihoods and generations).
    pub requests: u64,
    /// Prompt tokens of those requests (context and continuation of a log-likelihood).
    pub prompt_tokens: u64,
    /// Generations among the requests, and the most tokens they may generate in all.
    pub generations: u64,
    pub max_gen_tokens: u64,
}

/// Requests answered since the last report, and what they cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Advance {
    pub requests: u64,
    pub generations: u64,
    /// Prompt and generated tokens as the backend reported them.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens of the answered units as [`crate::schedule::Unit::prompt_tokens`] counts them (the
    /// measure of [`TaskWorkload::prompt_tokens`]).
    pub unit_prompt_tokens: u64,
}

fn text_tokens(text: &str, tokenizer: Option<&Tokenizer>) -> u64 {
    tokenizer
        .filter(|t| t.is_local())
        .and_then(|t| t.encode_local(text, false).ok())
        .map(|ids| ids.len() as u64)
        .unwrap_or_else(|| (text.chars().count() as u64).div_ceil(CHARS_PER_TOKEN))
}

impl TaskWorkload {
    /// Estimated from the task's first document: every document taken to be like it.
    pub fn estimate(summary: &TaskSummary, tokenizer: Option<&Tokenizer>) -> TaskWorkload {
        let requests = summary.estimated_requests();
        let per_request = summary
            .first_context
            .as_deref()
            .map_or(0, |c| text_tokens(c, tokenizer));
        let generations = if summary.output_type == OutputType::GenerateUntil {
            requests
        } else {
            0
        };
        let max_gen = summary
            .config
            .pointer("/generation_kwargs/max_gen_toks")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(DEFAULT_MAX_GEN_TOKS);
        TaskWorkload {
            name: summary.name.clone(),
            requests,
            prompt_tokens: requests * per_request,
            generations,
            max_gen_tokens: generations * max_gen,
        }
    }

    /// Counted from the units still to send.
    pub fn of_units(name: &str, units: &[Unit]) -> TaskWorkload {
        let mut w = TaskWorkload {
            name: name.to_string(),
            ..TaskWorkload::default()
        };
        for unit in units {
            w.requests += unit.len() as u64;
            w.prompt_tokens += unit.prompt_tokens();
            if let Unit::Generation { params, .. } = unit {
                w.generations += 1;
                w.max_gen_tokens += u64::from(params.max_gen_toks);
            }
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::UnitMember;
    use std::sync::Arc;
    use yardstick_backends::GenPrompt;
    use yardstick_core::{GenerationParams, RequestKey};

    #[test]
    fn units_are_counted_by_their_tokens() {
        let member = |n: usize| UnitMember {
            key: RequestKey(format!("k{n}")),
            continuation: vec![7; n],
        };
        let units = vec![
            Unit::Loglikelihood {
                context: Arc::from(vec![1u32; 10]),
                members: vec![member(1), member(2)],
            },
            Unit::Generation {
                key: RequestKey("g".into()),
                prompt: GenPrompt::Text("x".repeat(40)),
                params: GenerationParams {
                    until: vec![],
                    max_gen_toks: 100,
                    temperature: 0.0,
                    do_sample: false,
                    extra: Default::default(),
                },
            },
        ];
        let w = TaskWorkload::of_units("t", &units);
        assert_eq!(w.requests, 3);
        // 10 + 1 and 10 + 2 for the choices, 40 characters / 4 for the generation's text prompt.
        assert_eq!(w.prompt_tokens, 11 + 12 + 10);
        assert_eq!((w.generations, w.max_gen_tokens), (1, 100));
    }
}
