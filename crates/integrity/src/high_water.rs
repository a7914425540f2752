//! The high-water mark: for each store of a server, the last checkpoint it signed,
//! kept signed **outside** the store folder (`<data dir>/high-water.jsonl`), so that a
//! checkpoint log that was removed, emptied or shortened, or a store rolled back
//! together with its log, is noticed at the next start and by `auditrail verify`.
//!
//! # File format (version 1)
//!
//! One line per store, rewritten as a whole (temporary file, fsync, rename, fsync of
//! the folder) after every checkpoint:
//!
//! ```text
//! {"store":"store","storeId":"<id>","checkpoint":<k>,"chainSeq":<N>,"chainHash":"<64 hex>","checkpointDigest":"<64 hex>","time":"<RFC 3339>","accepted":null,"key":"ed25519:<64 hex>","sig":"<128 hex>"}
//! ```
//!
//! - `store`: the store's name (see [`StoreName`]): its folder relative to the data
//!   dir, both as the file system resolves them (symbolic links, `.`, `..`), so that a
//!   data dir named through a link or moved whole keeps its marks; the resolved
//!   absolute path when the store is outside the data dir.
//! - `checkpoint`, `chainSeq`, `chainHash`: the last checkpoint of the store's log (0,
//!   0 and zeros before the first one); `checkpointDigest`: SHA-256 of that checkpoint
//!   line (what the next checkpoint's `prev` carries).
//! - `accepted`: `null`, or what an operator accepted with `auditrail store accept`
//!   (`by`, `reason`, `found`): the state the line records was then taken as it was.
//!   Every acceptance is also appended to `<data dir>/acceptances.jsonl` (same lines),
//!   the readable history. The evidence is the acceptance's own line of the store's
//!   checkpoint log, which the mark names (see [`crate::accept`]): the next mark
//!   written replaces this one, and the history file is not signed into anything.
//! - `sig`: Ed25519 over `"auditrail-high-water-v1\n"` and the exact bytes of the line
//!   before `,"sig":"`, as for checkpoints.
//!
//! The mark only moves forward with the log it describes; it does not stop someone
//! who copies an older mark back together with an older log and store (a replay):
//! that is what copies held elsewhere (receipts at the nodes, forwarded checkpoints)
//! are for.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use auditrail_store::chain::ChainLink;

use super::append::AppendLog;
use super::keys::{signed_message, PublicKey, Signer};
use super::IntegrityError;

/// File name of the high-water marks in a data dir.
pub const HIGH_WATER_FILE: &str = "high-water.jsonl";
/// File name of the history of operator acceptances in a data dir.
pub const ACCEPTANCES_FILE: &str = "acceptances.jsonl";

const DOMAIN: &[u8] = b"auditrail-high-water-v1\n";
const SIG_KEY: &[u8] = b",\"sig\":\"";

/// What an operator accepted with `auditrail store accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// Who accepted (the operating system user running the command).
    pub by: String,
    /// Why, in the operator's words.
    pub reason: String,
    /// What was found and accepted (the findings at that moment).
    pub found: String,
}

/// One store's signed high-water mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighWaterMark {
    /// The store's name: its folder relative to the data dir (absolute when outside
    /// it; see [`StoreName`]).
    pub store: String,
    /// The store's id.
    pub store_id: String,
    /// The last checkpoint's number (0: none yet).
    pub checkpoint: u64,
    /// The chain link that checkpoint vouches for (genesis for none).
    pub link: ChainLink,
    /// SHA-256 of the checkpoint's line (zeros for none).
    pub checkpoint_digest: [u8; 32],
    /// When the mark was written (RFC 3339, UTC).
    pub time: String,
    /// Set when an operator accepted this state.
    pub accepted: Option<Acceptance>,
    /// The key that signed the mark.
    pub key: PublicKey,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Fields {
    store: String,
    store_id: String,
    checkpoint: u64,
    chain_seq: u64,
    chain_hash: String,
    checkpoint_digest: String,
    time: String,
    accepted: Option<Acceptance>,
    key: String,
}

