//! The server probe, one step per method: context length (`/v1/models`, `/props`), tokenizer agreement
//! through `/tokenize`, echo over token ids (BOS offsets), BOS-first echo, the `logprobs` cap, prompt
//! batching, and tokenizer agreement through echoed pieces. [`OpenAiBackend::run_probe`] runs them in that
//! order and assembles the [`ProbeReport`].

use super::wire::{parse_completion, Logprobs};
use super::{context_from_entry, first_difference, identity_fields, OpenAiBackend};
use crate::error::{excerpt, BackendError};
use crate::http::http_error;
use crate::probe::{BosBehaviour, EchoSupport, ProbeReport, TokenizerCheck, PROBE_TEXTS};
use crate::tokenizer::Tokenizer;
use serde_json::{json, Value};

/// What the echo of the sample prompt over token ids showed.
struct EchoProbe {
    echo: EchoSupport,
    /// `plain_offset` and `server_adds_bos` (`bos_first_offset` is probed separately).
    bos: BosBehaviour,
    /// The echoed log-probs of the sample prompt (compared with a batched request's).
    first_lp: Option<Logprobs>,
    /// A warning for the report (token-id prompts refused).
    warning: Option<String>,
}

impl OpenAiBackend {
    /// Run the probe (see [`ProbeReport`]).
    pub(super) async fn run_probe(&self) -> Result<ProbeReport, BackendError> {
        let mut warnings = self.connect_warnings.clone();
        let url = self.completions_url();
        let server_ctx = self.probe_context_length().await;
        let max_length = self.max_length();
        if let Some(c) = server_ctx {
            if max_length > c {
                warnings.push(format!(
                    "max_length {max_length} exceeds the server's context of {c} tokens: requests longer than {c} will \
                     fail; pass --max-length {c}"
                ));
            }
        }

        let texts = self.agreement_texts();
        let (tokenizer_check, server_tokenize) = self.check_tokenize_endpoint(&texts).await?;

        let sample = self.probe_sample().await?;
        let EchoProbe {
            echo,
            mut bos,
            first_lp,
            warning,
        } = self.probe_echo(&url, &sample).await?;
        warnings.extend(warning);

        let mut max_logprobs = 1usize;
        let mut prompt_batching = false;
        if echo == EchoSupport::TokenIds {
            if let Some(offset) = self.probe_bos_first(&url, &sample).await? {
                bos.bos_first_offset = offset;
            }
            max_logprobs = self.probe_max_logprobs(&url, &sample).await;
            prompt_batching = self
                .probe_prompt_batching(&url, &sample, first_lp.as_ref())
                .await;
        }

        // Tokenizer agreement through the echo of a text prompt, when there is no /tokenize.
        let tokenizer_check = match tokenizer_check {
            Some(check) => check,
            None => {
                self.check_echoed_pieces(&url, &texts, &echo, bos.plain_offset)
                    .await?
            }
        };
        if let TokenizerCheck::NotChecked { reason } = &tokenizer_check {
            warnings.push(format!(
                "tokenizer agreement with the server was not checked: {reason}"
            ));
        }

        let grouped_single_token = self.opts.grouped
            && !self.opts.lm_eval_literal_slicing
            && echo == EchoSupport::TokenIds
            // Token names: the local piece table, or asked of the server (module server_pieces).
            && (self.tokenizer.pieces().is_some() || !self.tokenizer.is_local())
            && max_logprobs >= 2;
        Ok(ProbeReport {
            base_url: self.client.url.api.clone(),
            model_id: self.model_id.clone(),
            served_models: self.served_models.clone(),
            server_context_length: server_ctx,
            max_length,
            echo,
            bos,
            prompt_batching,
            max_logprobs,
            grouped_single_token,
            tokenizer_source: self.tokenizer.info().source.clone(),
            tokenizer: tokenizer_check,
            server_tokenize,
            model_metadata: identity_fields(&self.model_entry),
            warnings,
        })
    }

    /// The server's context length: from the `/v1/models` entry, then llama.cpp's `/props` (the runtime
    /// `n_ctx` wins).
    async fn probe_context_length(&self) -> Option<usize> {
        let mut server_ctx = context_from_entry(&self.model_entry);
        if let Ok((200, body)) = self
            .client
            .get_probe(&format!("{}/props", self.client.url.root))
            .await
        {
            if let Ok(v) = serde_json::from_str::<Value>(&body) {
                if let Some(c) = v
                    .pointer("/default_generation_settings/n_ctx")
                    .or_else(|| v.get("n_ctx"))
                    .and_then(Value::as_u64)
                {
                    server_ctx = Some(c as usize);
                }
            }
        }
        server_ctx
    }

