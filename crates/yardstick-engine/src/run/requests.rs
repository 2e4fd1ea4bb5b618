//! From a task's rendered requests to what the dispatcher sends: token ids under the backend's request
//! policy, one request key each, and units of requests that share a context.

use super::EvalError;
use crate::schedule::{Unit, UnitMember};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::sync::Arc;
use yardstick_backends::{EncodedPair, RequestPolicy, Tokenizer};
use yardstick_core::{RequestArgs, RequestKey};
use yardstick_tasks::DocRequests;

/// One log-likelihood request of a doc after tokenisation.
pub(crate) struct TokenizedRequest {
    pub key: RequestKey,
    pub context: Arc<[u32]>,
    pub continuation: Vec<u32>,
}

/// Per doc: per instance (idx order) the requests whose results it sums (one for log-likelihood
/// requests, one per window for rolling ones).
pub(crate) type TaskPlan = Vec<Vec<Vec<TokenizedRequest>>>;

/// The same, keys only (what scoring needs once the token ids have been handed to the dispatcher).
pub type TaskKeys = Vec<Vec<Vec<RequestKey>>>;

/// lm-eval's `get_rolling_token_windows` + `make_disjoint_window` (context_len = 1).
pub fn rolling_windows(
    tokens: &[u32],
    prefix: u32,
    max_seq_len: usize,
) -> Vec<(Vec<u32>, Vec<u32>)> {
    let mut out = Vec::new();
    if tokens.is_empty() || max_seq_len == 0 {
        return out;
    }
    let pred_len = max_seq_len;
    let first = max_seq_len.min(tokens.len());
    let mut input = vec![prefix];
    input.extend_from_slice(&tokens[..first - 1]);
    out.push((input, tokens[..first].to_vec()));
    let mut predicted = first;
    while predicted < tokens.len() {
        let window_pred_len = (tokens.len() - predicted).min(pred_len);
        let window_end = predicted + window_pred_len;
        let start = window_end.saturating_sub(max_seq_len + 1);
        out.push((
            tokens[start..window_end - 1].to_vec(),
            tokens[window_end - window_pred_len..window_end].to_vec(),
        ));
        predicted += window_pred_len;
    }
    out.into_iter()
        .map(|(a, b)| {
            let keep = a.len().saturating_sub(b.len().saturating_sub(1));
            (a[..keep].to_vec(), b)
        })
        .collect()
}

/// The ledger key of a log-likelihood request: the exact token ids and the truncation they are sent under.
pub fn loglikelihood_key(
    fingerprint: &str,
    max_length: usize,
    context: &[u32],
    continuation: &[u32],
) -> RequestKey {
    RequestKey::new(
        fingerprint,
        "loglikelihood",
        &serde_json::json!({"context": context, "continuation": continuation, "max_length": max_length}),
    )
}

/// Encodes a task's requests for one backend.
pub(crate) struct Encoder<'a> {
    pub tokenizer: &'a Tokenizer,
    pub policy: &'a RequestPolicy,
    pub fingerprint: &'a str,
    pub rt: &'a tokio::runtime::Handle,
}