/// What a new mark records (signed by [`HighWaterMarks::put`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkState {
    /// The store's id.
    pub store_id: String,
    /// The last checkpoint's number (0: none).
    pub checkpoint: u64,
    /// Its chain link.
    pub link: ChainLink,
    /// SHA-256 of its line.
    pub checkpoint_digest: [u8; 32],
    /// Set by `auditrail store accept`.
    pub accepted: Option<Acceptance>,
}

impl HighWaterMark {
    /// Signs a mark and returns it with its line (without newline).
    fn sign(signer: &Signer, store: &str, state: &MarkState) -> (HighWaterMark, String) {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let fields = Fields {
            store: store.to_string(),
            store_id: state.store_id.clone(),
            checkpoint: state.checkpoint,
            chain_seq: state.link.seq,
            chain_hash: state.link.hash_hex(),
            checkpoint_digest: hex::encode(state.checkpoint_digest),
            time: time.clone(),
            accepted: state.accepted.clone(),
            key: signer.public_key().to_string(),
        };
        // Serialising plain strings and numbers cannot fail.
        let mut line = serde_json::to_string(&fields).unwrap_or_default();
        line.pop(); // the closing brace: the signature field follows
        let signature = signer.sign(&signed_message(DOMAIN, line.as_bytes()));
        line.push_str(",\"sig\":\"");
        line.push_str(&hex::encode(signature));
        line.push_str("\"}");
        let mark = HighWaterMark {
            store: store.to_string(),
            store_id: state.store_id.clone(),
            checkpoint: state.checkpoint,
            link: state.link,
            checkpoint_digest: state.checkpoint_digest,
            time,
            accepted: state.accepted.clone(),
            key: *signer.public_key(),
            signature,
        };
        (mark, line)
    }

    /// Parses a line and checks its signature under the key it names (whether that
    /// key is the trusted one is the caller's question).
    pub fn parse_line(line: &[u8]) -> Result<HighWaterMark, MarkLineError> {
        let tail_len = SIG_KEY.len() + 128 + 2;
        if line.len() < tail_len
            || &line[line.len() - tail_len..line.len() - 130] != SIG_KEY
            || &line[line.len() - 2..] != b"\"}"
        {
            return Err(MarkLineError::Tail);
        }
        let before_sig = &line[..line.len() - tail_len];
        let mut signature = [0u8; 64];
        hex::decode_to_slice(&line[line.len() - 130..line.len() - 2], &mut signature)
            .map_err(|_| MarkLineError::SigHex)?;
        let mut head = before_sig.to_vec();
        head.push(b'}');
        let f: Fields = serde_json::from_slice(&head).map_err(MarkLineError::Json)?;
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&f.chain_hash, &mut hash).map_err(|_| MarkLineError::ChainHash)?;
        let mut checkpoint_digest = [0u8; 32];
        hex::decode_to_slice(&f.checkpoint_digest, &mut checkpoint_digest)
            .map_err(|_| MarkLineError::CheckpointDigest)?;
        let key: PublicKey = f.key.parse().map_err(MarkLineError::Key)?;
        if !key.verify(&signed_message(DOMAIN, before_sig), &signature) {
            return Err(MarkLineError::Signature);
        }
        Ok(HighWaterMark {
            store: f.store,
            store_id: f.store_id,
            checkpoint: f.checkpoint,
            link: ChainLink {
                seq: f.chain_seq,
                hash,
            },
            checkpoint_digest,
            time: f.time,
            accepted: f.accepted,
            key,
            signature,
        })
    }
}

/// The high-water marks of one data dir. One per server, shared by its stores (the
/// file is rewritten under a lock).
#[derive(Debug)]
pub struct HighWaterMarks {
    data_dir: PathBuf,
    path: PathBuf,
    /// Taken by every writer; holds what this process last wrote.
    write: Mutex<Option<Written>>,
    /// The folder's device and inode when this value was made (or, for a folder that
    /// did not exist yet, when [`Self::put`] made it): a folder moved away is not made
    /// again at its path, nor is another folder put there written into
    /// ([`Self::check_folder`]).
    folder_id: Mutex<Option<(u64, u64)>>,
    /// Whether the folder was found moved and it was said (once, until it is back).
    moved_said: AtomicBool,
}

