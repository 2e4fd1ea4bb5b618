//! [`NativeBackend`]: the [`Backend`] on a GGUF file evaluated in process (see the module docs of
//! [`crate::native`]).

use super::preflight::{preflight, KvEstimate};
use super::worker::{self, Job, Loaded, Reply, Scored};
use super::{Layout, NativeOptions};
use crate::backend::{
    Backend, BoxFuture, CallStats, GenPrompt, GenerationOutcome, LoglikelihoodOutcome,
    RequestPolicy, ScoringPath,
};
use crate::error::BackendError;
use crate::gguf::{export_tokenizer, GgufFile};
use crate::openai::chat::strip_thinking;
use crate::openai::wire::truncate;
use crate::probe::{BosBehaviour, EchoSupport, ProbeReport, TokenizerCheck};
use crate::tokenizer::Tokenizer;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Instant;
use yardstick_core::{GenerationParams, LoglikelihoodResult, ModelRef};

/// A GGUF model evaluated in this process by llama.cpp.
pub struct NativeBackend {
    jobs: mpsc::Sender<Job>,
    loaded: Loaded,
    tokenizer: Arc<Tokenizer>,
    opts: NativeOptions,
    path: PathBuf,
    fingerprint: String,
    kv: KvEstimate,
    probe: ProbeReport,
}

impl std::fmt::Debug for NativeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeBackend")
            .field("path", &self.path)
            .field("loaded", &self.loaded)
            .finish_non_exhaustive()
    }
}

/// The tokenizer a GGUF carries, exported to a Hugging Face tokenizer (as `yardstick tokenizer export`
/// writes it, and loaded the way `Tokenizer::from_path` loads that directory).
fn tokenizer_of(file: &GgufFile) -> Result<Tokenizer, BackendError> {
    let exported = export_tokenizer(file).map_err(|e| {
        BackendError::Config(format!(
            "cannot build a tokenizer from {}: {e}",
            file.path.display()
        ))
    })?;
    let mut config = serde_json::Map::new();
    for v in [&exported.special_tokens_map, &exported.tokenizer_config] {
        if let Value::Object(o) = v {
            config.extend(o.clone());
        }
    }
    Ok(Tokenizer::from_json_bytes(
        exported.tokenizer_json_string().as_bytes(),
        &Value::Object(config),
        format!("gguf:{}", file.path.display()),
    )?)
}

/// A stable identity of the model file without reading all of it: size, the whole header (metadata and
/// tensor table) and 16 evenly spaced 64 KiB windows of the weights, with the tokenizer's hash.
fn file_fingerprint(
    path: &Path,
    header_len: u64,
    tokenizer_hash: &str,
) -> Result<String, BackendError> {
    use std::io::{Read, Seek, SeekFrom};
    let io =
        |e: std::io::Error| BackendError::Config(format!("cannot read {}: {e}", path.display()));
    let mut f = std::fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let mut buf = vec![0u8; header_len.min(64 << 20) as usize];
    f.read_exact(&mut buf).map_err(io)?;
    const WINDOW: u64 = 64 << 10;
    for i in 0..16u64 {
        let at = header_len + (size.saturating_sub(header_len + WINDOW)) * i / 15;
        f.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut w = Vec::with_capacity(WINDOW as usize);
        f.by_ref().take(WINDOW).read_to_end(&mut w).map_err(io)?;
        buf.extend_from_slice(&w);
    }
    buf.extend_from_slice(&size.to_le_bytes());
    buf.extend_from_slice(tokenizer_hash.as_bytes());
    Ok(yardstick_core::sha256_hex(&buf))
}

/// The identity part of every request key: the file's, and, where they are not the defaults, the layout
/// and batch size, which change the numbers llama.cpp computes (so a run in another layout is a run of its
/// own, never answered from another layout's responses). The defaults keep the file's identity alone, as
/// before layouts existed, so earlier stores stay valid.
fn computation_fingerprint(file: String, opts: &NativeOptions) -> String {
    let batch = opts.batch_or_default();
    if opts.layout == Layout::Shared && batch == super::DEFAULT_BATCH {
        return file;
    }
    yardstick_core::sha256_hex(format!(
        "{file} layout={} batch={batch}",
        opts.layout.name()
    ))
}

