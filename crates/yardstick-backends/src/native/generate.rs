//! Generation on the worker's context: the prompt evaluated from an empty cache, then one token at a time
//! — greedy, or sampled (temperature, top-k, top-p) from a seeded generator — until an end-of-generation
//! token, a stop sequence (the text is cut before it, as OpenAI-compatible servers do) or the token limit.

use super::worker::{Engine, Generated};
use crate::error::BackendError;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use yardstick_core::GenerationParams;

/// A generation request as the worker runs it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GenSpec {
    pub until: Vec<String>,
    pub max_tokens: usize,
    /// 0 (or `do_sample` false): greedy.
    pub temperature: f64,
    pub top_k: Option<i32>,
    pub top_p: Option<f64>,
    pub seed: u64,
}

impl GenSpec {
    /// From lm-eval's generation arguments (`top_k`/`top_p` from the extra keys) and the run's seed.
    pub fn from_params(params: &GenerationParams, seed: u64) -> GenSpec {
        let greedy = !params.do_sample || params.temperature <= 0.0;
        GenSpec {
            until: params
                .until
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect(),
            max_tokens: params.max_gen_toks as usize,
            temperature: if greedy { 0.0 } else { params.temperature },
            top_k: params
                .extra
                .get("top_k")
                .and_then(serde_json::Value::as_i64)
                .and_then(|k| i32::try_from(k).ok()),
            top_p: params
                .extra
                .get("top_p")
                .and_then(serde_json::Value::as_f64),
            seed,
        }
    }

    fn sampler(&self) -> LlamaSampler {
        if self.temperature <= 0.0 {
            return LlamaSampler::greedy();
        }
        let mut chain = Vec::new();
        if let Some(k) = self.top_k.filter(|&k| k > 0) {
            chain.push(LlamaSampler::top_k(k));
        }
        if let Some(p) = self.top_p.filter(|&p| p > 0.0 && p < 1.0) {
            chain.push(LlamaSampler::top_p(p as f32, 1));
        }
        chain.push(LlamaSampler::temp(self.temperature as f32));
        // llama.cpp's seed is 32 bits; fold the 64-bit seed so distinct seeds stay distinct in practice.
        chain.push(LlamaSampler::dist((self.seed ^ (self.seed >> 32)) as u32));
        LlamaSampler::chain_simple(chain)
    }
}

/// Where the earliest stop sequence starts in `text`.
pub(crate) fn stop_at(text: &str, until: &[String]) -> Option<usize> {
    until.iter().filter_map(|s| text.find(s.as_str())).min()
}

/// Evaluate `tokens` from position `start` in sequence 0; logits for the last one only.
fn feed(engine: &mut Engine<'_>, tokens: &[u32], start: usize) -> Result<(), BackendError> {
    let n_batch = engine.loaded.batch.max(1);
    let mut batch = LlamaBatch::new(n_batch, 1);
    let total = tokens.len();
    for (c, chunk) in tokens.chunks(n_batch).enumerate() {
        batch.clear();
        for (i, &t) in chunk.iter().enumerate() {
            let k = c * n_batch + i;
            batch
                .add(
                    LlamaToken(t as i32),
                    (start + k) as i32,
                    &[0],
                    k + 1 == total,
                )
                .map_err(|e| BackendError::Native(format!("batch: {e}")))?;
        }
        engine
            .ctx
            .decode(&mut batch)
            .map_err(|e| BackendError::Native(format!("decoding the prompt failed: {e}")))?;
    }
    Ok(())
}

pub(crate) fn generate(
    engine: &mut Engine<'_>,
    prompt: &[u32],
    spec: &GenSpec,
) -> Result<Generated, BackendError> {
    if prompt.is_empty() {
        return Err(BackendError::InvalidRequest(
            "an empty generation prompt".into(),
        ));
    }
    engine.check_tokens(prompt)?;
    let room = engine.loaded.n_ctx.saturating_sub(prompt.len());
    let max_tokens = spec.max_tokens.min(room);
    engine.reset();
    let result = run(engine, prompt, spec, max_tokens);
    // The cache now holds this prompt, not a scoring context: start the next job from empty.
    engine.reset();
    result
}

fn run(
    engine: &mut Engine<'_>,
    prompt: &[u32],
    spec: &GenSpec,
    max_tokens: usize,
) -> Result<Generated, BackendError> {
    feed(engine, prompt, 0)?;
    let mut sampler = spec.sampler();
    let vocab = engine.model.vocab();
    let mut bytes: Vec<u8> = Vec::new();
    let mut generated = 0;
    let mut pos = prompt.len();
    while generated < max_tokens {
        let token = sampler.sample(&engine.ctx, -1);
        generated += 1;
        let id = u32::try_from(token.0).unwrap_or(u32::MAX);
        if engine.loaded.eog.contains(&id) {
            return Ok(finish(bytes, generated, "stop", &spec.until));
        }
        bytes.extend(vocab.token_to_piece(token, false, None));
        let text = String::from_utf8_lossy(&bytes);
        if stop_at(&text, &spec.until).is_some() {
            return Ok(finish(bytes, generated, "stop", &spec.until));
        }
        if generated == max_tokens {
            break;
        }
        feed(engine, &[id], pos)?;
        pos += 1;
    }
    Ok(finish(bytes, generated, "length", &spec.until))
}

fn finish(bytes: Vec<u8>, tokens: usize, reason: &'static str, until: &[String]) -> Generated {
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(cut) = stop_at(&text, until) {
        text.truncate(cut);
    }
    Generated {
        text,
        tokens,
        finish_reason: reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_stop_sequence_wins_and_empty_ones_are_dropped() {
        let until = vec!["\n\n".to_string(), "Q:".to_string()];
        assert_eq!(stop_at("abc Q: d\n\n", &until), Some(4));
        assert_eq!(stop_at("abc", &until), None);
        let p = GenerationParams {
            until: vec![String::new(), "x".into()],
            max_gen_toks: 5,
            temperature: 0.7,
            do_sample: false,
            extra: Default::default(),
        };
        let s = GenSpec::from_params(&p, 1);
        assert_eq!(s.until, vec!["x".to_string()]);
        assert_eq!(s.temperature, 0.0, "do_sample false is greedy");
    }
}
