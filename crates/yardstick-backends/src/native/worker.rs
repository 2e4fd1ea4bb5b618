//! The thread that owns llama.cpp's model and context (a context borrows its model and is not `Sync`, so
//! both live on one thread) and serves scoring and generation jobs in the order they arrive.
//!
//! Scoring one question (a context and its continuations), in the KV cache:
//! * sequence 0 holds the context as far as the previous question shared it (the few-shot prefix); only
//!   the rest of the context is evaluated, its tokens belonging to sequence 0 and to every choice's
//!   sequence at once (one evaluation, visible to all choices);
//! * choice `i` is sequence `i + 1`: a copy of sequence 0's cells (no data moves in a unified cache) and
//!   then its own tokens — the context's last token and the continuation but its last token, the
//!   positions whose next-token distributions score the continuation;
//! * the log-softmax is computed only for those rows, and only at the continuation's token.
//!
//! Without sharing ([`Layout::Split`]), each (context, continuation) is evaluated from an empty cache, split
//! the same way. [`Layout::Whole`] evaluates each pair from an empty cache as one prompt with logits at
//! every position, exactly as llama-cpp-python's `Llama.eval` drives llama.cpp for the reference server.

use super::logs;
use super::{Layout, NativeOptions};
use crate::error::BackendError;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::OnceLock;

/// Sequences of the context: sequence 0 plus one per choice scored in the same round.
const SEQUENCES: usize = 32;

/// llama.cpp's process-wide initialisation (it may happen only once).
fn llama_backend() -> Result<&'static LlamaBackend, BackendError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            logs::install();
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| BackendError::Native(format!("cannot initialise llama.cpp: {e}")))
}

/// What the loaded model and context are.
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    pub n_vocab: usize,
    pub n_ctx_train: usize,
    /// Cells of the context's KV cache.
    pub n_ctx: usize,
    pub bos: Option<u32>,
    /// The vocabulary asks for BOS at the start of every sequence (`tokenizer.ggml.add_bos_token`).
    pub add_bos: bool,
    /// End-of-generation tokens (EOS, EOT, …).
    pub eog: Vec<u32>,
    pub threads: usize,
    pub batch: usize,
    pub n_params: u64,
    pub size_bytes: u64,
}

/// The log-probability of each continuation token and whether each was the most likely one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scored {
    pub logprobs: Vec<f64>,
    pub greedy: bool,
}

/// What generation returns.
#[derive(Clone, Debug)]
pub(crate) struct Generated {
    pub text: String,
    pub tokens: usize,
    pub finish_reason: &'static str,
}

pub(crate) type Reply<T> = tokio::sync::oneshot::Sender<Result<T, BackendError>>;

pub(crate) enum Job {
    Score {
        /// The evaluated context (BOS already added where the model wants it); at least one token.
        context: Vec<u32>,
        continuations: Vec<Vec<u32>>,
        layout: Layout,
        reply: Reply<Vec<Scored>>,
    },
    Generate {
        prompt: Vec<u32>,
        params: super::generate::GenSpec,
        reply: Reply<Generated>,
    },
    /// llama.cpp's own tokenization of texts (no BOS; special tokens in the text parsed, as Hugging Face
    /// tokenizers do), to check the exported tokenizer against it.
    Tokenize {
        texts: Vec<String>,
        reply: Reply<Vec<Vec<u32>>>,
    },
}

/// Load the model on a new thread and serve jobs there until the sender is dropped.
pub(crate) fn spawn(
    path: &Path,
    opts: &NativeOptions,
) -> Result<(mpsc::Sender<Job>, Loaded), BackendError> {
    let backend = llama_backend()?;
    let (jobs, rx) = mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<Loaded, BackendError>>(1);
    let path = path.to_path_buf();
    let opts = opts.clone();
    std::thread::Builder::new()
        .name("llama.cpp".into())
        .spawn(move || serve(backend, &path, &opts, rx, ready_tx))
        .map_err(|e| BackendError::Native(format!("cannot start the llama.cpp thread: {e}")))?;
    let loaded = ready_rx.recv().map_err(|_| {
        BackendError::Native(format!(
            "the llama.cpp thread ended while loading the model; its log: {}",
            logs::recent()
        ))
    })??;
    Ok((jobs, loaded))
}

fn load_model(
    backend: &LlamaBackend,
    path: &PathBuf,
    opts: &NativeOptions,
) -> Result<LlamaModel, BackendError> {
    logs::clear();
    let params = LlamaModelParams::default().with_n_gpu_layers(opts.gpu_layers);
    LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
        BackendError::Native(format!(
            "llama.cpp could not load {} ({e}); llama.cpp said: {}. An architecture llama.cpp does not know, a \
             tensor type it cannot read, or a damaged file are the usual causes",
            path.display(),
            logs::recent()
        ))
    })
}

