//! Wire formats of `/v1/completions` and the pure scoring arithmetic: lm-eval's truncation, alignment of
//! the echoed prompt with what was sent, `Σ token_logprobs` over the continuation and `is_greedy`.

use crate::backend::CallStats;
use crate::error::{excerpt, BackendError};
use serde::Deserialize;
use serde_json::{Map, Value};
use yardstick_core::LoglikelihoodResult;

#[derive(Clone, Debug, Deserialize)]
pub struct CompletionResponse {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub index: usize,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// A chat completion's message.
    #[serde(default)]
    pub message: Option<ChatMessageOut>,
}

/// `choices[i].message` of a chat completion: the answer, and the reasoning a reasoning model reports apart
/// (`reasoning_content`: DeepSeek, vLLM, llama.cpp; `reasoning`: some other servers).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ChatMessageOut {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, alias = "reasoning")]
    pub reasoning_content: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Logprobs {
    #[serde(default)]
    pub tokens: Option<Vec<String>>,
    #[serde(default)]
    pub token_logprobs: Vec<Option<f64>>,
    #[serde(default)]
    pub top_logprobs: Option<Vec<Option<Map<String, Value>>>>,
    #[serde(default)]
    pub text_offset: Option<Vec<i64>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

/// `usage.completion_tokens_details` (OpenAI): how many of the completion tokens were reasoning.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u32>,
}

/// Parse a completions response; choices sorted by `index` (as lm-eval sorts them).
pub fn parse_completion(body: &str, url: &str) -> Result<CompletionResponse, BackendError> {
    let mut r: CompletionResponse =
        serde_json::from_str(body).map_err(|e| BackendError::BadResponse {
            url: url.to_string(),
            what: format!("not a completions response ({e})"),
            body: excerpt(body),
        })?;
    if r.choices.is_empty() {
        return Err(BackendError::BadResponse {
            url: url.to_string(),
            what: "no `choices`".into(),
            body: excerpt(body),
        });
    }
    r.choices.sort_by_key(|c| c.index);
    check_logprobs(&r, url, body)?;
    Ok(r)
}

/// The largest log-probability accepted: a probability is at most 1, so its log is at most 0; the slack
/// only forgives a server's rounding (`1e-7` for a certain token), never a real positive value.
pub const MAX_LOGPROB: f64 = 1e-6;

/// Every log-probability in the response (`token_logprobs` and the values of `top_logprobs`) is a finite
/// number ≤ 0 ([`MAX_LOGPROB`]): a positive or non-finite value means a broken server or a proxy that
/// rewrote the numbers, and scoring it would give a plausible-looking but wrong result.
fn check_logprobs(r: &CompletionResponse, url: &str, body: &str) -> Result<(), BackendError> {
    let bad = |what: String| BackendError::BadResponse {
        url: url.to_string(),
        what,
        body: excerpt(body),
    };
    let valid = |v: f64| v.is_finite() && v <= MAX_LOGPROB;
    for c in &r.choices {
        let Some(lp) = &c.logprobs else { continue };
        for (i, v) in lp.token_logprobs.iter().enumerate() {
            if let Some(v) = v.filter(|v| !valid(*v)) {
                return Err(bad(format!(
                    "choice {} token_logprobs[{i}] = {v} is not a log-probability (must be a finite number ≤ 0); \
                     the server or a proxy in between is broken — check its version and settings",
                    c.index
                )));
            }
        }
        for (i, top) in lp.top_logprobs.iter().flatten().enumerate() {
            for (tok, v) in top.iter().flatten() {
                let ok = match v {
                    Value::Number(n) => n.as_f64().is_some_and(valid),
                    Value::Null => true,
                    _ => false,
                };
                if !ok {
                    return Err(bad(format!(
                        "choice {} top_logprobs[{i}][{}] = {} is not a log-probability (must be a finite number \
                         ≤ 0); the server or a proxy in between is broken — check its version and settings",
                        c.index,
                        yardstick_core::safe_to_print(&format!("{tok:?}")),
                        yardstick_core::safe_to_print(&v.to_string())
                    )));
                }
            }
        }
    }
    Ok(())
}

