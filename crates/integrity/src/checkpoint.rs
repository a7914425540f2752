//! Signed checkpoints and their log line format.
//!
//! # Checkpoint log line (version 1)
//!
//! `<store>/checkpoints.jsonl` holds one JSON object per line:
//!
//! ```text
//! {"checkpoint":<k>,"storeId":"<id>","chainSeq":<N>,"chainHash":"<64 hex>","time":"<RFC 3339 UTC>","prev":"<64 hex>","key":"ed25519:<64 hex>","sig":"<128 hex>"}
//! ```
//!
//! - `checkpoint`: 1 for the first line of the log, then +1 per line.
//! - `chainSeq`/`chainHash`: the chain link of the last record the checkpoint vouches for
//!   (see [`auditrail_store::chain`]).
//! - `prev`: SHA-256 of the previous line's exact bytes (without its newline); 64 zeros on
//!   the first line. Removing or editing any checkpoint breaks the next one's `prev`.
//! - `treeSize`/`treeHead` (on lines of a store that keeps its Merkle tree, right after
//!   `prev`): the RFC 6962 head of the tree whose leaves are the records `1..=treeSize`
//!   (see [`auditrail_store::merkle`]); `treeSize` equals `chainSeq`. Lines written
//!   before the tree existed lack them and still verify.
//! - `frontier` (after `treeHead`, on the first line after a start, on deletion and
//!   rotation lines, and at least every [`FRONTIER_EVERY`] records): the hashes of the
//!   tree's maximal subtrees, left to right, from which the server resumes its tree.
//! - `deleted` (only on lines that record a deletion, [`Deletion`]): the partitions
//!   deleted, why, and the chain ranges their records covered with the chain hash at the
//!   end of each range, between `prev` and `key`:
//!   `"deleted":{"reason":"...","partitions":["generic/_none/2025/01/01/00",...],"ranges":[[1,500,"<64 hex>"],...],"records":500,"bytes":152000,"subtrees":[["<64 hex>",...],...]}`
//!   (`subtrees`, per range: the hashes of the range's maximal Merkle subtrees, so that
//!   tree heads and proofs over the deleted records stay computable).
//! - `accepted` (only on lines `auditrail store accept` writes, [`AcceptanceRecord`],
//!   after `deleted`): an operator accepted the store's state as the line before it left
//!   it: who, why, what `verify` found, and what the high-water mark had recorded until
//!   then: `"accepted":{"by":"...","reason":"...","found":"...","mark":{"checkpoint":12,"chainSeq":50,"chainHash":"<64 hex>","time":"..."}}`
//!   (`mark` absent when the store had no usable mark). The line vouches for the same
//!   chain link (and tree head) as the line before it, or for none (`chainSeq` 0) as
//!   the first line of a log. Versions before it refuse such a line as malformed (the
//!   line parser refuses unknown fields).
//!   `accepted.head` (last, after `mark`): `{"chainSeq":<N>,"chainHash":"<64 hex>"}`,
//!   the store's last record when it was accepted ([`AcceptedHead`]; `chainSeq` 0 and
//!   zeros for a store without records). The
//!   acceptance is written with the server stopped: like a `cleanStop` line for that
//!   head, a record after it was written while no server ran, and the next start
//!   refuses it (see [`crate::stops`]). Acceptances written before it lack it (the
//!   next start then signs whatever follows as recovered); versions before it refuse
//!   a line carrying it as malformed.
//! - `nextKey` (only on a key rotation, before `key`): `"ed25519:<64 hex>"`, the key that
//!   signs every later line. Signed by the retiring key, so a verifier that trusts
//!   either key follows the chain of keys (see [`key_chain`]).
//! - `cleanStop` (only on the line a server signs when it stops cleanly, and on a key
//!   rotation, which runs with the server stopped; after `nextKey`): `true`. Every
//!   record the store holds was written before it: a record after such a line was
//!   written while the server was stopped, and the server refuses to start on it
//!   (see [`crate::stops`]). A server stopped before it stored anything signs such a
//!   line too, vouching for no record (`chainSeq` 0, no tree fields), so that records
//!   put into the empty store are refused as well.
//! - `recovered` (only on the line a server signs at start for records it found after
//!   the log's last line, after `nextKey`): `{"fromSeq":<a>,"toSeq":<N>}`, the records
//!   only this start vouches for (fsynced before a crash, never sealed nor
//!   acknowledged); `toSeq` is the line's `chainSeq`.
//!
//! - `timeline` (after `recovered`, on lines written since 2026-12-07): the store's
//!   timeline when the line was signed (RFC 3339, ms): the previous line's plus the
//!   monotonic time since, never later than `time`; what retention resumes from after a
//!   restart (see `auditrail_store::retention_clock`). Versions before it refuse a line
//!   carrying it as malformed.
//! - `latest` (after `timeline`, on lines written since 2026-12-07): the store's latest
//!   plausible time when the line was signed (RFC 3339, ms): the same rule as
//!   `timeline`, but resumed at a start from the later of the wall clock and the last
//!   line's `latest`, and never taken back by a wall clock set back, so never earlier
//!   than `timeline` (it may be later than `time`); what the bound on timestamps ahead
//!   resumes from after a restart (see `auditrail_store::timeline`).
//!
//! Versions before `cleanStop` and `recovered` refuse lines carrying them as malformed
//! (the parser refuses unknown fields, as it did for every field added before).
//! - `sig`: Ed25519 signature by `key` over `"auditrail-checkpoint-v1\n"` followed by the
//!   exact bytes of the line up to (not including) `,"sig":"`. The signature therefore
//!   covers every other field byte for byte; no JSON canonicalisation is involved.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::{signed_message, PublicKey, Signer};
pub use super::stops::Recovered;
use super::IntegrityError;
use auditrail_store::chain::ChainLink;
use auditrail_store::merkle::{CompactRange, Hash};
use auditrail_store::Head;

