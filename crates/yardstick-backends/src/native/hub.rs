//! `--model hf://ORG/REPO/FILE.gguf`: a model file from the Hugging Face hub, kept in the hub cache in the
//! layout `huggingface_hub` uses (so either tool finds what the other downloaded):
//!
//! ```text
//! <cache>/models--ORG--REPO/blobs/<etag>                  the file's bytes (etag = sha256 for LFS files)
//! <cache>/models--ORG--REPO/snapshots/<commit>/<FILE>     a relative symlink to the blob
//! <cache>/models--ORG--REPO/refs/<revision>               the commit the revision named
//! ```
//!
//! A download goes to `blobs/<etag>.incomplete` and resumes from its length with an HTTP `Range` request;
//! the finished file is checked against the hub's `X-Linked-Size` and (LFS) sha256 `X-Linked-Etag` before
//! it becomes the blob. With `HF_HUB_OFFLINE=1`, or when the hub cannot be reached, the cached snapshot is
//! used.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A file on the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubFile {
    /// `ORG/REPO`.
    pub repo: String,
    /// The path inside the repository.
    pub file: String,
    /// Branch, tag or commit (default `main`).
    pub revision: String,
}

/// Why a hub file could not be had.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{0:?} is not a hub file reference; write hf://ORG/REPO/FILE.gguf (or hf://ORG/REPO@REVISION/FILE.gguf)")]
    BadReference(String),
    #[error(
        "{what} is not in the Hugging Face cache at {looked} and {why}; download it once with network access \
         (unset HF_HUB_OFFLINE)"
    )]
    NotCached {
        what: String,
        looked: String,
        why: String,
    },
    #[error("{url} answered HTTP {status}{hint}")]
    Http {
        url: String,
        status: u16,
        hint: String,
    },
    #[error("cannot reach {url}: {cause}")]
    Network { url: String, cause: String },
    #[error("{url}: the hub did not say which commit or file version this is (no X-Repo-Commit / ETag header)")]
    MissingHeaders { url: String },
    #[error(
        "the download of {url} is {got} bytes but the hub says {want}; the partial file was removed, run again \
         to download it afresh"
    )]
    Size { url: String, got: u64, want: u64 },
    #[error(
        "the download of {url} has sha256 {got} but the hub says {want}; the damaged file was removed, run again \
         to download it afresh"
    )]
    Checksum {
        url: String,
        got: String,
        want: String,
    },
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HubError + '_ {
    move |cause| HubError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

impl HubFile {
    /// `hf://ORG/REPO[@REV]/PATH` → Some(parsed); None for anything that does not start with `hf://`.
    pub fn parse(s: &str) -> Option<Result<HubFile, HubError>> {
        let rest = s.strip_prefix("hf://")?;
        let bad = || HubError::BadReference(s.to_string());
        let mut parts = rest.splitn(3, '/');
        let (Some(org), Some(repo_rev), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            return Some(Err(bad()));
        };
        let (repo, revision) = match repo_rev.split_once('@') {
            Some((r, rev)) => (r, rev),
            None => (repo_rev, "main"),
        };
        let ok = |x: &str| !x.is_empty() && !x.contains("..") && !x.starts_with('/');
        if ![org, repo, revision, file].iter().all(|x| ok(x)) || file.ends_with('/') {
            return Some(Err(bad()));
        }
        Some(Ok(HubFile {
            repo: format!("{org}/{repo}"),
            file: file.to_string(),
            revision: revision.to_string(),
        }))
    }
}

/// Where and how to fetch.
#[derive(Clone, Debug)]
pub struct HubOptions {
    /// `$HF_ENDPOINT`, default `https://huggingface.co`.
    pub endpoint: String,
    /// The hub cache directory ([`yardstick_core::hf_cache::hub_cache_dir`]).
    pub cache: PathBuf,
    /// `$HF_HUB_OFFLINE` set to 1/true/yes/on.
    pub offline: bool,
    /// `$HF_TOKEN`, sent as a bearer token.
    pub token: Option<String>,
}

impl HubOptions {
    pub fn from_env() -> HubOptions {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        HubOptions {
            endpoint: var("HF_ENDPOINT").unwrap_or_else(|| "https://huggingface.co".into()),
            cache: yardstick_core::hf_cache::hub_cache_dir(None),
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            }),
            token: var("HF_TOKEN"),
        }
    }
}