/// What is at a marks folder's path that is not the folder this process found there
/// ([`IntegrityError::MarksFolderMoved`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FolderFound {
    /// Nothing: the folder was moved away or removed.
    Gone,
    /// Another folder (the folder moved away and one made at its path).
    Another,
}

impl std::fmt::Display for FolderFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FolderFound::Gone => "the folder is gone (moved away or removed while the server runs)",
            FolderFound::Another => {
                "not the folder the server opened (it was moved away and another folder put \
                 at its path while the server runs)"
            }
        })
    }
}

/// A folder's device and inode (what tells it from another made at its path).
fn folder_id(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

/// The file as this process last wrote it: its bytes and its identity, to tell it was
/// removed or changed by someone else ([`HighWaterMarks::keep_in_place`]).
#[derive(Debug)]
struct Written {
    content: String,
    dev: u64,
    ino: u64,
    len: u64,
}

/// A line of the file: the parsed mark, or why it is unusable (with its line number).
pub type MarkLine = Result<HighWaterMark, (u64, MarkLineError)>;

/// Why a line of a marks file is no high-water mark ([`HighWaterMark::parse_line`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MarkLineError {
    /// The line does not end with its signature.
    #[error("must end with \"sig\":\"<128 hex>\"}}")]
    Tail,
    /// The signature is not hex.
    #[error("sig is not hex")]
    SigHex,
    /// The fields before the signature are not the mark's JSON.
    #[error(transparent)]
    Json(serde_json::Error),
    /// `chainHash` is not a hash.
    #[error("chainHash is not 64 hex characters")]
    ChainHash,
    /// `checkpointDigest` is not a digest.
    #[error("checkpointDigest is not 64 hex characters")]
    CheckpointDigest,
    /// `key` is not a public key.
    #[error(transparent)]
    Key(IntegrityError),
    /// The signature does not verify under `key`.
    #[error("the signature does not match the line (edited after signing)")]
    Signature,
    /// The whole file cannot be read (reported as its line 0).
    #[error(transparent)]
    File(IntegrityError),
}

/// The data folder's check, for what a dispatcher keeps under it (the witnesses' spool,
/// sequence file, dead letters: `DispatcherBuilder::folder_check`): the same answer as
/// [`HighWaterMarks::check_folder`], so that nothing the server or its witness
/// dispatcher makes at run time brings a data folder moved away back at its path.
impl auditrail_core::FolderCheck for HighWaterMarks {
    fn check(&self) -> Result<(), auditrail_core::FolderGone> {
        match self.check_folder() {
            Ok(()) => Ok(()),
            Err(IntegrityError::MarksFolderMoved { folder, found }) => {
                Err(auditrail_core::FolderGone {
                    folder,
                    found: found.to_string(),
                })
            }
            // Its `stat` failed otherwise: nothing can be made under it either.
            Err(e) => Err(auditrail_core::FolderGone {
                folder: self.data_dir.clone(),
                found: format!("it cannot be examined ({e})"),
            }),
        }
    }
}

impl HighWaterMarks {
    /// The marks kept in `<data_dir>/high-water.jsonl`.
    pub fn in_data_dir(data_dir: &Path) -> HighWaterMarks {
        HighWaterMarks {
            data_dir: data_dir.to_path_buf(),
            path: data_dir.join(HIGH_WATER_FILE),
            write: Mutex::new(None),
            folder_id: Mutex::new(folder_id(data_dir).ok()),
            moved_said: AtomicBool::new(false),
        }
    }