/// A line carries the tree's frontier at least once per this many records.
pub const FRONTIER_EVERY: u64 = 4096;

const DOMAIN: &[u8] = b"auditrail-checkpoint-v1\n";
const SIG_KEY: &[u8] = b",\"sig\":\"";

/// One signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Position in the log, from 1.
    pub index: u64,
    /// The store this checkpoint belongs to.
    pub store_id: String,
    /// The last record vouched for.
    pub link: ChainLink,
    /// When it was signed (RFC 3339, UTC).
    pub time: String,
    /// SHA-256 of the previous checkpoint line (zeros for the first).
    pub prev: [u8; 32],
    /// The key that signed it.
    pub key: PublicKey,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
    /// Signed at a clean stop: no record of the store follows it legitimately.
    pub clean_stop: bool,
    /// Signed at a start for records found after the log's last line (a crash).
    pub recovered: Option<Recovered>,
    /// What this line records as deleted (retention), if anything.
    pub deleted: Option<Deletion>,
    /// On a key rotation: the key that signs every later line.
    pub next_key: Option<PublicKey>,
    /// The Merkle tree head it signs, if the store keeps its tree.
    pub tree: Option<TreeHead>,
    /// An operator's acceptance of the store's state (`auditrail store accept`).
    pub accepted: Option<AcceptanceRecord>,
    /// The store's timeline when the line was signed (RFC 3339, ms): what retention
    /// deletes against, carried from line to line by the monotonic clock, never ahead
    /// of the wall clock, and not moved by a wall clock stepped ahead (see
    /// `auditrail_store::retention_clock`). Absent on lines written before it (a
    /// reader then takes `time`).
    pub timeline: Option<String>,
    /// The store's latest plausible time when the line was signed (RFC 3339, ms): what
    /// the bound on timestamps ahead counts from after a restart with the wall clock
    /// behind; like `timeline`, but never taken back by a wall clock set back (see
    /// `auditrail_store::timeline`). Absent on lines written before it (a reader then
    /// takes `timeline`).
    pub latest: Option<String>,
}

/// A signed Merkle tree head: the RFC 6962 head of the records `1..=size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    /// Records in the tree (the line's `chainSeq`).
    pub size: u64,
    /// `MTH` of their leaves.
    pub head: Hash,
    /// The hashes of the tree's maximal subtrees, on lines that carry them.
    pub frontier: Option<Vec<Hash>>,
}

impl TreeHead {
    /// The head of `tree` (a frontier), with the frontier itself when `with_frontier`.
    pub fn of(tree: &CompactRange, with_frontier: bool) -> TreeHead {
        TreeHead {
            size: tree.end(),
            head: tree.root().unwrap_or_default(),
            frontier: with_frontier.then(|| tree.hashes()),
        }
    }
}

/// What a line carries besides the checkpoint itself.
#[derive(Debug, Clone, Default)]
pub struct LineExtras {
    /// The line is signed at a clean stop (see [`Checkpoint::clean_stop`]).
    pub clean_stop: bool,
    /// The records a start vouches for as found after the log's last line.
    pub recovered: Option<Recovered>,
    /// A deletion it records (retention).
    pub deleted: Option<Deletion>,
    /// The key that signs every later line (a key rotation).
    pub next_key: Option<PublicKey>,
    /// The Merkle tree head to sign (its size must be the line's `chainSeq`).
    pub tree: Option<TreeHead>,
    /// An operator's acceptance of the store's state it records.
    pub accepted: Option<AcceptanceRecord>,
    /// The store's timeline at the line (see [`Checkpoint::timeline`]).
    pub timeline: Option<String>,
    /// The store's latest plausible time at the line (see [`Checkpoint::latest`]).
    pub latest: Option<String>,
}