fn new_context<'m>(
    backend: &LlamaBackend,
    model: &'m LlamaModel,
    opts: &NativeOptions,
) -> Result<LlamaContext<'m>, BackendError> {
    let cells = opts.context_cells();
    let batch = opts.batch_or_default();
    let threads = i32::try_from(opts.threads_or_default()).unwrap_or(i32::MAX);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(u32::try_from(cells).unwrap_or(u32::MAX)))
        .with_n_batch(u32::try_from(batch).unwrap_or(u32::MAX))
        .with_n_ubatch(u32::try_from(batch).unwrap_or(u32::MAX))
        .with_n_seq_max(SEQUENCES as u32)
        .with_kv_unified(true)
        .with_flash_attention_policy(llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    logs::clear();
    model.new_context(backend, params).map_err(|e| {
        BackendError::Native(format!(
            "llama.cpp could not create a context of {cells} tokens ({e}); llama.cpp said: {}. Lower --max-length \
             (the context is twice it) or --batch-size",
            logs::recent()
        ))
    })
}

fn serve(
    backend: &'static LlamaBackend,
    path: &PathBuf,
    opts: &NativeOptions,
    rx: mpsc::Receiver<Job>,
    ready: mpsc::SyncSender<Result<Loaded, BackendError>>,
) {
    let model = match load_model(backend, path, opts) {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let ctx = match new_context(backend, &model, opts) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut engine = Engine::new(&model, ctx, opts);
    if ready.send(Ok(engine.loaded.clone())).is_err() {
        return;
    }
    while let Ok(job) = rx.recv() {
        match job {
            Job::Score {
                context,
                continuations,
                layout,
                reply,
            } => {
                let _ = reply.send(engine.score(&context, &continuations, layout));
            }
            Job::Generate {
                prompt,
                params,
                reply,
            } => {
                let _ = reply.send(super::generate::generate(&mut engine, &prompt, &params));
            }
            Job::Tokenize { texts, reply } => {
                let vocab = model.vocab();
                let ids = texts
                    .iter()
                    .map(|t| {
                        vocab
                            .tokenize(t.as_bytes(), false, true)
                            .into_iter()
                            .filter_map(|tok| u32::try_from(tok.0).ok())
                            .collect()
                    })
                    .collect();
                let _ = reply.send(Ok(ids));
            }
        }
    }
}

/// One row whose logits are read: which choice, which continuation token.
#[derive(Clone, Copy)]
struct Readout {
    slot: usize,
    target: u32,
}

/// A token to evaluate.
struct Entry {
    token: u32,
    pos: usize,
    seq: i32,
    /// Whether llama.cpp computes this row's logits (always where a readout is).
    output: bool,
    readout: Option<Readout>,
}

pub(crate) struct Engine<'m> {
    pub model: &'m LlamaModel,
    pub ctx: LlamaContext<'m>,
    pub loaded: Loaded,
    /// Tokens sequence 0 holds at positions `0..kept.len()`.
    kept: Vec<u32>,
}