    /// Whether the folder at [`Self::folder`]'s path is still the folder this value
    /// found there (or made): a folder moved away or removed while the server runs is
    /// [`IntegrityError::MarksFolderMoved`], and so is another folder put at its path.
    /// Said once at WARN (naming the folder) until it is back, and the return to it at
    /// INFO. One `stat`. [`Self::put`] and [`Self::keep_in_place`] ask it before they
    /// write: before, they made the folder again at its path (`create_dir_all`) holding
    /// only `high-water.jsonl`, while the signing key, the lock and the marks signed so
    /// far were in the folder moved away, and the state was split across the two.
    pub fn check_folder(&self) -> Result<(), IntegrityError> {
        let Some(known) = *self
            .folder_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        else {
            // Not there when this value was made: `put` makes it (a new data dir).
            return Ok(());
        };
        let found = match folder_id(&self.data_dir) {
            Ok(now) if now == known => {
                if self.moved_said.swap(false, Ordering::Relaxed) {
                    tracing::info!(folder = %self.data_dir.display(), "the folder of the high-water marks is back at its path: the marks are written again");
                }
                return Ok(());
            }
            Ok(_) => FolderFound::Another,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FolderFound::Gone,
            Err(e) => return Err(IntegrityError::io(&self.data_dir, e)),
        };
        let e = IntegrityError::MarksFolderMoved {
            folder: self.data_dir.clone(),
            found,
        };
        if !self.moved_said.swap(true, Ordering::Relaxed) {
            tracing::warn!(folder = %self.data_dir.display(), error = %e, "the folder of the high-water marks was moved away or removed while the server runs: not made again at its path");
        }
        Err(e)
    }

    /// The marks of the store at `store` of a server whose data dir is `data_dir`, where
    /// they are kept ([`crate::marks_folder::marks_folder`]: a Kafka source's partition
    /// store in its partition folder, every other store in the data dir).
    pub fn of_store(data_dir: &Path, store: &Path) -> HighWaterMarks {
        HighWaterMarks::in_data_dir(&crate::marks_folder::marks_folder(data_dir, store))
    }

    /// The folder holding the file (a data dir, or a partition folder).
    pub fn folder(&self) -> &Path {
        &self.data_dir
    }

    /// The marks file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name the store at `store` has in the file (see [`StoreName`]).
    pub fn name_of(&self, store: &Path) -> StoreName {
        StoreName::of(&self.data_dir, store)
    }

    /// Every line of the file (none when it does not exist).
    pub fn read(&self) -> Result<Vec<MarkLine>, IntegrityError> {
        read_marks(&self.path)
    }

    /// The mark of the store at `store`, by its key. A damaged line for that key (or a
    /// line that cannot be read at all) is an error: the mark cannot be trusted.
    pub fn get(&self, store: &Path) -> Result<Option<HighWaterMark>, IntegrityError> {
        let name = self.name_of(store);
        let mut found = None;
        // The last line naming the store: a file written by an older version may name
        // it twice (relative and absolute), and the later line is the newer mark.
        for line in self.read()? {
            match line {
                Ok(m) if name.is(&m.store) => found = Some(m),
                Ok(_) => {}
                Err((n, reason)) => {
                    return Err(IntegrityError::CheckpointLog {
                        path: self.path.clone(),
                        line: n,
                        reason: format!("high-water mark unusable: {reason}"),
                    })
                }
            }
        }
        Ok(found)
    }

    /// Signs and stores the mark of the store at `store` (replacing its earlier one;
    /// damaged lines of other stores are dropped with an error log). The file is
    /// replaced atomically and fsynced.
    pub fn put(
        &self,
        signer: &Signer,
        store: &Path,
        state: &MarkState,
    ) -> Result<HighWaterMark, IntegrityError> {
        let mut written = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_folder()?;
        let name = self.name_of(store);
        let (mark, line) = HighWaterMark::sign(signer, name.as_str(), state);
        let mut out = String::new();
        for l in self.raw_lines()? {
            match HighWaterMark::parse_line(l.as_bytes()) {
                // Every line naming the store goes, however it names it (an absolute
                // name an older version wrote is replaced by the relative one).
                Ok(m) if name.is(&m.store) => {}
                Ok(_) => {
                    out.push_str(&l);
                    out.push('\n');
                }
                Err(reason) => {
                    tracing::error!(file = %self.path.display(), %reason, "dropping a damaged high-water mark line");
                }
            }
        }
        out.push_str(&line);
        out.push('\n');
        let tmp = self.path.with_extension("jsonl.tmp");
        {
            // Made only when it was not there when this value was made (a new data
            // dir); then it is the folder from now on.
            let mut id = self
                .folder_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if id.is_none() {
                auditrail_core::durable::create_dir_all(&self.data_dir)
                    .map_err(|e| IntegrityError::io(&self.data_dir, e))?;
                *id = folder_id(&self.data_dir).ok();
            }
        }
        auditrail_core::durable::replace_file(&self.path, &tmp, out.as_bytes())
            .map_err(|e| IntegrityError::io(&self.path, e))?;
        *written = self.identify(out);
        if state.accepted.is_some() {
            let history = self.data_dir.join(ACCEPTANCES_FILE);
            AppendLog::open(&history)
                .and_then(|mut log| log.append(format!("{line}\n").as_bytes()))
                .map_err(|e| IntegrityError::io(&history, e))?;
        }
        Ok(mark)
    }

