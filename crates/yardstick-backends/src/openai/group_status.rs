//! Why a run scored single-token multiple-choice questions with one request per choice instead of one
//! request per question (the grouped path), and what would turn the grouped path on: said once at the end
//! of a run, so a slow run is never a mystery.

use crate::probe::{EchoSupport, ProbeReport};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The reason the grouped path is off for (the rest of) a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupingOff {
    /// `--no-grouping` was given.
    Disabled,
    /// lm-eval's literal slicing was asked for (strict parity mode).
    LiteralSlicing,
    /// The server does not echo log-probabilities of prompt token ids.
    NoTokenIdEcho(String),
    /// The server returns fewer than two log-probabilities per position.
    NoTopLogprobs { max_logprobs: usize },
    /// A local tokenizer without a piece table: choices cannot be named in the server's top-k.
    NoPieceNames,
    /// After a trial, too few of the other choices were among the top-k log-probabilities.
    ChoicesOutsideTopK {
        read: u64,
        fell_back: u64,
        top_k: usize,
    },
    /// Most top-k lists named two tokens alike (byte tokens shown as the same text), so choices could not
    /// be read by name.
    AmbiguousTopNames { ambiguous: u64, questions: u64 },
    /// The server names tokens differently from the tokenizer (checked on the first questions).
    ServerNamesDiffer,
}

impl GroupingOff {
    /// From the probe: the reason the grouped path never started, if it did not.
    pub(super) fn from_probe(
        grouped_opt: bool,
        literal_slicing: bool,
        probe: &ProbeReport,
        has_pieces: bool,
        local_tokenizer: bool,
    ) -> Option<GroupingOff> {
        if !grouped_opt {
            Some(GroupingOff::Disabled)
        } else if literal_slicing {
            Some(GroupingOff::LiteralSlicing)
        } else if probe.echo != EchoSupport::TokenIds {
            Some(GroupingOff::NoTokenIdEcho(match &probe.echo {
                EchoSupport::TextOnly { reason } | EchoSupport::Unsupported { reason } => {
                    reason.clone()
                }
                EchoSupport::TokenIds => String::new(),
            }))
        } else if probe.max_logprobs < 2 {
            Some(GroupingOff::NoTopLogprobs {
                max_logprobs: probe.max_logprobs,
            })
        } else if local_tokenizer && !has_pieces {
            Some(GroupingOff::NoPieceNames)
        } else {
            None
        }
    }
}

impl std::fmt::Display for GroupingOff {
    /// Why, then what turns the grouped path on.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupingOff::Disabled => write!(f, "--no-grouping was given; leave it out to score each question from one request"),
            GroupingOff::LiteralSlicing => write!(
                f,
                "lm-eval's literal slicing was asked for (strict parity), which only one request per choice \
                 reproduces"
            ),
            GroupingOff::NoTokenIdEcho(why) => write!(
                f,
                "the server does not return log-probabilities of prompt token ids ({why}); a server that does \
                 (scripts/serve-ref, vLLM) scores each question from one request"
            ),
            GroupingOff::NoTopLogprobs { max_logprobs } => write!(
                f,
                "the server returns at most {max_logprobs} log-probabilities per position (two or more are \
                 needed); raise its logprobs limit (vLLM: --max-logprobs)"
            ),
            GroupingOff::NoPieceNames => write!(
                f,
                "the tokenizer has no table of token names to find choices among the server's top \
                 log-probabilities; use a tokenizer.json (--tokenizer PATH) or --tokenizer server"
            ),
            GroupingOff::ChoicesOutsideTopK {
                read,
                fell_back,
                top_k,
            } => write!(
                f,
                "after a trial only {read} of {} other choices were among the server's top {top_k} \
                 log-probabilities (a weak model ranks the letters low), so one request per choice was cheaper; \
                 --group-top-k 100 looks deeper",
                read + fell_back
            ),
            GroupingOff::AmbiguousTopNames {
                ambiguous,
                questions,
            } => write!(
                f,
                "in {ambiguous} of the first {questions} questions the server's top log-probabilities named two \
                 tokens alike (byte tokens of one text), so choices could not be read by name; a smaller \
                 --group-top-k meets fewer of them"
            ),
            GroupingOff::ServerNamesDiffer => write!(
                f,
                "the server names tokens differently from the tokenizer (a choice read by name disagreed with \
                 its own request); pass the model's own tokenizer.json with --tokenizer PATH"
            ),
        }
    }
}

/// The grouped path's switch for a run: on until a reason turns it off, the first reason kept.
#[derive(Debug, Default)]
pub(super) struct GroupSwitch {
    off: AtomicBool,
    reason: Mutex<Option<GroupingOff>>,
}

impl GroupSwitch {
    pub fn is_off(&self) -> bool {
        self.off.load(Ordering::Relaxed)
    }

    /// Turn the grouped path off; true when this call did (the first reason is the one kept).
    pub fn turn_off(&self, reason: GroupingOff) -> bool {
        let first = !self.off.swap(true, Ordering::Relaxed);
        if first {
            if let Ok(mut r) = self.reason.lock() {
                *r = Some(reason);
            }
        }
        first
    }

    pub fn reason(&self) -> Option<GroupingOff> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }
}

impl super::OpenAiBackend {
    /// Why single-token multiple-choice questions were (at least in part) scored with one request per
    /// choice, when the run had any: the probe's reason, else the check or trial that turned the grouped
    /// path off. None when the grouped path stayed on or there were no such questions.
    pub fn grouping_off(&self) -> Option<GroupingOff> {
        if self.counters.single_token_questions.load(Ordering::Relaxed) == 0 {
            return None;
        }
        self.probe
            .get()
            .and_then(|p| {
                GroupingOff::from_probe(
                    self.opts.grouped,
                    self.opts.lm_eval_literal_slicing,
                    p,
                    self.tokenizer.pieces().is_some(),
                    self.tokenizer.is_local(),
                )
            })
            .or_else(|| self.group_switch.reason())
    }
}
