//! From a task's rendered requests to what the dispatcher sends: token ids under the backend's request
//! policy, one request key each, and units of requests that share a context.

use super::EvalError;
use crate::schedule::{Unit, UnitMember};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::sync::Arc;
use yardstick_backends::{EncodedPair, GenPrompt, PromptKind, RequestPolicy, Tokenizer};
use yardstick_core::{GenerationParams, RequestArgs, RequestKey};
use yardstick_tasks::DocRequests;

/// One log-likelihood request of a doc after tokenisation.
pub(crate) struct TokenizedRequest {
    pub key: RequestKey,
    pub context: Arc<[u32]>,
    pub continuation: Vec<u32>,
}

/// One generation of a doc (one per repeat; greedy repeats share one key, so one request answers all).
pub(crate) struct GenRequest {
    pub key: RequestKey,
    pub prompt: GenPrompt,
    pub params: GenerationParams,
}

/// A request of a task's plan.
pub(crate) enum Planned {
    Score(TokenizedRequest),
    Generate(GenRequest),
}

impl Planned {
    pub fn key(&self) -> &RequestKey {
        match self {
            Planned::Score(r) => &r.key,
            Planned::Generate(g) => &g.key,
        }
    }
}

/// Per doc: per instance (idx order) its requests: the ones whose results it sums (one for log-likelihood
/// requests, one per window for rolling ones), or one generation per repeat.
pub(crate) type TaskPlan = Vec<Vec<Vec<Planned>>>;

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

/// The ledger key of a generation: the exact prompt (token ids or text), every sampling parameter, the
/// seed it is sent with and the truncation it is sent under.
pub fn generation_key(
    fingerprint: &str,
    max_length: usize,
    prompt: &GenPrompt,
    params: &GenerationParams,
    seed: u64,
) -> RequestKey {
    let prompt = match prompt {
        GenPrompt::Tokens(t) => serde_json::json!(t),
        GenPrompt::Text(s) => serde_json::json!(s),
        GenPrompt::Messages(m) => serde_json::json!({"messages": m}),
    };
    RequestKey::new(
        fingerprint,
        "generate_until",
        &serde_json::json!({"prompt": prompt, "params": params, "seed": seed, "max_length": max_length}),
    )
}

/// Whether `params` sample (so that repeats differ) rather than decode greedily.
pub fn is_sampling(params: &GenerationParams) -> bool {
    params.do_sample || params.temperature > 0.0
}

/// Encodes a task's requests for one backend.
pub(crate) struct Encoder<'a> {
    /// None for a backend without one (a chat endpoint): then only message prompts can be built.
    pub tokenizer: Option<&'a Tokenizer>,
    pub policy: &'a RequestPolicy,
    pub fingerprint: &'a str,
    pub rt: &'a tokio::runtime::Handle,
}

impl Encoder<'_> {
    /// Encode context/continuation pairs: locally (in parallel) with a local tokenizer, through the
    /// server's `/tokenize` (a few calls at a time, each string once) with `--tokenizer server`.
    fn pairs(&self, pairs: &[(String, String)]) -> Result<Vec<EncodedPair>, EvalError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let special = self.policy.add_special_tokens;
        let tokenizer = self.tokenizer()?;
        if tokenizer.pieces().is_some() {
            return Ok(tokenizer.encode_pairs_blocking(pairs, special)?);
        }
        use futures::stream::{self, StreamExt, TryStreamExt};
        self.rt
            .block_on(
                stream::iter(pairs)
                    .map(|(c, x)| tokenizer.encode_pair(c, x, special))
                    .buffered(16)
                    .try_collect::<Vec<_>>(),
            )
            .map_err(EvalError::from)
    }

    fn tokenizer(&self) -> Result<&Tokenizer, EvalError> {
        self.tokenizer.ok_or_else(|| {
            EvalError::Unsupported(format!(
                "this backend ({}) has no tokenizer, and these requests are sent as token ids; pass --tokenizer",
                self.policy.lm_eval_model
            ))
        })
    }

    fn text(&self, text: &str) -> Result<Vec<u32>, EvalError> {
        let special = self.policy.add_special_tokens;
        let tokenizer = self.tokenizer()?;
        Ok(if tokenizer.pieces().is_some() {
            tokenizer.encode_local(text, special)?
        } else {
            self.rt.block_on(tokenizer.encode(text, special))?.to_vec()
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
        let prefix = self.tokenizer()?.prefix_token_id().ok_or_else(|| {
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

    /// One generation request per repeat. lm-eval sends every repeat with the same seed; sampled repeats
    /// here get seeds `seed, seed + 1, …` (recorded in their parameters) so that self-consistency sees
    /// different samples, and greedy repeats share one request.
    fn generation(
        &self,
        task: &str,
        context: &str,
        params: &GenerationParams,
        repeats: u32,
    ) -> Result<Vec<Planned>, EvalError> {
        let prompt = match self.policy.prompts {
            PromptKind::Tokens => GenPrompt::Tokens(self.text(context)?),
            PromptKind::Text => GenPrompt::Text(context.to_string()),
            PromptKind::Messages => GenPrompt::Messages(context.to_string()),
        };
        if repeats == 0 {
            return Err(EvalError::Unsupported(format!(
                "task {task}: repeats is 0 (it must be at least 1)"
            )));
        }
        let sampling = is_sampling(params);
        Ok((0..repeats)
            .map(|r| {
                let mut params = params.clone();
                let seed = if sampling {
                    let seed = self.policy.seed.wrapping_add(u64::from(r));
                    params.extra.insert("seed".into(), serde_json::json!(seed));
                    seed
                } else {
                    self.policy.seed
                };
                Planned::Generate(GenRequest {
                    key: generation_key(
                        self.fingerprint,
                        self.policy.max_length,
                        &prompt,
                        &params,
                        seed,
                    ),
                    prompt: prompt.clone(),
                    params,
                })
            })
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
                RequestArgs::LoglikelihoodRolling { .. } | RequestArgs::GenerateUntil { .. } => {}
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
                        doc_plan.push(vec![Planned::Score(
                            self.request(p.context, p.continuation),
                        )]);
                    }
                    RequestArgs::LoglikelihoodRolling { text } => doc_plan.push(
                        self.rolling(text)?
                            .into_iter()
                            .map(Planned::Score)
                            .collect(),
                    ),
                    RequestArgs::GenerateUntil { context, params } => {
                        doc_plan.push(self.generation(task, context, params, inst.repeats)?)
                    }
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
        for p in doc.iter().flatten() {
            if !skip.insert(p.key().0.clone()) {
                continue;
            }
            match p {
                Planned::Score(r) => by_context.entry(&r.context).or_default().push(r),
                Planned::Generate(g) => units.push(Unit::Generation {
                    key: g.key.clone(),
                    prompt: g.prompt.clone(),
                    params: g.params.clone(),
                }),
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
                .map(|inst| {
                    inst.into_iter()
                        .map(|p| match p {
                            Planned::Score(r) => r.key,
                            Planned::Generate(g) => g.key,
                        })
                        .collect()
                })
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