    /// The file just written with `content`, as [`Written`] (`None` when its metadata
    /// cannot be read: then it is not watched).
    fn identify(&self, content: String) -> Option<Written> {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::symlink_metadata(&self.path).ok()?;
        Some(Written {
            content,
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
        })
    }

    /// Puts the file back as this process last wrote it (every store's line, as
    /// signed then) when it was removed (an operator's or a cleanup job's `rm`).
    /// Without it, the marks came back only at the next published checkpoint (up to
    /// `every_seconds`), and a crash in between left a server that refuses to start
    /// ("no high-water mark") until a person runs `store accept`. A file replaced or
    /// changed is left as it is (the next published checkpoint rewrites it, keeping the
    /// other stores' lines): another process may have written a newer mark (a Kafka
    /// partition's next owner, which shares the folder), and this process's older
    /// copy must not replace it. One `lstat` when nothing changed; the store writer
    /// calls it after each sealed batch. Returns what was found and done, when the file
    /// is not the one this process last wrote.
    pub fn keep_in_place(&self) -> Result<Option<String>, IntegrityError> {
        use std::os::unix::fs::MetadataExt;
        let mut written = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(last) = written.as_mut() else {
            return Ok(None);
        };
        match fs::symlink_metadata(&self.path) {
            Ok(m) if m.dev() == last.dev && m.ino() == last.ino && m.len() == last.len => Ok(None),
            Ok(m) => {
                // Taken as the file now, so that this is said once, not at every batch.
                last.dev = m.dev();
                last.ino = m.ino();
                last.len = m.len();
                Ok(Some(
                    "replaced or changed by someone else: left as it is (the next published checkpoint writes this store's mark into it)"
                        .to_owned(),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // The file alone removed is written again; its folder moved away is
                // not made again (`check_folder`).
                self.check_folder()?;
                let content = last.content.clone();
                let tmp = self.path.with_extension("jsonl.tmp");
                auditrail_core::durable::replace_file(&self.path, &tmp, content.as_bytes())
                    .map_err(|e| IntegrityError::io(&self.path, e))?;
                *written = self.identify(content);
                Ok(Some(
                    "removed: written again as the server last signed it".to_owned(),
                ))
            }
            Err(e) => Err(IntegrityError::io(&self.path, e)),
        }
    }

    /// Whether [`Self::put`] could replace the file now: the file can be read (the
    /// other stores' lines are kept), a file can be made beside it (the write aside),
    /// and an existing `acceptances.jsonl` can be appended to. Asked by `store accept`
    /// before it changes anything: its signed line goes into the checkpoint log first
    /// and the mark after it, so a marks file found unusable only then left an
    /// acceptance in the store's evidence from a command that failed.
    pub fn check_replaceable(&self) -> Result<(), IntegrityError> {
        self.raw_lines()?;
        if !self.data_dir.is_dir() {
            return Ok(()); // `put` creates it
        }
        let tmp = self.path.with_extension("jsonl.tmp");
        // As `put` makes it (never opening what is there: a FIFO would block, a link
        // be followed and its target truncated).
        auditrail_core::durable::create_tmp(&tmp).map_err(|e| IntegrityError::io(&tmp, e))?;
        fs::remove_file(&tmp).map_err(|e| IntegrityError::io(&tmp, e))?;
        let history = self.data_dir.join(ACCEPTANCES_FILE);
        // As `AppendLog::open` opens it: a FIFO there is refused, not waited on, and a
        // link is not followed.
        match auditrail_core::regular_file::open_no_follow(
            fs::OpenOptions::new().append(true),
            &history,
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(IntegrityError::io(&history, e)),
        }
    }

    fn raw_lines(&self) -> Result<Vec<String>, IntegrityError> {
        match auditrail_core::regular_file::read_to_string(&self.path) {
            Ok(t) => Ok(t
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(IntegrityError::io(&self.path, e)),
        }
    }
}

/// The one identity of a store in a marks file, shared by the server, the operator
/// commands and `verify`: however the data dir and the store are named (through a
/// symbolic link, relative, with `..`, with a trailing slash), the same folders give
/// the same name.
///
/// The name is the store's folder relative to the data dir, both resolved by the file
/// system, so that a data dir moved whole (and reached at its old path through a link,
/// or at its new one) keeps its marks; a store outside the data dir is named by its
/// resolved absolute path. Absolute names written by older versions (a server started
/// on a data dir named through a link) still name the store when they resolve to it.
///
/// A store folder that is itself a symbolic link (the store moved to another disk, a
/// link left at its path: docs/operations.md) is named by the link, as a linked data
/// dir is: it keeps its mark. A mark written under the folder the link points to (by
/// earlier versions) still names it.
#[derive(Debug, Clone)]
pub struct StoreName {
    name: String,
    /// The name of the folder a link at the store's path points to.
    behind_link: Option<String>,
    real: PathBuf,
}

impl StoreName {
    /// The name of the store at `store` in a marks file kept in `data_dir`.
    pub fn of(data_dir: &Path, store: &Path) -> StoreName {
        let (data_dir, real) = (resolved(data_dir), resolved(store));
        let name_of = |p: &Path| match p.strip_prefix(&data_dir) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            _ => p.display().to_string(),
        };
        match the_link_at(store) {
            Some(link) if link != real => StoreName {
                name: name_of(&link),
                behind_link: Some(name_of(&real)),
                real,
            },
            _ => StoreName {
                name: name_of(&real),
                behind_link: None,
                real,
            },
        }
    }

    /// The name written into new marks.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Whether a mark's `store` field names this store: its own name, or an absolute
    /// name resolving to the same folder. A relative name is only ever compared as
    /// written: it is relative to wherever the data dir now is.
    pub fn is(&self, mark_store: &str) -> bool {
        mark_store == self.name || self.behind_link.as_deref() == Some(mark_store) || {
            let p = Path::new(mark_store);
            p.is_absolute() && resolved(p) == self.real
        }
    }
}

/// The folders where the data dir of the store (or data dir) at `dir` may be, for the
/// files a server keeps beside its stores (`high-water.jsonl`, `signing.pub`): `dir`
/// and up to `parents` folders above it, in that order, as the file system resolves
/// them (the same resolution as [`StoreName`]). So every spelling of one folder (`.`,
/// `..`, a symbolic link to it, a trailing slash, relative or absolute) gives the same
/// folders: the parents of the path as typed are not the data dir when the path is
/// `.`, `..` or a link. When `dir` itself is a symbolic link (a store moved to another
/// disk, a link left at its place in the data dir: docs/operations.md), the folders
/// above the link come first, as the link names the store in the marks.
pub(crate) fn dir_and_parents(dir: &Path, parents: usize) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for start in the_link_at(dir).into_iter().chain([resolved(dir)]) {
        let mut d = Some(start.as_path());
        for _ in 0..=parents {
            let Some(here) = d else { break };
            if !out.iter().any(|o| o == here) {
                out.push(here.to_path_buf());
            }
            d = here.parent();
        }
    }
    out
}

/// When the last component of `store` is a symbolic link: the link's own path, its
/// folder resolved (the link itself not followed).
fn the_link_at(store: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(store).ok()?;
    // Rebuilt from its components: a trailing `/` would make the look-up follow the link.
    let abs: PathBuf = abs.components().collect();
    let name = abs.file_name()?;
    let is_link = fs::symlink_metadata(&abs).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return None;
    }
    Some(resolved(abs.parent()?).join(name))
}

