//! The server's Ed25519 signing key and its public half.
//!
//! # File formats
//!
//! - Secret key (`<data dir>/signing.key`, created with mode `0600`):
//!   one line `ed25519-secret:<64 lowercase hex>` (the 32-byte seed of RFC 8032).
//! - Public key (`<data dir>/signing.pub`, printed by `auditrail keys export`):
//!   one line `ed25519:<64 lowercase hex>` (the 32-byte public key of RFC 8032).
//!
//! Hex rather than PEM keeps the files greppable, diffable and easy to paste into a
//! config or a ticket; the prefix names the algorithm so a later key type cannot be
//! confused with this one.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use super::IntegrityError;

/// File name of the generated secret key inside the data dir.
pub const SECRET_KEY_FILE: &str = "signing.key";
/// File name of the public key written next to it.
pub const PUBLIC_KEY_FILE: &str = "signing.pub";

const SECRET_PREFIX: &str = "ed25519-secret:";
const PUBLIC_PREFIX: &str = "ed25519:";

/// The server's signing key. `Debug` never shows the secret.
pub struct Signer {
    key: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("public", &self.public.to_string())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Loads `<data_dir>/signing.key`, or generates it (mode `0600`, fsynced) with its
    /// `signing.pub` on first start. Creates `data_dir` if needed.
    pub fn load_or_create(data_dir: &Path) -> Result<Signer, IntegrityError> {
        let path = data_dir.join(SECRET_KEY_FILE);
        if path.exists() {
            let signer = Signer::load(&path)?;
            // Re-create a missing public file; never overwrite an existing one.
            let pub_path = data_dir.join(PUBLIC_KEY_FILE);
            if !pub_path.exists() {
                write_new_file(&pub_path, signer.public.to_string().as_bytes(), 0o644)?;
            }
            return Ok(signer);
        }
        auditrail_core::durable::create_dir_all(data_dir)
            .map_err(|e| IntegrityError::io(data_dir, e))?;
        let signer = Signer::generate()?;
        let mut secret = String::with_capacity(SECRET_PREFIX.len() + 65);
        secret.push_str(SECRET_PREFIX);
        secret.push_str(&hex::encode(signer.key.to_bytes()));
        secret.push('\n');
        write_new_file(&path, secret.as_bytes(), 0o600)?;
        let public = format!("{}\n", signer.public);
        let pub_path = data_dir.join(PUBLIC_KEY_FILE);
        // A stale public file from another key would mislead `verify`: replace it.
        let _ = fs::remove_file(&pub_path);
        write_new_file(&pub_path, public.as_bytes(), 0o644)?;
        // Receipts are signed with this key from now on: its file must not be a name a
        // power loss can take back.
        sync_dir(data_dir)?;
        Ok(signer)
    }

    /// Loads a secret key file (`ed25519-secret:<hex>`), e.g. one supplied by path.
    pub fn load(path: &Path) -> Result<Signer, IntegrityError> {
        let text = fs::read_to_string(path).map_err(|e| IntegrityError::io(path, e))?;
        let hex_part = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| key_file(path, "expected one line `ed25519-secret:<64 hex>`"))?;
        let mut seed = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut seed)
            .map_err(|_| key_file(path, "the secret is not 64 hex characters"))?;
        Ok(Signer::from_seed(seed))
    }

    /// Writes this key as a new secret key file (`ed25519-secret:<hex>`, mode `0600`,
    /// fsynced, with its folder); fails if the file exists.
    pub fn write_secret_file(&self, path: &Path) -> Result<(), IntegrityError> {
        let secret = format!("{SECRET_PREFIX}{}\n", hex::encode(self.key.to_bytes()));
        write_new_file(path, secret.as_bytes(), 0o600)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// Replaces the public key file `path` with this key's (written aside, fsynced,
    /// renamed over it).
    pub fn replace_public_file(&self, path: &Path) -> Result<(), IntegrityError> {
        let tmp = path.with_extension("pub.tmp");
        let _ = fs::remove_file(&tmp);
        write_new_file(&tmp, format!("{}\n", self.public).as_bytes(), 0o644)?;
        fs::rename(&tmp, path).map_err(|e| IntegrityError::io(path, e))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Signer, IntegrityError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| IntegrityError::Random(e.to_string()))?;
        Ok(Signer::from_seed(seed))
    }

    /// The key with this 32-byte seed (tests, or keys kept in a secret manager).
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let public = PublicKey(key.verifying_key());
        Signer { key, public }
    }

    /// The public half, to give to verifiers.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` (the caller adds its own domain separation).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.key.sign(message).to_bytes()
    }
}

