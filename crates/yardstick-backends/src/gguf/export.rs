//! Convert a GGUF's embedded vocabulary to a Hugging Face `tokenizer.json` that tokenizes as llama.cpp does.
//!
//! * `tokenizer.ggml.model = "llama"` (SentencePiece BPE, e.g. Llama 1/2, Mistral v0.1): a `BPE` model with
//!   `byte_fallback`, the GGUF's tokens as vocabulary and merges derived from the piece scores the way
//!   transformers' `LlamaConverter` derives them from a `tokenizer.model` (every split of every piece into
//!   two pieces that are themselves in the vocabulary, ranked by the merged piece's score, highest first,
//!   ties in vocabulary order). llama.cpp's SPM tokenizer merges the adjacent pair whose concatenation has
//!   the highest score, which yields the same segmentation. Normalizer `Prepend("▁")` + `Replace(" ", "▁")`
//!   (the legacy Llama-2 behaviour, = llama.cpp's `add_space_prefix` + whitespace escaping), decoder
//!   `Replace("▁", " ")`, `ByteFallback`, `Fuse`, `Strip(1 leading space)`.
//! * `tokenizer.ggml.model = "gpt2"` (byte-level BPE, e.g. Llama 3, Qwen 2, GPT-2): `BPE` with the GGUF's
//!   `tokenizer.ggml.merges`, the pre-tokenizer regexes llama.cpp uses for `tokenizer.ggml.pre`, then
//!   `ByteLevel`; decoder `ByteLevel`.
//!
//! Special tokens (control, unknown and user-defined token types) become `added_tokens`; a
//! `TemplateProcessing` post-processor adds BOS (and EOS) when `tokenizer.ggml.add_bos_token` (and
//! `add_eos_token`) say so, with llama.cpp's defaults when the keys are absent.

use super::{GgufArray, GgufError, GgufFile, GgufValue};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// llama.cpp token types (`tokenizer.ggml.token_type`).
const TT_NORMAL: i64 = 1;
const TT_UNKNOWN: i64 = 2;
const TT_CONTROL: i64 = 3;
const TT_USER_DEFINED: i64 = 4;
const TT_UNUSED: i64 = 5;
const TT_BYTE: i64 = 6;

/// What was exported, for the command's report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExportSummary {
    pub source: PathBuf,
    /// `tokenizer.ggml.model`.
    pub model: String,
    /// `tokenizer.ggml.pre`, when present.
    pub pre: Option<String>,
    pub vocab_size: usize,
    pub merges: usize,
    pub bos: Option<(u32, String)>,
    pub eos: Option<(u32, String)>,
    pub unk: Option<(u32, String)>,
    pub pad: Option<(u32, String)>,
    pub add_bos: bool,
    pub add_eos: bool,
    pub add_space_prefix: bool,
    pub added_tokens: usize,
    /// Things the user should know (renamed duplicate pieces, an unknown pre-tokenizer fallback, …).
    pub warnings: Vec<String>,
}

/// The `tokenizers` crate refused an exported `tokenizer.json` (the message is the crate's).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenizerJsonError(pub tokenizers::Error);

/// The files of an exported tokenizer.
#[derive(Clone, Debug)]
pub struct ExportedTokenizer {
    pub tokenizer_json: Value,
    pub tokenizer_config: Value,
    pub special_tokens_map: Value,
    pub summary: ExportSummary,
}

impl ExportedTokenizer {
    /// `tokenizer.json` as pretty JSON text.
    pub fn tokenizer_json_string(&self) -> String {
        serde_json::to_string_pretty(&self.tokenizer_json).unwrap_or_default()
    }

    /// Build the in-memory tokenizer (also validates that the `tokenizers` crate accepts the JSON).
    pub fn to_tokenizer(&self) -> Result<tokenizers::Tokenizer, TokenizerJsonError> {
        let mut t = tokenizers::Tokenizer::from_bytes(self.tokenizer_json_string().as_bytes())
            .map_err(TokenizerJsonError)?;
        t.set_encode_special_tokens(true);
        Ok(t)
    }

