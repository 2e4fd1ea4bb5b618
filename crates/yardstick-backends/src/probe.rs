//! What the probe found out about a server, and how the engine reads it.

use yardstick_core::RequestKind;

/// Whether and how the server scores prompt tokens.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EchoSupport {
    /// `echo` + `logprobs` with token-id prompts (the exact path).
    TokenIds,
    /// Only text prompts are accepted: continuation located by `text_offset`.
    TextOnly { reason: String },
    /// No prompt log-probabilities: log-likelihood tasks cannot run.
    Unsupported { reason: String },
}

/// How the server treats BOS on token-id prompts (the index of the first sent token in the echoed list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BosBehaviour {
    /// Offset for prompts that do not start with BOS: 0 = echoed as sent (a BOS the server adds is not
    /// reported), 1 = the server prepends BOS and reports it.
    pub plain_offset: isize,
    /// Offset for prompts that start with BOS: 0 = echoed as sent, −1 = the server does not report the
    /// BOS that was sent (its first reported token is then the first one after BOS, unscored).
    pub bos_first_offset: isize,
    /// Whether the server evaluates a BOS before prompts that lack one (seen as an extra prompt token
    /// in `usage` or in the echo).
    pub server_adds_bos: Option<bool>,
}

/// The result of the tokenizer agreement check.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenizerCheck {
    /// Local and server tokenizations agreed on `texts` sample texts, compared by `method`.
    Agrees { texts: usize, method: String },
    /// The server's own tokenizer is used: nothing to compare.
    ServerTokenizer,
    /// Could not be checked (no /tokenize and no echo); the run proceeds with a warning.
    NotChecked { reason: String },
}

/// Everything the probe learnt; the engine prints it and uses it to say which tasks cannot run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeReport {
    pub base_url: String,
    /// The model id sent in every payload.
    pub model_id: String,
    /// Models the server lists at `/v1/models`.
    pub served_models: Vec<String>,
    /// Context length the server reports (`max_model_len`, llama.cpp `/props` `n_ctx`, `n_ctx_train`).
    pub server_context_length: Option<usize>,
    /// lm-eval's `max_length` used for truncation (requests are cut to `max_length − 1` tokens).
    pub max_length: usize,
    pub echo: EchoSupport,
    pub bos: BosBehaviour,
    /// Whether `prompt` may be a list of token-id lists (one request, several results).
    pub prompt_batching: bool,
    /// Largest `logprobs` value the server accepted in the probe.
    pub max_logprobs: usize,
    /// Whether single-token multiple-choice questions are scored from one request.
    pub grouped_single_token: bool,
    pub tokenizer_source: String,
    pub tokenizer: TokenizerCheck,
    /// The server has a `/tokenize` endpoint.
    pub server_tokenize: bool,
    /// Identity fields of the model the server reported (volatile fields such as `created` removed).
    pub model_metadata: serde_json::Value,
    pub warnings: Vec<String>,
}

impl ProbeReport {
    /// Why requests of this kind cannot run on this server (None when they can).
    pub fn unsupported_reason(&self, kind: RequestKind) -> Option<String> {
        match kind {
            RequestKind::Loglikelihood | RequestKind::LoglikelihoodRolling => match &self.echo {
                EchoSupport::Unsupported { reason } => Some(format!(
                    "{} needs prompt log-probabilities (`echo` + `logprobs` on /v1/completions), which {} does not \
                     provide: {reason}",
                    kind.as_str(),
                    self.base_url
                )),
                _ => None,
            },
            RequestKind::GenerateUntil => None,
        }
    }

    /// Whether log-likelihood requests can be served.
    pub fn can_score(&self) -> bool {
        !matches!(self.echo, EchoSupport::Unsupported { .. })
    }

    /// Human-readable lines for the terminal.
    pub fn render(&self) -> String {
        let mut s = String::new();
        use std::fmt::Write;
        let short = yardstick_core::short_model_name(&self.model_id);
        let _ = writeln!(s, "server      {} (model {short})", self.base_url);
        if short != self.model_id {
            let _ = writeln!(s, "model id    {:?}", self.model_id);
        }
        let _ = writeln!(
            s,
            "context     max_length {} (requests cut to {} tokens); server reports {}",
            self.max_length,
            self.max_length.saturating_sub(1),
            self.server_context_length
                .map_or("nothing".to_string(), |c| c.to_string())
        );
        let echo = match &self.echo {
            EchoSupport::TokenIds => "prompt log-probs over token ids: yes".to_string(),
            EchoSupport::TextOnly { reason } => {
                format!("prompt log-probs over text only ({reason})")
            }
            EchoSupport::Unsupported { reason } => {
                format!("NO prompt log-probs ({reason}): log-likelihood tasks cannot run")
            }
        };
        let _ = writeln!(s, "scoring     {echo}");
        let _ = writeln!(
            s,
            "BOS         echo offset {} (plain), {} (BOS first); server adds BOS: {}",
            self.bos.plain_offset,
            self.bos.bos_first_offset,
            self.bos
                .server_adds_bos
                .map_or("unknown".into(), |b| b.to_string())
        );
        let _ = writeln!(
            s,
            "requests    batching {}, logprobs up to {}, single-token MC from one request: {}",
            if self.prompt_batching { "yes" } else { "no" },
            self.max_logprobs,
            if self.grouped_single_token {
                "yes"
            } else {
                "no"
            }
        );
        let tok = match &self.tokenizer {
            TokenizerCheck::Agrees { texts, method } => {
                format!("agrees with the server on {texts} texts ({method})")
            }
            TokenizerCheck::ServerTokenizer => "the server's /tokenize".into(),
            TokenizerCheck::NotChecked { reason } => format!("NOT checked ({reason})"),
        };
        let _ = writeln!(s, "tokenizer   {} — {tok}", self.tokenizer_source);
        for w in &self.warnings {
            let _ = writeln!(s, "warning     {w}");
        }
        s
    }
}

/// Built-in probe texts: English and Chinese benchmark-style prompts and whitespace/digit edge cases.
pub const PROBE_TEXTS: &[&str] = &[
    "Hello world",
    "The following are multiple choice questions (with answers) about abstract algebra.\n\nFind all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer: B",
    "以下是关于大学数学的单项选择题，请直接给出正确答案的选项。\n\n题目：设函数f(x)=x^2，则f'(2)=\nA. 1\nB. 2\nC. 3\nD. 4\n答案是：D",
    "Q: What happens to you if you eat watermelon seeds?\nA: The watermelon seeds pass through your digestive system.",
    "  two leading spaces, a\ttab,\n\nblank lines   and trailing spaces   ",
    "Numbers 1234567890 3.14159 -42 1e-5 and symbols #$%&*()[]{}<>?!@^~`|\\/",
    "Émigré naïve café — “quotes” and ‘apostrophes’ … 日本語のテキスト 한국어 텍스트 😀",
];
