//! The grouped single-token multiple-choice path: every choice of a question whose continuations are one
//! token each is read from the `top_logprobs` of one request (the one for choice 0); choices missing from
//! the top-k are scored by their own request.

use super::wire::{self, parse_completion, score_echo, truncate, usage_counts, Logprobs, Scored};
use super::{
    logprobs_of, server_pieces, GroupingOff, OpenAiBackend, DEFAULT_GROUP_TOP_K,
    GROUP_TRIAL_QUESTIONS,
};
use crate::backend::{CallStats, LoglikelihoodOutcome, ScoringPath};
use crate::error::BackendError;
use crate::probe::ProbeReport;
use crate::tokenizer::PieceTable;
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use yardstick_core::LoglikelihoodResult;

/// What the echo reports at the last prompt position (the one that predicts the continuation).
struct LastPosition<'a> {
    top: Option<&'a Map<String, Value>>,
    echoed: Option<&'a String>,
    sent_logprob: Option<f64>,
}

/// Read the last prompt position `pos` (None entries when it is before the echo's start).
fn last_position(lp: &Logprobs, pos: isize) -> LastPosition<'_> {
    let top = (pos >= 0)
        .then(|| {
            lp.top_logprobs
                .as_ref()
                .and_then(|t| t.get(pos as usize))
                .and_then(Option::as_ref)
        })
        .flatten();
    let echoed = (pos >= 0)
        .then(|| lp.tokens.as_ref().and_then(|t| t.get(pos as usize)))
        .flatten();
    let sent_logprob = (pos >= 0)
        .then(|| lp.token_logprobs.get(pos as usize).copied().flatten())
        .flatten();
    LastPosition {
        top,
        echoed,
        sent_logprob,
    }
}

/// The pieces naming the tokens `ids` in `top_logprobs`; None when one of them is not unambiguously
/// named by its piece.
fn piece_keys(pieces: &PieceTable, ids: &[u32]) -> Option<Vec<String>> {
    ids.iter()
        .map(|&id| {
            pieces
                .piece(id)
                .filter(|_| pieces.is_unambiguous(id))
                .map(str::to_string)
        })
        .collect()
}

/// The grouped request's response, as read for every choice.
struct GroupedReading<'a> {
    /// The tokens sent (for choice 0).
    inp0: &'a [u32],
    ctxlen: usize,
    /// Choice 0 scored from the echo.
    first: Scored,
    /// The largest log-prob of the top-k at the last prompt position.
    top_max: Option<f64>,
    /// Whether the true maximum may be hidden by a shared name (then `top_max` can be too small).
    max_uncertain: bool,
    body: &'a Arc<str>,
    stats: CallStats,
}

impl GroupedReading<'_> {
    fn outcome(
        &self,
        result: LoglikelihoodResult,
        sent: Arc<[u32]>,
        lm_eval_slice: Option<LoglikelihoodResult>,
    ) -> LoglikelihoodOutcome {
        LoglikelihoodOutcome {
            result,
            sent,
            ctxlen: self.ctxlen,
            path: ScoringPath::Grouped,
            stats: self.stats.clone(),
            raw_response: Arc::clone(self.body),
            lm_eval_slice,
        }
    }
}

