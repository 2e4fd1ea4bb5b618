//! lm-evaluation-harness 0.4.13's tokenization of a (context, continuation) pair (`TemplateLM.loglikelihood`
//! and `_encode_pair`), as pure functions over an encoder.

use crate::error::TokenizerError;
use std::sync::Arc;
use yardstick_core::python::text as pystr;

/// The token ids of one pair, as lm-eval builds them: the request sends `context ++ continuation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedPair {
    pub context: Arc<[u32]>,
    pub continuation: Vec<u32>,
}

/// `n = len(ctx) - len(ctx.rstrip())`; move those trailing characters (Python whitespace, see
/// [`pystr::is_space`]) to the front of the continuation.
pub fn move_trailing_whitespace(context: &str, continuation: &str) -> (String, String) {
    let kept = pystr::rstrip(context, None);
    if kept.len() == context.len() {
        return (context.to_string(), continuation.to_string());
    }
    let moved = &context[kept.len()..];
    (kept.to_string(), format!("{moved}{continuation}"))
}

/// lm-eval's pair encoding given an encoder `encode(text) -> ids` (called with lm-eval's
/// `add_special_tokens`, i.e. `add_bos_token`, default False, for the non-empty-context path):
///
/// * empty context: `cont = encode_no_special(continuation)`; context `[prefix]` unless `cont[0]` already
///   is the prefix token, in which case that token becomes the context;
/// * otherwise: trailing whitespace of the context moves to the continuation; `whole = encode(ctx+cont)`,
///   `ctx_enc = encode(ctx)`, `cont_enc = whole[len(ctx_enc):]` — a split by *count*, exactly as lm-eval.
pub fn encode_pair_with<E, F>(
    context: &str,
    continuation: &str,
    prefix_token_id: Option<u32>,
    mut encode: E,
    mut encode_no_special: F,
) -> Result<EncodedPair, TokenizerError>
where
    E: FnMut(&str) -> Result<Arc<[u32]>, TokenizerError>,
    F: FnMut(&str) -> Result<Arc<[u32]>, TokenizerError>,
{
    if context.is_empty() {
        let cont = encode_no_special(continuation)?;
        let prefix = prefix_token_id.ok_or_else(|| {
            TokenizerError::Pair(
                "the context is empty and the tokenizer has neither a BOS nor an EOS token to condition on \
                 (set a prefix token id)"
                    .into(),
            )
        })?;
        let first = *cont.first().ok_or_else(|| {
            TokenizerError::Pair(format!(
                "the context is empty and the continuation {continuation:?} encodes to no tokens"
            ))
        })?;
        return Ok(if first != prefix {
            EncodedPair {
                context: Arc::from(vec![prefix]),
                continuation: cont.to_vec(),
            }
        } else {
            EncodedPair {
                context: Arc::from(vec![first]),
                continuation: cont[1..].to_vec(),
            }
        });
    }
    let (ctx, cont) = move_trailing_whitespace(context, continuation);
    let whole = encode(&format!("{ctx}{cont}"))?;
    let ctx_enc = encode(&ctx)?;
    let split = ctx_enc.len().min(whole.len());
    Ok(EncodedPair {
        context: ctx_enc,
        continuation: whole[split..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy encoder: one token per character, except "ab" which is one token (so that a token can straddle
    /// the context/continuation boundary).
    fn toy(s: &str) -> Result<Arc<[u32]>, TokenizerError> {
        let mut out = Vec::new();
        let cs: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < cs.len() {
            if cs[i] == 'a' && cs.get(i + 1) == Some(&'b') {
                out.push(1000);
                i += 2;
            } else {
                out.push(cs[i] as u32);
                i += 1;
            }
        }
        Ok(out.into())
    }

    #[test]
    fn trailing_whitespace_moves_to_the_continuation() {
        assert_eq!(
            move_trailing_whitespace("Answer: ", "A"),
            ("Answer:".into(), " A".into())
        );
        assert_eq!(
            move_trailing_whitespace("Q\n\n", " x"),
            ("Q".into(), "\n\n x".into())
        );
        assert_eq!(
            move_trailing_whitespace("答案：\u{3000}", "B"),
            ("答案：".into(), "\u{3000}B".into())
        );
        assert_eq!(
            move_trailing_whitespace("no space", " A"),
            ("no space".into(), " A".into())
        );
        assert_eq!(
            move_trailing_whitespace("   ", "A"),
            ("".into(), "   A".into())
        );
    }

    #[test]
    fn split_is_by_count_of_the_context_encoding() {
        // "xa" + "b": whole = [x, ab], ctx = [x, a] (2 tokens) → continuation = whole[2:] = [] (the boundary
        // token is absorbed by the context side, as in lm-eval).
        let p = encode_pair_with("xa", "b", Some(1), toy, toy).expect("pair");
        assert_eq!(&*p.context, &['x' as u32, 'a' as u32]);
        assert!(p.continuation.is_empty());
        // "x" + "ab" → whole = [x, ab]; ctx = [x] → continuation [ab]
        let p = encode_pair_with("x ", "ab", Some(1), toy, toy).expect("pair");
        assert_eq!(&*p.context, &['x' as u32]);
        assert_eq!(p.continuation, vec![' ' as u32, 1000]);
    }

    #[test]
    fn empty_context_uses_the_prefix_token() {
        let p = encode_pair_with("", "ab", Some(1), toy, toy).expect("pair");
        assert_eq!(&*p.context, &[1]);
        assert_eq!(p.continuation, vec![1000]);
        // continuation already starting with the prefix token: that token becomes the context
        let p = encode_pair_with("", "xy", Some('x' as u32), toy, toy).expect("pair");
        assert_eq!(&*p.context, &['x' as u32]);
        assert_eq!(p.continuation, vec!['y' as u32]);
        assert!(encode_pair_with("", "", Some(1), toy, toy).is_err());
        assert!(encode_pair_with("", "a", None, toy, toy).is_err());
    }
}