/// An operator's acceptance of a store's state (`auditrail store accept`), recorded
/// as a line of the store's checkpoint log: signed and linked (`prev`) like every
/// other line, so that removing it breaks the log's chain or falls below the
/// high-water mark, which the acceptance moves to this line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceRecord {
    /// Who accepted (the operating system user running the command).
    pub by: String,
    /// Why, in the operator's words.
    pub reason: String,
    /// What was found and accepted (what `verify` found at that moment).
    pub found: String,
    /// What the store's high-water mark recorded before the acceptance (`None`: the
    /// store had no usable mark): with the line's own checkpoint, it tells what the
    /// acceptance gave up (a rolled-back log ended before the marked checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<MarkBefore>,
    /// The store's head when it was accepted: its last record (`chainSeq` 0: none).
    /// The acceptance is written with the server stopped, so a record after it was
    /// added while no server ran, as after a clean stop's line, and the next start
    /// refuses it (see [`crate::stops`]). Absent on acceptances written before it
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<AcceptedHead>,
}

/// The store head an acceptance accepted (see [`AcceptanceRecord::head`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcceptedHead {
    /// The last record's `chainSeq` (0: the store held none).
    pub chain_seq: u64,
    /// Its chain hash (64 hex; zeros without records).
    pub chain_hash: String,
}

impl AcceptedHead {
    /// The head of a store whose last record has `link`.
    pub fn of(link: ChainLink) -> AcceptedHead {
        AcceptedHead {
            chain_seq: link.seq,
            chain_hash: link.hash_hex(),
        }
    }

    /// The chain link it names (`None`: its hash is not 64 hex characters; a line
    /// carrying such a head does not parse).
    pub fn link(&self) -> Option<ChainLink> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&self.chain_hash, &mut hash).ok()?;
        Some(ChainLink {
            seq: self.chain_seq,
            hash,
        })
    }
}

/// The high-water mark an acceptance replaced (see [`AcceptanceRecord::mark`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MarkBefore {
    /// The checkpoint it recorded (0: none yet).
    pub checkpoint: u64,
    /// That checkpoint's `chainSeq`.
    pub chain_seq: u64,
    /// That checkpoint's `chainHash` (64 hex).
    pub chain_hash: String,
    /// When the mark was written.
    pub time: String,
}

/// The chain of signing keys of a log, oldest first: the first line's key, then each
/// `nextKey` named by a line signed by the key current at that line. A line signed by
/// any other key does not move the chain (a verifier reports it).
pub fn key_chain<'a>(lines: impl IntoIterator<Item = &'a Checkpoint>) -> Vec<PublicKey> {
    let mut chain: Vec<PublicKey> = Vec::new();
    for cp in lines {
        match chain.last() {
            None => chain.push(cp.key),
            Some(current) if *current != cp.key => continue,
            Some(_) => {}
        }
        if let Some(next) = cp.next_key {
            if !chain.contains(&next) {
                chain.push(next);
            }
        }
    }
    chain
}

/// A deletion recorded in the checkpoint log: the time partitions removed (by
/// retention or `auditrail store prune`), why, and the chain ranges their records
/// covered, each with the chain hash of its last record, so that a verifier checks
/// the chain on from the first record after a deleted range and tells a recorded
/// deletion from one no line explains. Signed with the rest of the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    /// Why (e.g. `retention: older than 400d`, or an operator's `--reason`).
    pub reason: String,
    /// The partition folders deleted, relative to the store root.
    pub partitions: Vec<String>,
    /// `[first chainSeq, last chainSeq, chain hash of the last (64 hex)]` per run of
    /// consecutive records deleted, in order.
    pub ranges: Vec<(u64, u64, String)>,
    /// Records deleted.
    pub records: u64,
    /// Bytes of segment files deleted.
    pub bytes: u64,
    /// Per range, the hashes of its maximal Merkle subtrees (leaves `first - 1 ..
    /// last`, left to right; `null` when unknown). Absent on lines written before the
    /// tree existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtrees: Option<Vec<Option<Vec<String>>>>,
    /// Where the deleted partitions were archived before deletion, with each segment
    /// file's SHA-256 and size as uploaded and read back (`auditrail verify --archive`
    /// checks the archive against it). Absent when nothing was archived, and on lines
    /// written before archives existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<crate::archive::Archived>,
    /// Sealed pieces of the checkpoint log removed with this deletion (their every
    /// line vouched only for records deleted by then), and the last line they held,
    /// which the first line kept links to. Absent when none was removed, and on lines
    /// written before the log was kept in pieces (versions before it refuse a line
    /// carrying it as malformed).
    #[serde(default, rename = "logPieces", skip_serializing_if = "Option::is_none")]
    pub log_pieces: Option<LogPieces>,
    /// The store's list of deleted node numbers (`.deleted-seqs.jsonl`) bound to this
    /// line: the SHA-256 of its bytes before and after the prune listed its numbers.
    /// Absent on lines written before 2026-12-07 (versions before it refuse a line
    /// carrying it as malformed).
    #[serde(
        default,
        rename = "deletedSeqs",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted_seqs: Option<DeletedSeqs>,
}