/// What the hub said about the file.
struct Remote {
    commit: String,
    etag: String,
    size: Option<u64>,
    download_url: String,
}

fn repo_dir(o: &HubOptions, f: &HubFile) -> PathBuf {
    o.cache
        .join(format!("models--{}", f.repo.replace('/', "--")))
}

fn is_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The cached snapshot of `f`, when there is one.
fn cached(o: &HubOptions, f: &HubFile) -> Option<PathBuf> {
    let dir = repo_dir(o, f);
    let commit = if is_commit(&f.revision) {
        f.revision.clone()
    } else {
        std::fs::read_to_string(dir.join("refs").join(&f.revision))
            .ok()?
            .trim()
            .to_string()
    };
    let p = dir.join("snapshots").join(commit).join(&f.file);
    p.is_file().then_some(p)
}

fn header(h: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    h.get(name)?.to_str().ok().map(str::to_string)
}

fn clean_etag(e: &str) -> String {
    e.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_string()
}

/// The file's path in the cache, downloading it first when needed. `progress(done, total)` is called as
/// bytes arrive.
pub async fn fetch(
    f: &HubFile,
    o: &HubOptions,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<PathBuf, HubError> {
    let what = format!("hf://{}@{}/{}", f.repo, f.revision, f.file);
    let looked = repo_dir(o, f).display().to_string();
    if o.offline {
        return cached(o, f).ok_or(HubError::NotCached {
            what,
            looked,
            why: "HF_HUB_OFFLINE is set".into(),
        });
    }
    let url = format!(
        "{}/{}/resolve/{}/{}",
        o.endpoint.trim_end_matches('/'),
        f.repo,
        f.revision,
        f.file
    );
    let remote = match head(&url, o).await {
        Ok(r) => r,
        // Like huggingface_hub: an unreachable hub falls back to the cache.
        Err(HubError::Network { url, cause }) => {
            return cached(o, f).ok_or(HubError::NotCached {
                what,
                looked,
                why: format!("the hub is unreachable ({url}: {cause})"),
            })
        }
        Err(e) => return Err(e),
    };
    let dir = repo_dir(o, f);
    let blobs = dir.join("blobs");
    std::fs::create_dir_all(&blobs).map_err(io(&blobs))?;
    let blob = blobs.join(&remote.etag);
    let complete = std::fs::metadata(&blob).is_ok_and(|m| remote.size.is_none_or(|s| m.len() == s));
    if !complete {
        download(&remote, &blob, o, progress).await?;
    }
    link(&dir, f, &remote, &blob)
}

async fn head(url: &str, o: &HubOptions) -> Result<Remote, HubError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HubError::Network {
            url: url.into(),
            cause: e.to_string(),
        })?;
    let mut req = client.head(url).header("Accept-Encoding", "identity");
    if let Some(t) = &o.token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| HubError::Network {
        url: url.into(),
        cause: e.to_string(),
    })?;
    let status = resp.status();
    if !(status.is_success() || status.is_redirection()) {
        let hint = match status.as_u16() {
            401 | 403 => "; the repository may be gated or private: set HF_TOKEN".to_string(),
            404 => "; check the organisation, repository, revision and file name".to_string(),
            _ => String::new(),
        };
        return Err(HubError::Http {
            url: url.into(),
            status: status.as_u16(),
            hint,
        });
    }
    let h = resp.headers();
    let commit = header(h, "x-repo-commit");
    let etag = header(h, "x-linked-etag").or_else(|| header(h, "etag"));
    let (Some(commit), Some(etag)) = (commit, etag) else {
        return Err(HubError::MissingHeaders { url: url.into() });
    };
    let size = header(h, "x-linked-size")
        .or_else(|| {
            status
                .is_success()
                .then(|| header(h, "content-length"))
                .flatten()
        })
        .and_then(|s| s.parse().ok());
    let download_url = match header(h, "location").filter(|_| status.is_redirection()) {
        Some(loc) => reqwest::Url::parse(url)
            .and_then(|base| base.join(&loc))
            .map(|u| u.to_string())
            .unwrap_or(loc),
        None => url.to_string(),
    };
    Ok(Remote {
        commit,
        etag: clean_etag(&etag),
        size,
        download_url,
    })
}