fn gone() -> BackendError {
    BackendError::Native(format!(
        "the llama.cpp thread has stopped; its last log lines: {}",
        super::logs::recent()
    ))
}

impl NativeBackend {
    /// Check `path` ([`preflight`]), load it into llama.cpp on a worker thread, build the tokenizer from
    /// its vocabulary, and compare that tokenizer with llama.cpp's on `probe_texts`.
    pub async fn open(
        path: &Path,
        opts: NativeOptions,
        probe_texts: &[String],
    ) -> Result<NativeBackend, BackendError> {
        let p = path.to_path_buf();
        let o = opts.clone();
        let (layout, kv, jobs, loaded) = tokio::task::spawn_blocking(move || {
            let (layout, kv) = preflight(&p, o.context_cells(), None)?;
            let (jobs, loaded) = worker::spawn(&p, &o)?;
            Ok::<_, BackendError>((layout, kv, jobs, loaded))
        })
        .await
        .map_err(|e| BackendError::Native(format!("loading the model panicked: {e}")))??;
        let tokenizer = Arc::new(tokenizer_of(&layout.file)?);
        let fingerprint = computation_fingerprint(
            file_fingerprint(path, layout.data_start, &tokenizer.info().content_hash)?,
            &opts,
        );
        let arch = layout
            .file
            .get_str("general.architecture")
            .unwrap_or_default();
        let probe = ProbeReport {
            base_url: format!("file://{}", path.display()),
            model_id: model_name(path),
            served_models: vec![model_name(path)],
            server_context_length: Some(loaded.n_ctx_train),
            max_length: opts.max_length_or_default(),
            echo: EchoSupport::TokenIds,
            bos: BosBehaviour {
                plain_offset: 0,
                bos_first_offset: 0,
                server_adds_bos: Some(loaded.add_bos),
            },
            prompt_batching: false,
            max_logprobs: loaded.n_vocab,
            grouped_single_token: false,
            tokenizer_source: tokenizer.info().source.clone(),
            tokenizer: TokenizerCheck::NotChecked {
                reason: "not compared yet".into(),
            },
            server_tokenize: false,
            model_metadata: json!({
                "architecture": arch,
                "file_type": layout.file.get_i64("general.file_type"),
                "parameters": loaded.n_params,
                "bytes": loaded.size_bytes,
                "n_ctx_train": loaded.n_ctx_train,
                "context_cells": loaded.n_ctx,
                "threads": loaded.threads,
                "batch": loaded.batch,
                "layout": opts.layout.name(),
                "gpu_layers": opts.gpu_layers,
            }),
            warnings: Vec::new(),
        };
        let mut backend = NativeBackend {
            jobs,
            loaded,
            tokenizer,
            opts,
            path: path.to_path_buf(),
            fingerprint,
            kv,
            probe,
        };
        backend.probe.tokenizer = backend.check_tokenizer(probe_texts).await?;
        Ok(backend)
    }