impl OpenAiBackend {
    /// The grouped single-token path. Returns None when the question does not qualify (the caller then
    /// uses per-choice requests).
    pub(super) async fn score_grouped(
        &self,
        probe: &ProbeReport,
        context: &[u32],
        conts: &[Vec<u32>],
    ) -> Result<Option<Vec<LoglikelihoodOutcome>>, BackendError> {
        if !self.grouped_qualifies(probe, conts) {
            return Ok(None);
        }
        let ids: Vec<u32> = conts.iter().map(|c| c[0]).collect();
        // Token names from the local piece table, else asked of the server (module server_pieces).
        let pieces = self.tokenizer.pieces();
        let keys = match pieces {
            Some(p) => piece_keys(p, &ids),
            None => self.server_piece_keys(probe, &ids).await?,
        };
        let Some(keys) = keys else {
            return Ok(None);
        };
        // Every choice shares the context and has one token, so truncation is the same for all of them.
        let (inp0, ctxlen) = truncate(context, &conts[0], probe.max_length)?;
        let k = self.grouped_top_k(probe, &ids);
        let (body, meta) = self.post(&self.ll_payload(json!(inp0), k)).await?;
        let url = self.completions_url();
        let resp = parse_completion(&body, &url)?;
        let lp = logprobs_of(&resp.choices[0], &url, &body)?;
        let offset = self.offset_for(probe, &inp0);
        let first = score_echo(lp, inp0.len(), ctxlen, offset, &url)?;
        let last = last_position(lp, inp0.len() as isize - 1 + offset);
        // The last prompt position must be scored (it is not when the server hides a BOS that was the whole
        // context): otherwise score per choice, without judging the server.
        let (Some(top), Some(v0)) = (last.top, last.sent_logprob) else {
            return Ok(None);
        };
        let (pt, ct) = usage_counts(&resp, inp0.len(), first.generated);
        if !self.piece_reading_verified(&keys[0], last.echoed, top, v0) {
            // That request asked for k > 1 log-probs, so it is not a one-request-per-choice reading even of
            // choice 0 (is_greedy could differ): re-score every choice by its own request.
            return Ok(None);
        }
        // A key shared by several tokens (the server's dict keeps one value per string) can hide the true
        // maximum: is_greedy from this dict could then differ from a one-request-per-choice reading.
        // Without the vocabulary, a dict shorter than asked for lost a token to a shared name: the choices'
        // own values are still read (their names are unambiguous), but the largest value may be the hidden
        // one, so a choice that equals the visible maximum (is_greedy uncertain) gets its own request.
        let max_uncertain = pieces.is_none() && !server_pieces::top_complete(top.len(), k);
        if pieces.is_some_and(|p| top.keys().any(|key| !p.is_unambiguous_piece(key))) {
            self.counters
                .grouped_questions
                .fetch_add(1, Ordering::Relaxed);
            self.counters.ambiguous_tops.fetch_add(1, Ordering::Relaxed);
            self.counters
                .grouped_fallbacks
                .fetch_add(conts.len() as u64, Ordering::Relaxed);
            return Ok(None);
        }
        let found: Vec<Option<f64>> = keys
            .iter()
            .map(|k| top.get(k).and_then(Value::as_f64))
            .collect();
        let n_read = found.iter().filter(|f| f.is_some()).count() as u32;
        self.counters
            .grouped_questions
            .fetch_add(1, Ordering::Relaxed);
        let reading = GroupedReading {
            inp0: &inp0,
            ctxlen,
            first,
            top_max: wire::top_max(top),
            max_uncertain,
            body: &body,
            stats: wire::stats(&meta, pt, ct, n_read),
        };
        let (mut out, missing) =
            self.read_grouped(probe.max_length, context, conts, &found, &reading)?;
        self.score_group_fallbacks(context, conts, &missing, &mut out)
            .await?;
        let mut out: Vec<LoglikelihoodOutcome> = out.into_iter().flatten().collect();
        if self.server_piece_trial_open() {
            self.check_server_piece_reading(context, conts, &mut out)
                .await?;
        }
        Ok(Some(out))
    }

    /// Whether the grouped path applies to this question: enabled by the probe and not switched off,
    /// several choices, each of one token, and the grouped path not judged useless after its trial.
    fn grouped_qualifies(&self, probe: &ProbeReport, conts: &[Vec<u32>]) -> bool {
        if !probe.grouped_single_token || self.group_switch.is_off() || conts.len() < 2 {
            return false;
        }
        if !conts.iter().all(|c| c.len() == 1) {
            return false;
        }
        !self.grouped_trial_failed()
    }

    /// A model that rarely ranks the other choices in the top-k (a random test model) gains nothing from
    /// the grouped request, which then only makes responses larger: after a fair trial, stop using it.
    fn grouped_trial_failed(&self) -> bool {
        let read = self.counters.grouped_choices_read.load(Ordering::Relaxed);
        let fell = self.counters.grouped_fallbacks.load(Ordering::Relaxed);
        if self.counters.grouped_questions.load(Ordering::Relaxed) >= GROUP_TRIAL_QUESTIONS
            && read * 4 < read + fell
        {
            let questions = self.counters.grouped_questions.load(Ordering::Relaxed);
            let ambiguous = self.counters.ambiguous_tops.load(Ordering::Relaxed);
            let reason = if ambiguous * 2 > questions {
                GroupingOff::AmbiguousTopNames {
                    ambiguous,
                    questions,
                }
            } else {
                GroupingOff::ChoicesOutsideTopK {
                    read,
                    fell_back: fell,
                    top_k: self.opts.group_top_k.unwrap_or(DEFAULT_GROUP_TOP_K),
                }
            };
            if self.group_switch.turn_off(reason) {
                tracing::info!(
                    read,
                    fallbacks = fell,
                    "fewer than a quarter of the choices were in the top-k: scoring multiple-choice questions with one \
                     request per choice from now on"
                );
            }
            return true;
        }
        false
    }