/// An Ed25519 public key; displays and parses as `ed25519:<64 hex>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads a public key file (one line `ed25519:<64 hex>`; surrounding blanks ignored).
    pub fn read_file(path: &Path) -> Result<PublicKey, IntegrityError> {
        let text = fs::read_to_string(path).map_err(|e| IntegrityError::io(path, e))?;
        text.trim()
            .parse()
            .map_err(|e: IntegrityError| key_file(path, &e.to_string()))
    }

    /// Whether `signature` is this key's signature of `message` (strict RFC 8032 check).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.0
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", hex::encode(self.0.to_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for PublicKey {
    type Err = IntegrityError;

    fn from_str(s: &str) -> Result<PublicKey, IntegrityError> {
        let bad = |why: &str| IntegrityError::PublicKey(format!("{why} (got {s:?})"));
        let hex_part = s
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or_else(|| bad("expected `ed25519:<64 hex>`"))?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| bad("not 64 hex characters"))?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| bad("not a valid Ed25519 point"))
    }
}

fn key_file(path: &Path, reason: &str) -> IntegrityError {
    IntegrityError::KeyFile {
        path: PathBuf::from(path),
        reason: reason.to_string(),
    }
}

/// Creates `path` (never overwriting), writes `data`, fsyncs. `mode` applies on unix.
fn write_new_file(path: &Path, data: &[u8], mode: u32) -> Result<(), IntegrityError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .map_err(|e| IntegrityError::io(path, e))?;
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .map_err(|e| IntegrityError::io(path, e))
}

/// Makes a file creation or rename in `dir` durable; a failure is the caller's error.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), IntegrityError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    auditrail_core::durable::sync_dir(dir).map_err(|e| IntegrityError::io(dir, e))
}

/// What a signed line's signature covers: its domain (which kind of line, so that a
/// signature of one kind is never valid as another) followed by the line's exact bytes
/// before `,"sig"`. One rule for checkpoints and high-water marks.
pub(crate) fn signed_message(domain: &[u8], line_before_sig: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain.len() + line_before_sig.len());
    m.extend_from_slice(domain);
    m.extend_from_slice(line_before_sig);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_is_owner_only_and_reloads_identically() {
        let dir = tempfile::tempdir().unwrap();
        let a = Signer::load_or_create(dir.path()).unwrap();
        let b = Signer::load_or_create(dir.path()).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(SECRET_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let exported = PublicKey::read_file(&dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(&exported, a.public_key());
        assert!(!format!("{a:?}").contains(&hex::encode(a.key.to_bytes())));
    }

    #[test]
    fn signatures_verify_only_with_the_right_key_and_message() {
        let a = Signer::from_seed([1; 32]);
        let b = Signer::from_seed([2; 32]);
        let sig = a.sign(b"hello");
        assert!(a.public_key().verify(b"hello", &sig));
        assert!(!a.public_key().verify(b"hellp", &sig));
        assert!(!b.public_key().verify(b"hello", &sig));
    }

    #[test]
    fn public_key_text_round_trips_and_rejects_garbage() {
        let a = Signer::from_seed([3; 32]);
        let text = a.public_key().to_string();
        assert!(text.starts_with("ed25519:") && text.len() == 8 + 64);
        assert_eq!(&text.parse::<PublicKey>().unwrap(), a.public_key());
        assert!("ed25519:zz".parse::<PublicKey>().is_err());
        assert!(hex::encode([0u8; 32]).parse::<PublicKey>().is_err());
    }

    #[test]
    fn malformed_secret_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        fs::write(&p, "hello").unwrap();
        let err = Signer::load(&p).unwrap_err().to_string();
        assert!(err.contains("ed25519-secret"), "{err}");
    }
}
