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

use auditrail_core::key_file::{PUBLIC_PREFIX, SECRET_PREFIX};

/// The most a key file of the data dir or the config may hold, bytes: one line of some
/// 80 characters, with room for blanks around it. A path naming anything larger (a log
/// written there by mistake) is refused rather than read into memory.
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// A key file the server reads (`signing.key`, `signing.pub`, `signing_key`): a regular
/// file only, bounded ([`auditrail_core::regular_file::read_bounded`]), as UTF-8.
fn read_key_file(path: &Path) -> Result<String, IntegrityError> {
    let bytes = auditrail_core::regular_file::read_bounded(path, MAX_KEY_FILE_BYTES)
        .map_err(|e| IntegrityError::io(path, e))?;
    crate::given::utf8_text(path, bytes)
}

/// A key file a user names (`--public-key`, `keys public --key`): a regular file or a
/// pipe (`<(...)`), bounded like [`read_key_file`] ([`crate::read_given_text`]).
fn read_given_key_file(path: &Path) -> Result<String, IntegrityError> {
    crate::given::read_given_text(path, MAX_KEY_FILE_BYTES)
}

/// The server's signing key. `Debug` never shows the secret.
pub struct Signer {
    key: SigningKey,
    public: PublicKey,
    /// The secret key file it was loaded from (`None`: generated or given in memory),
    /// for the commands a refusal tells an operator to run (`--signing-key`).
    file: Option<PathBuf>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("public", &self.public.to_string())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The key of a server with no key file of its own: [`Signer::for_data_dir`] with
    /// `<data_dir>/signing.key` and no store outside the data dir.
    pub fn load_or_create(data_dir: &Path) -> Result<Signer, IntegrityError> {
        Signer::for_data_dir(data_dir, None, &[])
    }

    /// The server's signing key: `key_file` (its config's `signing_key`), else
    /// `<data_dir>/signing.key`, checked against `<data_dir>/signing.pub`
    /// ([`Signer::check_public_file`]; a missing public file is written for the data
    /// dir's own key).
    ///
    /// `signing.key` is generated (mode `0600`, fsynced, then its `signing.pub`) only
    /// when the data dir is new: no `signing.pub`, no high-water marks or acceptances,
    /// no interrupted rotation, no store under it or among `stores` (those the config
    /// puts elsewhere). A data dir that was used and lost its key (restored without it,
    /// the key's backup kept apart) is refused ([`IntegrityError::KeyMissing`]) before
    /// anything is written: a new key there would only replace the public key
    /// verifiers trust and sign nothing the stores can continue. Creates `data_dir` if
    /// needed.
    pub fn for_data_dir(
        data_dir: &Path,
        key_file: Option<&Path>,
        stores: &[PathBuf],
    ) -> Result<Signer, IntegrityError> {
        let secret = key_file.map_or_else(|| data_dir.join(SECRET_KEY_FILE), Path::to_path_buf);
        let signer = match (key_file, exists(&secret)?) {
            (Some(_), _) | (None, true) => Signer::load(&secret)?,
            (None, false) => {
                if let Some(found) = used_before(data_dir, stores)? {
                    return Err(IntegrityError::KeyMissing {
                        path: secret,
                        found,
                    });
                }
                return Signer::create(data_dir);
            }
        };
        let matches = signer.check_data_dir_public_file(&secret, data_dir, stores)?;
        if !matches && key_file.is_none() {
            // The data dir's own key lost its public file (removed by hand, or a crash
            // right after the key was generated): derived from the key, it cannot be
            // another key's.
            signer.replace_public_file(&data_dir.join(PUBLIC_KEY_FILE))?;
        }
        Ok(signer)
    }

    /// Checks `<data_dir>/signing.pub` against this key (loaded from `secret`):
    /// `Ok(true)` when it holds this key's public half, `Ok(false)` when there is none.
    /// A file holding another key ([`IntegrityError::KeyMismatch`], naming both) or no
    /// key at all (empty or garbage: [`IntegrityError::KeyFile`]) is an error, never
    /// overwritten: `verify` takes that file as the trusted key.
    pub fn check_public_file(
        &self,
        secret: &Path,
        data_dir: &Path,
    ) -> Result<bool, IntegrityError> {
        let public = data_dir.join(PUBLIC_KEY_FILE);
        match PublicKey::read_file_if_exists(&public)? {
            None => Ok(false),
            Some(k) if k == self.public => Ok(true),
            Some(k) => Err(IntegrityError::KeyMismatch {
                secret: secret.to_path_buf(),
                secret_key: self.public.to_string(),
                public,
                public_key: k.to_string(),
            }),
        }
    }