/// What a deletion line signs of `.deleted-seqs.jsonl` (`"deletedSeqs"` in
/// [`Deletion`]): `{"before":"<64 hex>","after":"<64 hex>"}`, the SHA-256 of the file's
/// bytes before the prune and once it listed the numbers it deleted (a missing file is
/// the empty content). `auditrail verify` checks that each line's `before` is what the
/// line before it left, and that the file is what a line left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletedSeqs {
    /// Before the prune (64 hex).
    pub before: String,
    /// After it (64 hex).
    pub after: String,
}

impl DeletedSeqs {
    /// What a prune plan's listing records.
    pub fn of(listed: &auditrail_store::deleted_seqs::Listed) -> DeletedSeqs {
        DeletedSeqs {
            before: hex::encode(listed.before),
            after: hex::encode(listed.after),
        }
    }
}

/// Pieces of the checkpoint log a deletion line removed (`"logPieces"` in
/// [`Deletion`]): `{"pieces":["checkpoints.jsonl.00000000000000000001",...],
/// "through":<k>,"digest":"<64 hex>","throughSeq":<F>,"chainHash":"<64 hex>",
/// "subtrees":["<64 hex>",...]}`.
///
/// Pieces go only when the first line kept (line `through + 1`, the first of the next
/// piece, which carries the tree's frontier) vouches for records that are all deleted:
/// so records `1..=throughSeq` are a deleted run like any other, whose chain hash at its
/// end (`chainHash`) and Merkle subtrees (`subtrees`, that line's frontier) the walk of
/// `auditrail verify` continues from, with the removed lines' own deletion ranges gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogPieces {
    /// The pieces' file names, in order.
    pub pieces: Vec<String>,
    /// The number of the last line they held (checkpoints `#1..=through` are gone).
    pub through: u64,
    /// SHA-256 of that line's bytes (64 hex): the `prev` of line `through + 1`.
    pub digest: String,
    /// The chainSeq line `through + 1` vouches for: every record up to it is deleted.
    pub through_seq: u64,
    /// The chain hash at `through_seq` (64 hex).
    pub chain_hash: String,
    /// The Merkle subtrees of records `1..=through_seq` (that line's frontier); absent
    /// for a store without a tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtrees: Option<Vec<String>>,
}

impl LogPieces {
    /// The last line removed: its number and digest.
    pub(crate) fn last_removed(&self) -> Option<(u64, [u8; 32])> {
        let mut digest = [0u8; 32];
        hex::decode_to_slice(&self.digest, &mut digest).ok()?;
        Some((self.through, digest))
    }

    /// The deleted run it stands for: `(1, through_seq, chain hash)`.
    pub(crate) fn range(&self) -> (u64, u64, Option<[u8; 32]>) {
        let mut hash = [0u8; 32];
        let hash = hex::decode_to_slice(&self.chain_hash, &mut hash)
            .ok()
            .map(|()| hash);
        (1, self.through_seq, hash)
    }

    /// The run's subtrees, when recorded and well-formed.
    pub(crate) fn range_subtrees(&self) -> Option<CompactRange> {
        let mut hashes = Vec::new();
        for h in self.subtrees.as_ref()? {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(h, &mut hash).ok()?;
            hashes.push(hash);
        }
        CompactRange::from_hashes(0, self.through_seq, hashes).ok()
    }
}

impl Deletion {
    /// The deletion a store's prune plan describes.
    pub fn of_plan(plan: &auditrail_store::PrunePlan, reason: &str) -> Deletion {
        Deletion {
            reason: reason.to_string(),
            partitions: plan.partitions.iter().map(|p| p.folder.clone()).collect(),
            ranges: plan
                .ranges
                .iter()
                .map(|r| (r.first, r.last, hex::encode(r.hash)))
                .collect(),
            records: plan.records,
            bytes: plan.bytes,
            subtrees: Some(
                plan.ranges
                    .iter()
                    .map(|r| {
                        r.subtrees
                            .as_ref()
                            .map(|t| t.hashes().iter().map(hex::encode).collect())
                    })
                    .collect(),
            ),
            archived: None,
            log_pieces: None,
            deleted_seqs: plan.deleted_seqs.as_ref().map(DeletedSeqs::of),
        }
    }