    /// Write the files. When `out` is an existing directory, or ends with a path separator, or has no
    /// `.json` extension, it is treated as a directory and `tokenizer.json`, `tokenizer_config.json` and
    /// `special_tokens_map.json` are written into it (what `AutoTokenizer.from_pretrained(dir)` loads);
    /// otherwise only `out` itself (the `tokenizer.json`) is written. Returns the paths written.
    pub fn write(&self, out: &Path) -> std::io::Result<Vec<PathBuf>> {
        let as_dir = out.is_dir()
            || out
                .as_os_str()
                .to_string_lossy()
                .ends_with(std::path::MAIN_SEPARATOR)
            || out.as_os_str().to_string_lossy().ends_with('/')
            || out.extension().is_none_or(|e| e != "json");
        let mut written = Vec::new();
        let write = |p: PathBuf, v: &Value, written: &mut Vec<PathBuf>| -> std::io::Result<()> {
            let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
            std::fs::write(&p, text + "\n")?;
            written.push(p);
            Ok(())
        };
        if as_dir {
            std::fs::create_dir_all(out)?;
            write(
                out.join("tokenizer.json"),
                &self.tokenizer_json,
                &mut written,
            )?;
            write(
                out.join("tokenizer_config.json"),
                &self.tokenizer_config,
                &mut written,
            )?;
            write(
                out.join("special_tokens_map.json"),
                &self.special_tokens_map,
                &mut written,
            )?;
        } else {
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            write(out.to_path_buf(), &self.tokenizer_json, &mut written)?;
        }
        Ok(written)
    }
}

struct Vocab {
    tokens: Vec<String>,
    scores: Option<Vec<f32>>,
    types: Vec<i64>,
}

fn read_vocab(f: &GgufFile, warnings: &mut Vec<String>) -> Result<Vocab, GgufError> {
    let key = "tokenizer.ggml.tokens";
    let v = f.require(key, "read the vocabulary")?;
    let mut tokens = match v.as_array() {
        Some(GgufArray::String(t)) => t.clone(),
        _ => return Err(f.wrong_type(key, v, "array<string>")),
    };
    let n = tokens.len();
    if n == 0 {
        return Err(GgufError::Unsupported {
            path: f.path.clone(),
            message: "the vocabulary is empty".into(),
        });
    }
    let scores = match f.get("tokenizer.ggml.scores") {
        None => None,
        Some(v) => {
            let s = v
                .as_array()
                .and_then(GgufArray::as_f32_vec)
                .ok_or_else(|| f.wrong_type("tokenizer.ggml.scores", v, "array<f32>"))?;
            if s.len() != n {
                return Err(GgufError::Unsupported {
                    path: f.path.clone(),
                    message: format!(
                        "tokenizer.ggml.scores has {} entries but there are {n} tokens",
                        s.len()
                    ),
                });
            }
            Some(s)
        }
    };
    let types = match f.get("tokenizer.ggml.token_type") {
        None => vec![TT_NORMAL; n],
        Some(v) => {
            let t = v
                .as_array()
                .and_then(GgufArray::as_i64_vec)
                .ok_or_else(|| f.wrong_type("tokenizer.ggml.token_type", v, "array<i32>"))?;
            if t.len() != n {
                return Err(GgufError::Unsupported {
                    path: f.path.clone(),
                    message: format!(
                        "tokenizer.ggml.token_type has {} entries but there are {n} tokens",
                        t.len()
                    ),
                });
            }
            t
        }
    };
    // llama.cpp names empty pieces "[EMPTY_<id>]"; duplicates resolve to the last id in its text→token map.
    let mut last: HashMap<String, usize> = HashMap::with_capacity(n);
    for (i, t) in tokens.iter_mut().enumerate() {
        if t.is_empty() {
            *t = format!("[EMPTY_{i}]");
        }
        last.insert(t.clone(), i);
    }
    let mut renamed = 0usize;
    for i in 0..n {
        if last.get(&tokens[i]).is_some_and(|&j| j != i) {
            let new = format!("[DUPLICATE_{i}]");
            if renamed < 5 {
                warnings.push(format!(
                    "token {i} {:?} duplicates token {}; llama.cpp maps the text to the later id, so token {i} is \
                     renamed {new:?} in tokenizer.json (it can still be decoded by id only under the new name)",
                    tokens[i],
                    last[&tokens[i]]
                ));
            }
            renamed += 1;
            tokens[i] = new;
        }
    }
    if renamed > 5 {
        warnings.push(format!("{} more duplicate tokens renamed", renamed - 5));
    }
    Ok(Vocab {
        tokens,
        scores,
        types,
    })
}

