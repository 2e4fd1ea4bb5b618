//! Records the git revision of the source being built (YARDSTICK_GIT_REV), stored with every run: the
//! commit, with `-dirty` when the files the binary is built from differ from it.
//!
//! The script reruns only when its answer can change: when the revision moves (HEAD, the branch ref it
//! points to, packed-refs) or when one of the binary's inputs changes (each crate's files but its
//! tests, benches and examples; the workspace manifest and lock file). It does not watch `.git/index`,
//! which any `git status` rewrites (a fresh clone's first one would otherwise make the next build
//! recompile the binary), and it asks git with `--no-optional-locks` so that it does not rewrite the
//! index either. Untracked files among the inputs (a new module not yet added) count as dirty.
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root, relative to this package (crates/yardstick).
const ROOT: &str = "../..";

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git")
        .arg("--no-optional-locks")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A file of the git directory (`git rev-parse --git-path`, which resolves a worktree's HEAD to its own
/// directory and refs to the shared one), absolute.
fn git_path(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(git(&["rev-parse", "--git-path", name])?);
    Some(if p.is_absolute() {
        p
    } else {
        std::env::current_dir().ok()?.join(p)
    })
}

/// The files whose change can move HEAD's commit. A branch ref that is only in packed-refs gets a loose
/// file on the next commit, so then its directory is watched.
fn revision_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["HEAD", "packed-refs"]
        .iter()
        .filter_map(|n| git_path(n))
        .collect();
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git_path(&r)) {
        match (r.exists(), r.parent()) {
            (true, _) => files.push(r),
            (false, Some(dir)) => files.push(dir.to_path_buf()),
            (false, None) => {}
        }
    }
    // A path that does not exist makes cargo rerun the script on every build.
    files.retain(|p| p.exists());
    files
}

/// What the binary is built from, relative to the workspace root: each crate's files but its tests,
/// benches and examples, and the workspace's Cargo.toml and Cargo.lock.
fn source_paths() -> Vec<String> {
    let mut paths = vec!["Cargo.toml".to_string(), "Cargo.lock".to_string()];
    let crates = Path::new(ROOT).join("crates");
    let Ok(dirs) = std::fs::read_dir(&crates) else {
        return paths;
    };
    let mut crate_dirs: Vec<_> = dirs.flatten().filter(|e| e.path().is_dir()).collect();
    crate_dirs.sort_by_key(|e| e.file_name());
    for c in crate_dirs {
        let Ok(entries) = std::fs::read_dir(c.path()) else {
            continue;
        };
        let mut names: Vec<_> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !matches!(n.as_str(), "tests" | "benches" | "examples"))
            .collect();
        names.sort();
        let krate = c.file_name().to_string_lossy().into_owned();
        paths.extend(names.into_iter().map(|n| format!("crates/{krate}/{n}")));
    }
    paths
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let rev = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    if rev.is_empty() {
        // Not a git checkout (a source archive): no revision to record, nothing to watch.
        println!("cargo:rustc-env=YARDSTICK_GIT_REV=");
        return;
    }
    let sources = source_paths();
    let mut status = vec!["-C", ROOT, "status", "--porcelain", "--"];
    status.extend(sources.iter().map(String::as_str));
    // Unknown (git failed) counts as clean, as before.
    let dirty = git(&status).is_some_and(|s| !s.is_empty());
    let rev = if dirty { format!("{rev}-dirty") } else { rev };
    println!("cargo:rustc-env=YARDSTICK_GIT_REV={rev}");
    for f in revision_files() {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    for s in &sources {
        println!("cargo:rerun-if-changed={ROOT}/{s}");
    }
}
