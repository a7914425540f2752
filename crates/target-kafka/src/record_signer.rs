//! The target's optional record signing (`signing_key`, `key_id`): each record gets the
//! headers [`HEADER_KEY_ID`] and [`HEADER_SIG`], an Ed25519 signature over
//! [`auditrail_core::kafka_sig::signed_message`] (the Kafka topic, the record key, the
//! key id and the value), which an event server's Kafka source checks against the
//! public keys it trusts (docs/scale-out.md, "Signed records").

use std::path::{Path, PathBuf};

use auditrail_core::kafka_sig::{signed_message, HEADER_KEY_ID, HEADER_SIG};
use ed25519_dalek::{Signer as _, SigningKey};
use rdkafka::message::{Header, OwnedHeaders};

/// A secret key file is one line of some 80 characters: anything far larger is not one
/// (a log named by mistake), refused rather than read into memory.
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// Why the signing key cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    /// The file cannot be read.
    #[error("signing_key {}", auditrail_core::path_and_error(path, source))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no secret key.
    #[error("signing_key {path}: {source} (make one with `auditrail keys new --out FILE`)")]
    NotAKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: auditrail_core::key_file::SecretKeyTextError,
    },
}

/// Signs the records of one target.
pub(crate) struct RecordSigner {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for RecordSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("RecordSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl RecordSigner {
    /// Loads the secret key file `path` (`ed25519-secret:<64 hex>`, the event server's
    /// key file format): a regular file only, bounded.
    pub(crate) fn load(path: &Path, key_id: &str) -> Result<RecordSigner, SigningKeyError> {
        let bytes = auditrail_core::regular_file::read_bounded(path, MAX_KEY_FILE_BYTES).map_err(
            |source| SigningKeyError::Read {
                path: path.to_path_buf(),
                source,
            },
        )?;
        let text = String::from_utf8_lossy(&bytes);
        let seed = auditrail_core::key_file::parse_secret(&text).map_err(|source| {
            SigningKeyError::NotAKey {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(RecordSigner::from_seed(seed, key_id))
    }

    /// The key with this seed (tests).
    pub(crate) fn from_seed(seed: [u8; 32], key_id: &str) -> RecordSigner {
        RecordSigner {
            key: SigningKey::from_bytes(&seed),
            key_id: key_id.to_owned(),
        }
    }

    /// `headers` with the record's key id and signature added.
    pub(crate) fn sign(
        &self,
        headers: OwnedHeaders,
        topic: &str,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> OwnedHeaders {
        let message = signed_message(topic, key, &self.key_id, Some(value));
        let sig = hex::encode(self.key.sign(&message).to_bytes());
        headers
            .insert(Header {
                key: HEADER_KEY_ID,
                value: Some(self.key_id.as_str()),
            })
            .insert(Header {
                key: HEADER_SIG,
                value: Some(sig.as_str()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Verifier as _;
    use rdkafka::message::Headers as _;

    #[test]
    fn the_signature_verifies_over_the_shared_message_and_names_the_key() {
        let signer = RecordSigner::from_seed([3u8; 32], "node-a");
        let h = signer.sign(OwnedHeaders::new(), "audit", Some(b"node-1"), b"{}");
        let get = |name: &str| {
            h.iter()
                .find(|x| x.key == name)
                .and_then(|x| x.value)
                .map(<[u8]>::to_vec)
                .unwrap()
        };
        assert_eq!(get(HEADER_KEY_ID), b"node-a");
        let sig: [u8; 64] = hex::decode(get(HEADER_SIG)).unwrap().try_into().unwrap();
        let public = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        let sig = ed25519_dalek::Signature::from_bytes(&sig);
        public
            .verify(
                &signed_message("audit", Some(b"node-1"), "node-a", Some(b"{}")),
                &sig,
            )
            .unwrap();
        assert!(public
            .verify(
                &signed_message("other", Some(b"node-1"), "node-a", Some(b"{}")),
                &sig
            )
            .is_err());
    }

    #[test]
    fn a_file_that_holds_no_key_is_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        std::fs::write(&path, "ed25519:00\n").unwrap();
        let e = RecordSigner::load(&path, "k").unwrap_err().to_string();
        assert!(
            e.contains("node.key") && e.contains("ed25519-secret:"),
            "{e}"
        );
        std::fs::write(&path, auditrail_core::key_file::secret_text(&[5u8; 32])).unwrap();
        RecordSigner::load(&path, "k").unwrap();
        let e = RecordSigner::load(&dir.path().join("none"), "k")
            .unwrap_err()
            .to_string();
        assert!(e.contains("none"), "{e}");
    }
}