    /// Texts of the tokenizer agreement check: the built-in ones, then the caller's.
    fn agreement_texts(&self) -> Vec<String> {
        PROBE_TEXTS
            .iter()
            .map(|s| s.to_string())
            .chain(self.opts.probe_texts.iter().cloned())
            .collect()
    }

    /// Tokenizer agreement through the server's `/tokenize`: the check (None when the server has no
    /// `/tokenize`) and whether the server has one. A text tokenized differently is a `TokenizerMismatch`.
    async fn check_tokenize_endpoint(
        &self,
        texts: &[String],
    ) -> Result<(Option<TokenizerCheck>, bool), BackendError> {
        if !self.tokenizer.is_local() {
            return Ok((Some(TokenizerCheck::ServerTokenizer), true));
        }
        let Ok(server_tok) =
            Tokenizer::server(self.client.clone(), Some(self.model_id.clone())).await
        else {
            return Ok((None, false));
        };
        for t in texts {
            let local = self.tokenizer.encode_local(t, false)?;
            let remote = server_tok.encode(t, false).await?;
            if local != *remote {
                return Err(BackendError::TokenizerMismatch {
                    local_source: self.tokenizer.info().source.clone(),
                    text: t.clone(),
                    position: first_difference(&local, &remote),
                    local,
                    server: remote.to_vec(),
                });
            }
        }
        let check = TokenizerCheck::Agrees {
            texts: texts.len(),
            method: "server /tokenize".into(),
        };
        Ok((Some(check), true))
    }

    /// The sample prompt of the echo probes: "Hello world" without special tokens, a leading BOS dropped.
    async fn probe_sample(&self) -> Result<Vec<u32>, BackendError> {
        let sample: Vec<u32> = {
            let ids = self.tokenizer.encode("Hello world", false).await?.to_vec();
            let bos = self.tokenizer.info().bos_id;
            ids.into_iter().skip_while(|&i| Some(i) == bos).collect()
        };
        if sample.is_empty() {
            return Err(BackendError::Config(
                "the tokenizer encodes \"Hello world\" to no tokens".into(),
            ));
        }
        Ok(sample)
    }

    /// Echo over token ids: send `sample` with `echo: true, logprobs: 1`. When token-id prompts are refused
    /// (HTTP 400 / 422), try a text prompt.
    async fn probe_echo(&self, url: &str, sample: &[u32]) -> Result<EchoProbe, BackendError> {
        let n = sample.len();
        let mut probe = EchoProbe {
            echo: EchoSupport::TokenIds,
            bos: BosBehaviour::default(),
            first_lp: None,
            warning: None,
        };
        match self
            .client
            .post_probe(url, &self.ll_payload(json!(sample), 1))
            .await?
        {
            (200, body) => match parse_completion(&body, url)
                .ok()
                .map(|r| (r.choices[0].clone(), r.usage))
            {
                Some((choice, usage)) => {
                    match choice.logprobs.filter(|l| l.token_logprobs.len() >= n) {
                        Some(lp) => {
                            let one_generated = choice.finish_reason.as_deref() == Some("length");
                            let prompt_tokens =
                                usage.and_then(|u| u.prompt_tokens).map(|p| p as usize);
                            probe.bos = self.plain_bos(sample, &lp, one_generated, prompt_tokens);
                            probe.first_lp = Some(lp);
                        }
                        None => {
                            probe.echo = EchoSupport::Unsupported {
                                reason: "the response to `echo: true, logprobs: 1` carries no log-probabilities \
                                         for the prompt tokens"
                                    .into(),
                            }
                        }
                    }
                }
                None => {
                    probe.echo = EchoSupport::Unsupported {
                        reason: format!("unreadable completions response: {}", excerpt(&body)),
                    }
                }
            },
            (status, body) if body.to_ascii_lowercase().contains("echo") => {
                probe.echo = EchoSupport::Unsupported {
                    reason: format!("HTTP {status}: {}", excerpt(&body)),
                };
            }
            (status @ (400 | 422), body) => {
                (probe.echo, probe.warning) = self.probe_text_prompts(url, status, &body).await?;
            }
            (status, body) => return Err(http_error(url, status, &body)),
        }
        Ok(probe)
    }

