//! The in-process mock completions server speaking a real tokenizer's vocabulary (the tiny Llama GGUF's,
//! exported with `yardstick tokenizer export`), for tests that run `yardstick run` against it.

use std::path::Path;
use std::sync::Arc;
use yardstick_testkit::{MockConfig, MockLm};

/// A mock server whose pieces and `/tokenize` are those of the tokenizer exported to `tok_dir`.
pub fn mock_for_tokenizer(tok_dir: &Path) -> MockLm {
    let tok = yardstick_backends::Tokenizer::from_path(tok_dir).expect("exported tokenizer loads");
    let pieces = tok.pieces().expect("local tokenizer has pieces");
    let hf = tok.hf().expect("hf tokenizer").clone();
    let mut config = MockConfig::synthetic(pieces.len());
    config.pieces = (0..pieces.len() as u32)
        .map(|i| pieces.piece(i).unwrap_or("").to_string())
        .collect();
    config.tokenize = Some(Arc::new(move |text: &str, special: bool| {
        hf.encode(text, special)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default()
    }));
    MockLm::start(config).expect("mock server")
}
