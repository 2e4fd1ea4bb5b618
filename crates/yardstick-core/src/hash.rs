//! Content hashing: sha256 hex digests and the ledger's request key.

use sha2::{Digest, Sha256};

/// Lower-case hex sha256 of `data`.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    let mut h = Sha256::new();
    h.update(data.as_ref());
    hex::encode(h.finalize())
}

/// The ledger key of one model call: a hash of (model fingerprint, request kind, exact token ids or text,
/// generation parameters). Two calls with the same key must produce the same response from a
/// deterministic model, so a stored response can be reused instead of calling the model again.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct RequestKey(pub String);

impl RequestKey {
    /// Build a key from its parts. `payload` is the canonical JSON of what is sent (token ids or text and
    /// parameters); it is hashed together with the fingerprint and the kind, separated so that no two
    /// different tuples can collide by concatenation.
    pub fn new(model_fingerprint: &str, kind: &str, payload: &serde_json::Value) -> Self {
        let mut h = Sha256::new();
        for part in [model_fingerprint.as_bytes(), kind.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        let body = serde_json::to_vec(payload).unwrap_or_default();
        h.update((body.len() as u64).to_le_bytes());
        h.update(&body);
        RequestKey(hex::encode(h.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_value() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn request_key_separates_parts() {
        let p = serde_json::json!([1, 2, 3]);
        let a = RequestKey::new("ab", "c", &p);
        let b = RequestKey::new("a", "bc", &p);
        assert_ne!(a, b);
        assert_eq!(a, RequestKey::new("ab", "c", &p));
        assert_ne!(a, RequestKey::new("ab", "c", &serde_json::json!([1, 2, 4])));
    }
}