fn special_id(f: &GgufFile, key: &str, n: usize, warnings: &mut Vec<String>) -> Option<u32> {
    let id = f.get_i64(key)?;
    if id < 0 || id as usize >= n {
        // llama.cpp treats -1 (and out-of-range ids) as "none".
        if id != -1 {
            warnings.push(format!(
                "{key} = {id} is outside the vocabulary of {n} tokens; ignored"
            ));
        }
        return None;
    }
    Some(id as u32)
}

/// Pre-tokenizer regexes llama.cpp applies for `tokenizer.ggml.pre` (BPE vocabularies), in order, plus
/// whether llama.cpp ignores merges for whole-word matches and adds BOS by default.
fn bpe_pre(pre: &str) -> Option<(Vec<&'static str>, bool, bool)> {
    const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
    const LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    Some(match pre {
        "default" => (
            vec![r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
            false,
            false,
        ),
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0"
        | "lfm2" => (vec![LLAMA3], true, true),
        "dbrx" | "smaug-bpe" => (vec![LLAMA3], false, false),
        "chatglm-bpe" => (vec![LLAMA3], false, false),
        "gpt-2" | "phi-2" | "jina-es" | "jina-de" | "jina-v2-es" | "jina-v2-de"
        | "jina-v2-code" | "mpt" | "olmo" | "jais" | "trillion" => (vec![GPT2], false, false),
        "qwen2" | "stablelm2" | "hunyuan" => (vec![QWEN2], false, false),
        "starcoder" | "refact" | "command-r" | "smollm" | "codeshell" | "exaone" | "minerva-7b" => {
            (vec![r"\p{N}", GPT2], false, false)
        }
        "falcon" => (
            vec![r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"],
            false,
            false,
        ),
        "deepseek-coder" => (
            vec![
                "[\r\n]",
                r"\s?\p{L}+",
                r"\s?\p{P}+",
                "[一-龥ࠀ-一가-퟿]+",
                r"\p{N}",
            ],
            false,
            false,
        ),
        "poro-chat" | "bloom" | "gpt3-finnish" => {
            (vec![r" ?[^(\s|.,!?…。，、।۔،)]+"], false, false)
        }
        _ => return None,
    })
}

/// Convert the GGUF's vocabulary (see the module docs).
pub fn export_tokenizer(f: &GgufFile) -> Result<ExportedTokenizer, GgufError> {
    let mut warnings = Vec::new();
    let model = model_name(f)?;
    let vocab = read_vocab(f, &mut warnings)?;
    let n = vocab.tokens.len();
    let pre = f.get_str("tokenizer.ggml.pre").map(str::to_string);
    let mut specials = Specials::read(f, n, &mut warnings);
    let pipeline = match model.as_str() {
        "llama" => spm_pipeline(f, &vocab, specials.unk, &mut warnings)?,
        "gpt2" => byte_level_pipeline(f, &vocab, pre.as_deref())?,
        other => {
            return Err(GgufError::Unsupported {
                path: f.path.clone(),
                message: format!(
                    "tokenizer.ggml.model = {other:?} is not supported (supported: \"llama\" = SentencePiece BPE, \
                     \"gpt2\" = byte-level BPE)"
                ),
            })
        }
    };
    specials.add_bos = f
        .get_bool("tokenizer.ggml.add_bos_token")
        .unwrap_or(pipeline.default_add_bos)
        && specials.bos.is_some();
    specials.add_eos =
        f.get_bool("tokenizer.ggml.add_eos_token").unwrap_or(false) && specials.eos.is_some();

    let (added, added_decoder) = added_tokens(&vocab, &specials);
    let unused = vocab.types.iter().filter(|&&t| t == TT_UNUSED).count();
    if unused > 0 {
        warnings.push(format!("{unused} tokens are marked unused; they stay in the vocabulary as llama.cpp keeps them"));
    }

    let tokenizer_json = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": pipeline.normalizer,
        "pre_tokenizer": pipeline.pre_tokenizer,
        "post_processor": post_processor(&vocab.tokens, &specials),
        "decoder": pipeline.decoder,
        "model": pipeline.model,
    });
    let config = tokenizer_config(f, &vocab.tokens, &specials, added_decoder, &model, &pre);
    let stm = special_tokens_map(&vocab.tokens, &specials);

    let named = |id: Option<u32>| id.map(|b| (b, vocab.tokens[b as usize].clone()));
    let summary = ExportSummary {
        source: f.path.clone(),
        model: model.clone(),
        pre,
        vocab_size: n,
        merges: pipeline.merges,
        bos: named(specials.bos),
        eos: named(specials.eos),
        unk: named(specials.unk),
        pad: named(specials.pad),
        add_bos: specials.add_bos,
        add_eos: specials.add_eos,
        add_space_prefix: pipeline.add_space_prefix,
        added_tokens: tokenizer_json["added_tokens"]
            .as_array()
            .map_or(0, Vec::len),
        warnings,
    };
    Ok(ExportedTokenizer {
        tokenizer_json,
        tokenizer_config: Value::Object(config),
        special_tokens_map: Value::Object(stm),
        summary,
    })
}