/// lm-eval's left truncation for log-likelihood requests: with `L = max_length − 1` (lm-eval stores
/// `max_length − 1` because one token is generated), the input is the last `L` tokens of
/// `context ++ continuation`, and `ctxlen = len(context) − max(0, len(context) + len(continuation) − L)`,
/// which must be positive (lm-eval asserts it).
pub fn truncate(
    context: &[u32],
    continuation: &[u32],
    max_length: usize,
) -> Result<(Vec<u32>, usize), BackendError> {
    let l = max_length.saturating_sub(1);
    let total = context.len() + continuation.len();
    let mut inp: Vec<u32> = Vec::with_capacity(total.min(l));
    let skip = total.saturating_sub(l);
    inp.extend(context.iter().chain(continuation).skip(skip).copied());
    let ctxlen = context.len() as i64 - (total as i64 - l as i64).max(0);
    if ctxlen <= 0 {
        return Err(BackendError::InvalidRequest(format!(
            "the context ({} tokens) leaves no token to condition on after truncating context + continuation ({} \
             tokens) to max_length − 1 = {l}; lm-eval fails on this request too (\"Context length must be greater \
             than 0\"). Raise --max-length or shorten the continuation",
            context.len(),
            total
        )));
    }
    Ok((inp, ctxlen as usize))
}

fn top_values(m: &Map<String, Value>) -> impl Iterator<Item = f64> + '_ {
    m.values().filter_map(Value::as_f64)
}

/// Python's `max(top.values())` (None for an empty dict).
pub fn top_max(m: &Map<String, Value>) -> Option<f64> {
    top_values(m).fold(None, |acc: Option<f64>, v| {
        Some(match acc {
            Some(a) if a >= v => a,
            _ => v,
        })
    })
}

/// The scored continuation of one echoed prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub result: LoglikelihoodResult,
    /// Generated tokens in the response (0 or 1: a server that stops on EOS returns none).
    pub generated: usize,
    /// lm-eval's literal `token_logprobs[ctxlen:-1]` reading when it differs (see
    /// `LoglikelihoodOutcome::lm_eval_slice`).
    pub lm_eval_slice: Option<LoglikelihoodResult>,
}

/// Score the continuation `sent[ctxlen..]` from a response with `echo`, aligning by `offset` (the index in
/// the returned list of `sent[0]`: 0 = reported as sent, 1 = the server prepended and reported a BOS,
/// −1 = the server hid a BOS that was sent first). The returned list must hold every sent position plus
/// at most one generated token. Σ runs left to right from 0.0 like Python's `sum`; `is_greedy` requires
/// every continuation position's log-prob to equal the maximum of its `top_logprobs`.
pub fn score_echo(
    lp: &Logprobs,
    sent_len: usize,
    ctxlen: usize,
    offset: isize,
    url: &str,
) -> Result<Scored, BackendError> {
    let m = lp.token_logprobs.len() as isize;
    let generated = m - sent_len as isize - offset;
    let bad = |what: String| BackendError::BadResponse {
        url: url.to_string(),
        what,
        body: String::new(),
    };
    if !(0..=1).contains(&generated) {
        return Err(bad(format!(
            "expected {} prompt log-probs (+ at most 1 generated) for {sent_len} tokens sent (BOS offset {offset}), got \
             {m}: the server did not echo the prompt as sent",
            sent_len as isize + offset
        )));
    }
    let tops = lp.top_logprobs.as_deref().unwrap_or(&[]);
    let mut sum = 0.0f64;
    let mut greedy = true;
    for i in ctxlen..sent_len {
        let r = i as isize + offset;
        if r < 0 {
            continue;
        }
        let r = r as usize;
        let Some(v) = lp.token_logprobs.get(r).copied().flatten() else {
            if r == 0 {
                // The first returned token is never scored (nothing precedes it); lm-eval skips it too.
                continue;
            }
            return Err(bad(format!(
                "token_logprobs[{r}] is null inside the continuation"
            )));
        };
        sum += v;
        match tops.get(r).and_then(Option::as_ref).and_then(top_max) {
            Some(mx) => {
                if v != mx {
                    greedy = false;
                }
            }
            None => {
                return Err(bad(format!(
                    "top_logprobs[{r}] is missing inside the continuation (send logprobs ≥ 1)"
                )))
            }
        }
    }
    let result = LoglikelihoodResult {
        logprob: sum,
        is_greedy: greedy,
    };
    let lm = lm_eval_literal(lp, ctxlen);
    let lm_eval_slice = match lm {
        Some(x) if x == result => None,
        Some(x) => Some(x),
        None => None,
    };
    Ok(Scored {
        result,
        generated: generated as usize,
        lm_eval_slice,
    })
}