impl Encoder<'_> {
    /// Encode context/continuation pairs: locally (in parallel) with a local tokenizer, through the
    /// server's `/tokenize` (a few calls at a time, each string once) with `--tokenizer server`.
    fn pairs(&self, pairs: &[(String, String)]) -> Result<Vec<EncodedPair>, EvalError> {
        let special = self.policy.add_special_tokens;
        if self.tokenizer.pieces().is_some() {
            return Ok(self.tokenizer.encode_pairs_blocking(pairs, special)?);
        }
        use futures::stream::{self, StreamExt, TryStreamExt};
        self.rt
            .block_on(
                stream::iter(pairs)
                    .map(|(c, x)| self.tokenizer.encode_pair(c, x, special))
                    .buffered(16)
                    .try_collect::<Vec<_>>(),
            )
            .map_err(EvalError::from)
    }

    fn text(&self, text: &str) -> Result<Vec<u32>, EvalError> {
        let special = self.policy.add_special_tokens;
        Ok(if self.tokenizer.pieces().is_some() {
            self.tokenizer.encode_local(text, special)?
        } else {
            self.rt
                .block_on(self.tokenizer.encode(text, special))?
                .to_vec()
        })
    }

    fn request(&self, context: Arc<[u32]>, continuation: Vec<u32>) -> TokenizedRequest {
        TokenizedRequest {
            key: loglikelihood_key(
                self.fingerprint,
                self.policy.max_length,
                &context,
                &continuation,
            ),
            context,
            continuation,
        }
    }

    /// A rolling request's windows, each its own request.
    fn rolling(&self, text: &str) -> Result<Vec<TokenizedRequest>, EvalError> {
        let tokens = self.text(text)?;
        let prefix = self.tokenizer.prefix_token_id().ok_or_else(|| {
            EvalError::Unsupported(
                "loglikelihood_rolling needs a prefix token (BOS or EOS) and the tokenizer has none"
                    .into(),
            )
        })?;
        Ok(rolling_windows(&tokens, prefix, self.policy.rolling_window)
            .into_iter()
            .map(|(ctx, cont)| self.request(Arc::from(ctx), cont))
            .collect())
    }

    /// Tokenise one task's requests.
    pub fn task(&self, task: &str, docs: &[DocRequests]) -> Result<TaskPlan, EvalError> {
        let mut pairs = Vec::new();
        for inst in docs.iter().flat_map(|d| &d.instances) {
            match &inst.args {
                RequestArgs::Loglikelihood {
                    context,
                    continuation,
                } => pairs.push((context.clone(), continuation.clone())),
                RequestArgs::LoglikelihoodRolling { .. } => {}
                RequestArgs::GenerateUntil { .. } => {
                    return Err(EvalError::Unsupported(format!(
                        "task {task}: generation requests are not supported yet"
                    )))
                }
            }
        }
        let mut encoded = self.pairs(&pairs)?.into_iter();
        drop(pairs);
        let mut plan = Vec::with_capacity(docs.len());
        for d in docs {
            let mut doc_plan = Vec::with_capacity(d.instances.len());
            for inst in &d.instances {
                match &inst.args {
                    RequestArgs::Loglikelihood { .. } => {
                        let p = encoded.next().ok_or_else(|| {
                            EvalError::Internal("tokenizer returned too few pairs".into())
                        })?;
                        doc_plan.push(vec![self.request(p.context, p.continuation)]);
                    }
                    RequestArgs::LoglikelihoodRolling { text } => {
                        doc_plan.push(self.rolling(text)?)
                    }
                    RequestArgs::GenerateUntil { .. } => {}
                }
            }
            plan.push(doc_plan);
        }
        Ok(plan)
    }
}

/// Units of work for the keys not in `skip` (stored, or already planned by an earlier task of this run):
/// requests of one doc that share a context go together. Every key planned here is added to `skip`.
pub(crate) fn plan_units(plan: &TaskPlan, skip: &mut HashSet<String>) -> Vec<Unit> {
    let mut units = Vec::new();
    for doc in plan {
        let mut by_context: IndexMap<&[u32], Vec<&TokenizedRequest>> = IndexMap::new();
        for r in doc.iter().flatten() {
            if skip.insert(r.key.0.clone()) {
                by_context.entry(&r.context).or_default().push(r);
            }
        }
        for (_, reqs) in by_context {
            units.push(Unit::Loglikelihood {
                context: reqs[0].context.clone(),
                members: reqs
                    .into_iter()
                    .map(|r| UnitMember {
                        key: r.key.clone(),
                        continuation: r.continuation.clone(),
                    })
                    .collect(),
            });
        }
    }
    units
}

/// The plan's keys, in the same shape.
pub(crate) fn keys_of(plan: TaskPlan) -> TaskKeys {
    plan.into_iter()
        .map(|doc| {
            doc.into_iter()
                .map(|inst| inst.into_iter().map(|r| r.key).collect())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_windows_cover_every_token_once() {
        let toks: Vec<u32> = (10..30).collect();
        for max_len in [1usize, 3, 5, 7, 20, 50] {
            let w = rolling_windows(&toks, 1, max_len);
            let predicted: Vec<u32> = w.iter().flat_map(|(_, c)| c.clone()).collect();
            assert_eq!(predicted, toks, "max_len {max_len}");
            for (ctx, cont) in &w {
                assert!(
                    ctx.len() + cont.len() <= max_len + 1,
                    "window too long at max_len {max_len}"
                );
                assert!(!ctx.is_empty());
            }
        }
        // first window: the prefix predicts the first token
        let w = rolling_windows(&toks, 1, 5);
        assert_eq!(w[0].0, vec![1]);
        assert_eq!(w[0].1, vec![10, 11, 12, 13, 14]);
    }
}