    /// `logprobs` of the grouped request: the configured top-k, at least the number of distinct choices,
    /// at most the server's cap.
    fn grouped_top_k(&self, probe: &ProbeReport, ids: &[u32]) -> usize {
        let n_distinct = {
            let mut v = ids.to_vec();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        self.opts
            .group_top_k
            .unwrap_or(DEFAULT_GROUP_TOP_K)
            .max(n_distinct)
            .min(probe.max_logprobs)
            .max(1)
    }

    /// Verify the piece mapping on the token that was sent: the server must name it as we do (`key0`), and
    /// its top_logprobs entry must carry exactly its token_logprob `v0`. A server that does either
    /// differently is never read by piece again.
    fn piece_reading_verified(
        &self,
        key0: &str,
        echoed: Option<&String>,
        top: &Map<String, Value>,
        v0: f64,
    ) -> bool {
        let verified = echoed.map(String::as_str) == Some(key0)
            && top.get(key0).and_then(Value::as_f64) == Some(v0);
        if !verified {
            tracing::warn!(
                expected = %key0, echoed = ?echoed,
                "the server names tokens differently from the local piece table; scoring multiple-choice questions \
                 with one request per choice from now on"
            );
            self.group_switch.turn_off(GroupingOff::ServerNamesDiffer);
        }
        verified
    }

    /// The outcomes read from the grouped response: choice 0 (and choices with its token) from the echo
    /// (`first`), the others from the top-k (`found`); the indices of choices missing from the top-k.
    fn read_grouped(
        &self,
        max_length: usize,
        context: &[u32],
        conts: &[Vec<u32>],
        found: &[Option<f64>],
        reading: &GroupedReading<'_>,
    ) -> Result<(Vec<Option<LoglikelihoodOutcome>>, Vec<usize>), BackendError> {
        let mut out: Vec<Option<LoglikelihoodOutcome>> = vec![None; conts.len()];
        let mut missing = Vec::new();
        for (j, f) in found.iter().enumerate() {
            let sent: Arc<[u32]> = if j == 0 {
                reading.inp0.into()
            } else {
                let (inp, _) = truncate(context, &conts[j], max_length)?;
                inp.into()
            };
            let at_max = reading.max_uncertain
                && match f {
                    Some(_) if j == 0 || conts[j][0] == conts[0][0] => {
                        reading.first.result.is_greedy
                    }
                    Some(v) => Some(*v) == reading.top_max,
                    None => false,
                };
            match f {
                _ if at_max => missing.push(j),
                Some(_) if j == 0 || conts[j][0] == conts[0][0] => {
                    let first = &reading.first;
                    out[j] = Some(reading.outcome(first.result, sent, first.lm_eval_slice));
                }
                Some(v) => {
                    let v = *v;
                    self.counters
                        .grouped_choices_read
                        .fetch_add(1, Ordering::Relaxed);
                    // Σ over one position, starting from 0.0 as Python's sum does.
                    let result = LoglikelihoodResult {
                        logprob: 0.0 + v,
                        is_greedy: Some(v) == reading.top_max,
                    };
                    out[j] = Some(reading.outcome(result, sent, None));
                }
                None => missing.push(j),
            }
        }
        Ok((out, missing))
    }

    /// Score the choices missing from the top-k (`missing`) by their own requests, into `out`.
    async fn score_group_fallbacks(
        &self,
        context: &[u32],
        conts: &[Vec<u32>],
        missing: &[usize],
        out: &mut [Option<LoglikelihoodOutcome>],
    ) -> Result<(), BackendError> {
        if missing.is_empty() {
            return Ok(());
        }
        self.counters
            .grouped_fallbacks
            .fetch_add(missing.len() as u64, Ordering::Relaxed);
        let futs = missing
            .iter()
            .map(|&j| self.score_one(context, &conts[j], ScoringPath::GroupFallback));
        let results = futures::future::join_all(futs).await;
        for (&j, r) in missing.iter().zip(results) {
            out[j] = Some(r?);
        }
        Ok(())
    }
}
