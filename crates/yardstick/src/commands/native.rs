//! `yardstick run --model ./model.gguf`: the in-process llama.cpp backend (feature `llama-cpp`, on by
//! default) instead of a server.

use super::run::RunArgs;
use clap::Args;
use std::sync::Arc;
use yardstick_backends::Backend;
use yardstick_engine::run::PreparedRun;

/// Options of a GGUF model evaluated in process (ignored for a server URL).
#[derive(Args, Debug, Clone, Default)]
pub struct NativeArgs {
    /// GGUF in process: CPU threads (default: all CPUs available to the process)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// GGUF in process: tokens per llama.cpp batch (default 512)
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// GGUF in process: layers offloaded to the GPU (a build with `--features cuda`)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub gpu_layers: u32,
    /// GGUF in process: evaluate every (context, continuation) from an empty cache as one prompt, as a
    /// server does, instead of sharing a question's context among its choices and the few-shot prefix
    /// among questions (slower; on the same llama.cpp build it gives the reference server's numbers
    /// exactly, where sharing differs by llama.cpp's batch-to-batch noise on quantised weights)
    #[arg(long)]
    pub no_prefix_sharing: bool,
}

/// Whether `--model` names a model file (a path ending in .gguf, an existing file, or an
/// `hf://ORG/REPO/FILE` on the Hugging Face hub) rather than a server URL.
pub fn is_model_file(model: &str) -> bool {
    model.starts_with("hf://") || yardstick_backends::native::is_gguf_path(model)
}

/// The local path of `--model`: the file itself, or an `hf://` file from the hub cache (downloaded first
/// when needed, with a progress bar unless `quiet`).
#[cfg(feature = "llama-cpp")]
async fn local_path(model: &str, quiet: bool) -> anyhow::Result<std::path::PathBuf> {
    use yardstick_backends::native::hub::{fetch, HubFile, HubOptions};
    let Some(parsed) = HubFile::parse(model) else {
        return Ok(std::path::PathBuf::from(model));
    };
    let file = parsed?;
    let bar = (!quiet).then(|| {
        let b = indicatif::ProgressBar::hidden();
        b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "downloading {msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.set_message(file.file.clone());
        b
    });
    let mut progress = |done: u64, total: Option<u64>| {
        if let Some(b) = &bar {
            if let Some(t) = total {
                b.set_length(t);
            }
            b.set_position(done);
        }
    };
    let path = fetch(&file, &HubOptions::from_env(), &mut progress).await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(path)
}

/// The native backend for `--model FILE.gguf`; None when `--model` is a server URL.
#[cfg(feature = "llama-cpp")]
pub async fn connect(
    args: &RunArgs,
    prepared: &PreparedRun,
) -> anyhow::Result<Option<Arc<dyn Backend>>> {
    use anyhow::Context;
    use yardstick_backends::native::{Layout, NativeBackend, NativeOptions};
    if !is_model_file(&args.model) {
        return Ok(None);
    }
    if args.native.gpu_layers > 0 && !cfg!(feature = "cuda") {
        anyhow::bail!(
            "--gpu-layers {}: this yardstick was built without GPU support; rebuild with `cargo build --release \
             --features cuda` (needs the CUDA toolkit) or drop --gpu-layers",
            args.native.gpu_layers
        );
    }
    let opts = NativeOptions {
        threads: args.native.threads,
        batch_size: args.native.batch_size,
        gpu_layers: args.native.gpu_layers,
        max_length: args.max_length,
        layout: if args.native.no_prefix_sharing {
            Layout::Whole
        } else {
            Layout::Shared
        },
        think_end_token: args.think_end_token.clone(),
        ..NativeOptions::default()
    };
    let path = local_path(&args.model, args.json || args.quiet).await?;
    let backend = NativeBackend::open(&path, opts, &prepared.probe_texts(8))
        .await
        .with_context(|| format!("loading {} into llama.cpp", path.display()))?;
    if !(args.json || args.quiet) {
        eprintln!("{}", backend.describe());
    }
    Ok(Some(Arc::new(backend)))
}

/// Without the `llama-cpp` feature a model file is refused with what to do.
#[cfg(not(feature = "llama-cpp"))]
pub async fn connect(
    args: &RunArgs,
    _prepared: &PreparedRun,
) -> anyhow::Result<Option<Arc<dyn Backend>>> {
    if !is_model_file(&args.model) {
        return Ok(None);
    }
    anyhow::bail!(
        "--model {}: evaluating a GGUF file in process needs the `llama-cpp` feature, which this build lacks; \
         rebuild with `cargo build --release` (it is on by default) or serve the model (scripts/serve-ref) and \
         pass its URL",
        args.model
    )
}
