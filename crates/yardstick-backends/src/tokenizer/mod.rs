//! Tokenizers: a Hugging Face `tokenizer.json` (through the `tokenizers` crate, the same core the Python
//! `transformers` fast tokenizers use, so token ids equal lm-eval's for the same file) or a server's
//! `/tokenize` endpoint; lm-eval's pair encoding; a per-string cache; batch encoding in parallel.

pub mod pair;
mod pieces;

pub use pair::{encode_pair_with, move_trailing_whitespace, EncodedPair};
pub use pieces::PieceTable;

use crate::error::TokenizerError;
use crate::http::ApiClient;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Where a tokenizer comes from (the `--tokenizer` flag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenizerSpec {
    /// A `tokenizer.json`, or a directory holding one (with `tokenizer_config.json` for BOS/EOS).
    Path(PathBuf),
    /// A Hugging Face repo id (`org/name`) found in the local hub cache.
    HubRepo(String),
    /// The server's `/tokenize` endpoint.
    Server,
}

impl TokenizerSpec {
    /// `server` → Server; an existing path → Path; `org/name` → HubRepo; anything else → Path (so the
    /// error names the missing file).
    pub fn parse(s: &str) -> TokenizerSpec {
        let p = Path::new(s);
        if s == "server" {
            TokenizerSpec::Server
        } else if p.exists() || s.ends_with(".json") || s.starts_with('.') || s.starts_with('/') {
            TokenizerSpec::Path(p.to_path_buf())
        } else if s.split('/').count() == 2 && !s.contains('\\') {
            TokenizerSpec::HubRepo(s.to_string())
        } else {
            TokenizerSpec::Path(p.to_path_buf())
        }
    }
}

/// Facts about a loaded tokenizer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenizerInfo {
    /// Human description: the file path, `hf:org/name@rev`, or `server:URL`.
    pub source: String,
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    pub vocab_size: Option<usize>,
    /// sha256 of the tokenizer's content (the `tokenizer.json` bytes; for a server tokenizer, of its URL
    /// and the tokenization of fixed sample texts).
    pub content_hash: String,
    /// The model's chat templates from `tokenizer_config.json` (`chat_template`: one string, or a list of
    /// `{name, template}`), by name; a single template is named `default`.
    pub chat_templates: Vec<(String, String)>,
    /// The special tokens' text (`bos_token`, `eos_token`, `unk_token`, `pad_token`, …) that chat templates
    /// are rendered with.
    pub special_tokens: std::collections::BTreeMap<String, String>,
}