/// lm-eval's `parse_logprobs` on one choice: `sum(token_logprobs[ctxlen:-1])` and the greedy check over
/// the same slice (None when lm-eval would fail on the response, e.g. a null inside the slice).
pub fn lm_eval_literal(lp: &Logprobs, ctxlen: usize) -> Option<LoglikelihoodResult> {
    let m = lp.token_logprobs.len();
    let end = m.saturating_sub(1);
    let tops = lp.top_logprobs.as_deref().unwrap_or(&[]);
    let mut sum = 0.0;
    let mut greedy = true;
    for r in ctxlen..end.max(ctxlen) {
        let v = lp.token_logprobs.get(r).copied().flatten()?;
        sum += v;
        let mx = tops.get(r).and_then(Option::as_ref).and_then(top_max)?;
        if v != mx {
            greedy = false;
            // lm-eval stops checking at the first non-greedy position; the sum continues.
        }
    }
    Some(LoglikelihoodResult {
        logprob: sum,
        is_greedy: greedy,
    })
}

/// Score the continuation of a *text* prompt by character offsets: prompt tokens are those whose
/// `text_offset` is below `prompt_chars`; the continuation those at or after `context_chars`.
pub fn score_text_offsets(
    lp: &Logprobs,
    context_chars: usize,
    prompt_chars: usize,
    url: &str,
) -> Result<(LoglikelihoodResult, usize), BackendError> {
    let offs = lp
        .text_offset
        .as_deref()
        .ok_or_else(|| BackendError::BadResponse {
            url: url.to_string(),
            what: "no `text_offset` in the logprobs of a text prompt".into(),
            body: String::new(),
        })?;
    let tops = lp.top_logprobs.as_deref().unwrap_or(&[]);
    let mut sum = 0.0;
    let mut greedy = true;
    let mut n = 0;
    for (r, &off) in offs.iter().enumerate() {
        let off = off.max(0) as usize;
        if off < context_chars || off >= prompt_chars {
            continue;
        }
        let v = lp.token_logprobs.get(r).copied().flatten().ok_or_else(|| {
            BackendError::BadResponse {
                url: url.to_string(),
                what: format!("token_logprobs[{r}] is null inside the continuation"),
                body: String::new(),
            }
        })?;
        sum += v;
        n += 1;
        if tops
            .get(r)
            .and_then(Option::as_ref)
            .and_then(top_max)
            .is_none_or(|mx| v != mx)
        {
            greedy = false;
        }
    }
    Ok((
        LoglikelihoodResult {
            logprob: sum,
            is_greedy: greedy,
        },
        n,
    ))
}

/// Token counts for [`CallStats`].
pub fn usage_counts(resp: &CompletionResponse, sent: usize, generated: usize) -> (u32, u32) {
    let u = resp.usage.clone().unwrap_or_default();
    (
        u.prompt_tokens.unwrap_or(sent as u32),
        u.completion_tokens.unwrap_or(generated as u32),
    )
}