async fn download(
    remote: &Remote,
    blob: &Path,
    o: &HubOptions,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<(), HubError> {
    let url = &remote.download_url;
    let part = blob.with_extension("incomplete");
    let have = std::fs::metadata(&part).map_or(0, |m| m.len());
    let client = reqwest::Client::new();
    let mut req = client.get(url).header("Accept-Encoding", "identity");
    if let Some(t) = &o.token {
        req = req.bearer_auth(t);
    }
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
    }
    let net = |e: reqwest::Error| HubError::Network {
        url: url.clone(),
        cause: e.to_string(),
    };
    let mut resp = req.send().await.map_err(net)?;
    let status = resp.status();
    let resumed = status.as_u16() == 206;
    if !(status.is_success()) && status.as_u16() != 416 {
        return Err(HubError::Http {
            url: url.clone(),
            status: status.as_u16(),
            hint: String::new(),
        });
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(resumed)
        .write(true)
        .truncate(!resumed && status.as_u16() != 416)
        .open(&part)
        .map_err(io(&part))?;
    let mut done = if resumed || status.as_u16() == 416 {
        have
    } else {
        0
    };
    if status.as_u16() != 416 {
        while let Some(chunk) = resp.chunk().await.map_err(net)? {
            out.write_all(&chunk).map_err(io(&part))?;
            done += chunk.len() as u64;
            progress(done, remote.size);
        }
    }
    out.flush().map_err(io(&part))?;
    drop(out);
    verify(remote, &part)?;
    std::fs::rename(&part, blob).map_err(io(blob))
}

/// Size and (for LFS files, whose etag is a sha256) content checks; a failed file is removed.
fn verify(remote: &Remote, part: &Path) -> Result<(), HubError> {
    let got = std::fs::metadata(part).map_err(io(part))?.len();
    if let Some(want) = remote.size.filter(|&w| w != got) {
        let _ = std::fs::remove_file(part);
        return Err(HubError::Size {
            url: remote.download_url.clone(),
            got,
            want,
        });
    }
    let is_sha = remote.etag.len() == 64 && remote.etag.bytes().all(|b| b.is_ascii_hexdigit());
    if is_sha {
        let mut file = std::fs::File::open(part).map_err(io(part))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io(part))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let sum = hex::encode(hasher.finalize());
        if !sum.eq_ignore_ascii_case(&remote.etag) {
            let _ = std::fs::remove_file(part);
            return Err(HubError::Checksum {
                url: remote.download_url.clone(),
                got: sum,
                want: remote.etag.clone(),
            });
        }
    }
    Ok(())
}

/// `snapshots/<commit>/<file>` → the blob (relative symlink; a copy where links are not allowed), and
/// `refs/<revision>` → the commit.
fn link(dir: &Path, f: &HubFile, remote: &Remote, blob: &Path) -> Result<PathBuf, HubError> {
    let snap = dir.join("snapshots").join(&remote.commit).join(&f.file);
    if let Some(parent) = snap.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    if !snap.is_file() {
        let _ = std::fs::remove_file(&snap);
        let depth = f.file.matches('/').count() + 2;
        let target = PathBuf::from("../".repeat(depth))
            .join("blobs")
            .join(&remote.etag);
        #[cfg(unix)]
        let linked = std::os::unix::fs::symlink(&target, &snap);
        #[cfg(not(unix))]
        let linked = std::fs::copy(blob, &snap).map(|_| ());
        linked.map_err(io(&snap))?;
    }
    let _ = blob;
    if !is_commit(&f.revision) {
        let refs = dir.join("refs");
        std::fs::create_dir_all(&refs).map_err(io(&refs))?;
        let r = refs.join(&f.revision);
        std::fs::write(&r, &remote.commit).map_err(io(&r))?;
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_with_an_optional_revision_and_nested_paths() {
        let f = HubFile::parse("hf://org/repo/model.Q4_0.gguf")
            .unwrap()
            .unwrap();
        assert_eq!(
            (f.repo.as_str(), f.file.as_str(), f.revision.as_str()),
            ("org/repo", "model.Q4_0.gguf", "main")
        );
        let f = HubFile::parse("hf://org/repo@v1/sub/m.gguf")
            .unwrap()
            .unwrap();
        assert_eq!((f.file.as_str(), f.revision.as_str()), ("sub/m.gguf", "v1"));
        assert!(HubFile::parse("./model.gguf").is_none());
        for bad in [
            "hf://org/repo",
            "hf://org//m.gguf",
            "hf://org/repo/../m.gguf",
            "hf://org/repo/dir/",
        ] {
            assert!(HubFile::parse(bad).unwrap().is_err(), "{bad}");
        }
    }
}