/// `tokenizer.ggml.model`: which tokenizer the model uses.
fn model_name(f: &GgufFile) -> Result<String, GgufError> {
    Ok(f.require(
        "tokenizer.ggml.model",
        "know which tokenizer the model uses",
    )?
    .as_str()
    .ok_or_else(|| {
        let v = f
            .get("tokenizer.ggml.model")
            .cloned()
            .unwrap_or(GgufValue::Bool(false));
        f.wrong_type("tokenizer.ggml.model", &v, "string")
    })?
    .to_string())
}

/// The special tokens the GGUF names, and whether BOS / EOS are added to every encoding.
struct Specials {
    bos: Option<u32>,
    eos: Option<u32>,
    unk: Option<u32>,
    pad: Option<u32>,
    add_bos: bool,
    add_eos: bool,
}

impl Specials {
    /// The ids of `tokenizer.ggml.{bos,eos,unknown,padding}_token_id` (adding neither BOS nor EOS yet).
    fn read(f: &GgufFile, n: usize, warnings: &mut Vec<String>) -> Specials {
        Specials {
            bos: special_id(f, "tokenizer.ggml.bos_token_id", n, warnings),
            eos: special_id(f, "tokenizer.ggml.eos_token_id", n, warnings),
            unk: special_id(f, "tokenizer.ggml.unknown_token_id", n, warnings),
            pad: special_id(f, "tokenizer.ggml.padding_token_id", n, warnings),
            add_bos: false,
            add_eos: false,
        }
    }

