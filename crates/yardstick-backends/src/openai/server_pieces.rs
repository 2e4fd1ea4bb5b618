//! Token names read from the server, for the grouped multiple-choice path when there is no local
//! tokenizer (`--tokenizer server`, the default for a model that is not in the local Hugging Face cache).
//!
//! The grouped path reads every choice's log-probability from the `top_logprobs` of one response, keyed
//! by the server's name for each token (its piece string). With a local tokenizer those names come from
//! the piece table of the whole vocabulary, which also says which names are ambiguous. Without one:
//! - the names of the choice tokens are asked of the server itself: one echo request over the token ids
//!   not named yet (the same function names echoed tokens and `top_logprobs` keys), cached for the run;
//! - a name is used only when it cannot be confused with another token's: at least two characters (a
//!   one-character piece can be shared with a byte-fallback token such as `<0x41>`), no U+FFFD (partial
//!   UTF-8), and no two choices with the same name;
//! - a response whose `top_logprobs` has fewer entries than asked for had two tokens with one name (the
//!   server's dict kept one of them, typically byte or special tokens): the largest value may then be the
//!   hidden one, so a choice equal to the visible maximum (its is_greedy uncertain) gets its own request;
//!   the others are read (a value below the visible maximum is below the true one);
//! - the first [`SERVER_PIECE_TRIAL`] questions read this way are checked: every choice read from the
//!   top-k is also scored by its own request and must agree bit for bit (log-probability and is_greedy);
//!   one disagreement ends the grouped path for the run, with a warning.

use super::wire::parse_completion;
use super::{logprobs_of, GroupingOff, OpenAiBackend};
use crate::backend::{LoglikelihoodOutcome, ScoringPath};
use crate::error::BackendError;
use crate::probe::ProbeReport;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

/// Questions read through server-named pieces whose readings are re-checked by one request per choice.
pub(super) const SERVER_PIECE_TRIAL: u64 = 8;

/// Server names of token ids (None: not usable as a key), learned as the run goes.
#[derive(Debug, Default)]
pub(super) struct ServerPieces {
    known: Mutex<HashMap<u32, Option<String>>>,
}

/// Whether a server-given piece can name one token unambiguously without the vocabulary at hand.
fn usable(piece: &str) -> bool {
    piece.chars().count() >= 2 && !piece.contains('\u{FFFD}')
}

impl ServerPieces {
    fn lookup(&self, ids: &[u32]) -> Option<Vec<Option<String>>> {
        let known = self.known.lock().ok()?;
        ids.iter().map(|i| known.get(i).cloned()).collect()
    }

    fn missing(&self, ids: &[u32]) -> Vec<u32> {
        let Ok(known) = self.known.lock() else {
            return Vec::new();
        };
        let mut v: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|i| !known.contains_key(i))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    fn learn(&self, names: impl IntoIterator<Item = (u32, Option<String>)>) {
        if let Ok(mut known) = self.known.lock() {
            known.extend(names);
        }
    }
}

impl OpenAiBackend {
    /// The `top_logprobs` keys of the choice tokens `ids`, as the server names them; None when one of
    /// them cannot be named unambiguously (the question is then scored one request per choice).
    pub(super) async fn server_piece_keys(
        &self,
        probe: &ProbeReport,
        ids: &[u32],
    ) -> Result<Option<Vec<String>>, BackendError> {
        let missing = self.server_pieces.missing(ids);
        if !missing.is_empty() {
            let names = self.ask_piece_names(probe, &missing).await?;
            self.server_pieces.learn(names);
        }
        let Some(names) = self.server_pieces.lookup(ids) else {
            return Ok(None);
        };
        let Some(keys) = names.into_iter().collect::<Option<Vec<String>>>() else {
            return Ok(None);
        };
        // Two different choice tokens with one name could not be told apart in the dict.
        for (a, ka) in ids.iter().zip(&keys) {
            if ids.iter().zip(&keys).any(|(b, kb)| a != b && ka == kb) {
                return Ok(None);
            }
        }
        Ok(Some(keys))
    }

