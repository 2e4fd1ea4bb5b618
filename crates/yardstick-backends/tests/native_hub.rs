//! `hf://` model files against a local stand-in for the hub (its `resolve` route answers HEAD with the
//! hub's headers and a redirect, the redirect target serves the bytes with `Range`): the cache layout
//! huggingface_hub uses, resuming a partial download, size and sha256 checks, and offline use.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};
use yardstick_backends::native::hub::{fetch, HubError, HubFile, HubOptions};
use yardstick_testkit::http_util::full;
use yardstick_testkit::TestHttpServer;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

struct Hub {
    server: TestHttpServer,
    /// `Range` headers the blob route saw (None: a plain GET).
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

/// Serve `body` as `org/repo/model.gguf`, announcing `announced_sha` as its etag.
fn hub(body: Vec<u8>, announced_sha: String) -> Hub {
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = ranges.clone();
    let body = Arc::new(body);
    let server = TestHttpServer::start(move |req| {
        let body = body.clone();
        let seen = seen.clone();
        let sha = announced_sha.clone();
        async move {
            let path = req.uri().path().to_string();
            let mut r =
                yardstick_testkit::json_response(404, &serde_json::json!({"error": "not found"}));
            if path == "/org/repo/resolve/main/model.gguf" && req.method() == "HEAD" {
                r = yardstick_testkit::json_response(302, &serde_json::json!({}));
                let h = r.headers_mut();
                h.insert("location", "/cdn/blob".parse().unwrap());
                h.insert("x-repo-commit", COMMIT.parse().unwrap());
                h.insert("x-linked-etag", format!("\"{sha}\"").parse().unwrap());
                h.insert("x-linked-size", body.len().to_string().parse().unwrap());
            } else if path == "/cdn/blob" && req.method() == "GET" {
                let range = req
                    .headers()
                    .get("range")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                seen.lock().unwrap().push(range.clone());
                let from = range
                    .as_deref()
                    .and_then(|r| r.strip_prefix("bytes="))
                    .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
                    .unwrap_or(0);
                let bytes = body[from..].to_vec();
                r = yardstick_testkit::json_response(
                    if range.is_some() { 206 } else { 200 },
                    &serde_json::json!({}),
                );
                r.headers_mut()
                    .insert("content-length", bytes.len().to_string().parse().unwrap());
                *r.body_mut() = full(bytes);
            }
            Ok(r)
        }
    })
    .unwrap();
    Hub { server, ranges }
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn opts(hub: &Hub, cache: &Path, offline: bool) -> HubOptions {
    HubOptions {
        endpoint: hub.server.url(),
        cache: cache.to_path_buf(),
        offline,
        token: None,
    }
}

fn file() -> HubFile {
    HubFile::parse("hf://org/repo/model.gguf").unwrap().unwrap()
}

fn payload() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn downloads_into_the_hub_layout_then_works_offline() {
    let body = payload();
    let h = hub(body.clone(), sha(&body));
    let cache = tempfile::tempdir().unwrap();
    let mut calls = 0;
    let path = fetch(&file(), &opts(&h, cache.path(), false), &mut |_, _| {
        calls += 1
    })
    .await
    .unwrap();
    let repo = cache.path().join("models--org--repo");
    assert_eq!(path, repo.join("snapshots").join(COMMIT).join("model.gguf"));
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert!(std::fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_link(&path).unwrap(),
        Path::new("../../blobs").join(sha(&body))
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main")).unwrap(),
        COMMIT
    );
    assert!(calls > 0, "progress was reported");
    // Offline: the cache answers, the stand-in is not asked again.
    let before = h.ranges.lock().unwrap().len();
    let again = fetch(&file(), &opts(&h, cache.path(), true), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(again, path);
    assert_eq!(h.ranges.lock().unwrap().len(), before);
    // Online again with the blob present: no second download.
    fetch(&file(), &opts(&h, cache.path(), false), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(h.ranges.lock().unwrap().len(), before);
}

#[tokio::test]
async fn a_partial_download_resumes_with_a_range_request() {
    let body = payload();
    let h = hub(body.clone(), sha(&body));
    let cache = tempfile::tempdir().unwrap();
    let blobs = cache.path().join("models--org--repo/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(
        blobs.join(format!("{}.incomplete", sha(&body))),
        &body[..123_456],
    )
    .unwrap();
    let path = fetch(&file(), &opts(&h, cache.path(), false), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert_eq!(
        h.ranges.lock().unwrap().as_slice(),
        &[Some("bytes=123456-".to_string())]
    );
}

#[tokio::test]
async fn a_corrupt_download_fails_its_checksum_and_is_removed() {
    let body = payload();
    let h = hub(body.clone(), sha(b"something else"));
    let cache = tempfile::tempdir().unwrap();
    let err = fetch(&file(), &opts(&h, cache.path(), false), &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::Checksum { .. }), "{err}");
    let blobs = cache.path().join("models--org--repo/blobs");
    assert_eq!(
        std::fs::read_dir(&blobs).unwrap().count(),
        0,
        "nothing left"
    );
}

#[tokio::test]
async fn offline_without_a_cached_copy_says_so() {
    let h = hub(payload(), sha(&payload()));
    let cache = tempfile::tempdir().unwrap();
    let err = fetch(&file(), &opts(&h, cache.path(), true), &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::NotCached { .. }), "{err}");
    assert!(err.to_string().contains("HF_HUB_OFFLINE"), "{err}");
    let missing = HubFile::parse("hf://org/repo/other.gguf").unwrap().unwrap();
    let err = fetch(&missing, &opts(&h, cache.path(), false), &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::Http { status: 404, .. }), "{err}");
}