    /// `(transformers' key, token)` of each special token, in the order the configs list them.
    fn named(&self, tokens: &[String]) -> [(&'static str, Option<String>); 4] {
        let name = |id: Option<u32>| id.map(|i| tokens[i as usize].clone());
        [
            ("bos_token", name(self.bos)),
            ("eos_token", name(self.eos)),
            ("unk_token", name(self.unk)),
            ("pad_token", name(self.pad)),
        ]
    }
}

/// The model, normalizer, pre-tokenizer and decoder of `tokenizer.json`, with what the summary reports.
struct Pipeline {
    model: Value,
    normalizer: Value,
    pre_tokenizer: Value,
    decoder: Value,
    /// Whether llama.cpp adds BOS when `tokenizer.ggml.add_bos_token` is absent.
    default_add_bos: bool,
    add_space_prefix: bool,
    merges: usize,
}

/// `tokenizer.ggml.model = "llama"`: SentencePiece BPE with merges derived from the piece scores.
fn spm_pipeline(
    f: &GgufFile,
    vocab: &Vocab,
    unk: Option<u32>,
    warnings: &mut Vec<String>,
) -> Result<Pipeline, GgufError> {
    let scores = vocab
        .scores
        .as_deref()
        .ok_or_else(|| GgufError::MissingKey {
            path: f.path.clone(),
            key: "tokenizer.ggml.scores".into(),
            why: "derive the merges of a SentencePiece (\"llama\") vocabulary".into(),
        })?;
    let merges = spm_merges(&vocab.tokens, scores);
    let add_space_prefix = f
        .get_bool("tokenizer.ggml.add_space_prefix")
        .unwrap_or(true);
    let unk_token = unk.map(|u| vocab.tokens[u as usize].clone());
    let has_bytes = vocab.types.contains(&TT_BYTE);
    if !has_bytes {
        warnings.push(
            "the vocabulary has no byte tokens (<0x00>…<0xFF>); characters outside the vocabulary \
             become the unknown token"
                .into(),
        );
    }
    let n_merges = merges.len();
    let model = json!({
        "type": "BPE",
        "dropout": null,
        "unk_token": unk_token,
        "continuing_subword_prefix": null,
        "end_of_word_suffix": null,
        "fuse_unk": true,
        "byte_fallback": has_bytes,
        "ignore_merges": false,
        "vocab": vocab_json(&vocab.tokens),
        "merges": merges.into_iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
    });
    let mut norms = Vec::new();
    if add_space_prefix {
        norms.push(json!({"type": "Prepend", "prepend": "▁"}));
    }
    norms.push(json!({"type": "Replace", "pattern": {"String": " "}, "content": "▁"}));
    let mut decs = vec![
        json!({"type": "Replace", "pattern": {"String": "▁"}, "content": " "}),
        json!({"type": "ByteFallback"}),
        json!({"type": "Fuse"}),
    ];
    if add_space_prefix {
        decs.push(json!({"type": "Strip", "content": " ", "start": 1, "stop": 0}));
    }
    Ok(Pipeline {
        model,
        normalizer: json!({"type": "Sequence", "normalizers": norms}),
        pre_tokenizer: Value::Null,
        decoder: json!({"type": "Sequence", "decoders": decs}),
        default_add_bos: true,
        add_space_prefix,
        merges: n_merges,
    })
}

/// `tokenizer.ggml.model = "gpt2"`: byte-level BPE with the GGUF's merges and the pre-tokenizer regexes
/// llama.cpp uses for `tokenizer.ggml.pre` (`pre`, default "default").
fn byte_level_pipeline(
    f: &GgufFile,
    vocab: &Vocab,
    pre: Option<&str>,
) -> Result<Pipeline, GgufError> {
    let merges = byte_level_merges(f)?;
    let pre_name = pre.unwrap_or("default");
    let (regexes, ignore_merges, pre_add_bos) =
        bpe_pre(pre_name).ok_or_else(|| GgufError::Unsupported {
            path: f.path.clone(),
            message: format!(
                "tokenizer.ggml.pre = {pre_name:?} is not supported by the exporter (supported: default, \
                 llama3/llama-bpe, qwen2, gpt-2, starcoder, falcon, deepseek-coder, dbrx, smaug-bpe, \
                 command-r, smollm, bloom, …); exporting with a different pre-tokenizer would tokenize \
                 differently from llama.cpp"
            ),
        })?;
    let mut pres: Vec<Value> = regexes
        .iter()
        .map(|r| json!({"type": "Split", "pattern": {"Regex": r}, "behavior": "Isolated", "invert": false}))
        .collect();
    pres.push(json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}));
    let n_merges = merges.len();
    let model = json!({
        "type": "BPE",
        "dropout": null,
        "unk_token": null,
        "continuing_subword_prefix": null,
        "end_of_word_suffix": null,
        "fuse_unk": false,
        "byte_fallback": false,
        "ignore_merges": ignore_merges,
        "vocab": vocab_json(&vocab.tokens),
        "merges": merges,
    });
    Ok(Pipeline {
        model,
        normalizer: Value::Null,
        pre_tokenizer: json!({"type": "Sequence", "pretokenizers": pres}),
        decoder: json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
        default_add_bos: pre_add_bos,
        add_space_prefix: false,
        merges: n_merges,
    })
}

/// `tokenizer.ggml.merges` as `[left, right]` pairs.
fn byte_level_merges(f: &GgufFile) -> Result<Vec<Value>, GgufError> {
    let key = "tokenizer.ggml.merges";
    let mv = f.require(key, "build a byte-level BPE tokenizer")?;
    let raw = match mv.as_array() {
        Some(GgufArray::String(m)) => m,
        _ => return Err(f.wrong_type(key, mv, "array<string>")),
    };
    let mut merges = Vec::with_capacity(raw.len());
    for (i, m) in raw.iter().enumerate() {
        let (a, b) = m.split_once(' ').ok_or_else(|| GgufError::Unsupported {
            path: f.path.clone(),
            message: format!("merge #{i} {m:?} is not two pieces separated by a space"),
        })?;
        merges.push(json!([a, b]));
    }
    Ok(merges)
}