impl<'m> Engine<'m> {
    fn new(model: &'m LlamaModel, ctx: LlamaContext<'m>, opts: &NativeOptions) -> Engine<'m> {
        let vocab = model.vocab();
        let bos = vocab.bos().0;
        let eog = (0..vocab.n_tokens())
            .filter(|&t| vocab.is_eog(LlamaToken(t)))
            .filter_map(|t| u32::try_from(t).ok())
            .collect();
        let loaded = Loaded {
            n_vocab: usize::try_from(vocab.n_tokens()).unwrap_or(0),
            n_ctx_train: model.n_ctx_train() as usize,
            n_ctx: ctx.n_ctx() as usize,
            bos: u32::try_from(bos).ok(),
            add_bos: vocab.should_add_bos(),
            eog,
            threads: opts.threads_or_default(),
            batch: ctx.n_batch() as usize,
            n_params: model.n_params(),
            size_bytes: model.size(),
        };
        Engine {
            model,
            ctx,
            loaded,
            kept: Vec::new(),
        }
    }

    /// Refuse token ids outside the vocabulary (llama.cpp aborts the process on them).
    pub fn check_tokens(&self, tokens: &[u32]) -> Result<(), BackendError> {
        match tokens.iter().find(|&&t| t as usize >= self.loaded.n_vocab) {
            Some(bad) => Err(BackendError::InvalidRequest(format!(
                "token id {bad} is outside the model's vocabulary of {} tokens (a tokenizer that is not this \
                 model's?)",
                self.loaded.n_vocab
            ))),
            None => Ok(()),
        }
    }

    /// Empty the cache (all sequences).
    pub fn reset(&mut self) {
        self.ctx.clear_kv_cache();
        self.kept.clear();
    }

    fn score(
        &mut self,
        context: &[u32],
        continuations: &[Vec<u32>],
        layout: Layout,
    ) -> Result<Vec<Scored>, BackendError> {
        if context.is_empty() {
            return Err(BackendError::InvalidRequest(
                "a log-likelihood request with an empty context".into(),
            ));
        }
        self.check_tokens(context)?;
        for c in continuations {
            self.check_tokens(c)?;
        }
        // A whole prompt holds the continuation's last token too (its logits are computed, not read).
        let extra = usize::from(layout == Layout::Whole);
        let need =
            context.len() - 1 + extra + continuations.iter().map(Vec::len).max().unwrap_or(0);
        if need > self.loaded.n_ctx {
            return Err(BackendError::InvalidRequest(format!(
                "context + continuation of {need} tokens exceed the llama.cpp context of {} tokens",
                self.loaded.n_ctx
            )));
        }
        let mut out: Vec<Option<Scored>> = vec![None; continuations.len()];
        for (i, c) in continuations.iter().enumerate() {
            if c.is_empty() {
                out[i] = Some(Scored {
                    logprobs: Vec::new(),
                    greedy: true,
                });
            }
        }
        let pending: Vec<usize> = (0..continuations.len())
            .filter(|&i| out[i].is_none())
            .collect();
        if layout == Layout::Whole {
            for i in pending {
                out[i] = Some(self.score_whole(context, &continuations[i])?);
            }
            return Ok(out.into_iter().map(Option::unwrap_or_default).collect());
        }
        let sharing = layout == Layout::Shared;
        for round in self.rounds(context.len(), continuations, &pending, sharing) {
            let conts: Vec<&[u32]> = round.iter().map(|&i| &continuations[i][..]).collect();
            let scored = self.run_round(context, &conts, sharing)?;
            for (i, s) in round.into_iter().zip(scored) {
                out[i] = Some(s);
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Choices scored together: as many as fit beside the context (cells and sequence ids); one each
    /// without sharing.
    fn rounds(
        &self,
        n: usize,
        continuations: &[Vec<u32>],
        pending: &[usize],
        sharing: bool,
    ) -> Vec<Vec<usize>> {
        if !sharing {
            return pending.iter().map(|&i| vec![i]).collect();
        }
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        let mut used = n - 1;
        for &i in pending {
            let m = continuations[i].len();
            let fits = rounds
                .last()
                .is_some_and(|r| r.len() + 1 < SEQUENCES && used + m <= self.loaded.n_ctx);
            if fits {
                if let Some(r) = rounds.last_mut() {
                    r.push(i);
                }
                used += m;
            } else {
                rounds.push(vec![i]);
                used = n - 1 + m;
            }
        }
        rounds
    }

    /// Evaluate the context's unshared part and the choices of one round; read their log-probabilities.
    fn run_round(
        &mut self,
        context: &[u32],
        conts: &[&[u32]],
        sharing: bool,
    ) -> Result<Vec<Scored>, BackendError> {
        let n = context.len();
        let stem = &context[..n - 1];
        let reuse = if sharing {
            common_prefix(&self.kept, stem)
        } else {
            0
        };
        if sharing {
            // Keep sequence 0's cells for the shared prefix only (the last question's choices are gone).
            self.ctx
                .clear_kv_cache_seq(Some(0), Some(reuse as u32), None)
                .map_err(|e| BackendError::Native(format!("KV cache: {e}")))?;
            self.kept.truncate(reuse);
        } else {
            self.reset();
        }
        // Phase 1: the rest of the context, in sequence 0 alone (no logits needed).
        let stem_entries: Vec<Entry> = (reuse..n - 1)
            .map(|p| Entry {
                token: context[p],
                pos: p,
                seq: 0,
                output: false,
                readout: None,
            })
            .collect();
        let mut scored: Vec<Scored> = conts
            .iter()
            .map(|c| Scored {
                logprobs: Vec::with_capacity(c.len()),
                greedy: true,
            })
            .collect();
        self.decode_entries(&stem_entries, &mut scored)?;
        self.kept = stem.to_vec();
        // Phase 2: each choice continues from a copy of sequence 0 (a unified cache shares the cells, no
        // data moves). One decode per choice: batching several choices' tokens into one decode changes
        // quantised models' results by up to tenths of a nat in llama.cpp (measured on SmolLM2 Q4_1), while
        // a choice decoded on its own equals evaluating its pair from scratch.
        let mut result = Ok(());
        for (slot, cont) in conts.iter().enumerate() {
            let seq = slot as i32 + 1;
            self.ctx
                .copy_kv_cache_seq(0, seq, None, None)
                .map_err(|e| BackendError::Native(format!("KV cache sequence copy: {e}")))?;
            let inputs =
                std::iter::once(context[n - 1]).chain(cont[..cont.len() - 1].iter().copied());
            let entries: Vec<Entry> = inputs
                .enumerate()
                .map(|(j, token)| Entry {
                    token,
                    pos: n - 1 + j,
                    seq,
                    output: true,
                    readout: Some(Readout {
                        slot,
                        target: cont[j],
                    }),
                })
                .collect();
            result = self.decode_entries(&entries, &mut scored);
            let _ = self.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
            if result.is_err() {
                break;
            }
        }
        if !sharing || result.is_err() {
            self.reset();
        }
        result.map(|()| scored)
    }

    /// One (context, continuation) from an empty cache as one prompt: every token, the continuation's last
    /// included, in batches of the batch size, each row's logits computed; the continuation's rows read.
    /// The batches llama-cpp-python's `Llama.eval` makes with `logits_all=True` (the reference server's),
    /// so on the same llama.cpp build the numbers are the server's exactly.
    fn score_whole(&mut self, context: &[u32], cont: &[u32]) -> Result<Scored, BackendError> {
        self.reset();
        let n = context.len();
        let tokens: Vec<u32> = context.iter().chain(cont).copied().collect();
        let entries: Vec<Entry> = tokens
            .iter()
            .enumerate()
            .map(|(p, &token)| Entry {
                token,
                pos: p,
                seq: 0,
                output: true,
                readout: (p + 1 >= n && p + 1 < tokens.len()).then(|| Readout {
                    slot: 0,
                    target: tokens[p + 1],
                }),
            })
            .collect();
        let mut scored = [Scored {
            logprobs: Vec::with_capacity(cont.len()),
            greedy: true,
        }];
        let result = self.decode_entries(&entries, &mut scored);
        self.reset();
        result.map(|()| {
            let [s] = scored;
            s
        })
    }

    /// Feed `entries` in batches of the context's batch size and read each batch's requested rows.
    fn decode_entries(
        &mut self,
        entries: &[Entry],
        scored: &mut [Scored],
    ) -> Result<(), BackendError> {
        let n_batch = self.loaded.batch.max(1);
        let mut batch = LlamaBatch::new(n_batch, SEQUENCES as i32);
        for chunk in entries.chunks(n_batch) {
            batch.clear();
            for e in chunk {
                batch
                    .add(LlamaToken(e.token as i32), e.pos as i32, &[e.seq], e.output)
                    .map_err(|err| BackendError::Native(format!("batch: {err}")))?;
            }
            logs::clear();
            self.ctx.decode(&mut batch).map_err(|err| {
                BackendError::Native(format!(
                    "decoding a batch of {} tokens failed ({err}); llama.cpp said: {}",
                    chunk.len(),
                    logs::recent()
                ))
            })?;
            for (row, e) in chunk.iter().enumerate() {
                if let Some(r) = e.readout {
                    let logits = self.ctx.get_logits_ith(row as i32);
                    let (lp, top) = log_softmax_at(logits, r.target as usize);
                    let s = &mut scored[r.slot];
                    s.logprobs.push(lp);
                    s.greedy &= top;
                }
            }
        }
        Ok(())
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// `log softmax(logits)[target]` (accumulated in f64) and whether `target` is the first largest logit.
pub(crate) fn log_softmax_at(logits: &[f32], target: usize) -> (f64, bool) {
    let mut max = f32::NEG_INFINITY;
    let mut arg = 0;
    for (i, &z) in logits.iter().enumerate() {
        if z > max {
            max = z;
            arg = i;
        }
    }
    let max64 = f64::from(max);
    let sum: f64 = logits.iter().map(|&z| (f64::from(z) - max64).exp()).sum();
    let z = logits
        .get(target)
        .copied()
        .map_or(f64::NEG_INFINITY, f64::from);
    (z - max64 - sum.ln(), arg == target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_matches_the_definition_and_greedy_is_the_first_maximum() {
        let logits = [1.0f32, 3.0, 3.0, -2.0];
        let denom: f64 = logits.iter().map(|&z| f64::from(z).exp()).sum();
        for t in 0..4 {
            let (lp, top) = log_softmax_at(&logits, t);
            assert!((lp - (f64::from(logits[t]).exp() / denom).ln()).abs() < 1e-12);
            assert_eq!(top, t == 1);
        }
    }

    #[test]
    fn common_prefix_counts_equal_leading_tokens() {
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 4, 5]), 2);
        assert_eq!(common_prefix(&[], &[1]), 0);
        assert_eq!(common_prefix(&[1, 2], &[1, 2]), 2);
    }
}
