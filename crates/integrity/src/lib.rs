//! # auditrail-integrity
//!
//! Tamper evidence of auditrail stores, between the store and the server: it builds on
//! the store ([`auditrail_store`]), whose chain fields (every stored record carries a
//! store-wide sequence number and a hash over the previous link and its exact bytes)
//! are what checkpoints and receipts vouch for; the server attaches it to each of its
//! chained stores; `auditrail verify` and `auditrail keys` use it directly.
//!
//! - [`keys`]: the server's Ed25519 signing key ([`Signer`]) and [`PublicKey`].
//! - [`checkpoint`] and [`checkpointer`]: signed checkpoints of `(store id, chain seq,
//!   chain hash, time)`, each linked to the previous one, appended to
//!   `<store>/checkpoints.jsonl` by the store writer through a [`Checkpointer`].
//! - [`receipt`]: the proof of storage a client gets for a batch ([`Receipt`]).
//! - [`attach`]: all of it for one open store ([`StoreIntegrity`]), for the server.
//! - [`high_water`]: the signed high-water mark of each store, kept outside the store
//!   folder ([`HighWaterMarks`]): the server refuses to sign over a checkpoint log that
//!   is shorter than it, and `verify` reports a rollback with it.
//! - [`verify`]: walks a closed (or live) store and reports every changed, missing,
//!   inserted, reordered or truncated record and every bad checkpoint.
//!
//! ```
//! use auditrail_integrity::{CheckpointPolicy, Checkpointer, Signer};
//! use auditrail_store::chain::Chain;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let signer = std::sync::Arc::new(Signer::load_or_create(dir.path())?);
//! let store = dir.path().join("store");
//! let mut chain = Chain::genesis();
//! let mut cp = Checkpointer::open(&store, signer, CheckpointPolicy::default(), chain.last())?;
//! // The store writer seals records and, once a batch is durable, tells the checkpointer.
//! let mut line = Vec::new();
//! let link = chain.seal(br#"{"clientEvent":{}"#, &mut line);
//! cp.after_batch(link)?;
//! let last = cp.close(chain.last())?;
//! assert_eq!(last.map(|c| c.link.seq), Some(1));
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod accept;
mod append;
pub mod archive;
pub mod attach;
pub mod checkpoint;
pub mod checkpointer;
mod data_dir_lock;
pub mod forward;
mod given;
mod guard;
pub mod high_water;
pub mod key_leftovers;
pub mod keys;
mod log_head;
mod log_pieces;
pub mod marks_folder;
pub mod proof;
mod prune_left_out;
mod prune_pass;
mod prune_reserve;
pub mod receipt;
pub mod rotation;
pub mod stops;
pub mod task;
pub mod verify;

/// What the code under test logs, for tests that check a warning names what it should.
#[cfg(test)]
pub(crate) mod test_log {
    pub(crate) use auditrail_core::testing::logged;
}

pub use archive::{Archive, ArchiveError, Archived, ArchivedObject};
pub use attach::{Checked, PruneStats, Pruned, StoreIntegrity};
pub use checkpoint::{
    key_chain, AcceptanceRecord, AcceptedHead, Checkpoint, Deletion, LineExtras, MarkBefore,
};
pub use checkpointer::{CheckpointPolicy, Checkpointer};
pub use data_dir_lock::{DataDirLock, DataDirLockError, LOCK_FILE};
pub use given::{
    read_given_text, MAX_PROOF_BUNDLE_BYTES, MAX_RECEIPT_FILE_BYTES, MAX_WITNESS_FILE_BYTES,
};
pub use guard::store_key_chain;
pub use high_water::{
    Acceptance, HighWaterMark, HighWaterMarks, MarkLineError, MarkState, StoreName,
};
pub use keys::{PublicKey, Signer, PUBLIC_KEY_FILE, SECRET_KEY_FILE};
pub use log_head::HEAD_FILE;
pub use receipt::Receipt;
pub use task::{CheckpointTask, Sealed};

