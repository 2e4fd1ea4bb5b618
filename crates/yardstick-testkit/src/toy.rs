//! A tiny SentencePiece-style tokenizer (`tokenizer.json`) for tests that need a real tokenizer and no files:
//! `▁` + the letters of "answer", the answer letters `A`–`D` (also as single `▁A`…`▁D` tokens, so a
//! multiple-choice question's choices are single tokens), a few merges, and byte fallback for everything else.

use serde_json::json;

/// The tokenizer's `tokenizer.json` text (ids: `<unk>` 0, `<s>` 1, `</s>` 2, bytes 3–258, then the pieces).
pub fn toy_tokenizer_json() -> String {
    // A tiny SentencePiece-style BPE: ▁ + letters, a few merges, byte fallback for the rest.
    let mut vocab = serde_json::Map::new();
    let mut id = 0u32;
    for t in ["<unk>", "<s>", "</s>"] {
        vocab.insert(t.into(), json!(id));
        id += 1;
    }
    for b in 0..=255u32 {
        vocab.insert(format!("<0x{b:02X}>"), json!(id));
        id += 1;
    }
    for t in [
        "▁",
        "A",
        "B",
        "C",
        "D",
        "▁A",
        "▁B",
        "▁C",
        "▁D",
        "a",
        "n",
        "s",
        "w",
        "e",
        "r",
        ":",
        "an",
        "ans",
        "▁ans",
        "we",
        "wer",
        "▁answer",
    ] {
        vocab.insert(t.into(), json!(id));
        id += 1;
    }
    let merges = json!([
        ["▁", "A"],
        ["▁", "B"],
        ["▁", "C"],
        ["▁", "D"],
        ["a", "n"],
        ["an", "s"],
        ["▁", "ans"],
        ["w", "e"],
        ["we", "r"],
        ["▁ans", "wer"]
    ]);
    json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [
            {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
        ],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": null,
        "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": true, "byte_fallback": true, "ignore_merges": false, "vocab": vocab, "merges": merges}
    })
    .to_string()
}