    /// Tokens in the model's vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.loaded.n_vocab
    }

    /// What llama.cpp loaded (vocabulary, context, threads, batch).
    pub fn describe(&self) -> String {
        format!(
            "{} in process (llama.cpp): {} parameters, {} tokens of context ({} MiB of KV cache), {} threads, batch {}, {}",
            self.path.display(),
            self.loaded.n_params,
            self.loaded.n_ctx,
            self.kv.kv_bytes >> 20,
            self.loaded.threads,
            self.loaded.batch,
            self.opts.layout.describe()
        )
    }

    async fn ask<T>(&self, job: impl FnOnce(Reply<T>) -> Job) -> Result<T, BackendError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs.send(job(tx)).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// The exported tokenizer must split text as llama.cpp does, or continuations would be cut at the
    /// wrong token.
    async fn check_tokenizer(&self, texts: &[String]) -> Result<TokenizerCheck, BackendError> {
        let mut texts: Vec<String> = texts.to_vec();
        texts.extend(
            [
                "Question: What is 2 + 2?\nAnswer:",
                " The quick brown fox",
                "日本語のテキスト 123",
            ]
            .map(String::from),
        );
        let theirs = self
            .ask(|reply| Job::Tokenize {
                texts: texts.clone(),
                reply,
            })
            .await?;
        for (text, server) in texts.iter().zip(theirs) {
            let local = self.tokenizer.encode_local(text, false)?;
            if local != server {
                let position = local
                    .iter()
                    .zip(&server)
                    .take_while(|(a, b)| a == b)
                    .count();
                return Err(BackendError::TokenizerMismatch {
                    local_source: self.tokenizer.info().source.clone(),
                    text: text.clone(),
                    local,
                    server,
                    position,
                });
            }
        }
        Ok(TokenizerCheck::Agrees {
            texts: texts.len(),
            method: "llama.cpp's own tokenizer, in process".into(),
        })
    }

    /// The evaluated form of a request: BOS first when the vocabulary asks for it and it is not there
    /// (the rule llama.cpp servers and the reference server apply to token-id prompts).
    fn with_bos(&self, tokens: &[u32]) -> Vec<u32> {
        match self.loaded.bos {
            Some(b) if self.loaded.add_bos && tokens.first() != Some(&b) => {
                std::iter::once(b).chain(tokens.iter().copied()).collect()
            }
            _ => tokens.to_vec(),
        }
    }

    /// Per-token log-probabilities of each continuation after `context`, with lm-eval's truncation to
    /// `max_length − 1` tokens, laid out in llama.cpp's batches as `layout` says.
    pub async fn continuation_logprobs(
        &self,
        context: &[u32],
        continuations: &[Vec<u32>],
        layout: Layout,
    ) -> Result<Vec<(Vec<u32>, usize, Scored)>, BackendError> {
        let max_length = self.opts.max_length_or_default();
        let inputs = continuations
            .iter()
            .map(|c| truncate(context, c, max_length))
            .collect::<Result<Vec<_>, _>>()?;
        // Choices whose truncation left the same context are scored together (normally all of them).
        let mut groups: Vec<(Vec<u32>, Vec<usize>)> = Vec::new();
        for (i, (inp, ctxlen)) in inputs.iter().enumerate() {
            let ctx = self.with_bos(&inp[..*ctxlen]);
            match groups.iter_mut().find(|(c, _)| *c == ctx) {
                Some((_, members)) => members.push(i),
                None => groups.push((ctx, vec![i])),
            }
        }
        let mut scored: Vec<Option<Scored>> = vec![None; inputs.len()];
        for (ctx, members) in groups {
            let conts: Vec<Vec<u32>> = members
                .iter()
                .map(|&i| inputs[i].0[inputs[i].1..].to_vec())
                .collect();
            let got = self
                .ask(|reply| Job::Score {
                    context: ctx,
                    continuations: conts,
                    layout,
                    reply,
                })
                .await?;
            for (i, s) in members.into_iter().zip(got) {
                scored[i] = Some(s);
            }
        }
        Ok(inputs
            .into_iter()
            .zip(scored)
            .map(|((inp, ctxlen), s)| (inp, ctxlen, s.unwrap_or_default()))
            .collect())
    }

    async fn group_impl(
        &self,
        context: &[u32],
        continuations: &[Vec<u32>],
    ) -> Result<Vec<LoglikelihoodOutcome>, BackendError> {
        let start = Instant::now();
        let scored = self
            .continuation_logprobs(context, continuations, self.opts.layout)
            .await?;
        let latency = start.elapsed();
        let shared_by = scored.len() as u32;
        Ok(scored
            .into_iter()
            .map(|(inp, ctxlen, s)| {
                let raw = json!({"token_logprobs": s.logprobs, "greedy": s.greedy}).to_string();
                LoglikelihoodOutcome {
                    result: LoglikelihoodResult {
                        logprob: s.logprobs.iter().sum(),
                        is_greedy: s.greedy,
                    },
                    stats: CallStats {
                        latency,
                        prompt_tokens: inp.len() as u32,
                        completion_tokens: 0,
                        retries: 0,
                        shared_by,
                    },
                    sent: inp.into(),
                    ctxlen,
                    path: ScoringPath::InProcess,
                    raw_response: raw.into(),
                    lm_eval_slice: None,
                }
            })
            .collect())
    }

    async fn generate_impl(
        &self,
        prompt: &GenPrompt,
        params: &GenerationParams,
    ) -> Result<GenerationOutcome, BackendError> {
        let tokens: Vec<u32> = match prompt {
            GenPrompt::Tokens(t) => self
                .request_policy()
                .generation_window(t, params.max_gen_toks)
                .to_vec(),
            GenPrompt::Text(s) => self.tokenizer.encode(s, false).await?.to_vec(),
            GenPrompt::Messages(_) => {
                return Err(BackendError::Config(
                    "a GGUF model in process takes a prompt, not a chat message list; render the model's chat \
                     template with --apply-chat-template instead of --api chat"
                        .into(),
                ))
            }
        };
        let prompt_ids = self.with_bos(&tokens);
        let spec = super::generate::GenSpec::from_params(params, self.opts.seed);
        let start = Instant::now();
        let n_prompt = prompt_ids.len();
        let out = self
            .ask(|reply| Job::Generate {
                prompt: prompt_ids,
                params: spec,
                reply,
            })
            .await?;
        let answer = strip_thinking(&out.text, self.opts.think_end_token.as_deref());
        Ok(GenerationOutcome {
            raw_text: (answer != out.text).then(|| out.text.clone()),
            raw_response:
                json!({"text": out.text, "finish_reason": out.finish_reason, "tokens": out.tokens})
                    .to_string()
                    .into(),
            text: answer,
            finish_reason: Some(out.finish_reason.to_string()),
            reasoning: None,
            reasoning_tokens: None,
            stats: CallStats {
                latency: start.elapsed(),
                prompt_tokens: n_prompt as u32,
                completion_tokens: out.tokens as u32,
                retries: 0,
                shared_by: 1,
            },
        })
    }
}