    /// The recorded subtrees of each range, in the order of `ranges` (`None` where the
    /// line does not carry them, or they do not fit their range).
    /// The run of removed log pieces ([`LogPieces`]) comes last.
    pub fn range_subtrees(&self) -> Vec<Option<CompactRange>> {
        let mut out: Vec<Option<CompactRange>> = self
            .ranges
            .iter()
            .enumerate()
            .map(|(i, (first, last, _))| {
                let hexes = self.subtrees.as_ref()?.get(i)?.as_ref()?;
                let mut hashes = Vec::with_capacity(hexes.len());
                for h in hexes {
                    let mut hash = [0u8; 32];
                    hex::decode_to_slice(h, &mut hash).ok()?;
                    hashes.push(hash);
                }
                CompactRange::from_hashes(first.checked_sub(1)?, *last, hashes).ok()
            })
            .collect();
        if let Some(p) = &self.log_pieces {
            out.push(p.range_subtrees());
        }
        out
    }

    /// The ranges with their hashes decoded (a range whose hash is not 64 hex
    /// characters has none: its end cannot be checked).
    /// The run of removed log pieces ([`LogPieces`]: records `1..=throughSeq`) comes
    /// last.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64, Option<[u8; 32]>)> + '_ {
        self.ranges
            .iter()
            .map(|(a, b, h)| {
                let mut hash = [0u8; 32];
                let ok = hex::decode_to_slice(h, &mut hash).is_ok();
                (*a, *b, ok.then_some(hash))
            })
            .chain(self.log_pieces.as_ref().map(LogPieces::range))
    }
}

/// Why a checkpoint line is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointLineError {
    /// Not a checkpoint line at all.
    #[error("malformed checkpoint line: {0}")]
    Malformed(String),
    /// Well formed, but the signature does not match the line under the key it names.
    #[error("the signature does not match the line under its key")]
    BadSignature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Fields {
    checkpoint: u64,
    store_id: String,
    chain_seq: u64,
    chain_hash: String,
    time: String,
    prev: String,
    #[serde(default)]
    clean_stop: bool,
    #[serde(default)]
    recovered: Option<Recovered>,
    #[serde(default)]
    tree_size: Option<u64>,
    #[serde(default)]
    tree_head: Option<String>,
    #[serde(default)]
    frontier: Option<Vec<String>>,
    #[serde(default)]
    deleted: Option<Deletion>,
    #[serde(default)]
    accepted: Option<AcceptanceRecord>,
    #[serde(default)]
    next_key: Option<String>,
    #[serde(default)]
    timeline: Option<String>,
    #[serde(default)]
    latest: Option<String>,
    key: String,
}

impl Checkpoint {
    /// Signs a new checkpoint and returns it with its log line (without newline).
    pub fn sign(
        signer: &Signer,
        index: u64,
        store_id: &str,
        link: ChainLink,
        time: String,
        prev: [u8; 32],
    ) -> (Checkpoint, String) {
        Checkpoint::sign_with(
            signer,
            index,
            store_id,
            link,
            time,
            prev,
            LineExtras::default(),
        )
    }

    /// [`sign`](Self::sign), for a line that also records a deletion or hands signing
    /// over to a new key.
    pub fn sign_with(
        signer: &Signer,
        index: u64,
        store_id: &str,
        link: ChainLink,
        time: String,
        prev: [u8; 32],
        extras: LineExtras,
    ) -> (Checkpoint, String) {
        let LineExtras {
            clean_stop,
            recovered,
            deleted,
            next_key,
            tree,
            accepted,
            timeline,
            latest,
        } = extras;
        let mut extra_fields = String::new();
        if let Some(t) = &tree {
            extra_fields.push_str(&format!(
                ",\"treeSize\":{},\"treeHead\":\"{}\"",
                t.size,
                hex::encode(t.head)
            ));
            if let Some(f) = &t.frontier {
                let list: Vec<String> = f
                    .iter()
                    .map(|h| format!("\"{}\"", hex::encode(h)))
                    .collect();
                extra_fields.push_str(&format!(",\"frontier\":[{}]", list.join(",")));
            }
        }
        extra_fields += &deleted
            .as_ref()
            // Serialising these plain fields cannot fail.
            .map(|d| {
                format!(
                    ",\"deleted\":{}",
                    serde_json::to_string(d).unwrap_or_default()
                )
            })
            .unwrap_or_default();
        if let Some(a) = &accepted {
            // Serialising these plain fields cannot fail.
            extra_fields.push_str(&format!(
                ",\"accepted\":{}",
                serde_json::to_string(a).unwrap_or_default()
            ));
        }
        if let Some(k) = &next_key {
            extra_fields.push_str(&format!(",\"nextKey\":\"{k}\""));
        }
        if clean_stop {
            extra_fields.push_str(",\"cleanStop\":true");
        }
        if let Some(r) = &recovered {
            extra_fields.push_str(&format!(
                ",\"recovered\":{{\"fromSeq\":{},\"toSeq\":{}}}",
                r.from_seq, r.to_seq
            ));
        }
        if let Some(t) = &timeline {
            extra_fields.push_str(&format!(",\"timeline\":{}", json_string(t)));
        }
        if let Some(t) = &latest {
            extra_fields.push_str(&format!(",\"latest\":{}", json_string(t)));
        }
        let mut line = format!(
            "{{\"checkpoint\":{index},\"storeId\":{},\"chainSeq\":{},\"chainHash\":\"{}\",\"time\":{},\"prev\":\"{}\"{extra_fields},\"key\":\"{}\"",
            json_string(store_id),
            link.seq,
            link.hash_hex(),
            json_string(&time),
            hex::encode(prev),
            signer.public_key(),
        );
        let signature = signer.sign(&signed_message(DOMAIN, line.as_bytes()));
        line.push_str(",\"sig\":\"");
        line.push_str(&hex::encode(signature));
        line.push_str("\"}");
        let cp = Checkpoint {
            index,
            store_id: store_id.to_string(),
            link,
            time,
            prev,
            key: *signer.public_key(),
            signature,
            clean_stop,
            recovered,
            deleted,
            next_key,
            tree,
            accepted,
            timeline,
            latest,
        };
        (cp, line)
    }