    /// [`Signer::check_public_file`] as the server makes it at start, for the data dir
    /// whose stores are those under it and `stores` (those its config puts elsewhere):
    /// a mismatch that a rotation interrupted before it wrote `signing.pub` left (the
    /// key file holds the key every store's log hands signing over to, `signing.pub`
    /// the one it was handed over from) is [`IntegrityError::RotationUnfinished`],
    /// which says how to finish it; any other is [`IntegrityError::KeyMismatch`]. For
    /// every command that reads the pair, so that each says the same.
    pub fn check_data_dir_public_file(
        &self,
        secret: &Path,
        data_dir: &Path,
        stores: &[PathBuf],
    ) -> Result<bool, IntegrityError> {
        match self.check_public_file(secret, data_dir) {
            Err(mismatch @ IntegrityError::KeyMismatch { .. }) => {
                Err(unfinished_rotation(self, secret, data_dir, stores)?.unwrap_or(mismatch))
            }
            other => other,
        }
    }

    /// Generates the key of a new data dir: `signing.key` first, then `signing.pub`,
    /// each written aside and renamed into place, so that a crash leaves either no key
    /// (the next start generates one) or the key without its public file (the next
    /// start writes it from the key), never a public file without its key.
    fn create(data_dir: &Path) -> Result<Signer, IntegrityError> {
        auditrail_core::durable::create_dir_all(data_dir)
            .map_err(|e| IntegrityError::io(data_dir, e))?;
        let signer = Signer::generate()?;
        let path = data_dir.join(SECRET_KEY_FILE);
        let tmp = data_dir.join(format!("{SECRET_KEY_FILE}.tmp"));
        let _ = fs::remove_file(&tmp);
        let secret = auditrail_core::key_file::secret_text(&signer.key.to_bytes());
        write_new_file(&tmp, secret.as_bytes(), 0o600)?;
        fs::rename(&tmp, &path).map_err(|e| IntegrityError::io(&path, e))?;
        // Receipts are signed with this key from now on: its name must not be one a
        // power loss can take back (the public file's rename syncs the folder too).
        sync_dir(data_dir)?;
        signer.replace_public_file(&data_dir.join(PUBLIC_KEY_FILE))?;
        Ok(Signer {
            file: Some(path),
            ..signer
        })
    }

    /// Loads the server's secret key file (`ed25519-secret:<hex>`): the data dir's, or
    /// the one its config names. It is the server's to replace (`keys rotate`): a FIFO,
    /// socket or device there is refused at once, never waited on
    /// ([`auditrail_core::regular_file`]).
    pub fn load(path: &Path) -> Result<Signer, IntegrityError> {
        let text = read_key_file(path)?;
        warn_if_others_can_read(path);
        Signer::parse_secret(path, &text)
    }

    /// [`Signer::load`] without the warning about the file's mode (for a leftover
    /// copy about to be removed: only its key is named).
    pub(crate) fn load_quietly(path: &Path) -> Result<Signer, IntegrityError> {
        Signer::parse_secret(path, &read_key_file(path)?)
    }

    /// Loads a secret key file a user names on the command line (`keys public --key`),
    /// which may be a pipe (`<(...)`).
    pub fn load_given(path: &Path) -> Result<Signer, IntegrityError> {
        let text = read_given_key_file(path)?;
        Signer::parse_secret(path, &text)
    }

    fn parse_secret(path: &Path, text: &str) -> Result<Signer, IntegrityError> {
        let seed = auditrail_core::key_file::parse_secret(text)
            .map_err(|e| key_file(path, &e.to_string()))?;
        Ok(Signer {
            file: Some(path.to_path_buf()),
            ..Signer::from_seed(seed)
        })
    }

    /// Writes this key as the secret key file `path` (`ed25519-secret:<hex>`, mode
    /// `0600`), whole or not at all: written aside (`.<name>.tmp`, mode `0600` from its
    /// creation), fsynced, renamed over `path`, the folder fsynced
    /// ([`auditrail_core::durable::replace_private_file`]). A write that fails (a full
    /// disk) leaves no file at `path` and no temporary file: an empty or cut key file
    /// would be taken for a key and refused. Replaces a file at `path`: callers check
    /// first, under the data dir's lock. The error names `path`.
    pub fn write_secret_file(&self, path: &Path) -> Result<(), IntegrityError> {
        let secret = auditrail_core::key_file::secret_text(&self.key.to_bytes());
        auditrail_core::durable::replace_private_file(
            path,
            &auditrail_core::durable::tmp_beside(path),
            secret.as_bytes(),
        )
        .map_err(|e| IntegrityError::io(path, e))
    }