    /// BOS behaviour on a plain prompt (`sample`, no BOS) from its echo `lp`: is the first echoed token the
    /// first one sent, or a BOS the server prepended and reports? `bos_first_offset` is left at its default.
    fn plain_bos(
        &self,
        sample: &[u32],
        lp: &Logprobs,
        one_generated: bool,
        prompt_tokens: Option<usize>,
    ) -> BosBehaviour {
        let n = sample.len();
        let pieces = self.tokenizer.pieces();
        let expect = |i: usize| pieces.and_then(|p| p.piece(sample[i])).map(str::to_string);
        let m = lp.token_logprobs.len();
        let matches_at = |off: usize| -> Option<bool> {
            let toks = lp.tokens.as_ref()?;
            let a = expect(0)?;
            let b = expect(n - 1)?;
            Some(toks.get(off) == Some(&a) && toks.get(off + n - 1) == Some(&b))
        };
        let plain_offset = match (matches_at(0), matches_at(1)) {
            (Some(true), _) => 0,
            (_, Some(true)) => 1,
            _ if m >= n + 2 => 1,
            _ if m == n + 1 && !one_generated => 1,
            _ => 0,
        };
        let server_adds_bos = if plain_offset == 1 {
            Some(true)
        } else {
            prompt_tokens.map(|p| p == n + 1)
        };
        BosBehaviour {
            plain_offset,
            server_adds_bos,
            ..BosBehaviour::default()
        }
    }

    /// Token-id prompts were refused with HTTP `status` (`body`): the echo support of text prompts (scored
    /// by text offsets, with a warning), else unsupported.
    async fn probe_text_prompts(
        &self,
        url: &str,
        status: u16,
        body: &str,
    ) -> Result<(EchoSupport, Option<String>), BackendError> {
        let text_payload = self.ll_payload(json!("Hello world"), 1);
        match self.client.post_probe(url, &text_payload).await? {
            (200, tb)
                if parse_completion(&tb, url)
                    .ok()
                    .and_then(|r| r.choices[0].logprobs.clone())
                    .is_some_and(|l| !l.token_logprobs.is_empty() && l.text_offset.is_some()) =>
            {
                let echo = EchoSupport::TextOnly {
                    reason: format!(
                        "token-id prompts refused with HTTP {status}: {}",
                        excerpt(body)
                    ),
                };
                let warning = "the server refuses token-id prompts: continuations are located by text offsets, \
                               which can differ from lm-eval's token slicing when the server re-tokenizes \
                               differently"
                    .to_string();
                Ok((echo, Some(warning)))
            }
            _ => Ok((
                EchoSupport::Unsupported {
                    reason: format!("HTTP {status}: {}", excerpt(body)),
                },
                None,
            )),
        }
    }

    /// BOS sent first: does the server echo it? The `bos_first_offset` (0 = echoed, −1 = hidden), None when
    /// the tokenizer has no BOS or the response could not be read.
    async fn probe_bos_first(
        &self,
        url: &str,
        sample: &[u32],
    ) -> Result<Option<isize>, BackendError> {
        let n = sample.len();
        let Some(b) = self.tokenizer.info().bos_id else {
            return Ok(None);
        };
        let with_bos: Vec<u32> = std::iter::once(b).chain(sample.iter().copied()).collect();
        let (200, body) = self
            .client
            .post_probe(url, &self.ll_payload(json!(with_bos), 1))
            .await?
        else {
            return Ok(None);
        };
        let Some(choice) = parse_completion(&body, url)
            .ok()
            .map(|r| r.choices[0].clone())
        else {
            return Ok(None);
        };
        let Some(lp) = &choice.logprobs else {
            return Ok(None);
        };
        let m = lp.token_logprobs.len();
        let first_piece = self
            .tokenizer
            .pieces()
            .and_then(|p| p.piece(sample[0]))
            .map(str::to_string);
        let one_generated = choice.finish_reason.as_deref() == Some("length");
        // [BOS] + sample is n + 1 tokens: echoed as sent → n + 1 (+1 generated) entries;
        // BOS hidden → n (+1) entries, the first being sample[0].
        let hidden = match (lp.tokens.as_ref().and_then(|t| t.first()), first_piece) {
            (Some(t0), Some(p0)) if m == n + 1 => *t0 == p0,
            _ => m == n || (m == n + 1 && one_generated),
        };
        Ok(Some(if hidden { -1 } else { 0 }))
    }