    /// Parses a log line (without newline) and checks its signature under the key the
    /// line names. Whether that key is the *trusted* key is the caller's question.
    pub fn parse_line(line: &[u8]) -> Result<Checkpoint, CheckpointLineError> {
        let cp = parse_unverified(line)?;
        let sig_at = line.len() - (SIG_KEY.len() + 128 + 2);
        if cp
            .key
            .verify(&signed_message(DOMAIN, &line[..sig_at]), &cp.signature)
        {
            Ok(cp)
        } else {
            Err(CheckpointLineError::BadSignature)
        }
    }

    /// The store's head when this line was signed with no server writing to the store
    /// (a clean stop's line: its own link; an acceptance that records the head it
    /// accepted: that head): a record after it was added while no server ran. `None`
    /// for every other line.
    pub fn stopped_at(&self) -> Option<ChainLink> {
        if let Some(head) = self.accepted.as_ref().and_then(|a| a.head.as_ref()) {
            return head.link();
        }
        self.clean_stop.then_some(self.link)
    }

    /// The digest the next checkpoint's `prev` must carry: SHA-256 of this exact line.
    pub fn line_digest(line: &[u8]) -> [u8; 32] {
        Sha256::digest(line).into()
    }
}

/// Parses a checkpoint line without checking its signature.
pub fn parse_unverified(line: &[u8]) -> Result<Checkpoint, CheckpointLineError> {
    let bad = |why: &str| CheckpointLineError::Malformed(why.to_string());
    let tail_len = SIG_KEY.len() + 128 + 2;
    if line.len() < tail_len
        || &line[line.len() - tail_len..line.len() - 130] != SIG_KEY
        || &line[line.len() - 2..] != b"\"}"
    {
        return Err(bad("must end with \"sig\":\"<128 hex>\"}"));
    }
    let sig_at = line.len() - tail_len;
    let mut signature = [0u8; 64];
    hex::decode_to_slice(&line[line.len() - 130..line.len() - 2], &mut signature)
        .map_err(|_| bad("sig is not hex"))?;
    let mut head = line[..sig_at].to_vec();
    head.push(b'}');
    let f: Fields = serde_json::from_slice(&head).map_err(|e| bad(&e.to_string()))?;
    let mut hash = [0u8; 32];
    hex::decode_to_slice(&f.chain_hash, &mut hash)
        .map_err(|_| bad("chainHash is not 64 hex characters"))?;
    let mut prev = [0u8; 32];
    hex::decode_to_slice(&f.prev, &mut prev).map_err(|_| bad("prev is not 64 hex characters"))?;
    let key: PublicKey = f
        .key
        .parse()
        .map_err(|e: IntegrityError| bad(&e.to_string()))?;
    let tree = match (f.tree_size, f.tree_head.as_deref()) {
        (None, None) => None,
        (Some(size), Some(head_hex)) => {
            let mut head = [0u8; 32];
            hex::decode_to_slice(head_hex, &mut head)
                .map_err(|_| bad("treeHead is not 64 hex characters"))?;
            let frontier = match &f.frontier {
                None => None,
                Some(list) => {
                    let mut out = Vec::with_capacity(list.len());
                    for h in list {
                        let mut hash = [0u8; 32];
                        hex::decode_to_slice(h, &mut hash).map_err(|_| {
                            bad("frontier holds a hash that is not 64 hex characters")
                        })?;
                        out.push(hash);
                    }
                    Some(out)
                }
            };
            Some(TreeHead {
                size,
                head,
                frontier,
            })
        }
        _ => return Err(bad("treeSize and treeHead go together")),
    };
    if let Some(r) = &f.recovered {
        if r.from_seq == 0 || r.from_seq > r.to_seq || r.to_seq != f.chain_seq {
            return Err(bad(
                "recovered must be a range of chainSeq ending at the line's",
            ));
        }
    }
    if let Some(h) = f.accepted.as_ref().and_then(|a| a.head.as_ref()) {
        if h.link().is_none() {
            return Err(bad("accepted.head.chainHash is not 64 hex characters"));
        }
    }
    let next_key: Option<PublicKey> = f
        .next_key
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: IntegrityError| bad(&format!("nextKey: {e}")))?;
    Ok(Checkpoint {
        index: f.checkpoint,
        store_id: f.store_id,
        link: ChainLink {
            seq: f.chain_seq,
            hash,
        },
        time: f.time,
        prev,
        key,
        signature,
        clean_stop: f.clean_stop,
        recovered: f.recovered,
        deleted: f.deleted,
        next_key,
        tree,
        accepted: f.accepted,
        timeline: f.timeline,
        latest: f.latest,
    })
}

