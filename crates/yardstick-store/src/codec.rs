//! How bulky columns are stored compactly: text as zstd (with a format byte, so a later format can be told
//! apart), token ids as LEB128 varints, and the context a multiple-choice question's choices share kept once
//! in `contexts` (content-addressed) instead of once per choice.

use crate::db::Db;
use crate::vals;
use sha2::{Digest, Sha256};

/// Format byte of a zstd-compressed UTF-8 text.
const ZSTD_TEXT: u8 = 1;
/// zstd level: 3 is zstd's default (fast, and within a few per cent of the higher levels on these rows).
const LEVEL: i32 = 3;
/// Bytes of the sha256 that address a stored context or excerpt (2^64 of them before a collision is
/// likely).
pub(crate) const CONTENT_HASH_BYTES: usize = 16;

/// The address of content stored once (`contexts`, `excerpts`).
pub fn content_hash(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes)[..CONTENT_HASH_BYTES].to_vec()
}

/// A stored value that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("unknown storage format {0} (written by a newer Yardstick?)")]
    Format(u8),
    #[error("empty value")]
    Empty,
    #[error("zstd: {0}")]
    Zstd(#[from] std::io::Error),
    #[error("not UTF-8: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
    #[error("truncated token list")]
    Varint,
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{1} is missing from the store's {0}")]
    Missing(String, String),
    #[error("context {0}: its chain of stored prefixes is broken or too long")]
    Chain(String),
}

/// `text` compressed, with its format byte.
pub fn pack_text(text: &str) -> Vec<u8> {
    let mut out = vec![ZSTD_TEXT];
    // Compressing into a Vec cannot fail for want of space; an error here would be zstd's own bug.
    match zstd::bulk::compress(text.as_bytes(), LEVEL) {
        Ok(z) => out.extend_from_slice(&z),
        Err(_) => return plain_text(text),
    }
    out
}

/// Format 0: the text as it is (never written by [`pack_text`] unless zstd fails).
fn plain_text(text: &str) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(text.as_bytes());
    out
}

pub fn unpack_text(bytes: &[u8]) -> Result<String, CodecError> {
    let (&format, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    match format {
        0 => Ok(String::from_utf8(body.to_vec())?),
        ZSTD_TEXT => {
            let mut decoder = zstd::stream::read::Decoder::new(body)?;
            let mut out = Vec::with_capacity(body.len() * 4);
            std::io::Read::read_to_end(&mut decoder, &mut out)?;
            Ok(String::from_utf8(out)?)
        }
        other => Err(CodecError::Format(other)),
    }
}

/// Token ids as LEB128 varints (one byte below 128, two below 16,384, three below 2,097,152).
pub fn pack_tokens(ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 2);
    for &id in ids {
        let mut x = id;
        while x >= 0x80 {
            out.push((x as u8 & 0x7f) | 0x80);
            x >>= 7;
        }
        out.push(x as u8);
    }
    out
}

pub fn unpack_tokens(bytes: &[u8]) -> Result<Vec<u32>, CodecError> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut x: u64 = 0;
    let mut shift = 0;
    for &b in bytes {
        x |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            out.push(u32::try_from(x).map_err(|_| CodecError::Varint)?);
            x = 0;
            shift = 0;
        } else {
            shift += 7;
            if shift > 28 {
                return Err(CodecError::Varint);
            }
        }
    }
    if shift != 0 {
        return Err(CodecError::Varint);
    }
    Ok(out)
}

/// A log-likelihood request split for storage: its context's tokens (stored once in `contexts`) and the
/// rest of the request with `prompt` cut to the tokens after the context.
pub struct SplitRequest {
    pub context_hash: Option<Vec<u8>>,
    /// The context's token ids.
    pub context_tokens: Option<Vec<u32>>,
    pub rest: serde_json::Value,
}

fn token_ids(v: &serde_json::Value) -> Option<Vec<u32>> {
    v.as_array()?
        .iter()
        .map(|t| t.as_u64().and_then(|t| u32::try_from(t).ok()))
        .collect()
}