    /// Writes this key as the secret key file `path` (as [`Signer::write_secret_file`]:
    /// mode `0600`, whole, fsynced, the folder fsynced) only if nothing is at `path`:
    /// `Ok(false)`, nothing written, when something is. Written aside under a name of
    /// this process (`.<name>.<pid>.tmp`), then hard-linked to `path` (`link(2)` never
    /// replaces), so that two writers without a common lock (`keys rotate --prepare`
    /// beside a running server, `keys rotate` holding the data dir) never replace each
    /// other's key, whose public half one of them may already have given out.
    pub fn write_new_secret_file(&self, path: &Path) -> Result<bool, IntegrityError> {
        let mut name = std::ffi::OsString::from(".");
        name.push(path.file_name().unwrap_or(path.as_os_str()));
        name.push(format!(".{}.tmp", std::process::id()));
        let tmp = path.with_file_name(name);
        // A leftover of a crashed process that had this pid: never linked, so unused.
        let _ = fs::remove_file(&tmp);
        let secret = auditrail_core::key_file::secret_text(&self.key.to_bytes());
        let linked = write_new_file(&tmp, secret.as_bytes(), 0o600).and_then(|()| {
            fs::hard_link(&tmp, path).map_err(|e| {
                // Removed between the write and the link by another `keys` command
                // clearing leftovers (crate::key_leftovers): name it, not `path`.
                if e.kind() == std::io::ErrorKind::NotFound && !tmp.exists() {
                    IntegrityError::io(
                        &tmp,
                        std::io::Error::new(
                            e.kind(),
                            "removed before it was linked into place (by another `keys` \
                             command run meanwhile); nothing was written: run this again",
                        ),
                    )
                } else {
                    IntegrityError::io(path, e)
                }
            })
        });
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(IntegrityError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e),
        }
        sync_dir(path.parent().unwrap_or(Path::new("")))?;
        Ok(true)
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
        Signer {
            key,
            public,
            file: None,
        }
    }

    /// The secret key file this key was loaded from (`None`: generated or from a seed).
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
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
    /// Reads a public key file that may not exist (`None`); one that exists but holds
    /// no key (empty, garbage) is an error naming it, never taken as missing.
    /// For the data dir's `signing.pub` (and one next to a store): a FIFO, socket or
    /// device there is refused at once ([`auditrail_core::regular_file`]).
    pub fn read_file_if_exists(path: &Path) -> Result<Option<PublicKey>, IntegrityError> {
        if exists(path)? {
            PublicKey::read_data_dir_file(path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a public key file (one line `ed25519:<64 hex>`; surrounding blanks
    /// ignored) a user names (`--public-key`): it may be a pipe (`<(...)`).
    pub fn read_file(path: &Path) -> Result<PublicKey, IntegrityError> {
        let text = read_given_key_file(path)?;
        PublicKey::parse_file(path, &text)
    }

    /// [`PublicKey::read_file`] for a data dir's file: only a regular file is read.
    pub(crate) fn read_data_dir_file(path: &Path) -> Result<PublicKey, IntegrityError> {
        let text = read_key_file(path)?;
        PublicKey::parse_file(path, &text)
    }

    fn parse_file(path: &Path, text: &str) -> Result<PublicKey, IntegrityError> {
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
        // A secret key's line pasted where its public half goes is an easy slip (both
        // begin `ed25519`): it is named, never shown, as what is shown reaches terminals,
        // journals and log collectors.
        if s.trim_start().starts_with(SECRET_PREFIX) {
            return Err(IntegrityError::PublicKey(
                "this is a secret key (`ed25519-secret:...`, a key file's line), not a public \
                 key: give its public half, `ed25519:<64 hex>`, as `auditrail keys new` \
                 printed it (the secret is not shown here)"
                    .to_owned(),
            ));
        }
        let bad = |why: &str| IntegrityError::PublicKey(format!("{why} (got {})", shown(s)));
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

/// What a text given as a public key was, for an error: its first 12 characters and its
/// length, never the whole of it (whatever was pasted there, it may be a secret).
fn shown(s: &str) -> String {
    let chars = s.chars().count();
    if chars <= 12 {
        format!("{s:?}")
    } else {
        let start: String = s.chars().take(12).collect();
        format!("{start:?}... ({chars} characters)")
    }
}

/// Whether `path` names anything (a dangling link too: it is not "no file", and
/// reading it says why); an error other than "not found" is the caller's error.
fn exists(path: &Path) -> Result<bool, IntegrityError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(IntegrityError::io(path, e)),
    }
}

/// The error for a key file and `signing.pub` that differ because a rotation was
/// interrupted before writing `signing.pub` (see [`crate::rotation`]), if they do.
fn unfinished_rotation(
    signer: &Signer,
    secret: &Path,
    data_dir: &Path,
    stores: &[PathBuf],
) -> Result<Option<IntegrityError>, IntegrityError> {
    let public = data_dir.join(PUBLIC_KEY_FILE);
    let Some(old) = PublicKey::read_file_if_exists(&public)? else {
        return Ok(None);
    };
    let under = crate::marks_folder::stores_under(data_dir);
    let mut all: Vec<&Path> = under.iter().map(PathBuf::as_path).collect();
    all.extend(
        stores
            .iter()
            .map(PathBuf::as_path)
            .filter(|s| !under.iter().any(|u| u == s)),
    );
    if crate::rotation::interrupted_rotation(all, &old, &signer.public)?.is_none() {
        return Ok(None);
    }
    Ok(Some(IntegrityError::RotationUnfinished(Box::new(
        crate::rotation::UnfinishedRotation {
            secret: secret.to_path_buf(),
            new_key: signer.public.to_string(),
            public,
            old_key: old.to_string(),
        },
    ))))
}

/// `<key file>.next`: where the next key's secret waits (staged, or a rotation's).
pub(crate) fn next_of(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// What shows that `data_dir` was used by a server (naming the file), or `None` for a
/// new data dir, whose server creates its key at its first start: for the commands
/// that find no key file there, to say which of the two it is.
pub fn data_dir_used(
    data_dir: &Path,
    stores: &[PathBuf],
) -> Result<Option<String>, IntegrityError> {
    used_before(data_dir, stores)
}

/// What shows that `data_dir` was used by a server (naming the file), or `None` for a
/// new data dir: the files a key signed or that name it, and stores (under the data
/// dir, or `stores` elsewhere).
fn used_before(data_dir: &Path, stores: &[PathBuf]) -> Result<Option<String>, IntegrityError> {
    let public = data_dir.join(PUBLIC_KEY_FILE);
    if exists(&public)? {
        let holds = match PublicKey::read_data_dir_file(&public) {
            Ok(k) => format!("holding the key {k}"),
            Err(_) => "holding no valid key".to_string(),
        };
        return Ok(Some(format!(
            "{} is there ({holds}): this data dir had a key",
            public.display()
        )));
    }
    let next = data_dir.join(format!("{SECRET_KEY_FILE}.next"));
    for (file, what) in [
        (next, "a key staged by `auditrail keys rotate --prepare`, or an interrupted `keys rotate`, left it"),
        (
            data_dir.join(crate::high_water::HIGH_WATER_FILE),
            "high-water marks signed by this data dir's key",
        ),
        (
            data_dir.join(crate::high_water::ACCEPTANCES_FILE),
            "acceptances signed by this data dir's key",
        ),
    ] {
        if exists(&file)? {
            return Ok(Some(format!("{} is there ({what})", file.display())));
        }
    }
    let under = crate::marks_folder::stores_under(data_dir);
    if let Some(store) = under
        .iter()
        .chain(stores)
        .find(|s| auditrail_store::root::is_store(s))
    {
        return Ok(Some(format!(
            "store {} is there (its checkpoints are signed by this data dir's key)",
            store.display()
        )));
    }
    Ok(None)
}

/// Warns when others than the file's owner may read or write the server's secret key
/// (mode bits `0o077`): whoever reads it can sign checkpoints and receipts as this
/// server, so its evidence would prove nothing. A warning, not a refusal (as OpenSSH
/// refuses a private key "too open"): a key shared with a service's group can be a
/// choice, and refusing it at an upgrade would stop collection.
fn warn_if_others_can_read(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = %format!("{mode:04o}"),
                "the signing key file can be read or written by others than its owner: \
                 whoever reads it can sign checkpoints and receipts as this server \
                 (`chmod 600` it)"
            );
        }
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
    #[cfg(test)]
    tests::record_sync(dir);
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
    use std::cell::RefCell;

    thread_local! {
        /// The folders [`sync_dir`] synced on this thread.
        static SYNCED: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record_sync(dir: &Path) {
        SYNCED.with(|s| s.borrow_mut().push(dir.to_path_buf()));
    }

    fn take_synced() -> Vec<PathBuf> {
        SYNCED.with(|s| std::mem::take(&mut *s.borrow_mut()))
    }

    /// A staged key's secret (`keys rotate --prepare`) is written only where no file
    /// is: a second writer leaves the first key as it was (nodes may list it), mode
    /// `0600`, no temporary file left, the folder synced after the link.
    #[test]
    fn a_new_secret_file_never_replaces_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key.next");
        let first = Signer::from_seed([1; 32]);
        let _ = take_synced();
        assert!(first.write_new_secret_file(&path).unwrap());
        assert_eq!(take_synced(), vec![dir.path().to_path_buf()]);
        assert!(!Signer::from_seed([2; 32])
            .write_new_secret_file(&path)
            .unwrap());
        assert_eq!(
            Signer::load(&path).unwrap().public_key(),
            first.public_key()
        );
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(names(dir.path()), vec!["signing.key.next".to_string()]);
    }

    /// A checkpoint log already there (a run killed between creating it and syncing
    /// the store's folder): the checkpointer's open syncs the folder all the same
    /// (its sync goes through [`sync_dir`], observed here).
    #[test]
    fn opening_an_existing_checkpoint_log_syncs_the_store_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(auditrail_store::CHECKPOINT_LOG), b"").unwrap();
        take_synced();
        crate::checkpointer::Checkpointer::open(
            dir.path(),
            std::sync::Arc::new(Signer::from_seed([1; 32])),
            crate::checkpointer::CheckpointPolicy::default(),
            auditrail_store::chain::Chain::genesis().last(),
        )
        .unwrap();
        assert!(
            take_synced().contains(&dir.path().to_path_buf()),
            "the store folder is synced"
        );
    }

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

    /// Every file name in `dir`, sorted (what a refused start must leave alone).
    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_used_data_dir_without_its_key_is_refused_and_left_as_it_was() {
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(
            elsewhere.path().join(auditrail_store::STORE_ID_FILE),
            "s1\n",
        )
        .unwrap();
        let cases: [(&str, &[PathBuf]); 5] = [
            (PUBLIC_KEY_FILE, &[]),
            ("signing.key.next", &[]),
            (crate::high_water::HIGH_WATER_FILE, &[]),
            ("store/store-id", &[]),
            ("", &[elsewhere.path().to_path_buf()]),
        ];
        for (file, stores) in cases {
            let dir = tempfile::tempdir().unwrap();
            if !file.is_empty() {
                let path = dir.path().join(file);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, "x\n").unwrap();
            }
            let before = names(dir.path());
            let err = Signer::for_data_dir(dir.path(), None, stores).unwrap_err();
            assert!(
                matches!(err, IntegrityError::KeyMissing { .. }),
                "{file}: {err}"
            );
            let shown = if file.is_empty() {
                elsewhere.path().display().to_string()
            } else {
                file.trim_end_matches("/store-id").to_string()
            };
            assert!(err.to_string().contains(&shown), "{file}: {err}");
            assert_eq!(names(dir.path()), before, "{file}: nothing written");
        }
        // A new data dir (the lock file and a dead-letter folder do not make it used).
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("auditrail.lock"), "").unwrap();
        Signer::for_data_dir(dir.path(), None, &[]).unwrap();
    }

    #[test]
    fn a_missing_public_file_is_written_from_the_key_and_a_wrong_one_never() {
        let dir = tempfile::tempdir().unwrap();
        let a = Signer::load_or_create(dir.path()).unwrap();
        let public = dir.path().join(PUBLIC_KEY_FILE);
        fs::remove_file(&public).unwrap();
        Signer::load_or_create(dir.path()).unwrap();
        assert_eq!(&PublicKey::read_file(&public).unwrap(), a.public_key());

        let other = format!("{}\n", Signer::from_seed([8; 32]).public_key());
        fs::write(&public, &other).unwrap();
        let err = Signer::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, IntegrityError::KeyMismatch { .. }), "{err}");
        assert_eq!(fs::read_to_string(&public).unwrap(), other);

        // A configured key is checked against the data dir's public file too.
        let key = dir.path().join("elsewhere.key");
        Signer::from_seed([8; 32]).write_secret_file(&key).unwrap();
        Signer::for_data_dir(dir.path(), Some(&key), &[]).unwrap();
        fs::write(&public, "").unwrap();
        let err = Signer::for_data_dir(dir.path(), Some(&key), &[]).unwrap_err();
        assert!(err.to_string().contains(PUBLIC_KEY_FILE), "{err}");
        assert_eq!(fs::read_to_string(&public).unwrap(), "");
    }
}