/// Failures of the integrity machinery itself (not findings of a verification: those
/// are [`verify::Problem`]s).
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    /// A file could not be read or written.
    #[error("{}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A key file has the wrong format.
    #[error("key file {path}: {reason}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The data dir's secret key is missing, but the data dir was used: a key
    /// generated now would sign nothing its stores can continue, and its public half
    /// would replace the one verifiers take from the data dir. No key is generated.
    #[error(
        "{path} is missing, but {found}: the server generates a key only in a new data \
         dir. Put the key's backup back at {path} (or give the key file with \
         `signing_key`); if the key is lost for good, keep this data dir as evidence and \
         start the server on a new one"
    )]
    KeyMissing {
        /// The secret key file that is missing.
        path: PathBuf,
        /// What shows the data dir was used (naming the file).
        found: String,
    },
    /// The secret key and the data dir's public key file are halves of different keys:
    /// `verify` takes the public file as the trusted key, so neither is "fixed" by
    /// overwriting the other.
    #[error(
        "{secret} (public half {secret_key}) and {public} ({public_key}) are not halves of \
         one key: `auditrail verify` would trust the wrong one. Put back the secret key \
         whose public half {public} holds, or, if {secret} is the right key, remove \
         {public} (the server writes it again from the secret key)"
    )]
    KeyMismatch {
        /// The secret key file.
        secret: PathBuf,
        /// Its public half (`ed25519:<hex>`; as text, which keeps the error small).
        secret_key: String,
        /// The public key file.
        public: PathBuf,
        /// The key that file holds (`ed25519:<hex>`).
        public_key: String,
    },
    /// The key file holds the key an interrupted `auditrail keys rotate` handed signing
    /// over to, while `signing.pub` still holds the old key (see [`rotation`]): a
    /// rotation stopped between its last two steps. Running it again finishes it.
    #[error("{0}")]
    RotationUnfinished(Box<rotation::UnfinishedRotation>),
    /// A public key string has the wrong format.
    #[error("public key: {0}")]
    PublicKey(String),
    /// The operating system's random source failed.
    #[error("random source: {0}")]
    Random(String),
    /// The checkpoint log or store id file cannot be used.
    #[error("{path} line {line}: {reason}")]
    CheckpointLog {
        /// The checkpoint log (or store id file).
        path: PathBuf,
        /// 1-based line number (0 when not about one line).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint log the server appends to is no longer the file it wrote at its
    /// path (an operator moved, removed, replaced, truncated or appended to it while
    /// the server ran): a seal written there would vouch for records from a file nobody finds, or
    /// follow a cut in the signed chain, so nothing is sealed (and no batch
    /// acknowledged) until the log is back at its path, whole.
    #[error("checkpoint log {path}: {reason}; {}", log_gone_remedy(.reason))]
    CheckpointLogGone {
        /// The checkpoint log's path.
        path: PathBuf,
        /// What happened to it.
        reason: auditrail_core::durable::NotAt,
    },
    /// A folder given to `verify` holds no store: no `store-id` or checkpoint log at or
    /// below it, and no segment file. Verifying nothing would pass.
    #[error(
        "{}: no store to verify: {found}. A store's folder holds `store-id`, \
         `checkpoints.jsonl` and its records in segment files \
         (`<partition folders>/<20 digits>.jsonl`); a server's data dir holds its stores \
         in sub-folders (`verify --config server.toml` finds the stores a config names). \
         A node's audit folder (a `file` target's JSON lines) has no chain or signature \
         to verify (`auditrail query --audit-dir` reads it)",
        path.display()
    )]
    NoStore {
        /// The folder given.
        path: PathBuf,
        /// What it holds instead.
        found: String,
    },
    /// A store folder a server config names does not exist, and no high-water mark
    /// names it: never written (or the config points elsewhere than where the server
    /// ran). One a mark names is gone, and reported so (`rolled-back`), not this.
    #[error(
        "{} does not exist, and no high-water mark names it ({marks}): the server has not \
         written this store yet (it makes the folder at its first start with this config, \
         and signs a mark of it in the data dir's high-water.jsonl), or the config's \
         `data_dir` or the store's `path` is not where the server ran. Nothing to verify \
         (a store written and then removed whole is named by its mark, and verify reports \
         it as gone)",
        path.display()
    )]
    StoreNeverWritten {
        /// The store's folder.
        path: PathBuf,
        /// Where the marks were looked for, or which file names none here.
        marks: String,
    },
    /// A receipt file cannot be used.
    #[error("{path}{}: {reason}", at_line(.line))]
    ReceiptFile {
        /// The receipt file.
        path: PathBuf,
        /// 1-based line number (0 when not about one line).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The folder holding the high-water marks (the data dir, or a Kafka partition
    /// store's partition folder) is not the folder this process first found there: it
    /// was moved away or removed while the server runs (perhaps another folder put at
    /// its path). Nothing is written at its path (a folder made there would hold a
    /// marks file apart from the signing key, the lock and the marks signed so far,
    /// which went with the folder) until the folder is back.
    #[error(
        "{}: {found}: the high-water marks are not written there until the folder the \
         server opened is back at its path (its signing key, lock and the marks signed so \
         far went with it); meanwhile a rollback of a store at the next start is caught \
         only up to the last mark written",
        folder.display()
    )]
    MarksFolderMoved {
        /// The folder's path.
        folder: PathBuf,
        /// What is at the path now.
        found: high_water::FolderFound,
    },
    /// The store's own files (its id) cannot be used.
    #[error(transparent)]
    Store(#[from] auditrail_store::StoreError),
    /// The store's chain head disagrees with its last signed checkpoint: records that a
    /// checkpoint vouched for are gone or were rewritten.
    #[error("store {path}: {reason}")]
    ChainBehindCheckpoint {
        /// The store.
        path: PathBuf,
        /// What disagrees.
        reason: String,
    },
    /// Records were stored but the checkpoint task ended before a signed line vouched
    /// for them: their batch must not be acknowledged.
    #[error(
        "store {path}: records up to chainSeq {seq} are stored but not sealed (the \
         checkpoint task stopped; see the log)"
    )]
    Unsealed {
        /// The store.
        path: PathBuf,
        /// The last record that needed a seal.
        seq: u64,
    },
    /// Records were stored but the checkpoint task's attempt to seal them failed (it
    /// retries every second): their batch must not be acknowledged.
    #[error(
        "store {path}: records up to chainSeq {seq} are stored but not sealed (sealing is \
         retried every second)"
    )]
    SealFailed {
        /// The store.
        path: PathBuf,
        /// The last record that needed a seal.
        seq: u64,
        /// Why the seal failed.
        #[source]
        source: Arc<IntegrityError>,
    },
    /// A store cannot be pruned (closed, not chained, or waiting for its recovery).
    #[error("store {path}: cannot prune: {reason}")]
    PruneUnavailable {
        /// The store.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A prune pass could not write the record of its deletion (or the numbers it
    /// deletes) because the file system is full, even after releasing the prune
    /// reserve when there was one: nothing of the pass was deleted.
    #[error("store {path}: the file system is full: the prune could not write the record of its deletion, so nothing of this pass was deleted; {remedy}")]
    PruneDiskFull {
        /// The store.
        path: PathBuf,
        /// What the reserve did, and what to do.
        remedy: String,
        /// The write that failed.
        #[source]
        source: Box<IntegrityError>,
    },
    /// Partitions a prune was to delete cannot be removed (a partition folder made
    /// read-only, an immutable file, a read-only mount): each pass left them out of its
    /// signed deletion line (it names only what the pass removed) and they are still
    /// there, not deleted. Every other partition due was deleted and reported (its pass
    /// handed over, counted); the next prune tries these again.
    #[error("store {path}: {partitions} partitions due for deletion cannot be removed, so they were not deleted (left out of the signed deletion; the next prune tries them again), the first {first}: {at}: {source}")]
    PruneUnremovable {
        /// The store.
        path: PathBuf,
        /// Partitions left out.
        partitions: usize,
        /// The first of them (relative to the store).
        first: String,
        /// Its folder or file that refuses the removal.
        at: PathBuf,
        /// What a removal would meet.
        #[source]
        source: std::io::Error,
    },
    /// A prune pass recorded its deletion and removed part of it, but some of its files
    /// could not be removed (a partition folder made read-only, an immutable file) or
    /// were not tried (the store closed meanwhile): what it removed was reported (its
    /// pass handed over, counted); the files left are still there, `verify` confirms
    /// them against the signed line and warns `deletion-incomplete`, and the next prune
    /// removes them.
    #[error("store {path}: {files} segment files of {partitions} partitions could not be removed (the first: {first}); the pass removed the other {removed} partitions of its deletion, and the next prune removes these: {source}")]
    PruneIncomplete {
        /// The store.
        path: PathBuf,
        /// Segment files left.
        files: usize,
        /// Partitions with a file left.
        partitions: usize,
        /// The first file left (relative to the store).
        first: String,
        /// Partitions the pass removed.
        removed: usize,
        /// The first failure.
        #[source]
        source: Box<IntegrityError>,
    },
    /// A prune left out partitions holding a record that does not belong in their
    /// folder (its topic, routing key or time does not give it: moved there by hand,
    /// `misplaced-record`): they are not deleted and no deletion line names them, so
    /// that retention never signs such a move away. The prune's other partitions were
    /// deleted as usual. They stay until an operator looks (`auditrail verify` names
    /// every misplaced record); each prune leaves them out again.
    #[error("store {path}: {} partitions kept, not deleted, for holding records that do not belong in their folders (`auditrail verify` names them, misplaced-record): the first, {first}", partitions.len(), first = partitions.first().map(ToString::to_string).unwrap_or_default())]
    PruneKeptMisplaced {
        /// The store.
        path: PathBuf,
        /// The partitions kept, each with its first misplaced record.
        partitions: Vec<auditrail_store::MisplacedPartition>,
    },
    /// A prune with archive before delete was stopped (the server is stopping) before
    /// it removed anything of its pass: during its uploads, or during the upload of the
    /// checkpoint log after its deletion line (the line stays, as after a failed
    /// upload of the log). The next prune goes on.
    #[error("store {path}: archive before delete stopped by the shutdown; nothing of this pass was deleted (the next prune goes on)")]
    PruneStopped {
        /// The store.
        path: PathBuf,
    },
    /// A prune was stopped between two of its passes (the server is stopping): each
    /// pass done deleted what its line names; the next prune goes on with the rest.
    #[error("store {path}: prune stopped by the shutdown after {passes} passes, between two passes (each pass done deleted what its checkpoint line names; the next prune goes on)")]
    PruneStoppedBetweenPasses {
        /// The store.
        path: PathBuf,
        /// Passes done before the stop.
        passes: usize,
    },
    /// Archive before delete failed (an upload or its read-back): nothing was deleted
    /// locally; the next prune tries again.
    #[error("store {path}: archive before delete failed; nothing was deleted (the next prune tries again)")]
    Archive {
        /// The store.
        path: PathBuf,
        /// What failed, naming the object (boxed: the object store's error is large).
        #[source]
        source: Box<ArchiveError>,
    },
    /// The server refuses to sign anything more for a store: its identity, checkpoint
    /// log or high-water mark do not match (see the `guard` checks at start).
    #[error("store {path}: {found}. The server does not sign over it: {remedy}")]
    Refused {
        /// The store.
        path: PathBuf,
        /// What was found.
        found: String,
        /// How to proceed.
        remedy: String,
    },
    /// A store that could not be opened at start (held by the server,
    /// `StoreTarget::unopened`) cannot be checked or attached: nothing of it was read.
    #[error(
        "store {path} is not open (it could not be opened at start, and the server's log \
         says why): nothing of it can be checked; once it can be read, start the server \
         again"
    )]
    NotOpen {
        /// The store.
        path: PathBuf,
    },
    /// `auditrail store accept` refuses to record an acceptance in a store's checkpoint
    /// log: the log is damaged, ends in an incomplete line, or is signed by another
    /// key, and a line appended there would not continue its signed chain.
    #[error("store {path}: {found}. `store accept` does not append to it: {remedy}")]
    AcceptRefused {
        /// The store.
        path: PathBuf,
        /// What was found.
        found: String,
        /// How to proceed.
        remedy: String,
    },
}