/// `path` as the file system resolves it: absolute, with symbolic links, `.` and `..`
/// resolved in the part that exists; a part that does not exist (yet) is appended with
/// `.` and `..` taken lexically.
pub(crate) fn resolved(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parts: Vec<Component<'_>> = abs.components().collect();
    for keep in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..keep].iter().collect();
        if let Ok(mut real) = head.canonicalize() {
            for c in &parts[keep..] {
                match c {
                    Component::ParentDir => {
                        real.pop();
                    }
                    Component::Normal(n) => real.push(n),
                    _ => {}
                }
            }
            return real;
        }
    }
    abs
}

/// Reads a marks file (none when it does not exist).
pub fn read_marks(path: &Path) -> Result<Vec<MarkLine>, IntegrityError> {
    let text = match auditrail_core::regular_file::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IntegrityError::io(path, e)),
    };
    Ok(text
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| HighWaterMark::parse_line(l).map_err(|e| (i as u64 + 1, e)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(seq: u64) -> MarkState {
        MarkState {
            store_id: "s1".into(),
            checkpoint: 2,
            link: ChainLink { seq, hash: [3; 32] },
            checkpoint_digest: [4; 32],
            accepted: None,
        }
    }

    /// Removed: written back as last written (every store's line). Replaced by
    /// another writer (a newer mark of a Kafka partition's next owner): left as it is,
    /// said once.
    #[test]
    fn a_removed_marks_file_is_written_back_and_a_replaced_one_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let signer = Signer::from_seed([5; 32]);
        assert_eq!(marks.keep_in_place().unwrap(), None, "nothing written yet");
        marks
            .put(&signer, &dir.path().join("a"), &state(10))
            .unwrap();
        marks
            .put(&signer, &dir.path().join("b"), &state(20))
            .unwrap();
        let written = std::fs::read(marks.path()).unwrap();
        assert_eq!(marks.keep_in_place().unwrap(), None);

        std::fs::remove_file(marks.path()).unwrap();
        let done = marks.keep_in_place().unwrap().unwrap();
        assert!(done.starts_with("removed"), "{done}");
        assert_eq!(std::fs::read(marks.path()).unwrap(), written);
        assert_eq!(marks.keep_in_place().unwrap(), None);

        let other = HighWaterMarks::in_data_dir(dir.path());
        other
            .put(&signer, &dir.path().join("a"), &state(30))
            .unwrap();
        let newer = std::fs::read(marks.path()).unwrap();
        let done = marks.keep_in_place().unwrap().unwrap();
        assert!(done.starts_with("replaced or changed"), "{done}");
        assert_eq!(std::fs::read(marks.path()).unwrap(), newer, "left as it is");
        assert_eq!(marks.keep_in_place().unwrap(), None, "said once");
    }

    /// The marks' folder moved away while the server runs: not made again at its path
    /// (nor is another folder put there written into), by a new mark or by putting the
    /// file back; once the folder is back, marks are written there again.
    #[test]
    fn a_marks_folder_moved_away_is_not_made_again_nor_another_one_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let marks = HighWaterMarks::in_data_dir(&data);
        let signer = Signer::from_seed([5; 32]);
        let store = dir.path().join("store");
        marks.put(&signer, &store, &state(10)).unwrap();
        let moved = dir.path().join("data.moved");
        fs::rename(&data, &moved).unwrap();
        for _ in 0..2 {
            let e = marks.put(&signer, &store, &state(11)).unwrap_err();
            assert!(
                matches!(
                    e,
                    IntegrityError::MarksFolderMoved {
                        found: FolderFound::Gone,
                        ..
                    }
                ),
                "{e}"
            );
            assert!(marks.keep_in_place().is_err());
            assert!(!data.exists(), "made again");
        }
        fs::create_dir(&data).unwrap();
        let e = marks.put(&signer, &store, &state(11)).unwrap_err();
        assert!(
            matches!(
                e,
                IntegrityError::MarksFolderMoved {
                    found: FolderFound::Another,
                    ..
                }
            ),
            "{e}"
        );
        assert!(marks.keep_in_place().is_err());
        assert_eq!(fs::read_dir(&data).unwrap().count(), 0, "written into");
        fs::remove_dir(&data).unwrap();
        fs::rename(&moved, &data).unwrap();
        marks.put(&signer, &store, &state(12)).unwrap();
        assert_eq!(marks.get(&store).unwrap().unwrap().link.seq, 12);
    }

    #[test]
    fn marks_are_replaced_per_store_and_any_edit_breaks_the_signature() {
        let dir = tempfile::tempdir().unwrap();
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let signer = Signer::from_seed([5; 32]);
        let a = dir.path().join("a");
        let b = dir.path().join("b/store");
        marks.put(&signer, &a, &state(10)).unwrap();
        marks.put(&signer, &b, &state(20)).unwrap();
        marks.put(&signer, &a, &state(30)).unwrap();
        assert_eq!(marks.get(&a).unwrap().unwrap().link.seq, 30);
        assert_eq!(marks.get(&b).unwrap().unwrap().store, "b/store");
        assert_eq!(marks.read().unwrap().len(), 2);
        let text = fs::read_to_string(marks.path()).unwrap();
        fs::write(
            marks.path(),
            text.replace("\"chainSeq\":30", "\"chainSeq\":31"),
        )
        .unwrap();
        let err = marks.get(&a).unwrap_err().to_string();
        assert!(err.contains("edited after signing"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn every_way_of_naming_the_data_dir_gives_the_store_one_name() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("big/auditrail");
        fs::create_dir_all(real.join("store")).unwrap();
        std::os::unix::fs::symlink("big/auditrail", dir.path().join("link")).unwrap();
        let via_link = dir.path().join("link");
        let dotted = dir.path().join("big/x/../auditrail");
        fs::create_dir_all(dir.path().join("big/x")).unwrap();
        let trailing = PathBuf::from(format!("{}/", real.display()));
        for (data_dir, store) in [
            (&real, real.join("store")),
            (&via_link, via_link.join("store")),
            (&via_link, real.join("store")),
            (&real, via_link.join("store")),
            (&dotted, dotted.join("store")),
            (&trailing, trailing.join("store/")),
        ] {
            let name = StoreName::of(data_dir, &store);
            assert_eq!(name.as_str(), "store", "{data_dir:?} {store:?}");
        }
        // A store not created yet gets the name it will have.
        assert_eq!(
            StoreName::of(&via_link, &via_link.join("a/../new")).as_str(),
            "new"
        );
        // Outside the data dir: the resolved absolute path.
        let outside = StoreName::of(&real, &via_link.join("../other"));
        assert_eq!(
            outside.as_str(),
            dir.path()
                .canonicalize()
                .unwrap()
                .join("big/other")
                .display()
                .to_string()
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_absolute_name_is_the_store_only_where_it_resolves_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::create_dir_all(real.join("store")).unwrap();
        fs::create_dir_all(real.join("other")).unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let name = StoreName::of(&dir.path().join("link"), &dir.path().join("link/store"));
        assert!(name.is("store"));
        assert!(name.is(&real.join("store").display().to_string()));
        assert!(name.is(&dir.path().join("link/store").display().to_string()));
        assert!(!name.is(&real.join("other").display().to_string()));
        assert!(!name.is("other"));
        assert!(
            !name.is("./store"),
            "relative names are compared as written"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_mark_written_under_an_absolute_name_is_found_and_replaced_by_the_relative_one() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        let store = real.join("store");
        fs::create_dir_all(&store).unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let signer = Signer::from_seed([6; 32]);
        // What an older version wrote for a server started on the link.
        let absolute = store.canonicalize().unwrap().display().to_string();
        let (_, line) = HighWaterMark::sign(&signer, &absolute, &state(7));
        fs::write(real.join(HIGH_WATER_FILE), format!("{line}\n")).unwrap();
        let marks = HighWaterMarks::in_data_dir(&dir.path().join("link"));
        assert_eq!(marks.get(&store).unwrap().unwrap().link.seq, 7);
        marks
            .put(&signer, &dir.path().join("link/store"), &state(8))
            .unwrap();
        let lines = marks.read().unwrap();
        assert_eq!(lines.len(), 1);
        let m = lines[0].as_ref().unwrap();
        assert_eq!((m.store.as_str(), m.link.seq), ("store", 8));
    }
}