impl From<&Head> for LineExtras {
    /// The extras of a plain line of `head`: its tree head (without the frontier).
    fn from(head: &Head) -> LineExtras {
        LineExtras {
            tree: head
                .tree
                .as_ref()
                .filter(|t| t.end() == head.link.seq)
                .map(|t| TreeHead::of(t, false)),
            ..LineExtras::default()
        }
    }
}

fn json_string(s: &str) -> String {
    // Serialising a &str cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(seq: u64) -> ChainLink {
        ChainLink {
            seq,
            hash: [seq as u8; 32],
        }
    }

    #[test]
    fn the_key_chain_follows_rotation_lines_signed_by_the_current_key() {
        let (a, b, c) = (
            Signer::from_seed([1; 32]),
            Signer::from_seed([2; 32]),
            Signer::from_seed([3; 32]),
        );
        let line = |s: &Signer, i: u64, next: Option<&Signer>| {
            Checkpoint::sign_with(
                s,
                i,
                "x",
                link(i),
                "t".into(),
                [0; 32],
                LineExtras {
                    next_key: next.map(|n| *n.public_key()),
                    ..LineExtras::default()
                },
            )
            .0
        };
        let log = [
            line(&a, 1, None),
            line(&a, 2, Some(&b)),
            line(&b, 3, None),
            // A retired key cannot move the chain on.
            line(&a, 4, Some(&c)),
            line(&b, 5, Some(&c)),
        ];
        assert_eq!(
            key_chain(&log),
            vec![*a.public_key(), *b.public_key(), *c.public_key()]
        );
        assert_eq!(key_chain(&log[..4]), vec![*a.public_key(), *b.public_key()]);
        let parsed = parse_unverified(
            Checkpoint::sign_with(
                &a,
                1,
                "x",
                link(1),
                "t".into(),
                [0; 32],
                LineExtras {
                    next_key: Some(*b.public_key()),
                    ..LineExtras::default()
                },
            )
            .1
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(parsed.next_key, Some(*b.public_key()));
    }

    #[test]
    fn tree_fields_are_signed_and_parse_back_and_lines_without_them_still_parse() {
        let s = Signer::from_seed([7; 32]);
        let tree = TreeHead {
            size: 42,
            head: [3; 32],
            frontier: Some(vec![[1; 32], [2; 32], [4; 32]]),
        };
        let (cp, line) = Checkpoint::sign_with(
            &s,
            1,
            "abc",
            link(42),
            "t".into(),
            [0; 32],
            LineExtras {
                tree: Some(tree.clone()),
                ..LineExtras::default()
            },
        );
        assert!(line.contains("\"treeSize\":42,\"treeHead\":"), "{line}");
        let parsed = Checkpoint::parse_line(line.as_bytes()).unwrap();
        assert_eq!(parsed, cp);
        assert_eq!(parsed.tree, Some(tree));
        let edited = line.replace(&hex::encode([3u8; 32]), &hex::encode([5u8; 32]));
        assert_eq!(
            Checkpoint::parse_line(edited.as_bytes()),
            Err(CheckpointLineError::BadSignature)
        );
        let (_, old) = Checkpoint::sign(&s, 1, "abc", link(42), "t".into(), [0; 32]);
        assert_eq!(Checkpoint::parse_line(old.as_bytes()).unwrap().tree, None);
    }

    #[test]
    fn an_acceptance_is_signed_and_parses_back_and_lines_without_it_still_parse() {
        let s = Signer::from_seed([7; 32]);
        let record = AcceptanceRecord {
            by: "ops".into(),
            reason: "restored \"monday\"".into(),
            found: "30 records".into(),
            mark: Some(MarkBefore {
                checkpoint: 5,
                chain_seq: 50,
                chain_hash: hex::encode([1u8; 32]),
                time: "t0".into(),
            }),
            head: Some(AcceptedHead::of(link(31))),
        };
        let (cp, line) = Checkpoint::sign_with(
            &s,
            4,
            "abc",
            link(30),
            "t".into(),
            [2; 32],
            LineExtras {
                accepted: Some(record.clone()),
                ..LineExtras::default()
            },
        );
        assert!(line.contains(",\"accepted\":{\"by\":\"ops\","), "{line}");
        assert!(
            line.contains("\"mark\":{\"checkpoint\":5,\"chainSeq\":50,"),
            "{line}"
        );
        assert!(
            line.contains(&format!(
                "\"head\":{{\"chainSeq\":31,\"chainHash\":\"{}\"}}}},\"key\"",
                hex::encode([31u8; 32])
            )),
            "{line}"
        );
        let parsed = Checkpoint::parse_line(line.as_bytes()).unwrap();
        assert_eq!(parsed, cp);
        assert_eq!(parsed.accepted, Some(record));
        let edited = line.replace("\"by\":\"ops\"", "\"by\":\"eve\"");
        assert_eq!(
            Checkpoint::parse_line(edited.as_bytes()),
            Err(CheckpointLineError::BadSignature)
        );
        // An unknown field in it is refused, as in the rest of the line.
        let unknown = line.replace("\"found\":", "\"x\":1,\"found\":");
        assert!(matches!(
            parse_unverified(unknown.as_bytes()),
            Err(CheckpointLineError::Malformed(_))
        ));
        let (_, plain) = Checkpoint::sign(&s, 1, "abc", link(42), "t".into(), [0; 32]);
        assert_eq!(
            Checkpoint::parse_line(plain.as_bytes()).unwrap().accepted,
            None
        );
    }

    #[test]
    fn an_acceptance_recording_its_head_is_a_stop_at_that_head_and_one_without_is_none() {
        let s = Signer::from_seed([7; 32]);
        let accepted = |head: Option<AcceptedHead>| {
            Checkpoint::sign_with(
                &s,
                4,
                "abc",
                link(30),
                "t".into(),
                [2; 32],
                LineExtras {
                    accepted: Some(AcceptanceRecord {
                        by: "ops".into(),
                        reason: "r".into(),
                        found: "f".into(),
                        mark: None,
                        head,
                    }),
                    ..LineExtras::default()
                },
            )
        };
        let (cp, line) = accepted(Some(AcceptedHead::of(link(31))));
        assert_eq!(cp.stopped_at(), Some(link(31)));
        assert_eq!(
            Checkpoint::parse_line(line.as_bytes())
                .unwrap()
                .stopped_at(),
            Some(link(31))
        );
        // Removing the head (to pass records after it off as accepted) breaks the
        // signature.
        let removed = line.replace(
            &format!(
                ",\"head\":{{\"chainSeq\":31,\"chainHash\":\"{}\"}}",
                hex::encode([31u8; 32])
            ),
            "",
        );
        assert_ne!(removed, line);
        assert_eq!(
            Checkpoint::parse_line(removed.as_bytes()),
            Err(CheckpointLineError::BadSignature)
        );
        // Written by a version before the head: no stop is known.
        let (cp, _) = accepted(None);
        assert_eq!(cp.stopped_at(), None);
        // A head whose hash is not one is malformed.
        let bad = line.replace(&hex::encode([31u8; 32]), "zz");
        assert!(matches!(
            parse_unverified(bad.as_bytes()),
            Err(CheckpointLineError::Malformed(_))
        ));
        // A clean stop's line is a stop at its own link; a plain line is none.
        let (plain, _) = Checkpoint::sign(&s, 1, "abc", link(42), "t".into(), [0; 32]);
        assert_eq!(plain.stopped_at(), None);
        let clean = Checkpoint {
            clean_stop: true,
            ..plain
        };
        assert_eq!(clean.stopped_at(), Some(link(42)));
    }

    #[test]
    fn signed_line_is_json_and_parses_back() {
        let s = Signer::from_seed([7; 32]);
        let (cp, line) = Checkpoint::sign(
            &s,
            1,
            "abc",
            link(42),
            "2026-11-25T17:00:00Z".into(),
            [0; 32],
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["chainSeq"], 42);
        assert_eq!(Checkpoint::parse_line(line.as_bytes()).unwrap(), cp);
    }

    #[test]
    fn any_edit_of_a_signed_field_breaks_the_signature() {
        let s = Signer::from_seed([7; 32]);
        let (_, line) = Checkpoint::sign(
            &s,
            3,
            "abc",
            link(42),
            "2026-11-25T17:00:00Z".into(),
            [9; 32],
        );
        let edited = line.replace("\"chainSeq\":42", "\"chainSeq\":43");
        assert_eq!(
            Checkpoint::parse_line(edited.as_bytes()),
            Err(CheckpointLineError::BadSignature)
        );
        let edited = line.replace("\"checkpoint\":3", "\"checkpoint\":2");
        assert!(Checkpoint::parse_line(edited.as_bytes()).is_err());
        assert!(matches!(
            Checkpoint::parse_line(b"{\"checkpoint\":1}"),
            Err(CheckpointLineError::Malformed(_))
        ));
    }
}