    /// The largest `logprobs` value (of 100, 20, 5, 2) the server accepts; 1 when none is.
    async fn probe_max_logprobs(&self, url: &str, sample: &[u32]) -> usize {
        for k in [100usize, 20, 5, 2] {
            if let Ok((200, body)) = self
                .client
                .post_probe(url, &self.ll_payload(json!(sample), k))
                .await
            {
                if parse_completion(&body, url).is_ok() {
                    return k;
                }
            }
        }
        1
    }

    /// Batched prompts: does `[sample, sample]` in one request give two choices with the same log-probs as
    /// the single request (`first_lp`)?
    async fn probe_prompt_batching(
        &self,
        url: &str,
        sample: &[u32],
        first_lp: Option<&Logprobs>,
    ) -> bool {
        let Ok((200, body)) = self
            .client
            .post_probe(url, &self.ll_payload(json!([sample, sample]), 1))
            .await
        else {
            return false;
        };
        let Ok(r) = parse_completion(&body, url) else {
            return false;
        };
        r.choices.len() == 2
            && r.choices.iter().all(|c| {
                c.logprobs.as_ref().map(|l| &l.token_logprobs)
                    == first_lp.map(|l| &l.token_logprobs)
            })
    }

    /// Tokenizer agreement through the echoed pieces of text prompts (the first four `texts`), for a server
    /// without `/tokenize`. A text tokenized differently is a `TokenizerMismatch`.
    async fn check_echoed_pieces(
        &self,
        url: &str,
        texts: &[String],
        echo: &EchoSupport,
        plain_offset: isize,
    ) -> Result<TokenizerCheck, BackendError> {
        let pieces = match (echo, self.tokenizer.pieces()) {
            (EchoSupport::Unsupported { .. }, _) => {
                return Ok(TokenizerCheck::NotChecked {
                    reason: "the server has no /tokenize and does not echo prompts".into(),
                })
            }
            (_, None) => {
                return Ok(TokenizerCheck::NotChecked {
                    reason: "no local piece table".into(),
                })
            }
            (_, Some(pieces)) => pieces,
        };
        let mut checked = 0;
        for t in texts.iter().take(4) {
            let local = self.tokenizer.encode_local(t, false)?;
            let Some(toks) = self.echoed_pieces(url, t).await? else {
                break;
            };
            let local_pieces: Vec<String> = local
                .iter()
                .map(|&i| pieces.piece(i).unwrap_or("").to_string())
                .collect();
            let off = usize::from(plain_offset == 1);
            let server: Vec<String> = toks
                .iter()
                .skip(off)
                .take(local_pieces.len())
                .cloned()
                .collect();
            let extra = toks.len().saturating_sub(off + local_pieces.len());
            if server != local_pieces || extra > 1 {
                let pos = server
                    .iter()
                    .zip(&local_pieces)
                    .position(|(a, b)| a != b)
                    .unwrap_or(server.len().min(local_pieces.len()));
                return Err(BackendError::TokenizerMismatch {
                    local_source: self.tokenizer.info().source.clone(),
                    text: t.clone(),
                    position: pos,
                    local: local.clone(),
                    server: Vec::new(),
                });
            }
            checked += 1;
        }
        Ok(if checked == 0 {
            TokenizerCheck::NotChecked {
                reason: "the echo of text prompts could not be read".into(),
            }
        } else {
            TokenizerCheck::Agrees {
                texts: checked,
                method: "echoed pieces of text prompts".into(),
            }
        })
    }

    /// The pieces the server echoes for the text prompt `text`; None when it answers other than HTTP 200
    /// or the echo cannot be read.
    async fn echoed_pieces(
        &self,
        url: &str,
        text: &str,
    ) -> Result<Option<Vec<String>>, BackendError> {
        let (status, body) = self
            .client
            .post_probe(url, &self.ll_payload(json!(text), 1))
            .await?;
        if status != 200 {
            return Ok(None);
        }
        Ok(parse_completion(&body, url)
            .ok()
            .and_then(|r| r.choices[0].logprobs.clone())
            .and_then(|l| l.tokens))
    }
}