pub(crate) fn stats(
    meta: &crate::http::CallMeta,
    prompt_tokens: u32,
    completion_tokens: u32,
    shared_by: u32,
) -> CallStats {
    CallStats {
        latency: meta.latency,
        prompt_tokens,
        completion_tokens,
        retries: meta.retries(),
        shared_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ref_server's shape: 4 tokens sent, BOS hidden, 1 generated token.
    const REF_SERVER: &str = r#"{"object": "text_completion", "model": "m.gguf", "choices": [{"text": " Hello world!", "finish_reason": "length",
      "logprobs": {"tokens": [" Hello", " world", " A", "!"], "token_logprobs": [null, -2.5, -1.25, -3.0],
      "top_logprobs": [null, {" there": -0.5, " world": -2.5}, {" A": -1.25}, {"!": -3.0, ".": -0.1}], "text_offset": [0, 6, 12, 14]}, "index": 0}]}"#;

    /// vLLM's shape: prompt echoed as sent, usage reported, 1 generated token.
    const VLLM: &str = r#"{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"Hello world A!",
      "logprobs":{"text_offset":[0,5,11,13],"token_logprobs":[null,-2.5,-1.25,-3.0],"tokens":["Hello"," world"," A","!"],
      "top_logprobs":[null,{" world":-2.5," there":-0.5},{" A":-1.25},{"!":-3.0}]},"finish_reason":"length","stop_reason":null}],
      "usage":{"prompt_tokens":3,"total_tokens":4,"completion_tokens":1}}"#;

    /// A server that prepends BOS and reports it.
    const BOS_REPORTED: &str = r#"{"choices":[{"index":0,"text":"","logprobs":{"tokens":["<s>"," Hello"," world"," A","!"],
      "token_logprobs":[null,-7.0,-2.5,-1.25,-3.0],"top_logprobs":[null,{" Hello":-7.0},{" world":-2.5},{" A":-1.25},{"!":-3.0}]}}]}"#;

    /// llama.cpp's llama-server refusing echo.
    pub(crate) const LLAMA_SERVER_ECHO: &str =
        r#"{"error":{"code":500,"message":"Only no echo is supported","type":"server_error"}}"#;

    fn lp(body: &str) -> Logprobs {
        parse_completion(body, "u").expect("parse").choices[0]
            .logprobs
            .clone()
            .expect("logprobs")
    }

    #[test]
    fn truncation_matches_lm_eval() {
        // fits: unchanged
        assert_eq!(
            truncate(&[1, 2, 3], &[4], 2048).expect("ok"),
            (vec![1, 2, 3, 4], 3)
        );
        // max_length 4 → L = 3: (ctx+cont)[-3:], ctxlen = 3 - (4 - 3) = 2
        assert_eq!(
            truncate(&[1, 2, 3], &[4], 4).expect("ok"),
            (vec![2, 3, 4], 2)
        );
        // continuation fills the window: ctxlen 0 → error like lm-eval's assert
        assert!(truncate(&[1], &[2, 3, 4], 4).is_err());
        // empty continuation
        assert_eq!(truncate(&[1, 2], &[], 2048).expect("ok"), (vec![1, 2], 2));
    }

    #[test]
    fn ref_server_and_vllm_shapes_score_the_same() {
        // sent = [Hello, world, A]; ctxlen 2 → continuation " A"
        for body in [REF_SERVER, VLLM] {
            let s = score_echo(&lp(body), 3, 2, 0, "u").expect("score");
            assert_eq!(
                s.result,
                LoglikelihoodResult {
                    logprob: -1.25,
                    is_greedy: true
                }
            );
            assert_eq!(s.generated, 1);
            assert_eq!(s.lm_eval_slice, None);
        }
        // two continuation tokens, the first not greedy
        let s = score_echo(&lp(REF_SERVER), 3, 1, 0, "u").expect("score");
        assert_eq!(
            s.result,
            LoglikelihoodResult {
                logprob: -2.5 + -1.25,
                is_greedy: false
            }
        );
        let r = parse_completion(VLLM, "u").expect("parse");
        assert_eq!(usage_counts(&r, 3, 1), (3, 1));
    }

    #[test]
    fn reported_bos_is_aligned_and_lm_eval_divergence_recorded() {
        let s = score_echo(&lp(BOS_REPORTED), 3, 2, 1, "u").expect("score");
        assert_eq!(
            s.result,
            LoglikelihoodResult {
                logprob: -1.25,
                is_greedy: true
            }
        );
        // lm-eval would have read token_logprobs[2:-1] = [-2.5, -1.25]
        assert_eq!(
            s.lm_eval_slice,
            Some(LoglikelihoodResult {
                logprob: -3.75,
                is_greedy: true
            })
        );
        // wrong offset: count mismatch is an error, never a silent misalignment
        assert!(score_echo(&lp(BOS_REPORTED), 3, 2, -1, "u").is_err());
    }

    #[test]
    fn eos_as_greedy_next_token_keeps_the_last_continuation_token() {
        // the server generated nothing (EOS was greedy): 3 entries for 3 sent tokens
        let body = r#"{"choices":[{"index":0,"text":"","finish_reason":"stop","logprobs":{"tokens":["a","b","c"],
          "token_logprobs":[null,-1.0,-2.0],"top_logprobs":[null,{"b":-1.0},{"x":-0.5,"c":-2.0}]}}]}"#;
        let s = score_echo(&lp(body), 3, 2, 0, "u").expect("score");
        assert_eq!(s.generated, 0);
        assert_eq!(
            s.result,
            LoglikelihoodResult {
                logprob: -2.0,
                is_greedy: false
            }
        );
        assert_eq!(
            s.lm_eval_slice,
            Some(LoglikelihoodResult {
                logprob: 0.0,
                is_greedy: true
            })
        );
    }

    #[test]
    fn hidden_bos_sent_first_skips_the_unscorable_first_token() {
        // sent [BOS, x, y] with ctxlen 1; the server hides BOS: returns [x, y, gen]
        let body = r#"{"choices":[{"index":0,"text":"","logprobs":{"tokens":["x","y","g"],
          "token_logprobs":[null,-1.5,-0.25],"top_logprobs":[null,{"y":-1.5},{"g":-0.25}]}}]}"#;
        let s = score_echo(&lp(body), 3, 1, -1, "u").expect("score");
        assert_eq!(
            s.result,
            LoglikelihoodResult {
                logprob: -1.5,
                is_greedy: true
            }
        );
        assert_eq!(s.lm_eval_slice, None);
    }

    #[test]
    fn malformed_responses_are_errors() {
        assert!(parse_completion("not json", "u").is_err());
        assert!(parse_completion(r#"{"choices": []}"#, "u").is_err());
        assert!(parse_completion(LLAMA_SERVER_ECHO, "u").is_err());
        let body = r#"{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,-1.0,null,-1.0],"top_logprobs":[null,{},{},{}]}}]}"#;
        assert!(score_echo(&lp(body), 3, 1, 0, "u").is_err());
    }

    #[test]
    fn positive_or_non_finite_logprobs_are_refused() {
        let url = "http://127.0.0.1:1/v1/completions";
        for (body, needle) in [
            (
                r#"{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,0.5,-1.0],"top_logprobs":[null,{"a":0.5},{"b":-1.0}]}}]}"#,
                "token_logprobs[1] = 0.5",
            ),
            (
                r#"{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,-0.5],"top_logprobs":[null,{"a":3.0}]}}]}"#,
                "top_logprobs[1][\"a\"] = 3.0",
            ),
            (
                r#"{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,-0.5],"top_logprobs":[null,{"a":"NaN"}]}}]}"#,
                "top_logprobs[1][\"a\"] = \"NaN\"",
            ),
        ] {
            let err = parse_completion(body, url).expect_err(needle);
            let msg = err.to_string();
            assert!(
                msg.contains(needle) && msg.contains("not a log-probability"),
                "{msg}"
            );
            assert!(msg.contains(url), "{msg}");
        }
        // NaN and infinities are not JSON: refused as unreadable
        for body in [
            r#"{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,NaN]}}]}"#,
            r#"{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,1e999]}}]}"#,
        ] {
            assert!(parse_completion(body, url).is_err(), "{body}");
        }
        // rounding slack and zero are accepted
        let ok = r#"{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,0.0,1e-9],"top_logprobs":[null,{"a":0.0},{"b":1e-9}]}}]}"#;
        assert!(parse_completion(ok, url).is_ok());
    }

    proptest::proptest! {
        /// Whatever a server sends, parsing a completions response and scoring it never panics: it is a
        /// response or an error that names the URL.
        #[test]
        fn any_body_parses_or_errs_clearly(body in "\\PC{0,200}") {
            let url = "http://127.0.0.1:1/v1/completions";
            if let Err(e) = parse_completion(&body, url) {
                proptest::prop_assert!(e.to_string().contains(url));
            }
        }

        #[test]
        fn any_logprobs_shape_parses_or_errs_clearly(
            lps in proptest::collection::vec(proptest::option::of(proptest::num::f64::ANY), 0..8),
            tops in proptest::collection::vec(proptest::option::of(proptest::num::f64::ANY), 0..8),
            sent_len in 0usize..10,
            ctxlen in 0usize..10,
            offset in -2isize..3,
            index in 0usize..3,
        ) {
            let url = "http://127.0.0.1:1/v1/completions";
            let num = |v: &Option<f64>| v.filter(|v| v.is_finite()).map_or("null".to_string(), |v| format!("{v:?}"));
            let top = |v: &Option<f64>| v.filter(|v| v.is_finite()).map_or("null".to_string(), |v| format!("{{\"t\":{v:?}}}"));
            let body = format!(
                r#"{{"choices":[{{"index":{index},"text":"","logprobs":{{"token_logprobs":[{}],"top_logprobs":[{}],"text_offset":[{}]}}}}]}}"#,
                lps.iter().map(num).collect::<Vec<_>>().join(","),
                tops.iter().map(top).collect::<Vec<_>>().join(","),
                (0..lps.len()).map(|i| (i * 2).to_string()).collect::<Vec<_>>().join(","),
            );
            match parse_completion(&body, url) {
                Err(e) => proptest::prop_assert!(e.to_string().contains(url)),
                Ok(r) => {
                    let lp = r.choices[0].logprobs.as_ref().expect("logprobs");
                    for v in lp.token_logprobs.iter().flatten() {
                        proptest::prop_assert!(v.is_finite() && *v <= MAX_LOGPROB);
                    }
                    let _ = score_echo(lp, sent_len, ctxlen, offset, url);
                    let _ = lm_eval_literal(lp, ctxlen);
                    let _ = score_text_offsets(lp, ctxlen, sent_len + ctxlen, url);
                }
            }
        }
    }

    #[test]
    fn text_offsets_locate_the_continuation() {
        // prompt " Hello world A" = 14 chars; context " Hello world" = 12 chars
        let (r, n) = score_text_offsets(&lp(REF_SERVER), 12, 14, "u").expect("score");
        assert_eq!(n, 1);
        assert_eq!(
            r,
            LoglikelihoodResult {
                logprob: -1.25,
                is_greedy: true
            }
        );
    }

    #[test]
    fn choices_are_sorted_by_index() {
        let body = r#"{"choices":[{"index":1,"text":"b"},{"index":0,"text":"a"}]}"#;
        let r = parse_completion(body, "u").expect("parse");
        assert_eq!(r.choices[0].text.as_deref(), Some("a"));
    }
}
