//! Where the Hugging Face hub cache is: the one resolver every crate uses (datasets and tokenizers).
//!
//! `huggingface_hub` (`constants.py`) resolves, highest priority first:
//!
//! 1. `$HF_HUB_CACHE`
//! 2. `$HUGGINGFACE_HUB_CACHE` (the legacy name)
//! 3. `$HF_HOME/hub`
//! 4. `$XDG_CACHE_HOME/huggingface/hub`
//! 5. `~/.cache/huggingface/hub`
//!
//! with `~` expanded in each and empty variables ignored. An explicit Hugging Face home (a command-line
//! option such as `DataOptions::hf_home`) comes before all of them: `<home>/hub`.
//!
//! This module reads environment variables and touches no file.

use std::path::{Path, PathBuf};

/// The hub cache directory `huggingface_hub` would use (see the module docs), `explicit_home/hub` when
/// an explicit home is given.
pub fn hub_cache_dir(explicit_home: Option<&Path>) -> PathBuf {
    hub_cache_dirs(explicit_home)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Every hub cache directory the settings name, in priority order, without repeats: the first is
/// [`hub_cache_dir`]; the others are where to look next when a lookup may fall back (a model cached
/// under `HF_HOME` while `HF_HUB_CACHE` points elsewhere).
pub fn hub_cache_dirs(explicit_home: Option<&Path>) -> Vec<PathBuf> {
    candidates(explicit_home, &process_env)
}

fn process_env(key: &str) -> Option<String> {
    std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
}

/// The candidates for the environment `env` gives.
fn candidates(explicit_home: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let home = env("HOME").filter(|h| !h.is_empty());
    let var = |key: &str| {
        env(key)
            .filter(|v| !v.is_empty())
            .map(|v| expand_user(&v, home.as_deref()))
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(h) = explicit_home {
        dirs.push(h.join("hub"));
    }
    dirs.extend(var("HF_HUB_CACHE"));
    dirs.extend(var("HUGGINGFACE_HUB_CACHE"));
    dirs.extend(var("HF_HOME").map(|h| h.join("hub")));
    dirs.extend(var("XDG_CACHE_HOME").map(|x| x.join("huggingface").join("hub")));
    dirs.push(
        PathBuf::from(home.as_deref().unwrap_or("."))
            .join(".cache")
            .join("huggingface")
            .join("hub"),
    );
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// Python's `os.path.expanduser` for `~` and `~/…` (`~user` is left alone).
fn expand_user(value: &str, home: Option<&str>) -> PathBuf {
    match (value.strip_prefix('~'), home) {
        (Some(""), Some(h)) => PathBuf::from(h),
        (Some(rest), Some(h)) if rest.starts_with('/') => {
            PathBuf::from(h).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(explicit: Option<&str>, vars: &[(&str, &str)]) -> Vec<String> {
        let env = |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        candidates(explicit.map(Path::new), &env)
            .into_iter()
            .map(|p| p.display().to_string())
            .collect()
    }

    #[test]
    fn huggingface_hub_order() {
        let all = [
            ("HF_HUB_CACHE", "/a"),
            ("HUGGINGFACE_HUB_CACHE", "/b"),
            ("HF_HOME", "/c"),
            ("XDG_CACHE_HOME", "/d"),
            ("HOME", "/e"),
        ];
        assert_eq!(
            dirs(None, &all),
            [
                "/a",
                "/b",
                "/c/hub",
                "/d/huggingface/hub",
                "/e/.cache/huggingface/hub"
            ]
        );
        // HF_HUB_CACHE wins over HF_HOME; an explicit home over everything.
        assert_eq!(dirs(None, &all[2..])[0], "/c/hub");
        assert_eq!(dirs(None, &all[3..])[0], "/d/huggingface/hub");
        assert_eq!(dirs(None, &all[4..]), ["/e/.cache/huggingface/hub"]);
        assert_eq!(dirs(Some("/x"), &all)[0], "/x/hub");
    }

    #[test]
    fn empty_values_ignored_tilde_expanded_repeats_dropped() {
        let vars = [
            ("HF_HUB_CACHE", ""),
            ("HUGGINGFACE_HUB_CACHE", "~/hub"),
            ("HF_HOME", "~"),
            ("HOME", "/home/u"),
        ];
        assert_eq!(
            dirs(None, &vars),
            ["/home/u/hub", "/home/u/.cache/huggingface/hub"]
        );
        assert_eq!(dirs(None, &[]), ["./.cache/huggingface/hub"]);
    }
}