impl IntegrityError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> IntegrityError {
        IntegrityError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the cause is a full disk (`ENOSPC`) or an exhausted quota (`EDQUOT`).
    pub fn is_disk_full(&self) -> bool {
        match self {
            IntegrityError::Io { source, .. } => auditrail_core::durable::is_disk_full(source),
            IntegrityError::Store(e) => e.is_disk_full(),
            IntegrityError::PruneDiskFull { .. } => true,
            _ => false,
        }
    }
}

/// What an operator does about a checkpoint log that is not the server's any more.
fn log_gone_remedy(reason: &auditrail_core::durable::NotAt) -> String {
    match reason {
        auditrail_core::durable::NotAt::Shorter { expected, .. } => format!(
            "nothing is sealed (no batch acknowledged) until its first {expected} bytes are \
             back in this file (copy the saved log into it, e.g. `cat checkpoints.jsonl.1 > \
             checkpoints.jsonl`; a `mv` would put another file there; a log cut short does \
             not continue its signed chain)"
        ),
        auditrail_core::durable::NotAt::Longer { expected, .. } => format!(
            "nothing is sealed (no batch acknowledged) until the bytes after its first \
             {expected} are taken out of this file: the server did not write them, and a \
             line appended after them would be glued to them (keep them elsewhere if they \
             matter, then `truncate -s {expected} checkpoints.jsonl`; a restart cuts bytes \
             after the last newline aside, into `checkpoints.jsonl.cut`)"
        ),
        auditrail_core::durable::NotAt::Linked => "nothing is sealed (no batch \
            acknowledged) until the log the server opened is back at this path in place of \
            the link (remove the link, move the file back: audit data is never written \
            through a link)"
            .to_owned(),
        _ => "nothing is sealed (no batch acknowledged) until the log the server opened is \
              back at this path (move it back; a new or another log would not continue its \
              signed chain)"
            .to_owned(),
    }
}

/// ` line N` for a 1-based line number, nothing for 0 (an error about the whole file).
fn at_line(line: &u64) -> String {
    if *line > 0 {
        format!(" line {line}")
    } else {
        String::new()
    }
}
