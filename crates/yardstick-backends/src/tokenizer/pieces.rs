//! Piece strings: how an OpenAI-compatible server names a token in `logprobs.tokens` and as the keys of
//! `top_logprobs` (llama.cpp's `token_to_piece` without special tokens, decoded as UTF-8 with
//! replacement: `▁` → space for SentencePiece vocabularies, `<0xHH>` → that byte, byte-level BPE symbols →
//! their bytes). The grouped multiple-choice path reads a choice's log-probability from `top_logprobs` by
//! this string, so it must be unambiguous: a piece shared by two ids (e.g. the byte token `<0x41>` and the
//! token `A`), a special token, or a piece with a replacement character is never used as a key.

use serde_json::Value;
use std::collections::HashMap;

/// Fixed texts whose server tokenization fingerprints a server tokenizer.
pub(crate) const HASH_SAMPLES: &[&str] = &[
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "  leading spaces\tand\ttabs\n\nnewlines",
    "中文测试：答案是",
    "Answer: A",
];

/// Piece strings of every token id of a local tokenizer, and how many ids share each string.
#[derive(Debug, Clone)]
pub struct PieceTable {
    pieces: Vec<Option<String>>,
    counts: HashMap<String, u32>,
}

/// GPT-2's byte ↔ unicode table (`bytes_to_unicode`), inverted: symbol → byte.
fn byte_level_inverse() -> HashMap<char, u8> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0u32;
    for b in 0..=255u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.into_iter()
        .zip(cs)
        .filter_map(|(b, c)| char::from_u32(c).map(|c| (c, b as u8)))
        .collect()
}

fn byte_token(t: &str) -> Option<u8> {
    let hex = t.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

impl PieceTable {
    /// Build from a `tokenizers` tokenizer and its JSON (to tell byte-level from SentencePiece-style).
    pub fn build(tok: &tokenizers::Tokenizer, json: &Value) -> PieceTable {
        let byte_level = json
            .get("decoder")
            .map(|d| d.to_string().contains("\"ByteLevel\""))
            .unwrap_or(false)
            || json
                .get("pre_tokenizer")
                .map(|d| d.to_string().contains("\"ByteLevel\""))
                .unwrap_or(false);
        let byte_fallback = json
            .pointer("/model/byte_fallback")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let inverse = if byte_level {
            byte_level_inverse()
        } else {
            HashMap::new()
        };
        let specials: std::collections::HashSet<u32> = tok
            .get_added_tokens_decoder()
            .iter()
            .filter(|(_, t)| t.special)
            .map(|(&id, _)| id)
            .collect();
        let n = tok.get_vocab_size(true);
        let mut pieces = Vec::with_capacity(n);
        let mut counts: HashMap<String, u32> = HashMap::with_capacity(n);
        for id in 0..n as u32 {
            let piece = if specials.contains(&id) {
                None
            } else {
                tok.id_to_token(id).map(|t| {
                    if byte_level {
                        let bytes: Vec<u8> = t
                            .chars()
                            .map(|c| inverse.get(&c).copied().unwrap_or(b'?'))
                            .collect();
                        String::from_utf8_lossy(&bytes).into_owned()
                    } else if let Some(b) = byte_token(&t).filter(|_| byte_fallback) {
                        if b < 0x80 {
                            (b as char).to_string()
                        } else {
                            "\u{FFFD}".to_string()
                        }
                    } else {
                        t.replace('▁', " ")
                    }
                })
            };
            if let Some(p) = &piece {
                *counts.entry(p.clone()).or_insert(0) += 1;
            }
            pieces.push(piece);
        }
        PieceTable { pieces, counts }
    }

    /// The server-style piece string of `id` (None for special tokens and unknown ids).
    pub fn piece(&self, id: u32) -> Option<&str> {
        self.pieces.get(id as usize).and_then(|p| p.as_deref())
    }

    /// Whether `id`'s piece names it unambiguously: not special, no replacement character, and no other
    /// id of the vocabulary has the same piece string.
    pub fn is_unambiguous(&self, id: u32) -> bool {
        match self.piece(id) {
            Some(p) => !p.contains('\u{FFFD}') && self.counts.get(p) == Some(&1),
            None => false,
        }
    }

    /// Whether a piece string (e.g. a `top_logprobs` key) names exactly one id of the vocabulary.
    pub fn is_unambiguous_piece(&self, piece: &str) -> bool {
        !piece.contains('\u{FFFD}') && self.counts.get(piece) == Some(&1)
    }

    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_table_is_a_bijection() {
        let inv = byte_level_inverse();
        assert_eq!(inv.len(), 256);
        assert_eq!(inv[&'Ġ'], b' ');
        assert_eq!(inv[&'A'], b'A');
        assert_eq!(inv[&'Ċ'], b'\n');
    }

    #[test]
    fn spm_pieces_and_ambiguity() {
        let t = super::super::tests::toy();
        let p = t.pieces().expect("local");
        let id = |s: &str| t.hf().expect("hf").token_to_id(s).expect(s);
        assert_eq!(p.piece(id("▁A")), Some(" A"));
        assert!(p.is_unambiguous(id("▁A")));
        // "A" collides with the byte token <0x41>
        assert_eq!(p.piece(id("A")), Some("A"));
        assert!(!p.is_unambiguous(id("A")));
        assert!(!p.is_unambiguous(id("<0x41>")));
        // high bytes decode to U+FFFD: never unambiguous
        assert!(!p.is_unambiguous(id("<0xE4>")));
        // special tokens have no piece
        assert_eq!(p.piece(1), None);
    }
}
