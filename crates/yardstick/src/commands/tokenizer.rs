//! `yardstick tokenizer …`: export a GGUF's embedded vocabulary to a Hugging Face tokenizer.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use yardstick_backends::gguf::{export_tokenizer, GgufFile};
use yardstick_backends::probe::PROBE_TEXTS;
use yardstick_backends::{check_tokenizer_against_server, BackendError, Tokenizer};

#[derive(clap::Subcommand, Debug)]
pub enum TokenizerCommand {
    /// Export a GGUF's vocabulary as a Hugging Face tokenizer that tokenizes as llama.cpp does
    ///
    /// With `-o DIR` (or any path not ending in .json) the directory gets tokenizer.json,
    /// tokenizer_config.json and special_tokens_map.json, which `AutoTokenizer.from_pretrained(DIR)` loads
    /// (lm-evaluation-harness's `tokenizer=DIR`); with `-o FILE.json` only the tokenizer.json is written.
    Export {
        /// The GGUF model file
        model: PathBuf,
        /// Output tokenizer.json path, or a directory
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Compare the export with a server's /tokenize on sample texts (e.g. http://127.0.0.1:8080)
        #[arg(long = "check-against", value_name = "URL")]
        check_against: Option<String>,
        /// Extra texts for --check-against, one per line (e.g. benchmark prompts)
        #[arg(long = "check-texts", value_name = "FILE", requires = "check_against")]
        check_texts: Option<PathBuf>,
    },
}

pub fn run(cmd: TokenizerCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenizerCommand::Export {
            model,
            output,
            check_against,
            check_texts,
        } => export(model, output, check_against, check_texts),
    }
}

fn export(
    model: PathBuf,
    output: PathBuf,
    check_against: Option<String>,
    check_texts: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let gguf = GgufFile::open(&model)?;
    let exported = export_tokenizer(&gguf)?;
    let tok = exported
        .to_tokenizer()
        .map_err(|e| anyhow::anyhow!("the exported tokenizer.json does not load: {e}"))?;
    let written = exported
        .write(&output)
        .with_context(|| format!("writing {}", output.display()))?;
    let s = &exported.summary;
    let name = |t: &Option<(u32, String)>| {
        t.as_ref()
            .map_or("none".to_string(), |(i, n)| format!("{n:?} ({i})"))
    };
    eprintln!(
        "{}: {} vocabulary of {} tokens, {} merges{}",
        model.display(),
        match s.model.as_str() {
            "llama" => "SentencePiece BPE (\"llama\")",
            "gpt2" => "byte-level BPE (\"gpt2\")",
            other => other,
        },
        s.vocab_size,
        s.merges,
        s.pre
            .as_ref()
            .map_or(String::new(), |p| format!(", pre-tokenizer {p:?}"))
    );
    eprintln!(
        "special: bos {} eos {} unk {}; add_bos {} add_eos {}; {} added tokens",
        name(&s.bos),
        name(&s.eos),
        name(&s.unk),
        s.add_bos,
        s.add_eos,
        s.added_tokens
    );
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
    if let Ok(enc) = tok.encode("Hello world", false) {
        eprintln!("\"Hello world\" → {:?}", enc.get_ids());
    }
    for p in &written {
        println!("{}", p.display());
    }
    let Some(url) = check_against else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut texts: Vec<String> = PROBE_TEXTS.iter().map(|s| s.to_string()).collect();
    if let Some(f) = check_texts {
        let extra =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        texts.extend(
            extra
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| l.replace("\\n", "\n")),
        );
    }
    let local = Tokenizer::from_json_bytes(
        exported.tokenizer_json_string().as_bytes(),
        &exported.tokenizer_config,
        output.display().to_string(),
    )?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(check_tokenizer_against_server(&local, &url, &texts)) {
        Ok(n) => {
            eprintln!("agrees with {url}/tokenize on all {n} sample texts");
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ BackendError::TokenizerMismatch { .. }) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