/// The model's name: the file name without `.gguf`.
fn model_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".gguf").to_string())
        .unwrap_or_else(|| path.display().to_string())
}

impl Backend for NativeBackend {
    fn probe(&self) -> BoxFuture<'_, Result<ProbeReport, BackendError>> {
        Box::pin(async move { Ok(self.probe.clone()) })
    }

    /// Requests built as for lm-eval's `local-completions` on a llama.cpp server with the same file (token
    /// ids without special tokens, truncation to `max_length − 1`), so both score the same requests.
    fn request_policy(&self) -> RequestPolicy {
        RequestPolicy::local_completions(self.opts.max_length_or_default(), false, self.opts.seed)
    }

    fn tokenizer(&self) -> Option<&Arc<Tokenizer>> {
        Some(&self.tokenizer)
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn model_ref(&self) -> ModelRef {
        ModelRef {
            name: model_name(&self.path),
            location: self.path.display().to_string(),
            fingerprint: self.fingerprint.clone(),
        }
    }

    fn loglikelihood<'a>(
        &'a self,
        context: &'a [u32],
        continuation: &'a [u32],
    ) -> BoxFuture<'a, Result<LoglikelihoodOutcome, BackendError>> {
        Box::pin(async move {
            let mut out = self.group_impl(context, &[continuation.to_vec()]).await?;
            out.pop().ok_or_else(|| {
                BackendError::Native("no result for a log-likelihood request".into())
            })
        })
    }

    fn loglikelihood_group<'a>(
        &'a self,
        context: &'a [u32],
        continuations: &'a [Vec<u32>],
    ) -> BoxFuture<'a, Result<Vec<LoglikelihoodOutcome>, BackendError>> {
        Box::pin(self.group_impl(context, continuations))
    }

    fn generate<'a>(
        &'a self,
        prompt: &'a GenPrompt,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationOutcome, BackendError>> {
        Box::pin(self.generate_impl(prompt, params))
    }
}