/// Split a request `{"prompt": [ids], "ctxlen": n, …}` at `ctxlen`; anything else is kept whole.
pub fn split_request(request: &serde_json::Value) -> SplitRequest {
    let whole = || SplitRequest {
        context_hash: None,
        context_tokens: None,
        rest: request.clone(),
    };
    let (Some(prompt), Some(ctxlen)) = (
        request.get("prompt").and_then(token_ids),
        request.get("ctxlen").and_then(serde_json::Value::as_u64),
    ) else {
        return whole();
    };
    let ctxlen = ctxlen as usize;
    if ctxlen == 0 || ctxlen > prompt.len() {
        return whole();
    }
    let hash = content_hash(&pack_tokens(&prompt[..ctxlen]));
    let mut rest = request.clone();
    rest["prompt"] = serde_json::json!(prompt[ctxlen..]);
    SplitRequest {
        context_hash: Some(hash),
        context_tokens: Some(prompt[..ctxlen].to_vec()),
        rest,
    }
}

/// The stored request back: the context's tokens put before `prompt` again.
pub fn join_request(
    rest: &str,
    context: Option<Vec<u32>>,
) -> Result<serde_json::Value, CodecError> {
    let mut v: serde_json::Value = serde_json::from_str(rest)?;
    if let Some(mut ids) = context {
        ids.extend(v.get("prompt").and_then(token_ids).unwrap_or_default());
        v["prompt"] = serde_json::json!(ids);
    }
    Ok(v)
}

/// An excerpt stored once, by its address.
fn stored_excerpt(conn: &Db, hash: &[u8]) -> Result<Vec<u8>, CodecError> {
    conn.query_one("SELECT text FROM excerpts WHERE hash = ?1", vals![hash])
        .and_then(|r| r.get(0))
        .map_err(|_| CodecError::Missing("excerpts".to_string(), hex::encode(hash)))
}

/// A stored request, read back whole (its context joined from `contexts`).
pub fn read_request(
    conn: &Db,
    request: &[u8],
    context_hash: Option<&[u8]>,
) -> Result<serde_json::Value, CodecError> {
    let rest = unpack_text(request)?;
    let context = context_hash
        .map(|h| crate::delta::read_context(conn, h))
        .transpose()?;
    join_request(&rest, context)
}

/// A stored raw excerpt, by its address.
pub fn read_excerpt(conn: &Db, hash: &[u8]) -> Result<String, CodecError> {
    unpack_text(&stored_excerpt(conn, hash)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_shrinks() {
        let text = r#"{"choices":[{"logprobs":{"token_logprobs":[null,-1.25,-3.5,-1.25,-3.5]}}]}"#
            .repeat(20);
        let packed = pack_text(&text);
        assert!(
            packed.len() * 4 < text.len(),
            "{} vs {}",
            packed.len(),
            text.len()
        );
        assert_eq!(unpack_text(&packed).unwrap(), text);
        assert_eq!(unpack_text(&plain_text("é")).unwrap(), "é");
        assert!(matches!(unpack_text(&[9, 1]), Err(CodecError::Format(9))));
        assert!(matches!(unpack_text(&[]), Err(CodecError::Empty)));
    }

    #[test]
    fn tokens_round_trip_at_every_width() {
        let ids = [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            u32::MAX,
        ];
        let packed = pack_tokens(&ids);
        assert_eq!(packed.len(), 1 + 1 + 1 + 2 + 2 + 3 + 3 + 4 + 5);
        assert_eq!(unpack_tokens(&packed).unwrap(), ids);
        assert!(
            unpack_tokens(&[0x80]).is_err(),
            "a truncated varint is refused"
        );
        assert!(
            unpack_tokens(&[0xff, 0xff, 0xff, 0xff, 0x7f]).is_err(),
            "beyond u32"
        );
    }

    #[test]
    fn a_request_is_split_at_its_context_and_joined_back() {
        let req = serde_json::json!({"prompt": [5, 6, 7, 300, 9], "ctxlen": 3, "path": "grouped"});
        let s = split_request(&req);
        assert_eq!(s.rest["prompt"], serde_json::json!([300, 9]));
        let back = join_request(&s.rest.to_string(), s.context_tokens.clone()).unwrap();
        assert_eq!(back, req);
        // The same context, another choice: the same address.
        let other = split_request(&serde_json::json!({"prompt": [5, 6, 7, 8], "ctxlen": 3}));
        assert_eq!(other.context_hash, s.context_hash);
        // Text prompts and generations are kept whole.
        let gen = serde_json::json!({"prompt": "Q: 1+1?", "params": {"until": ["\n"]}});
        let g = split_request(&gen);
        assert!(g.context_hash.is_none());
        assert_eq!(g.rest, gen);
        let bad = serde_json::json!({"prompt": [1, 2], "ctxlen": 5});
        assert!(split_request(&bad).context_hash.is_none());
    }
}