/// Added tokens: control and unknown tokens (special) and user-defined ones (matched in raw text, as
/// llama.cpp partitions them even without special parsing). Returns `tokenizer.json`'s `added_tokens` and
/// `tokenizer_config.json`'s `added_tokens_decoder`.
fn added_tokens(vocab: &Vocab, specials: &Specials) -> (Vec<Value>, Map<String, Value>) {
    let mut added = Vec::new();
    let mut added_decoder = Map::new();
    let named = [specials.bos, specials.eos, specials.unk, specials.pad];
    for (i, (tok, &ty)) in vocab.tokens.iter().zip(&vocab.types).enumerate() {
        let is_named_special = named.contains(&Some(i as u32));
        let special =
            matches!(ty, TT_CONTROL | TT_UNKNOWN) || (is_named_special && ty != TT_USER_DEFINED);
        if !(special || ty == TT_USER_DEFINED) {
            continue;
        }
        let entry = json!({
            "id": i, "content": tok, "single_word": false, "lstrip": false, "rstrip": false,
            "normalized": false, "special": special,
        });
        added_decoder.insert(
            i.to_string(),
            json!({"content": tok, "lstrip": false, "normalized": false, "rstrip": false,
                   "single_word": false, "special": special}),
        );
        added.push(entry);
    }
    (added, added_decoder)
}

/// A `TemplateProcessing` post-processor adding BOS and/or EOS (null when neither is added).
fn post_processor(tokens: &[String], specials: &Specials) -> Value {
    let (add_bos, add_eos) = (specials.add_bos, specials.add_eos);
    let (bos, eos) = (specials.bos, specials.eos);
    if !(add_bos || add_eos) {
        return Value::Null;
    }
    let mut single = Vec::new();
    let mut pair = Vec::new();
    let mut special_tokens = Map::new();
    if let (true, Some(b)) = (add_bos, bos) {
        let t = &tokens[b as usize];
        single.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
        special_tokens.insert(t.clone(), json!({"id": t, "ids": [b], "tokens": [t]}));
    }
    single.push(json!({"Sequence": {"id": "A", "type_id": 0}}));
    pair.push(json!({"Sequence": {"id": "A", "type_id": 0}}));
    if let (true, Some(e)) = (add_eos, eos) {
        let t = &tokens[e as usize];
        single.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
        special_tokens.insert(t.clone(), json!({"id": t, "ids": [e], "tokens": [t]}));
    }
    if let (true, Some(b)) = (add_bos, bos) {
        let t = &tokens[b as usize];
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 1}}));
    }
    pair.push(json!({"Sequence": {"id": "B", "type_id": 1}}));
    if let (true, Some(e)) = (add_eos, eos) {
        let t = &tokens[e as usize];
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 1}}));
    }
    json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": special_tokens})
}

/// `tokenizer_config.json`: a `PreTrainedTokenizerFast` that adds and parses special tokens as llama.cpp
/// does, with the special tokens, `added_tokens_decoder`, the chat template and where it came from.
fn tokenizer_config(
    f: &GgufFile,
    tokens: &[String],
    specials: &Specials,
    added_decoder: Map<String, Value>,
    model: &str,
    pre: &Option<String>,
) -> Map<String, Value> {
    let arch = f.get_str("general.architecture").unwrap_or("llama");
    let ctx_len = f.get_i64(&format!("{arch}.context_length"));
    let mut config = Map::new();
    config.insert("tokenizer_class".into(), json!("PreTrainedTokenizerFast"));
    config.insert("add_bos_token".into(), json!(specials.add_bos));
    config.insert("add_eos_token".into(), json!(specials.add_eos));
    config.insert("legacy".into(), json!(true));
    config.insert("clean_up_tokenization_spaces".into(), json!(false));
    // llama.cpp tokenizes without parsing special tokens (`parse_special = false`): the literal text "<s>" is
    // text, not BOS. transformers does the same with split_special_tokens.
    config.insert("split_special_tokens".into(), json!(true));
    for (k, v) in specials.named(tokens) {
        config.insert(k.into(), v.map(Value::String).unwrap_or(Value::Null));
    }
    if let Some(c) = ctx_len {
        config.insert("model_max_length".into(), json!(c));
    }
    config.insert("added_tokens_decoder".into(), Value::Object(added_decoder));
    if let Some(t) = f.get_str("tokenizer.chat_template") {
        config.insert("chat_template".into(), json!(t));
    }
    config.insert(
        "yardstick_export".into(),
        json!({"source": f.path.file_name().map(|s| s.to_string_lossy().into_owned()),
               "tokenizer.ggml.model": model, "tokenizer.ggml.pre": pre}),
    );
    config
}