    /// One echo request over `ids` (sorted, distinct): the server's name of each, None where unusable.
    /// A response that does not echo one name per id marks them all unusable (with a warning).
    async fn ask_piece_names(
        &self,
        probe: &ProbeReport,
        ids: &[u32],
    ) -> Result<Vec<(u32, Option<String>)>, BackendError> {
        let (body, _meta) = self.post(&self.ll_payload(json!(ids), 1)).await?;
        let url = self.completions_url();
        let resp = parse_completion(&body, &url)?;
        let lp = logprobs_of(&resp.choices[0], &url, &body)?;
        let offset = self.offset_for(probe, ids).max(0) as usize;
        let echoed = lp
            .tokens
            .as_ref()
            .and_then(|t| t.get(offset..offset + ids.len()));
        let Some(echoed) = echoed else {
            tracing::warn!(
                ids = ?ids,
                "the server did not echo one token name per id sent: scoring multiple-choice questions with one \
                 request per choice"
            );
            return Ok(ids.iter().map(|&i| (i, None)).collect());
        };
        Ok(ids
            .iter()
            .zip(echoed)
            .map(|(&i, name)| (i, usable(name).then(|| name.clone())))
            .collect())
    }

    /// Whether the grouped reading of a question named through server pieces still needs checking.
    pub(super) fn server_piece_trial_open(&self) -> bool {
        self.tokenizer.pieces().is_none()
            && self
                .counters
                .piece_checked_questions
                .load(Ordering::Relaxed)
                < SERVER_PIECE_TRIAL
    }

    /// Check the choices of one question read from the top-k (`out[j]` with path Grouped, j > 0, a token
    /// other than choice 0's) against their own requests. On any difference: warn, stop the grouped path
    /// for the run and keep the own-request outcomes.
    pub(super) async fn check_server_piece_reading(
        &self,
        context: &[u32],
        conts: &[Vec<u32>],
        out: &mut [LoglikelihoodOutcome],
    ) -> Result<(), BackendError> {
        let read: Vec<usize> = (1..conts.len())
            .filter(|&j| out[j].path == ScoringPath::Grouped && conts[j][0] != conts[0][0])
            .collect();
        let futs = read
            .iter()
            .map(|&j| self.score_one(context, &conts[j], ScoringPath::GroupFallback));
        let own = futures::future::join_all(futs).await;
        self.counters
            .piece_checks
            .fetch_add(read.len() as u64, Ordering::Relaxed);
        let mut agreed = true;
        for (&j, r) in read.iter().zip(own) {
            let r = r?;
            let same = r.result.logprob.to_bits() == out[j].result.logprob.to_bits()
                && r.result.is_greedy == out[j].result.is_greedy;
            if !same {
                if agreed {
                    tracing::warn!(
                        choice = j,
                        top_k = out[j].result.logprob,
                        own_request = r.result.logprob,
                        "a choice read from top log-probabilities by the server's token name differs from its own \
                         request: scoring multiple-choice questions with one request per choice from now on"
                    );
                }
                agreed = false;
                out[j] = r;
            }
        }
        if agreed {
            self.counters
                .piece_checked_questions
                .fetch_add(1, Ordering::Relaxed);
        } else {
            self.group_switch.turn_off(GroupingOff::ServerNamesDiffer);
        }
        Ok(())
    }
}

/// Whether a `top_logprobs` dict with `entries` keys, asked for `k`, kept every token (no two shared a
/// name).
pub(super) fn top_complete(entries: usize, k: usize) -> bool {
    entries >= k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_server_names_are_used() {
        assert!(usable(" A"));
        assert!(usable("答案"));
        assert!(
            !usable("A"),
            "one character: may be a byte-fallback token's name too"
        );
        assert!(!usable(" \u{FFFD}"));
        assert!(!usable(""));
        assert!(top_complete(10, 10));
        assert!(!top_complete(9, 10));
    }
}