/// `chat_template` of a transformers config: a string, or a list of `{name, template}` objects.
fn chat_templates_of(config: &Value) -> Vec<(String, String)> {
    match config.get("chat_template") {
        Some(Value::String(t)) => vec![("default".into(), t.clone())],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| {
                Some((
                    i.get("name")?.as_str()?.to_string(),
                    i.get("template")?.as_str()?.to_string(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The `*_token` entries of a transformers config, as text.
fn special_tokens_of(config: &Value) -> std::collections::BTreeMap<String, String> {
    config
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.ends_with("_token"))
                .filter_map(|(k, v)| Some((k.clone(), token_from_config(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

const CACHE_SHARDS: usize = 16;
/// 4 MiB in all: the entries worth keeping are the contexts of the documents being tokenised now (a run
/// tokenises one task at a time; a context is met once per choice).
const CACHE_SHARD_BYTES: usize = 256 << 10;

/// One cache shard: (text, add_special) → ids, and the shard's byte count.
type Shard = (HashMap<(Box<str>, bool), Arc<[u32]>>, usize);

/// A sharded per-string cache of encodings. A shard that grows past its byte budget is cleared (the hot
/// entries — few-shot contexts of the current documents — come back on the next use).
#[derive(Debug, Default)]
struct EncodeCache {
    shards: [Mutex<Shard>; CACHE_SHARDS],
    hits: std::sync::atomic::AtomicU64,
    misses: std::sync::atomic::AtomicU64,
}

impl EncodeCache {
    fn shard(&self, text: &str, special: bool) -> &Mutex<Shard> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        special.hash(&mut h);
        &self.shards[(h.finish() as usize) % CACHE_SHARDS]
    }

    fn get(&self, text: &str, special: bool) -> Option<Arc<[u32]>> {
        let shard = self.shard(text, special).lock().ok()?;
        let r = shard.0.get(&(Box::<str>::from(text), special)).cloned();
        use std::sync::atomic::Ordering::Relaxed;
        if r.is_some() {
            self.hits.fetch_add(1, Relaxed);
        } else {
            self.misses.fetch_add(1, Relaxed);
        }
        r
    }

    fn put(&self, text: &str, special: bool, ids: Arc<[u32]>) {
        if let Ok(mut shard) = self.shard(text, special).lock() {
            let cost = text.len() + ids.len() * 4 + 64;
            if shard.1 + cost > CACHE_SHARD_BYTES {
                shard.0.clear();
                shard.1 = 0;
            }
            shard.1 += cost;
            shard.0.insert((text.into(), special), ids);
        }
    }
}

#[derive(Debug)]
struct HfTokenizer {
    tok: tokenizers::Tokenizer,
    json: Value,
    pieces: OnceLock<PieceTable>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerStyle {
    /// llama.cpp: `{"content", "add_special"}` → `{"tokens"}`; `/detokenize` `{"tokens"}` → `{"content"}`.
    LlamaCpp,
    /// vLLM: `{"model", "prompt", "add_special_tokens"}` → `{"tokens"}`; `/detokenize` → `{"prompt"}`.
    Vllm,
}

/// Why a `/tokenize` probe failed: an unreachable server ends the search at once.
enum ProbeFail {
    Unreachable(String),
    Other(String),
}

#[derive(Debug)]
struct ServerTokenizer {
    client: ApiClient,
    model: Option<String>,
    style: ServerStyle,
    endpoint: String,
}

// One tokenizer per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Kind {
    Hf(HfTokenizer),
    Server(ServerTokenizer),
}

/// A tokenizer with lm-eval's pair encoding and a per-string cache. Cheap to share (`Arc<Tokenizer>`).
#[derive(Debug)]
pub struct Tokenizer {
    kind: Kind,
    info: TokenizerInfo,
    /// lm-eval's `prefix_token_id` override (`custom_prefix_token_id`).
    prefix_override: Option<u32>,
    cache: EncodeCache,
}

fn token_from_config(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

impl Tokenizer {
    /// Load a `tokenizer.json` (or a directory with one). BOS/EOS come from `tokenizer_config.json` /
    /// `special_tokens_map.json` beside it (as transformers reads them), else from the post-processor's
    /// template, else from well-known token names.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Tokenizer, TokenizerError> {
        let path = path.as_ref();
        let file = if path.is_dir() {
            path.join("tokenizer.json")
        } else {
            path.to_path_buf()
        };
        let bytes = std::fs::read(&file).map_err(|e| TokenizerError::Load {
            path: file.clone(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "file not found (pass a tokenizer.json, a directory holding one, a Hugging Face repo id in the local \
                 cache, or `server`)"
                    .into()
            } else {
                e.to_string()
            },
        })?;
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut config = Value::Null;
        for name in ["special_tokens_map.json", "tokenizer_config.json"] {
            if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
                if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&text) {
                    let obj = config
                        .as_object_mut()
                        .map(std::mem::take)
                        .unwrap_or_default();
                    let mut merged = obj;
                    for (k, v) in o {
                        merged.insert(k, v);
                    }
                    config = Value::Object(merged);
                }
            }
        }
        Self::from_json_bytes(&bytes, &config, file.display().to_string())
    }

    /// Build from `tokenizer.json` bytes and an optional transformers config object (`bos_token`, …).
    pub fn from_json_bytes(
        bytes: &[u8],
        config: &Value,
        source: String,
    ) -> Result<Tokenizer, TokenizerError> {
        let mut tok =
            tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| TokenizerError::Load {
                path: PathBuf::from(&source),
                message: e.to_string(),
            })?;
        // transformers' `split_special_tokens`: special tokens written in the text are tokenized as text.
        if config.get("split_special_tokens").and_then(Value::as_bool) == Some(true) {
            tok.set_encode_special_tokens(true);
        }
        let json: Value = serde_json::from_slice(bytes).map_err(|e| TokenizerError::Load {
            path: PathBuf::from(&source),
            message: e.to_string(),
        })?;
        let lookup = |key: &str| {
            config
                .get(key)
                .and_then(token_from_config)
                .and_then(|t| tok.token_to_id(&t))
        };
        let template_bos = json
            .pointer("/post_processor/single/0/SpecialToken/id")
            .and_then(Value::as_str)
            .and_then(|t| tok.token_to_id(t));
        let known = |names: &[&str]| names.iter().find_map(|n| tok.token_to_id(n));
        let bos_id = lookup("bos_token").or(template_bos).or_else(|| {
            if config.get("bos_token").is_some() {
                None
            } else {
                known(&["<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"])
            }
        });
        let eos_id = lookup("eos_token").or_else(|| {
            known(&[
                "</s>",
                "<|end_of_text|>",
                "<|endoftext|>",
                "<eos>",
                "<|im_end|>",
            ])
        });
        let mut hashed = bytes.to_vec();
        if tok.get_encode_special_tokens() {
            hashed.extend_from_slice(b"\0split_special_tokens");
        }
        let content_hash = yardstick_core::sha256_hex(&hashed);
        let vocab_size = Some(tok.get_vocab_size(true));
        Ok(Tokenizer {
            kind: Kind::Hf(HfTokenizer {
                tok,
                json,
                pieces: OnceLock::new(),
            }),
            info: TokenizerInfo {
                source,
                bos_id,
                eos_id,
                vocab_size,
                content_hash,
                chat_templates: chat_templates_of(config),
                special_tokens: special_tokens_of(config),
            },
            prefix_override: None,
            cache: EncodeCache::default(),
        })
    }

    /// Find `org/name` in the local Hugging Face hub caches ([`yardstick_core::hf_cache::hub_cache_dirs`]:
    /// `$HF_HUB_CACHE`, `$HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub`, `$XDG_CACHE_HOME/huggingface/hub`,
    /// `~/.cache/huggingface/hub`, in that order): `models--org--name/snapshots/<rev>/tokenizer.json`,
    /// preferring the revision `refs/main` points at.
    pub fn from_hub_cache(repo: &str) -> Result<Tokenizer, TokenizerError> {
        let dirs = yardstick_core::hf_cache::hub_cache_dirs(None);
        let folder = format!("models--{}", repo.replace('/', "--"));
        let mut looked = Vec::new();
        for hub in &dirs {
            let base = hub.join(&folder);
            let snaps = base.join("snapshots");
            looked.push(snaps.join("*").join("tokenizer.json").display().to_string());
            let mut candidates: Vec<PathBuf> = Vec::new();
            if let Ok(rev) = std::fs::read_to_string(base.join("refs").join("main")) {
                candidates.push(snaps.join(rev.trim()));
            }
            if let Ok(rd) = std::fs::read_dir(&snaps) {
                let mut others: Vec<(std::time::SystemTime, PathBuf)> = rd
                    .filter_map(Result::ok)
                    .map(|e| {
                        (
                            e.metadata()
                                .and_then(|m| m.modified())
                                .unwrap_or(std::time::UNIX_EPOCH),
                            e.path(),
                        )
                    })
                    .collect();
                others.sort_by_key(|o| std::cmp::Reverse(o.0));
                candidates.extend(others.into_iter().map(|(_, p)| p));
            }
            for snap in candidates {
                if snap.join("tokenizer.json").is_file() {
                    let mut t = Self::from_path(&snap)?;
                    let rev = snap
                        .file_name()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    t.info.source = format!("hf:{repo}@{rev}");
                    return Ok(t);
                }
            }
        }
        Err(TokenizerError::NotInHubCache {
            repo: repo.to_string(),
            looked: looked.join(", "),
        })
    }

    /// Load per a [`TokenizerSpec`] (a server spec needs `client`).
    pub async fn load(
        spec: &TokenizerSpec,
        client: Option<&ApiClient>,
        model: Option<&str>,
    ) -> Result<Tokenizer, TokenizerError> {
        match spec {
            TokenizerSpec::Path(p) => Self::from_path(p),
            TokenizerSpec::HubRepo(r) => Self::from_hub_cache(r),
            TokenizerSpec::Server => {
                let client = client.ok_or_else(|| TokenizerError::Server {
                    url: String::new(),
                    message: "a server tokenizer needs a server URL".into(),
                })?;
                Self::server(client.clone(), model.map(str::to_string)).await
            }
        }
    }

    /// Use the server's `/tokenize` (llama.cpp or vLLM style, detected here).
    pub async fn server(
        client: ApiClient,
        model: Option<String>,
    ) -> Result<Tokenizer, TokenizerError> {
        let mut tried = Vec::new();
        for endpoint in [
            format!("{}/tokenize", client.url.root),
            format!("{}/tokenize", client.url.api),
        ] {
            for style in [ServerStyle::LlamaCpp, ServerStyle::Vllm] {
                let st = ServerTokenizer {
                    client: client.clone(),
                    model: model.clone(),
                    style,
                    endpoint: endpoint.clone(),
                };
                match st.tokenize_once("Hello world", false).await {
                    Ok(ids) if !ids.is_empty() => {
                        let bos = st
                            .tokenize_once("", true)
                            .await
                            .ok()
                            .and_then(|v| (v.len() == 1).then(|| v[0]));
                        let mut h = sha2_hasher();
                        use sha2::Digest;
                        // What the tokenizer does, not where it is: a replica of the model on another
                        // host or port has the same fingerprint and reuses the ledger.
                        h.update(b"server-tokenizer/2");
                        for s in pieces::HASH_SAMPLES {
                            if let Ok(ids) = st.tokenize_once(s, false).await {
                                for i in ids {
                                    h.update(i.to_le_bytes());
                                }
                            }
                        }
                        let content_hash = hex::encode(h.finalize());
                        return Ok(Tokenizer {
                            info: TokenizerInfo {
                                source: format!("server:{endpoint}"),
                                bos_id: bos,
                                eos_id: None,
                                vocab_size: None,
                                content_hash,
                                chat_templates: Vec::new(),
                                special_tokens: Default::default(),
                            },
                            kind: Kind::Server(st),
                            prefix_override: None,
                            cache: EncodeCache::default(),
                        });
                    }
                    Ok(_) => tried.push(format!("{endpoint} ({style:?}): empty token list")),
                    Err(ProbeFail::Unreachable(message)) => {
                        return Err(TokenizerError::Server {
                            url: endpoint.clone(),
                            message,
                        });
                    }
                    Err(ProbeFail::Other(e)) => tried.push(format!("{endpoint} ({style:?}): {e}")),
                }
            }
        }
        Err(TokenizerError::NoServerTokenizer {
            url: client.url.root.clone(),
            detail: tried.join("; "),
        })
    }

    /// Override lm-eval's `prefix_token_id` (its `custom_prefix_token_id`).
    pub fn with_prefix_token_id(mut self, id: Option<u32>) -> Self {
        self.prefix_override = id;
        self
    }

    pub fn info(&self) -> &TokenizerInfo {
        &self.info
    }

    /// lm-eval's `prefix_token_id`: the override, else BOS, else EOS.
    pub fn prefix_token_id(&self) -> Option<u32> {
        self.prefix_override
            .or(self.info.bos_id)
            .or(self.info.eos_id)
    }

    /// Whether encoding runs locally (no HTTP).
    pub fn is_local(&self) -> bool {
        matches!(self.kind, Kind::Hf(_))
    }

    /// The underlying `tokenizers` tokenizer, when local.
    pub fn hf(&self) -> Option<&tokenizers::Tokenizer> {
        match &self.kind {
            Kind::Hf(h) => Some(&h.tok),
            Kind::Server(_) => None,
        }
    }

    /// Cache statistics (hits, misses).
    pub fn cache_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.cache.hits.load(Relaxed),
            self.cache.misses.load(Relaxed),
        )
    }

    /// Encode locally without the cache (HF tokenizers only).
    pub fn encode_local(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Vec<u32>, TokenizerError> {
        match &self.kind {
            Kind::Hf(h) => h
                .tok
                .encode_fast(text, add_special_tokens)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| TokenizerError::Encode(e.to_string())),
            Kind::Server(_) => Err(TokenizerError::Encode(
                "the server tokenizer cannot encode synchronously".into(),
            )),
        }
    }

    fn encode_local_cached(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Arc<[u32]>, TokenizerError> {
        if let Some(ids) = self.cache.get(text, add_special_tokens) {
            return Ok(ids);
        }
        let ids: Arc<[u32]> = self.encode_local(text, add_special_tokens)?.into();
        self.cache.put(text, add_special_tokens, Arc::clone(&ids));
        Ok(ids)
    }

    /// Encode `text` (cached per string).
    pub async fn encode(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Arc<[u32]>, TokenizerError> {
        match &self.kind {
            Kind::Hf(_) => self.encode_local_cached(text, add_special_tokens),
            Kind::Server(s) => {
                if let Some(ids) = self.cache.get(text, add_special_tokens) {
                    return Ok(ids);
                }
                let ids: Arc<[u32]> = s.tokenize(text, add_special_tokens).await?.into();
                self.cache.put(text, add_special_tokens, Arc::clone(&ids));
                Ok(ids)
            }
        }
    }

    /// Decode ids to text (special tokens kept, as lm-eval's `tok_decode` with default arguments).
    pub async fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        match &self.kind {
            Kind::Hf(h) => h
                .tok
                .decode(ids, false)
                .map_err(|e| TokenizerError::Decode(e.to_string())),
            Kind::Server(s) => s.detokenize(ids).await,
        }
    }

    /// lm-eval's pair encoding (module [`pair`]); `add_special_tokens` is lm-eval's `add_bos_token`
    /// (False by default for `local-completions`).
    pub async fn encode_pair(
        &self,
        context: &str,
        continuation: &str,
        add_special_tokens: bool,
    ) -> Result<EncodedPair, TokenizerError> {
        match &self.kind {
            Kind::Hf(_) => self.encode_pair_local(context, continuation, add_special_tokens),
            Kind::Server(s) => {
                // Same algorithm, with each encode awaited (the whole string is not cached: it is unique).
                if context.is_empty() {
                    let cont = self.encode(continuation, false).await?;
                    return encode_pair_with(
                        context,
                        continuation,
                        self.prefix_token_id(),
                        |_| Ok(Arc::from(vec![])),
                        |_| Ok(Arc::clone(&cont)),
                    );
                }
                let (ctx, cont) = move_trailing_whitespace(context, continuation);
                let whole: Arc<[u32]> = s
                    .tokenize(&format!("{ctx}{cont}"), add_special_tokens)
                    .await?
                    .into();
                let ctx_enc = self.encode(&ctx, add_special_tokens).await?;
                let split = ctx_enc.len().min(whole.len());
                Ok(EncodedPair {
                    context: ctx_enc,
                    continuation: whole[split..].to_vec(),
                })
            }
        }
    }

    fn encode_pair_local(
        &self,
        context: &str,
        continuation: &str,
        add_special_tokens: bool,
    ) -> Result<EncodedPair, TokenizerError> {
        let mut first = true;
        encode_pair_with(
            context,
            continuation,
            self.prefix_token_id(),
            |s| {
                // The first call is the whole (unique) string; the second the context (shared by choices).
                if std::mem::take(&mut first) {
                    self.encode_local(s, add_special_tokens).map(Arc::from)
                } else {
                    self.encode_local_cached(s, add_special_tokens)
                }
            },
            |s| self.encode_local_cached(s, false),
        )
    }

    /// Encode many pairs; local tokenizers run in parallel on the rayon pool (off the async runtime),
    /// server tokenizers with up to 16 requests in flight. Order is preserved.
    pub async fn encode_pairs(
        self: &Arc<Self>,
        pairs: Vec<(String, String)>,
        add_special_tokens: bool,
    ) -> Result<Vec<EncodedPair>, TokenizerError> {
        match &self.kind {
            Kind::Hf(_) => {
                let me = Arc::clone(self);
                tokio::task::spawn_blocking(move || {
                    me.encode_pairs_blocking(&pairs, add_special_tokens)
                })
                .await
                .map_err(|e| TokenizerError::Encode(format!("tokenizer worker failed: {e}")))?
            }
            Kind::Server(_) => {
                let sem = Arc::new(tokio::sync::Semaphore::new(16));
                let mut set = tokio::task::JoinSet::new();
                for (i, (c, x)) in pairs.into_iter().enumerate() {
                    let me = Arc::clone(self);
                    let sem = Arc::clone(&sem);
                    set.spawn(async move {
                        let _p = sem.acquire().await;
                        (i, me.encode_pair(&c, &x, add_special_tokens).await)
                    });
                }
                let mut out: Vec<Option<EncodedPair>> = Vec::new();
                while let Some(r) = set.join_next().await {
                    let (i, p) = r.map_err(|e| {
                        TokenizerError::Encode(format!("tokenizer task failed: {e}"))
                    })?;
                    if out.len() <= i {
                        out.resize(i + 1, None);
                    }
                    out[i] = Some(p?);
                }
                Ok(out.into_iter().flatten().collect())
            }
        }
    }

    /// Encode many texts (order kept): in parallel on the rayon pool for local tokenizers, one request
    /// after another (cached) for a server tokenizer.
    pub async fn encode_many(
        self: &Arc<Self>,
        texts: Vec<String>,
        add_special_tokens: bool,
    ) -> Result<Vec<Arc<[u32]>>, TokenizerError> {
        if self.is_local() {
            let me = Arc::clone(self);
            return tokio::task::spawn_blocking(move || {
                use rayon::prelude::*;
                texts
                    .par_iter()
                    .map(|t| me.encode_local_cached(t, add_special_tokens))
                    .collect()
            })
            .await
            .map_err(|e| TokenizerError::Encode(format!("tokenizer worker failed: {e}")))?;
        }
        let mut out = Vec::with_capacity(texts.len());
        for t in &texts {
            out.push(self.encode(t, add_special_tokens).await?);
        }
        Ok(out)
    }

    /// Blocking parallel pair encoding for local tokenizers (rayon).
    pub fn encode_pairs_blocking(
        &self,
        pairs: &[(String, String)],
        add_special_tokens: bool,
    ) -> Result<Vec<EncodedPair>, TokenizerError> {
        use rayon::prelude::*;
        pairs
            .par_iter()
            .map(|(c, x)| self.encode_pair_local(c, x, add_special_tokens))
            .collect()
    }

    /// The piece table (server-style piece strings for every token id), for local tokenizers.
    pub fn pieces(&self) -> Option<&PieceTable> {
        match &self.kind {
            Kind::Hf(h) => Some(h.pieces.get_or_init(|| PieceTable::build(&h.tok, &h.json))),
            Kind::Server(_) => None,
        }
    }
}

fn sha2_hasher() -> sha2::Sha256 {
    use sha2::Digest;
    sha2::Sha256::new()
}

impl ServerTokenizer {
    async fn tokenize_once(&self, text: &str, add_special: bool) -> Result<Vec<u32>, ProbeFail> {
        let body = self.body(text, add_special);
        let (status, resp) = match self.client.post_probe(&self.endpoint, &body).await {
            Ok(r) => r,
            Err(e @ crate::error::BackendError::Unreachable { .. }) => {
                return Err(ProbeFail::Unreachable(e.to_string()))
            }
            Err(e) => return Err(ProbeFail::Other(e.to_string())),
        };
        if status != 200 {
            return Err(ProbeFail::Other(format!(
                "HTTP {status}: {}",
                crate::error::excerpt(&resp)
            )));
        }
        parse_tokens(&resp).ok_or_else(|| {
            ProbeFail::Other(format!(
                "no integer `tokens` list in {}",
                crate::error::excerpt(&resp)
            ))
        })
    }

    fn body(&self, text: &str, add_special: bool) -> Value {
        match self.style {
            ServerStyle::LlamaCpp => json!({"content": text, "add_special": add_special}),
            ServerStyle::Vllm => {
                let mut b = json!({"prompt": text, "add_special_tokens": add_special});
                if let Some(m) = &self.model {
                    b["model"] = json!(m);
                }
                b
            }
        }
    }

    async fn tokenize(&self, text: &str, add_special: bool) -> Result<Vec<u32>, TokenizerError> {
        let (resp, _) = self
            .client
            .post_json(&self.endpoint, &self.body(text, add_special))
            .await
            .map_err(|e| TokenizerError::Server {
                url: self.endpoint.clone(),
                message: e.to_string(),
            })?;
        parse_tokens(&resp).ok_or_else(|| TokenizerError::Server {
            url: self.endpoint.clone(),
            message: format!(
                "no integer `tokens` list in {}",
                crate::error::excerpt(&resp)
            ),
        })
    }

    async fn detokenize(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        let url = self.endpoint.replace("/tokenize", "/detokenize");
        let body = match self.style {
            ServerStyle::LlamaCpp => json!({"tokens": ids}),
            ServerStyle::Vllm => {
                let mut b = json!({"tokens": ids});
                if let Some(m) = &self.model {
                    b["model"] = json!(m);
                }
                b
            }
        };
        let (resp, _) =
            self.client
                .post_json(&url, &body)
                .await
                .map_err(|e| TokenizerError::Server {
                    url: url.clone(),
                    message: e.to_string(),
                })?;
        let v: Value = serde_json::from_str(&resp).map_err(|e| TokenizerError::Server {
            url: url.clone(),
            message: e.to_string(),
        })?;
        v.get("content")
            .or_else(|| v.get("prompt"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| TokenizerError::Server {
                url,
                message: format!("no `content`/`prompt` in {}", crate::error::excerpt(&resp)),
            })
    }
}

/// `{"tokens": [1, 2]}` or llama.cpp's `with_pieces` form `{"tokens": [{"id": 1, "piece": "a"}]}`.
pub(crate) fn parse_tokens(body: &str) -> Option<Vec<u32>> {
    let v: Value = serde_json::from_str(body).ok()?;
    let arr = v.get("tokens")?.as_array()?;
    arr.iter()
        .map(|t| {
            t.as_u64()
                .or_else(|| t.get("id").and_then(Value::as_u64))
                .and_then(|x| u32::try_from(x).ok())
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn toy_tokenizer_json() -> String {
        yardstick_testkit::toy_tokenizer_json()
    }

    pub(crate) fn toy() -> Tokenizer {
        Tokenizer::from_json_bytes(toy_tokenizer_json().as_bytes(), &Value::Null, "toy".into())
            .expect("toy tokenizer")
    }

    #[test]
    fn spec_parsing() {
        assert_eq!(TokenizerSpec::parse("server"), TokenizerSpec::Server);
        assert_eq!(
            TokenizerSpec::parse("meta-llama/Llama-2-7b-hf"),
            TokenizerSpec::HubRepo("meta-llama/Llama-2-7b-hf".into())
        );
        assert_eq!(
            TokenizerSpec::parse("out/tokenizer.json"),
            TokenizerSpec::Path("out/tokenizer.json".into())
        );
        assert_eq!(
            TokenizerSpec::parse("./dir"),
            TokenizerSpec::Path("./dir".into())
        );
    }

    #[tokio::test]
    async fn encodes_pairs_like_lm_eval_and_caches_contexts() {
        let t = Arc::new(toy());
        assert_eq!(t.info().bos_id, Some(1));
        assert_eq!(t.prefix_token_id(), Some(1));
        let a = t.encode_pair("answer: ", "A", false).await.expect("pair");
        // context "answer:" (whitespace moved), continuation " A" → ▁A
        let id = |s: &str| t.hf().expect("hf").token_to_id(s).expect(s);
        assert_eq!(&*a.context, &[id("▁answer"), id(":")]);
        assert_eq!(a.continuation, vec![id("▁A")]);
        let _ = t.encode_pair("answer: ", "B", false).await.expect("pair");
        let (hits, _) = t.cache_stats();
        assert!(hits >= 1, "the shared context is encoded once");
        // empty context → [BOS]
        let e = t.encode_pair("", " A", false).await.expect("pair");
        assert_eq!(&*e.context, &[1]);
        assert_eq!(e.continuation, vec![id("▁"), id("▁A")]);
        // batch == one by one
        let pairs: Vec<(String, String)> = (0..50)
            .map(|i| {
                (
                    format!("answer{i}: "),
                    ["A", "B", "C", "D"][i % 4].to_string(),
                )
            })
            .collect();
        let batch = t.encode_pairs(pairs.clone(), false).await.expect("batch");
        for (p, b) in pairs.iter().zip(&batch) {
            assert_eq!(&t.encode_pair(&p.0, &p.1, false).await.expect("pair"), b);
        }
        assert_eq!(t.decode(&a.continuation).await.expect("decode"), "A");
        let many = t
            .encode_many(vec!["answer:".into(), "we".into()], false)
            .await
            .expect("many");
        assert_eq!(&*many[0], &a.context[..]);
    }

    #[test]
    fn hub_cache_lookup_honours_hf_home() {
        let dir = std::env::temp_dir().join(format!("ys-hub-{}", std::process::id()));
        let snap = dir.join("hub/models--org--tiny/snapshots/abc123");
        std::fs::create_dir_all(&snap).expect("mkdir");
        std::fs::write(snap.join("tokenizer.json"), toy_tokenizer_json()).expect("write");
        std::fs::create_dir_all(dir.join("hub/models--org--tiny/refs")).expect("mkdir");
        std::fs::write(dir.join("hub/models--org--tiny/refs/main"), "abc123").expect("write");
        // SAFETY-free: env mutation in a test that only this test reads.
        let old = std::env::var_os("HF_HOME");
        std::env::set_var("HF_HOME", &dir);
        let t = Tokenizer::from_hub_cache("org/tiny").expect("found");
        assert_eq!(t.info().source, "hf:org/tiny@abc123");
        let err = Tokenizer::from_hub_cache("org/missing").expect_err("missing");
        assert!(err.to_string().contains("models--org--missing"), "{err}");
        match old {
            Some(v) => std::env::set_var("HF_HOME", v),
            None => std::env::remove_var("HF_HOME"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn parses_token_lists() {
        assert_eq!(parse_tokens(r#"{"tokens":[1,2,3]}"#), Some(vec![1, 2, 3]));
        assert_eq!(
            parse_tokens(r#"{"tokens":[{"id":5,"piece":"a"}]}"#),
            Some(vec![5])
        );
        assert_eq!(
            parse_tokens(r#"{"count":2,"max_model_len":4096,"tokens":[7,8]}"#),
            Some(vec![7, 8])
        );
        assert_eq!(parse_tokens(r#"{"tokens":[-1]}"#), None);
        assert_eq!(parse_tokens("nope"), None);
    }
}