/// `special_tokens_map.json`: the special tokens the GGUF names.
fn special_tokens_map(tokens: &[String], specials: &Specials) -> Map<String, Value> {
    let mut stm = Map::new();
    for (k, v) in specials.named(tokens) {
        if let Some(v) = v {
            stm.insert(k.into(), json!(v));
        }
    }
    stm
}

fn vocab_json(tokens: &[String]) -> Value {
    let mut m = Map::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        m.insert(t.clone(), json!(i));
    }
    Value::Object(m)
}

/// Merges of a SentencePiece BPE vocabulary: for every piece (in id order), every split into two pieces
/// that are both in the vocabulary (ordered by the ids of the left then the right part), all ranked by the
/// piece's score, highest first; equal scores keep that order (a stable sort).
pub(crate) fn spm_merges(tokens: &[String], scores: &[f32]) -> Vec<(String, String)> {
    let index: HashMap<&str, usize> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut merges: Vec<(usize, usize, f32)> = Vec::new();
    let mut local: Vec<(usize, usize)> = Vec::new();
    for (piece, &score) in tokens.iter().zip(scores) {
        local.clear();
        for (pos, _) in piece.char_indices().skip(1) {
            let (l, r) = piece.split_at(pos);
            if let (Some(&li), Some(&ri)) = (index.get(l), index.get(r)) {
                local.push((li, ri));
            }
        }
        local.sort_unstable();
        merges.extend(local.iter().map(|&(l, r)| (l, r, score)));
    }
    // Stable sort, highest score first (NaN scores sort last).
    merges.sort_by(|a, b| {
        b.2.partial_cmp(&a.2)
            .unwrap_or_else(|| a.2.is_nan().cmp(&b.2.is_nan()))
    });
    merges
        .into_iter()
        .map(|(l, r, _)| (tokens[l].clone(), tokens[r].clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::Writer;
    use super::*;

    fn tiny_spm() -> Vec<u8> {
        // <unk> <s> </s> + 256 bytes + pieces
        let mut toks: Vec<String> = vec!["<unk>".into(), "<s>".into(), "</s>".into()];
        let mut types = vec![2, 3, 3];
        let mut scores = vec![0.0f32; 3];
        for b in 0..=255u8 {
            toks.push(format!("<0x{b:02X}>"));
            types.push(6);
            scores.push(0.0);
        }
        for (p, s) in [
            ("▁", -1e9),
            ("a", -10.0),
            ("b", -11.0),
            ("c", -12.0),
            ("▁a", -1.0),
            ("ab", -2.0),
            ("▁ab", -0.5),
            ("bc", -3.0),
            ("▁▁", -1e9),
        ] {
            toks.push(p.into());
            types.push(1);
            scores.push(s);
        }
        let refs: Vec<&str> = toks.iter().map(String::as_str).collect();
        let mut w = Writer::new();
        w.string("general.architecture", "llama")
            .string("tokenizer.ggml.model", "llama")
            .strings("tokenizer.ggml.tokens", &refs)
            .f32s("tokenizer.ggml.scores", &scores)
            .i32s("tokenizer.ggml.token_type", &types)
            .u32("tokenizer.ggml.bos_token_id", 1)
            .u32("tokenizer.ggml.eos_token_id", 2)
            .u32("tokenizer.ggml.unknown_token_id", 0);
        w.bytes()
    }

    #[test]
    fn spm_merges_rank_by_score_then_vocab_order() {
        let toks: Vec<String> = ["a", "b", "c", "ab", "bc", "abc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let scores = [0.0, 0.0, 0.0, -2.0, -1.0, -3.0];
        let m = spm_merges(&toks, &scores);
        let m: Vec<(&str, &str)> = m.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(m, vec![("b", "c"), ("a", "b"), ("a", "bc"), ("ab", "c")]);
    }

    #[test]
    fn exports_a_small_spm_vocabulary_that_tokenizes_like_llama_cpp() {
        let bytes = tiny_spm();
        let f = GgufFile::parse(Path::new("tiny.gguf"), &bytes).expect("parse");
        let e = export_tokenizer(&f).expect("export");
        assert!(e.summary.add_bos);
        let tok = e.to_tokenizer().expect("tokenizers accepts the JSON");
        let id = |s: &str| tok.token_to_id(s).expect(s);
        // "ab" → "▁ab" (score -0.5 beats "▁a" + "b")
        let enc = tok.encode("ab", false).expect("encode");
        assert_eq!(enc.get_ids(), &[id("▁ab")]);
        // BOS with special tokens
        let enc = tok.encode("ab", true).expect("encode");
        assert_eq!(enc.get_ids(), &[1, id("▁ab")]);
        // unknown character → byte fallback (é = C3 A9)
        let enc = tok.encode("é", false).expect("encode");
        assert_eq!(enc.get_ids(), &[id("▁"), id("<0xC3>"), id("<0xA9>")]);
        // round trip through the decoder
        let enc = tok.encode("ab cé", false).expect("encode");
        assert_eq!(tok.decode(enc.get_ids(), true).expect("decode"), "ab cé");
        // empty text → no tokens (llama.cpp returns [] too)
        assert!(tok.encode("", false).expect("encode").get_ids().is_empty());
        assert_eq!(
            e.tokenizer_config["tokenizer_class"],
            "PreTrainedTokenizerFast"
        );
        assert_eq!(e.special_tokens_map["bos_token"], "<s>");
    }

    #[test]
    fn write_to_directory_writes_three_files() {
        let bytes = tiny_spm();
        let f = GgufFile::parse(Path::new("tiny.gguf"), &bytes).expect("parse");
        let e = export_tokenizer(&f).expect("export");
        let dir = std::env::temp_dir().join(format!("ys-export-{}", std::process::id()));
        let written = e.write(&dir).expect("write");
        assert_eq!(written.len(), 3);
        for p in &written {
            assert!(p.is_file());
        }
        let single = dir.join("only.json");
        let written = e.write(&single).expect("write");
        assert_eq!(written, vec![single.clone()]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unsupported_models_are_clear_errors() {
        let mut w = Writer::new();
        w.string("tokenizer.ggml.model", "bert")
            .strings("tokenizer.ggml.tokens", &["[CLS]"]);
        let f = GgufFile::parse(Path::new("b.gguf"), &w.bytes()).expect("parse");
        let err = export_tokenizer(&f).expect_err("bert");
        assert!(
            err.to_string().contains("\"bert\" is not supported"),
            "{err}"
        );
        let mut w = Writer::new();
        w.string("tokenizer.ggml.model", "gpt2")
            .string("tokenizer.ggml.pre", "made-up")
            .strings("tokenizer.ggml.tokens", &["a", "b", "ab"])
            .strings("tokenizer.ggml.merges", &["a b"]);
        let f = GgufFile::parse(Path::new("g.gguf"), &w.bytes()).expect("parse");
        let err = export_tokenizer(&f).expect_err("pre");
        assert!(
            err.to_string().contains("\"made-up\" is not supported"),
            "{err}"
        );
    }

    #[test]
    fn gpt2_vocabulary_exports_byte_level_bpe() {
        // byte-level alphabet for printable ASCII is the identity; 'Ġ' is the space.
        let mut toks: Vec<String> = (b'!'..=b'~').map(|c| (c as char).to_string()).collect();
        toks.push("Ġ".into());
        toks.push("Ġh".into());
        toks.push("Ġhi".into());
        toks.push("<|endoftext|>".into());
        let refs: Vec<&str> = toks.iter().map(String::as_str).collect();
        let mut types = vec![1i32; toks.len()];
        *types.last_mut().expect("nonempty") = 3;
        let mut w = Writer::new();
        w.string("tokenizer.ggml.model", "gpt2")
            .string("tokenizer.ggml.pre", "gpt-2")
            .strings("tokenizer.ggml.tokens", &refs)
            .i32s("tokenizer.ggml.token_type", &types)
            .strings("tokenizer.ggml.merges", &["Ġ h", "Ġh i"])
            .u32("tokenizer.ggml.bos_token_id", (toks.len() - 1) as u32)
            .u32("tokenizer.ggml.eos_token_id", (toks.len() - 1) as u32);
        let f = GgufFile::parse(Path::new("g.gguf"), &w.bytes()).expect("parse");
        let e = export_tokenizer(&f).expect("export");
        assert!(!e.summary.add_bos);
        let tok = e.to_tokenizer().expect("tokenizers accepts the JSON");
        let enc = tok.encode("a hi", false).expect("encode");
        let pieces: Vec<&str> = enc
            .get_ids()
            .iter()
            .map(|&i| toks[i as usize].as_str())
            .collect();
        assert_eq!(pieces, vec!["a", "Ġhi"]);
        assert_eq!(tok.decode(enc.get_ids(), false).expect("decode"), "a hi");
    }
}
