//! Merkle proofs (RFC 6962 §2.1.1, §2.1.2) against signed checkpoint lines, behind
//! `auditrail prove` and `auditrail verify --proof`: an auditor checks one event, or
//! that a later checkpoint extends an earlier one, with the public key alone.
//!
//! # Bundles (JSON)
//!
//! Inclusion (one event):
//!
//! ```text
//! {"proof":"auditrail-inclusion-v1","storeId":"<id>","eventId":"<uuid>",
//!  "record":"<the record's exact line>","prevChainHash":"<64 hex>",
//!  "leafIndex":<chainSeq - 1>,"treeSize":<N>,"checkpoint":"<the exact signed line>",
//!  "path":["<64 hex>",...]}
//! ```
//!
//! `prevChainHash` is the chain hash of the record before it (64 zeros for the first):
//! with it the verifier recomputes the record's `chainHash` from its bytes, so the
//! leaf (`chainSeq || chainHash`) is bound to the record's exact bytes. `path` is
//! `PATH(leafIndex, D[treeSize])`, siblings from the leaf up.
//!
//! Consistency (two checkpoints of one log):
//!
//! ```text
//! {"proof":"auditrail-consistency-v1","storeId":"<id>","from":"<signed line>",
//!  "to":"<signed line>","path":["<64 hex>",...]}
//! ```
//!
//! `path` is `PROOF(from.treeSize, D[to.treeSize])`.
//!
//! Version 2 of either bundle (`auditrail-inclusion-v2`, `auditrail-consistency-v2`)
//! adds `"handovers":["<signed line>",...]`: the key handover lines (`nextKey`, written
//! by `auditrail keys rotate`) of the log before the bundle's last checkpoint line, in
//! log order, so that an auditor who trusts a key of before a rotation follows the
//! handovers to the key that signed the line (see `handovers.rs`). `prove` writes v1,
//! unchanged, when the log has no handover before that line; v1 bundles still verify.
//!
//! Building a proof reads the store (the records in chain order, and the subtrees
//! deletion lines keep for deleted runs); checking one reads nothing but the bundle
//! and the trusted key. The proof arithmetic (which nodes, and the check) is
//! `ct-merkle`'s; the nodes' hashes come from [`auditrail_store::merkle`].

use std::path::{Path, PathBuf};

use auditrail_core::EventId;
use auditrail_store::chain::{next_link, parse_line, ChainLink};
use auditrail_store::merkle::{leaf_data, CompactRange, Hash};
use auditrail_store::root::read_store_id;
use auditrail_store::{SegmentReader, StoreFiles, StoredEvent};
use ct_merkle::{
    indices_for_consistency_proof, indices_for_inclusion_proof, ConsistencyProof,
    ConsistencyVerifError, InclusionProof, InclusionVerifError, RootHash,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::checkpoint::{Checkpoint, CheckpointLineError, TreeHead};
use crate::keys::PublicKey;
use crate::verify::checkpoints::{check_selected, LoggedCheckpoint};
use crate::verify::files::record_files;
use crate::verify::merge::{produce, Batch, Item};
use crate::verify::placement::Placement;
use crate::verify::report::StoreReport;
use crate::verify::tree::{Leaves, Piece};
use crate::verify::NoProgress;

mod handovers;

use handovers::Keys;

/// The `proof` field of an inclusion bundle without handover lines.
pub const INCLUSION: &str = "auditrail-inclusion-v1";
/// The `proof` field of a consistency bundle without handover lines.
pub const CONSISTENCY: &str = "auditrail-consistency-v1";
/// The `proof` field of an inclusion bundle that carries key handover lines.
pub const INCLUSION_V2: &str = "auditrail-inclusion-v2";
/// The `proof` field of a consistency bundle that carries key handover lines.
pub const CONSISTENCY_V2: &str = "auditrail-consistency-v2";

/// A proof that one event is in the tree a signed checkpoint line vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InclusionBundle {
    /// [`INCLUSION`], or [`INCLUSION_V2`] with handover lines.
    pub proof: String,
    /// The store.
    pub store_id: String,
    /// The event the proof is about.
    pub event_id: String,
    /// The record's exact line (without newline).
    pub record: String,
    /// The chain hash of the record before it (64 zeros for chainSeq 1).
    pub prev_chain_hash: String,
    /// The record's leaf: its chainSeq - 1.
    pub leaf_index: u64,
    /// The tree the checkpoint signs.
    pub tree_size: u64,
    /// The exact signed checkpoint line.
    pub checkpoint: String,
    /// The audit path, from the leaf up (64 hex each).
    pub path: Vec<String>,
    /// The log's key handover lines before `checkpoint`, in log order (v2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handovers: Vec<String>,
}

/// A proof that a later checkpoint's tree extends an earlier one's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsistencyBundle {
    /// [`CONSISTENCY`], or [`CONSISTENCY_V2`] with handover lines.
    pub proof: String,
    /// The store.
    pub store_id: String,
    /// The earlier signed checkpoint line.
    pub from: String,
    /// The later signed checkpoint line.
    pub to: String,
    /// `PROOF(from.treeSize, D[to.treeSize])` (64 hex each).
    pub path: Vec<String>,
    /// The log's key handover lines before `to`, in log order (v2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handovers: Vec<String>,
}

/// Either bundle, as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bundle {
    /// One event.
    Inclusion(InclusionBundle),
    /// Two checkpoints.
    Consistency(ConsistencyBundle),
}

/// Why a proof cannot be built from a store.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// Reading the store or its log failed.
    #[error("{}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The store's files could not be walked.
    #[error(transparent)]
    Store(#[from] auditrail_store::StoreError),
    /// No record of the store holds the event.
    #[error("no record of store {store} holds event {event}{deleted}")]
    NoSuchEvent {
        /// The store.
        store: PathBuf,
        /// The event id.
        event: String,
        /// The deletions the store's checkpoint log records (retention, `store
        /// prune`): the event may have been among their records.
        deleted: Deleted,
    },
    /// Several records of the store hold the event id and none was picked. Ids are
    /// chosen by clients, so two different events may share one (both are stored): the
    /// proof would be about whichever was found first, and say nothing of the others.
    #[error(
        "{} records of store {store} hold event {event}: {}; give the one to prove with --chain-seq",
        .records.len(),
        Listed(.records)
    )]
    SeveralRecords {
        /// The store.
        store: PathBuf,
        /// The event id.
        event: String,
        /// Every record that holds it, in chain order.
        records: Vec<EventRecord>,
    },
    /// The chainSeq picked is not one of the event's records.
    #[error(
        "record chainSeq {chain_seq} of store {store} is not event {event}, which is held by {}",
        Listed(.records)
    )]
    NotTheEventsRecord {
        /// The store.
        store: PathBuf,
        /// The event id.
        event: String,
        /// The chainSeq picked.
        chain_seq: u64,
        /// The records that do hold the event, in chain order.
        records: Vec<EventRecord>,
    },
    /// The checkpoint asked for is not usable.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The tree at the checkpoint cannot be rebuilt from what the store keeps.
    #[error("the Merkle tree of {size} records cannot be rebuilt from the store: {reason}")]
    Unbuildable {
        /// The tree size.
        size: u64,
        /// Why.
        reason: String,
    },
    /// Records the tree needs are missing and no deletion line keeps their subtrees
    /// (removed by hand, not by a prune).
    #[error(
        "the Merkle tree of {size} records cannot be rebuilt from the store: chainSeq \
         {missing} is missing and no deletion line keeps its subtrees (run `auditrail \
         verify`){hint}"
    )]
    RecordsMissing {
        /// The tree size.
        size: u64,
        /// The first chainSeq missing.
        missing: u64,
        /// What can still be proven (empty, or starting with `; `).
        hint: String,
    },
    /// The record to prove fails the check `verify --proof` makes of a bundle's record
    /// (its bytes do not make the chain hash it carries: changed after it was sealed):
    /// a bundle of it would be refused by the auditor.
    #[error(
        "record chainSeq {chain_seq} of store {store} (in {segment}) fails the check \
         `auditrail verify --proof` makes of it, so no proof of it is written (run \
         `auditrail verify {store}`)"
    )]
    RecordRefused {
        /// The store.
        store: PathBuf,
        /// The record's chainSeq.
        chain_seq: u64,
        /// Its segment file, relative to the store's folder.
        segment: String,
        /// What the check found (boxed: the largest of the errors).
        #[source]
        source: Box<ProofError>,
    },
    /// The bundle built fails the whole check `auditrail verify --proof` makes of it
    /// (with the key that signed its checkpoint line): it is not written, an auditor
    /// given it would see a failed proof. Not expected: the store's lines and records
    /// were read once; a bundle refused here names what did not hold.
    #[error(
        "the bundle built against checkpoint #{index} fails the check `auditrail verify \
         --proof` makes of it, so it is not written (run `auditrail verify` on the store)"
    )]
    BundleRefused {
        /// The checkpoint it was built against.
        index: u64,
        /// What the check found (boxed: the largest of the errors).
        #[source]
        source: Box<ProofError>,
    },
    /// No readable stored event of the store holds the event, but lines that are none
    /// (which `auditrail verify` names and queries leave out) hold its id (or, with
    /// `--chain-seq`, the line of that chainSeq is one): a proof is only ever of a
    /// record verify and queries read as the event.
    #[error(
        "no readable stored event of store {store} is event {event}: {} (run `auditrail \
         verify {store}`: it names such lines, and queries leave them out), so no proof is \
         written",
        UnreadableListed(.lines)
    )]
    UnreadableRecord {
        /// The store.
        store: PathBuf,
        /// The event id.
        event: String,
        /// The lines, in store order.
        lines: Vec<UnreadableLine>,
    },
    /// The nodes the store gives do not make the signed head: the store differs from
    /// what was signed (`auditrail verify` names how).
    #[error("the store's records do not make the tree head checkpoint #{index} signs (run `auditrail verify`): {reason}")]
    DoesNotMatch {
        /// The checkpoint.
        index: u64,
        /// What ct-merkle found.
        reason: String,
    },
}

/// Why a proof does not hold. Each names what failed.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The bundle is not a proof bundle.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// A checkpoint line's signature does not match it.
    #[error("bad signature: the {which} checkpoint line was changed after it was signed")]
    BadSignature {
        /// Which line (`the`, `from`, `to`).
        which: &'static str,
        /// The check that failed.
        #[source]
        source: CheckpointLineError,
    },
    /// A checkpoint line is signed by another key than the trusted one (a bundle
    /// without handover lines). The one cause a genuine bundle has: the store's key
    /// was rotated after the line was signed (the bundle carries only the handovers
    /// before its line, none here), so it is named, with what to do, beside the other.
    #[error(
        "wrong key: the {which} checkpoint line is signed by {signer}, not by the trusted \
         key {trusted}. The likely cause, if the trusted key is this store's: the store's \
         key was rotated to it (`auditrail keys rotate`) after that line was signed by \
         {signer}, an earlier key of the store's chain, and the bundle, made from a line \
         before the rotation, carries no handover line. Check the bundle with \
         --public-key {signer}, or, with the trusted key alone, prove the event again once \
         the server has signed a checkpoint with it (after its restart)"
    )]
    WrongKey {
        /// Which line.
        which: &'static str,
        /// Who signed it (`ed25519:<hex>`).
        signer: String,
        /// The trusted key (`ed25519:<hex>`).
        trusted: String,
    },
    /// A handover line's signature does not match it.
    #[error(
        "bad signature: handover line {position} of the bundle was changed after it was signed"
    )]
    BadHandover {
        /// Its place in the bundle's `handovers`, from 1.
        position: usize,
        /// The check that failed.
        #[source]
        source: CheckpointLineError,
    },
    /// The handover lines are not one chain: a line is missing between two of them.
    #[error("broken handovers: handover line {position} of the bundle (checkpoint #{index}) is signed by {signer}, but the handover before it (checkpoint #{previous}) hands signing to {expected}: a handover line between them is missing")]
    BrokenHandovers {
        /// Its place in the bundle's `handovers`, from 1.
        position: usize,
        /// Its checkpoint number.
        index: u64,
        /// Who signed it.
        signer: String,
        /// The key the handover before it named.
        expected: String,
        /// The checkpoint number of the handover before it.
        previous: u64,
    },
    /// A checkpoint line is signed by the key the bundle's last handover line hands
    /// signing to, and the trusted key is in none of its handover lines: the trusted
    /// key most likely took over in a rotation after the line was signed (its handover
    /// comes after the line, so the bundle does not carry it): a bundle made after a
    /// rotation, before the restarted server signed a checkpoint with the new key.
    #[error(
        "earlier key: the {which} checkpoint line (#{index}) is signed by {signer}, the \
         key the bundle's last handover line (checkpoint #{since}) hands signing to \
         ({chain}); the trusted key {trusted} is in none of its handover lines. The \
         likely cause: the store's key was rotated from {signer} to the trusted key after \
         that line was signed (`auditrail keys rotate`); that handover line comes after \
         the bundle's line, so the bundle does not carry it, and nothing the trusted key \
         signed covers the line. Check the bundle with --public-key {signer} (or the first \
         key of its handovers, which lead to it), or, with the trusted key alone, prove again \
         once the server has signed a checkpoint with it (after its restart). If no \
         rotation to the trusted key happened, it is not this store's key"
    )]
    BeforeLaterKey {
        /// Which line.
        which: &'static str,
        /// Its checkpoint number.
        index: u64,
        /// Who signed it.
        signer: String,
        /// The checkpoint number of the bundle's handover line that handed signing to
        /// the signer.
        since: u64,
        /// The trusted key.
        trusted: String,
        /// The keys the handover lines hand over, in words.
        chain: String,
    },
    /// A checkpoint line is signed by a key the handover lines do not lead to from the
    /// trusted key.
    #[error("wrong key: the {which} checkpoint line (#{index}) is signed by {signer}, and the bundle's handover lines do not lead to it from the trusted key {trusted} (they hand over {chain}): a handover line is missing, or the key is not this store's")]
    Unreached {
        /// Which line.
        which: &'static str,
        /// Its checkpoint number.
        index: u64,
        /// Who signed it.
        signer: String,
        /// The trusted key.
        trusted: String,
        /// The keys the handover lines hand over, in words.
        chain: String,
    },
    /// A checkpoint line is signed by a key that handed signing over before the trusted
    /// key took over. The trusted key vouches for nothing that key signed: handover
    /// lines are signed by the key they retire, and a line of the trusted key binds the
    /// records (chain hash, tree head) and the one checkpoint line before it (`prev`):
    /// not the earlier key, and the earlier key's lines only through the `prev` link
    /// of every line in between, which the bundle does not carry. With the trusted key
    /// alone, the bundle could not be told from one whose earlier line and handover
    /// someone signed with a key made up for it (see `proof/handovers.rs`).
    #[error(
        "earlier key: the {which} checkpoint line (#{index}) is signed by {signer}, which \
         handed signing over at checkpoint #{retired}, before the trusted key {trusted} \
         took over: nothing the trusted key signed covers that line (each handover is \
         signed by the key it retires, and a line of the trusted key binds the records, \
         by chain hash and tree head, and the checkpoint line right before it, by \
         `prev`, not this one), so with the trusted key alone that line could be signed \
         by any key made up for it. To check it, check the bundle with --public-key \
         {signer} (its handovers lead to the trusted key); with the trusted key alone, \
         prove from a line it signed (a checkpoint after #{since})"
    )]
    EarlierKey {
        /// Which line.
        which: &'static str,
        /// Its checkpoint number.
        index: u64,
        /// Who signed it: the key to trust.
        signer: String,
        /// The checkpoint number of the handover line with which the signer retired.
        retired: u64,
        /// The trusted key.
        trusted: String,
        /// The checkpoint number of the handover line that handed signing to the
        /// trusted key (signed by its predecessor: the first line the trusted key may
        /// have signed comes after it).
        since: u64,
    },
    /// A checkpoint line is signed by a key of the chain outside its part of the log: a
    /// retired key signing after its handover, or a key signing before it was handed
    /// signing.
    #[error("wrong key: the {which} checkpoint line (#{index}) is signed by {signer}, which signs {} only", Signs(*.after, *.until))]
    OutsideSpan {
        /// Which line.
        which: &'static str,
        /// Its checkpoint number.
        index: u64,
        /// Who signed it.
        signer: String,
        /// The handover line that handed signing to it.
        after: Option<u64>,
        /// The handover line it signed last.
        until: Option<u64>,
    },
    /// A checkpoint line carries no tree head (written before the store kept its tree).
    #[error("the {which} checkpoint line (#{index}) carries no Merkle tree head")]
    NoTreeHead {
        /// Which line.
        which: &'static str,
        /// Its number.
        index: u64,
    },
    /// The bundle names another store than its checkpoint line.
    #[error("the proof names store {claimed}, its checkpoint line store {signed}")]
    OtherStore {
        /// In the bundle.
        claimed: String,
        /// In the line.
        signed: String,
    },
    /// The record's bytes do not make its chain hash: the record was changed.
    #[error("the record does not match its chain hash (its bytes were changed, or prevChainHash is not the previous record's)")]
    RecordChanged,
    /// The record is not the leaf the proof is about.
    #[error("the record is chainSeq {seq}, the proof is about leaf {leaf_index} (chainSeq {})", leaf_index + 1)]
    WrongLeaf {
        /// The record's chainSeq.
        seq: u64,
        /// The proof's leaf.
        leaf_index: u64,
    },
    /// The record is another event than the one claimed.
    #[error("the record is event {found}, not the claimed event {claimed}")]
    WrongEvent {
        /// The event id the bundle claims.
        claimed: String,
        /// The record's event id.
        found: String,
    },
    /// The proof's tree size is not the signed one.
    #[error("the proof is for a tree of {claimed} records, the checkpoint line signs {signed}")]
    WrongTreeSize {
        /// In the bundle.
        claimed: u64,
        /// Signed.
        signed: u64,
    },
    /// The audit path does not lead from the record's leaf to the signed head.
    #[error("wrong path: the audit path does not lead from the record to the signed tree head")]
    WrongPath(#[source] InclusionVerifError),
    /// The two signed heads are not one growing tree: a fork, a rollback, or a wrong
    /// path.
    #[error("not consistent: the tree checkpoint #{to} signs does not extend the tree of checkpoint #{from} (a forked or rolled-back log, or a wrong path)")]
    Inconsistent {
        /// The earlier line's number.
        from: u64,
        /// The later line's number.
        to: u64,
        /// What ct-merkle found.
        #[source]
        source: ConsistencyVerifError,
    },
}

/// The checkpoint numbers a key signs, in words.
struct Signs(Option<u64>, Option<u64>);

impl std::fmt::Display for Signs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0, self.1) {
            (Some(a), Some(u)) => write!(
                f,
                "the lines after its handover at #{a} up to its own handover at #{u}"
            ),
            (Some(a), None) => write!(f, "the lines after its handover at #{a}"),
            (None, Some(u)) => write!(f, "the lines up to its handover at #{u}"),
            (None, None) => write!(f, "every line"),
        }
    }
}

impl Bundle {
    /// Reads a bundle from its JSON text.
    pub fn parse(text: &str) -> Result<Bundle, ProofError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ProofError::Malformed(e.to_string()))?;
        let kind = value.get("proof").and_then(|v| v.as_str()).unwrap_or("");
        let bad = |e: serde_json::Error| ProofError::Malformed(e.to_string());
        match kind {
            INCLUSION | INCLUSION_V2 => Ok(Bundle::Inclusion(
                serde_json::from_value(value).map_err(bad)?,
            )),
            CONSISTENCY | CONSISTENCY_V2 => Ok(Bundle::Consistency(
                serde_json::from_value(value).map_err(bad)?,
            )),
            other => Err(ProofError::Malformed(format!(
                "\"proof\" is {other:?}, expected {INCLUSION:?}, {INCLUSION_V2:?}, {CONSISTENCY:?} or {CONSISTENCY_V2:?}"
            ))),
        }
    }

    /// Checks the bundle with the trusted key; what it proves, in words.
    pub fn verify(&self, trusted: &PublicKey) -> Result<String, ProofError> {
        match self {
            Bundle::Inclusion(b) => b.verify(trusted),
            Bundle::Consistency(b) => b.verify(trusted),
        }
    }
}

/// Checks the `proof` field against the bundle's handover lines: v1 carries none
/// (an older verifier would not know them), v2 at least one (`prove` writes v2 only
/// then, so an empty list is one whose lines were removed).
fn check_version(proof: &str, v1: &str, v2: &str, handovers: &[String]) -> Result<(), ProofError> {
    match (proof, handovers.is_empty()) {
        (p, true) if p == v1 => Ok(()),
        (p, false) if p == v2 => Ok(()),
        (p, true) if p == v2 => Err(ProofError::Malformed(format!(
            "a {v2:?} bundle carries the log's key handover lines, this one none: they were removed"
        ))),
        (p, false) if p == v1 => Err(ProofError::Malformed(format!(
            "a {v1:?} bundle carries no handover lines (they came with {v2:?})"
        ))),
        (p, _) => Err(ProofError::Malformed(format!("\"proof\" is {p:?}"))),
    }
}

/// The key handover lines of the log before checkpoint `before`, in log order: the
/// lines naming a `nextKey` signed by the key current at them (as [`key_chain`] follows
/// them; a line of another key hands nothing over).
///
/// [`key_chain`]: crate::checkpoint::key_chain
fn handovers_before(log: &Log, before: u64) -> Vec<String> {
    let mut current: Option<PublicKey> = None;
    let mut out = Vec::new();
    for l in log.logged.iter().take_while(|l| l.cp.index < before) {
        let line = log.line(l);
        let Ok(cp) = Checkpoint::parse_line(line.as_bytes()) else {
            continue;
        };
        let key = *current.get_or_insert(cp.key);
        if cp.key != key {
            continue;
        }
        if let Some(next) = cp.next_key {
            current = Some(next);
            out.push(line);
        }
    }
    out
}

/// A signed line, checked: signature, a key the auditor's trust reaches, and a tree
/// head.
fn signed_tree(
    line: &str,
    which: &'static str,
    keys: &mut Keys,
) -> Result<(Checkpoint, RootHash<Sha256>), ProofError> {
    let cp = Checkpoint::parse_line(line.as_bytes()).map_err(|e| match e {
        CheckpointLineError::BadSignature => ProofError::BadSignature { which, source: e },
        CheckpointLineError::Malformed(m) => {
            ProofError::Malformed(format!("the {which} checkpoint line: {m}"))
        }
    })?;
    keys.check(&cp, which)?;
    let Some(tree) = &cp.tree else {
        return Err(ProofError::NoTreeHead {
            which,
            index: cp.index,
        });
    };
    let root = RootHash::<Sha256>::new(tree.head.into(), tree.size);
    Ok((cp, root))
}

fn hashes(path: &[String]) -> Result<Vec<Hash>, ProofError> {
    path.iter()
        .map(|h| {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(h, &mut hash)
                .map_err(|_| ProofError::Malformed(format!("path hash {h:?} is not 64 hex")))?;
            Ok(hash)
        })
        .collect()
}

fn digests(path: &[Hash]) -> Vec<ct_merkle::digest::Output<Sha256>> {
    path.iter().map(|h| (*h).into()).collect()
}

impl InclusionBundle {
    /// Checks the bundle with the trusted key alone: the line's signature and key, the
    /// record's bytes against its chain hash, that it is the claimed event, and the
    /// audit path from its leaf to the signed tree head.
    pub fn verify(&self, trusted: &PublicKey) -> Result<String, ProofError> {
        check_version(&self.proof, INCLUSION, INCLUSION_V2, &self.handovers)?;
        let mut keys = Keys::follow(&self.store_id, trusted, &self.handovers)?;
        let (cp, root) = signed_tree(&self.checkpoint, "bundle's", &mut keys)?;
        if cp.store_id != self.store_id {
            return Err(ProofError::OtherStore {
                claimed: self.store_id.clone(),
                signed: cp.store_id,
            });
        }
        if root.num_leaves() != self.tree_size {
            return Err(ProofError::WrongTreeSize {
                claimed: self.tree_size,
                signed: root.num_leaves(),
            });
        }
        let link = self.check_record()?;
        let path = hashes(&self.path)?;
        root.verify_inclusion(
            &leaf_data(&link),
            self.leaf_index,
            &InclusionProof::from_digests(digests(&path).iter()),
        )
        .map_err(ProofError::WrongPath)?;
        Ok(format!(
            "event {} is record chainSeq {} of store {}, in the tree of {} records signed by checkpoint #{} ({}){}",
            self.event_id,
            link.seq,
            self.store_id,
            self.tree_size,
            cp.index,
            cp.time,
            Followed(keys.followed())
        ))
    }
}

impl InclusionBundle {
    /// The bundle's record against itself, without a key: it is the proof's leaf, its
    /// bytes and `prevChainHash` make the chain hash it carries, and it holds the
    /// claimed event. Its link (the leaf) when it holds. Made by [`Self::verify`], and
    /// by [`prove_inclusion`] before it hands a bundle out: a record changed after it
    /// was sealed keeps its chain fields, so the tree head (built from them) still
    /// matches, and only this check tells.
    fn check_record(&self) -> Result<ChainLink, ProofError> {
        let sealed = parse_line(self.record.as_bytes())
            .map_err(|e| ProofError::Malformed(format!("record: {e}")))?;
        // A leaf of the tree, before its chainSeq (leafIndex + 1) is computed: the
        // field comes from a file, 2^64-1 would overflow.
        if self.leaf_index >= self.tree_size {
            return Err(ProofError::Malformed(format!(
                "leafIndex {} is no leaf of the tree of treeSize {} (leaves are numbered from 0)",
                self.leaf_index, self.tree_size
            )));
        }
        if sealed.link.seq != self.leaf_index + 1 {
            return Err(ProofError::WrongLeaf {
                seq: sealed.link.seq,
                leaf_index: self.leaf_index,
            });
        }
        let mut prev = [0u8; 32];
        hex::decode_to_slice(&self.prev_chain_hash, &mut prev)
            .map_err(|_| ProofError::Malformed("prevChainHash is not 64 hex".into()))?;
        let recomputed = next_link(
            &ChainLink {
                seq: self.leaf_index,
                hash: prev,
            },
            sealed.body,
        );
        if recomputed != sealed.link {
            return Err(ProofError::RecordChanged);
        }
        // Read as `auditrail verify` and queries read a record: a line they do not take
        // as an event is no proof of one.
        let found = StoredEvent::read(self.record.as_bytes())
            .map(|r| r.event.id.to_string())
            .map_err(|e| ProofError::Malformed(format!("record: no readable stored event: {e}")))?;
        if found != self.event_id {
            return Err(ProofError::WrongEvent {
                claimed: self.event_id.clone(),
                found,
            });
        }
        Ok(sealed.link)
    }
}

impl ConsistencyBundle {
    /// Checks the bundle with the trusted key alone: both lines' signatures and key,
    /// and that the later tree extends the earlier one.
    pub fn verify(&self, trusted: &PublicKey) -> Result<String, ProofError> {
        check_version(&self.proof, CONSISTENCY, CONSISTENCY_V2, &self.handovers)?;
        let mut keys = Keys::follow(&self.store_id, trusted, &self.handovers)?;
        let (from, old) = signed_tree(&self.from, "from", &mut keys)?;
        let (to, new) = signed_tree(&self.to, "to", &mut keys)?;
        for cp in [&from, &to] {
            if cp.store_id != self.store_id {
                return Err(ProofError::OtherStore {
                    claimed: self.store_id.clone(),
                    signed: cp.store_id.clone(),
                });
            }
        }
        let path = hashes(&self.path)?;
        new.verify_consistency(&old, &ConsistencyProof::from_digests(digests(&path).iter()))
            .map_err(|source| ProofError::Inconsistent {
                from: from.index,
                to: to.index,
                source,
            })?;
        Ok(format!(
            "the tree of {} records signed by checkpoint #{} ({}) extends the tree of {} records signed by checkpoint #{} ({}) of store {}{}",
            new.num_leaves(),
            to.index,
            to.time,
            old.num_leaves(),
            from.index,
            from.time,
            self.store_id,
            Followed(keys.followed())
        ))
    }
}

/// The keys a check followed, as the end of its message.
struct Followed(Option<String>);

impl std::fmt::Display for Followed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(chain) => write!(
                f,
                "; keys followed from the trusted key along the signed handovers: {chain}"
            ),
            None => Ok(()),
        }
    }
}

/// The parsed checkpoint log with each line's exact text.
struct Log {
    logged: Vec<LoggedCheckpoint>,
    /// Every line of every piece, in order.
    lines: Vec<crate::log_pieces::RawLine>,
}

impl Log {
    fn read(store: &Path) -> Result<Log, ProveError> {
        let mut scratch = StoreReport::default();
        let store_id = read_store_id(store)?;
        // Read once, checked and kept together: two reads beside a running server that
        // seals pieces may see different pieces, and a line looked up by its place in
        // the second was not the one checked in the first.
        let selected =
            crate::log_pieces::read(store, crate::log_pieces::Reach::All).map_err(|e| {
                ProveError::Io {
                    path: e.path,
                    source: e.source,
                }
            })?;
        let (logged, _) = check_selected(
            &selected,
            crate::log_pieces::Reach::All,
            store_id.as_deref(),
            None,
            &mut scratch,
        );
        Ok(Log {
            logged,
            lines: selected.lines,
        })
    }

    /// How many of its lines sign a deletion (as `verify::checkpoints::deletion_lines`
    /// counts them in the store's log now).
    fn deletion_lines(&self) -> u64 {
        self.lines
            .iter()
            .filter(|l| crate::verify::checkpoints::is_deletion_line(&l.bytes))
            .count() as u64
    }

    fn line(&self, l: &LoggedCheckpoint) -> String {
        let line = self
            .lines
            .iter()
            .find(|r| r.piece.name == l.file && r.line == l.line)
            .map(|r| r.bytes.as_slice())
            .unwrap_or_default();
        String::from_utf8_lossy(line).into_owned()
    }

    /// The line numbered `index`, or the last one with a tree head, with its head.
    fn pick(&self, index: Option<u64>) -> Result<(&LoggedCheckpoint, TreeHead), ProveError> {
        let found = match index {
            Some(i) => self.logged.iter().rev().find(|l| l.cp.index == i),
            None => self.logged.iter().rev().find(|l| l.cp.tree.is_some()),
        };
        let l = found.ok_or_else(|| {
            ProveError::Checkpoint(match index {
                Some(i) => format!("no checkpoint #{i} in the log"),
                None => "no checkpoint line carries a Merkle tree head".into(),
            })
        })?;
        if Checkpoint::parse_line(self.line(l).as_bytes()).is_err() {
            return Err(ProveError::Checkpoint(format!(
                "checkpoint #{}: its signature does not hold (run `auditrail verify`)",
                l.cp.index
            )));
        }
        match &l.cp.tree {
            Some(t) => Ok((l, t.clone())),
            None => Err(ProveError::Checkpoint(format!(
                "checkpoint #{} carries no Merkle tree head (written before the store kept its tree)",
                l.cp.index
            ))),
        }
    }
}

/// The leaf range `[start, end)` of ct-merkle's node index `i` in a tree of `size`
/// leaves (its array layout, RFC 9420 §4.1: level = trailing ones; nodes on the right
/// edge stop at the tree's end).
fn node_range(i: u64, size: u64) -> (u64, u64) {
    let level = i.trailing_ones();
    let start = (i >> (level + 1)) << level;
    (start, (start + (1u64 << level)).min(size))
}

/// Computes the hashes of the nodes `indices` (ct-merkle's) of the tree of `size`
/// leaves from the store's records and the log's deleted subtrees; `on_record` sees
/// every record's link on the way (for `prevChainHash`).
fn node_hashes(
    store: &Path,
    log: &Log,
    size: u64,
    indices: &[u64],
    mut on_record: impl FnMut(ChainLink),
) -> Result<Vec<Hash>, ProveError> {
    let mut targets: Vec<(u64, u64, usize, CompactRange)> = indices
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let (a, b) = node_range(i, size);
            (a, b, k, CompactRange::new(a))
        })
        .collect();
    targets.sort_by_key(|t| t.0);
    let mut failure: Option<String> = None;
    let mut sink = |p: Piece, _size: u64| {
        let end = p.start + (1u64 << p.height);
        for t in targets.iter_mut() {
            if end <= t.0 || p.start >= t.1 {
                continue;
            }
            if p.start < t.0 || end > t.1 {
                failure.get_or_insert_with(|| {
                    format!(
                        "records {}..{} were deleted inside one of its nodes (the checkpoint's tree ends among deleted records; prove against a later checkpoint)",
                        p.start + 1,
                        end
                    )
                });
            } else if t.3.push_subtree(p.height, p.hash).is_err() || t.3.end() != end {
                failure.get_or_insert_with(|| format!("leaves out of order at {}", p.start));
            }
        }
    };
    let mut leaves = Leaves::from_log(&log.logged);
    let (files, _) = record_files(store)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
    let mut read_report = StoreReport::default();
    let mut placement = Placement::off();
    std::thread::scope(|scope| {
        let producer = scope.spawn(|| {
            produce(
                &files,
                &mut read_report,
                None,
                &mut placement,
                &NoProgress,
                tx,
            )
        });
        for batch in rx {
            for item in batch.items {
                if let Item::Record { seq, hash, .. } = item {
                    let link = ChainLink { seq, hash };
                    on_record(link);
                    if seq <= size {
                        leaves.record(link, &mut sink);
                    }
                }
            }
        }
        let _ = producer.join();
    });
    leaves.finish(size, &mut sink);
    if let Some(reason) = failure {
        return Err(ProveError::Unbuildable { size, reason });
    }
    if leaves.end() < size {
        return Err(ProveError::RecordsMissing {
            size,
            missing: leaves.end() + 1,
            hint: String::new(),
        });
    }
    let mut out = vec![[0u8; 32]; indices.len()];
    for (a, b, k, range) in targets {
        match range.root() {
            Some(h) if range.end() == b => out[k] = h,
            _ => {
                return Err(ProveError::Unbuildable {
                    size,
                    reason: format!("the node over chainSeq {}..{b} is incomplete", a + 1),
                })
            }
        }
    }
    Ok(out)
}

/// One record that holds an event: its place in the chain and its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Its chainSeq.
    pub chain_seq: u64,
    /// Its segment file, relative to the store's folder (the folders name the
    /// partition).
    pub segment: String,
}

impl std::fmt::Display for EventRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chainSeq {} in {}", self.chain_seq, self.segment)
    }
}

/// A list of records, comma-separated, for error messages.
struct Listed<'a>(&'a [EventRecord]);

impl std::fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// A line of a store that holds an event's id (its text) but is no readable stored
/// event ([`auditrail_store::StoredEvent::read`] refuses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableLine {
    /// Its segment file, relative to the store's folder.
    pub segment: String,
    /// Its 1-based line number in the file.
    pub line: u64,
    /// Its chainSeq, when its chain fields are in the form the store writes them.
    pub chain_seq: Option<u64>,
    /// Why it is no readable stored event.
    pub why: String,
}

impl std::fmt::Display for UnreadableLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} of {}", self.line, self.segment)?;
        if let Some(seq) = self.chain_seq {
            write!(f, " (chainSeq {seq})")?;
        }
        write!(f, " is no readable stored event: {}", self.why)
    }
}

/// Unreadable lines, `;`-separated, for error messages.
struct UnreadableListed<'a>(&'a [UnreadableLine]);

impl std::fmt::Display for UnreadableListed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{l}")?;
        }
        Ok(())
    }
}

/// A record of the event found in the store, with its exact line and chain link.
struct Found {
    record: EventRecord,
    line: String,
    link: ChainLink,
}

/// Every record of `event` in the store, in chain order. All of them, not the first:
/// which one a proof is about must never depend on the order of the walk. A record is
/// a line read as a readable stored event ([`StoredEvent::read`], the judgment of
/// `auditrail verify` and queries): a proof is of what they read. Second, the lines
/// that hold the id's text but are no readable stored event (to name when no record
/// is found).
fn find_records(
    store: &Path,
    event: &EventId,
) -> Result<(Vec<Found>, Vec<UnreadableLine>), ProveError> {
    let needle = event.to_string();
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    for segment in StoreFiles::walk(store)?.segments() {
        SegmentReader::open(&segment.path)?.for_each_line(|line| {
            if finder.find(line.bytes).is_none() {
                return;
            }
            let record = match StoredEvent::read(line.bytes) {
                Ok(record) => record,
                Err(e) => {
                    unreadable.push(UnreadableLine {
                        segment: segment.rel.clone(),
                        line: line.number,
                        chain_seq: line.sealed().ok().map(|s| s.link.seq),
                        why: e.to_string(),
                    });
                    return;
                }
            };
            // A readable stored event without chain fields: no leaf of any tree.
            let Some(link) = record.link else { return };
            if record.event.id == *event {
                found.push(Found {
                    record: EventRecord {
                        chain_seq: link.seq,
                        segment: segment.rel.clone(),
                    },
                    line: String::from_utf8_lossy(line.bytes).into_owned(),
                    link,
                });
            }
        })?;
    }
    found.sort_by_key(|f| f.link.seq);
    Ok((found, unreadable))
}

/// Every record of the store that holds `event`, in chain order (empty: none). For a
/// caller that looks in several stores and must know where the event is before it
/// proves it in one.
///
/// When no record holds it but lines that are no readable stored event hold its id:
/// [`ProveError::UnreadableRecord`] naming them.
pub fn event_records(store: &Path, event: &EventId) -> Result<Vec<EventRecord>, ProveError> {
    let (found, unreadable) = find_records(store, event)?;
    if found.is_empty() && !unreadable.is_empty() {
        return Err(ProveError::UnreadableRecord {
            store: store.to_path_buf(),
            event: event.to_string(),
            lines: unreadable,
        });
    }
    Ok(found.into_iter().map(|f| f.record).collect())
}

/// The deletions a store's checkpoint log records, said with an event no record
/// holds: without them, "no record holds it" reads as "it was never stored", while the
/// log says records were deleted, maybe this one (the deleted records' ids are not
/// kept: only their chain ranges and hashes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Records deleted, all deletions together.
    pub records: u64,
    /// Deletions (checkpoint lines with a deletion).
    pub deletions: u64,
    /// The checkpoint of the last deletion.
    pub last_checkpoint: Option<u64>,
}

impl Deleted {
    fn of(log: &Log) -> Deleted {
        log.logged
            .iter()
            .filter_map(|l| Some((l.cp.index, l.cp.deleted.as_ref()?)))
            .fold(Deleted::default(), |d, (index, deletion)| Deleted {
                records: d.records + deletion.records,
                deletions: d.deletions + 1,
                last_checkpoint: Some(index),
            })
    }
}

impl std::fmt::Display for Deleted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(last) = self.last_checkpoint else {
            return Ok(());
        };
        write!(
            f,
            "; the store's checkpoint log records {} deleted record{} (retention or \
             `auditrail store prune`; {} deletion{}, the last at checkpoint #{last}): if the \
             event was one of them it is gone and can no longer be proven from this store \
             (a proof made before the deletion still verifies)",
            self.records,
            if self.records == 1 { "" } else { "s" },
            self.deletions,
            if self.deletions == 1 { "" } else { "s" },
        )
    }
}

/// The record of `event` to prove: the only one, or the one at `chain_seq`.
fn find_event(
    store: &Path,
    log: &Log,
    event: &EventId,
    chain_seq: Option<u64>,
) -> Result<Found, ProveError> {
    let (mut found, unreadable) = find_records(store, event)?;
    let unreadable_record = |lines: Vec<UnreadableLine>| ProveError::UnreadableRecord {
        store: store.to_path_buf(),
        event: event.to_string(),
        lines,
    };
    // The line picked by its chainSeq is one no reader takes as an event.
    if let Some(seq) = chain_seq {
        if !found.iter().any(|f| f.link.seq == seq) {
            let picked: Vec<UnreadableLine> = unreadable
                .iter()
                .filter(|l| l.chain_seq == Some(seq))
                .cloned()
                .collect();
            if !picked.is_empty() {
                return Err(unreadable_record(picked));
            }
        }
    }
    let records = || found.iter().map(|f| f.record.clone()).collect();
    let at = match (chain_seq, found.len()) {
        (_, 0) if !unreadable.is_empty() => return Err(unreadable_record(unreadable)),
        (_, 0) => {
            return Err(ProveError::NoSuchEvent {
                store: store.to_path_buf(),
                event: event.to_string(),
                deleted: Deleted::of(log),
            })
        }
        (Some(seq), _) => found
            .iter()
            .position(|f| f.link.seq == seq)
            .ok_or_else(|| ProveError::NotTheEventsRecord {
                store: store.to_path_buf(),
                event: event.to_string(),
                chain_seq: seq,
                records: records(),
            })?,
        (None, 1) => 0,
        (None, _) => {
            return Err(ProveError::SeveralRecords {
                store: store.to_path_buf(),
                event: event.to_string(),
                records: records(),
            })
        }
    };
    Ok(found.swap_remove(at))
}

/// Builds the inclusion proof of `event` against checkpoint `index` (default: the
/// log's last line with a tree head). When several records hold the event's id,
/// `chain_seq` says which one ([`ProveError::SeveralRecords`] without it); given, it
/// must be one of them ([`ProveError::NotTheEventsRecord`]). Beside a running server,
/// built again when a prune removed files meanwhile (`past_prunes`).
pub fn prove_inclusion(
    store: &Path,
    event: &EventId,
    chain_seq: Option<u64>,
    index: Option<u64>,
) -> Result<InclusionBundle, ProveError> {
    past_prunes(store, |log| {
        prove_inclusion_once(store, log, event, chain_seq, index)
    })
}

/// How many times a proof is built while prunes remove what it read
/// ([`past_prunes`]), as `verify --live` walks a store at most `MAX_LIVE_WALKS` times.
/// A build is read again only when a prune changed the store during it; beside a
/// server whose retention runs pass after pass (a backlog of small partitions), 5
/// builds were all overtaken in 2 of 35 runs (final62's rerun of final61/02).
const MAX_BUILDS: u32 = 12;

/// Builds a proof with `build`, again (at most [`MAX_BUILDS`] times in all) when it
/// failed while a prune of a running server removed what it read: a record file it
/// listed was gone when opened (`NotFound`), or the log gained a deletion line while it
/// was built (records the log it read did not say deleted were gone). A prune signs
/// its line before it removes a file, so the next build reads the log with that line
/// and lists the files left. A failure with neither is the store's, said at once; one
/// that stays after the last build is said as it is (a file removed by hand is then
/// named as records missing).
///
/// Written here, not taken from `verify --live`'s held findings (`verify/late.rs`): a
/// proof is all or nothing, so building it again from the store as it is now is both
/// simpler and exact.
fn past_prunes<T>(
    store: &Path,
    mut build: impl FnMut(&Log) -> Result<T, ProveError>,
) -> Result<T, ProveError> {
    let mut builds = 1;
    loop {
        // The log the build reads is the one compared after a failure: one read of it
        // per build, and no prune slips between a count and the build's own read.
        let (built, seen) = match Log::read(store) {
            Ok(log) => (build(&log), Some(log.deletion_lines())),
            Err(e) => (Err(e), None),
        };
        match built {
            Err(e)
                if builds < MAX_BUILDS
                    && (gone_when_opened(&e)
                        || seen.is_some_and(|seen| {
                            crate::verify::checkpoints::deletion_lines(store) != Some(seen)
                        })) =>
            {
                builds += 1;
            }
            done => return done,
        }
    }
}

/// Whether `e` is a file not found when opened (listed before: removed meanwhile).
fn gone_when_opened(e: &ProveError) -> bool {
    let source = match e {
        ProveError::Io { source, .. } => source,
        ProveError::Store(auditrail_store::StoreError::Io { source, .. }) => source,
        _ => return false,
    };
    source.kind() == std::io::ErrorKind::NotFound
}

fn prove_inclusion_once(
    store: &Path,
    log: &Log,
    event: &EventId,
    chain_seq: Option<u64>,
    index: Option<u64>,
) -> Result<InclusionBundle, ProveError> {
    let (cp, tree) = log.pick(index)?;
    let Found {
        record: found,
        line: record,
        link,
    } = find_event(store, log, event, chain_seq)?;
    if link.seq > tree.size {
        return Err(ProveError::Checkpoint(format!(
            "event {event} is chainSeq {}, after checkpoint #{} (tree of {} records): prove against a later checkpoint",
            link.seq, cp.cp.index, tree.size
        )));
    }
    let leaf_index = link.seq - 1;
    let indices = indices_for_inclusion_proof(tree.size, leaf_index);
    // The previous record's chain hash: from the records, or from a deletion line when
    // it was deleted (the hash recorded at the end of its run).
    let mut prev = (link.seq == 1).then_some([0u8; 32]);
    for l in &log.logged {
        if let Some(d) = &l.cp.deleted {
            for (_, last, hash) in d.ranges() {
                if last + 1 == link.seq {
                    prev = prev.or(hash);
                }
            }
        }
    }
    let path = node_hashes(store, log, tree.size, &indices, |l| {
        if l.seq + 1 == link.seq {
            prev = Some(l.hash);
        }
    })
    .map_err(|e| earlier_checkpoint_hint(e, log, link.seq, index))?;
    let prev = prev.ok_or_else(|| ProveError::Unbuildable {
        size: tree.size,
        reason: format!("the record before chainSeq {} is missing", link.seq),
    })?;
    let root = RootHash::<Sha256>::new(tree.head.into(), tree.size);
    root.verify_inclusion(
        &leaf_data(&link),
        leaf_index,
        &InclusionProof::from_digests(digests(&path).iter()),
    )
    .map_err(|e| ProveError::DoesNotMatch {
        index: cp.cp.index,
        reason: e.to_string(),
    })?;
    let handovers = handovers_before(log, cp.cp.index);
    let bundle = InclusionBundle {
        proof: if handovers.is_empty() {
            INCLUSION
        } else {
            INCLUSION_V2
        }
        .into(),
        store_id: cp.cp.store_id.clone(),
        event_id: event.to_string(),
        record,
        prev_chain_hash: hex::encode(prev),
        leaf_index,
        tree_size: tree.size,
        checkpoint: log.line(cp),
        path: path.iter().map(hex::encode).collect(),
        handovers,
    };
    // The record's own chain hash, by the check the auditor's `verify --proof` makes:
    // the tree head above matched the chain fields, not the record's bytes.
    bundle
        .check_record()
        .map_err(|source| ProveError::RecordRefused {
            store: store.to_path_buf(),
            chain_seq: found.chain_seq,
            segment: found.segment,
            source: Box::new(source),
        })?;
    // Then everything the auditor's check makes, against the line the bundle carries
    // (the tree head above was the one parsed from it; a bundle is never handed out
    // that its own check refuses).
    bundle
        .verify(&cp.cp.key)
        .map_err(|source| ProveError::BundleRefused {
            index: cp.cp.index,
            source: Box::new(source),
        })?;
    Ok(bundle)
}

/// Records removed from a store (a partition deleted by hand) make every tree that
/// spans them unbuildable, the last checkpoint's included, but a record before them is
/// still in the tree of an earlier checkpoint that ends before them: the refusal names
/// that checkpoint, when the caller did not pick one (an auditor told only "cannot be
/// rebuilt" took the event as unprovable).
fn earlier_checkpoint_hint(e: ProveError, log: &Log, seq: u64, index: Option<u64>) -> ProveError {
    let ProveError::RecordsMissing {
        size,
        missing,
        hint,
    } = e
    else {
        return e;
    };
    let earlier = log.logged.iter().rev().find(|l| {
        l.cp.tree
            .as_ref()
            .is_some_and(|t| t.size >= seq && t.size < missing)
            && Checkpoint::parse_line(log.line(l).as_bytes()).is_ok()
    });
    let hint = match (index, earlier) {
        (None, Some(l)) => format!(
            "; the record to prove, chainSeq {seq}, is before chainSeq {missing}: checkpoint #{} (a tree of {} records, which ends before it) still proves it: `--checkpoint {}`",
            l.cp.index,
            l.cp.tree.as_ref().map_or(0, |t| t.size),
            l.cp.index
        ),
        _ => hint,
    };
    ProveError::RecordsMissing {
        size,
        missing,
        hint,
    }
}

/// Builds the consistency proof between checkpoints `from` and `to` (default: the
/// log's last line with a tree head). Beside a running server, built again when a
/// prune removed files meanwhile (`past_prunes`).
pub fn prove_consistency(
    store: &Path,
    from: u64,
    to: Option<u64>,
) -> Result<ConsistencyBundle, ProveError> {
    past_prunes(store, |log| prove_consistency_once(store, log, from, to))
}

fn prove_consistency_once(
    store: &Path,
    log: &Log,
    from: u64,
    to: Option<u64>,
) -> Result<ConsistencyBundle, ProveError> {
    let (old, old_tree) = log.pick(Some(from))?;
    let (new, new_tree) = log.pick(to)?;
    if old_tree.size == 0 || old_tree.size > new_tree.size {
        return Err(ProveError::Checkpoint(format!(
            "checkpoint #{} (tree of {} records) cannot be proven against #{} (tree of {})",
            old.cp.index, old_tree.size, new.cp.index, new_tree.size
        )));
    }
    let indices = indices_for_consistency_proof(old_tree.size, new_tree.size - old_tree.size);
    let path = node_hashes(store, log, new_tree.size, &indices, |_| {})?;
    let new_root = RootHash::<Sha256>::new(new_tree.head.into(), new_tree.size);
    let old_root = RootHash::<Sha256>::new(old_tree.head.into(), old_tree.size);
    new_root
        .verify_consistency(
            &old_root,
            &ConsistencyProof::from_digests(digests(&path).iter()),
        )
        .map_err(|e| ProveError::DoesNotMatch {
            index: new.cp.index,
            reason: e.to_string(),
        })?;
    let handovers = handovers_before(log, new.cp.index);
    let bundle = ConsistencyBundle {
        proof: if handovers.is_empty() {
            CONSISTENCY
        } else {
            CONSISTENCY_V2
        }
        .into(),
        store_id: new.cp.store_id.clone(),
        from: log.line(old),
        to: log.line(new),
        path: path.iter().map(hex::encode).collect(),
        handovers,
    };
    // The auditor's whole check, against the lines the bundle carries, trusting the
    // earlier line's key (the later line's is reached through the handovers).
    bundle
        .verify(&old.cp.key)
        .map_err(|source| ProveError::BundleRefused {
            index: new.cp.index,
            source: Box::new(source),
        })?;
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrail_store::merkle::leaf_hash_of;
    use ct_merkle::mem_backed_tree::MemoryBackedTree;

    fn gone() -> ProveError {
        ProveError::Io {
            path: "generic/_none/2026/11/16/13/00000000000000004257.jsonl".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        }
    }

    /// A record file listed, then removed before it was opened (a running server's
    /// prune): the proof is built again from the store as it is now. `prove` beside
    /// retention passes failed with the bare `No such file or directory` instead.
    #[test]
    fn a_proof_whose_file_was_removed_while_built_is_built_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut builds = 0;
        let built = past_prunes(dir.path(), |_| {
            builds += 1;
            if builds == 1 {
                Err(gone())
            } else {
                Ok(builds)
            }
        });
        assert_eq!(built.unwrap(), 2);
    }

    /// Other failures, with no prune meanwhile, are the store's: said at once; a file
    /// that stays gone is said after the last build.
    #[test]
    fn a_failure_with_no_prune_meanwhile_is_said_at_once_and_a_lasting_one_after_the_last_build() {
        let dir = tempfile::tempdir().unwrap();
        let mut builds = 0;
        let built: Result<(), _> = past_prunes(dir.path(), |_| {
            builds += 1;
            Err(ProveError::Checkpoint("no such line".into()))
        });
        assert!(matches!(built, Err(ProveError::Checkpoint(_))));
        assert_eq!(builds, 1);
        let mut builds = 0;
        let built: Result<(), _> = past_prunes(dir.path(), |_| {
            builds += 1;
            Err(gone())
        });
        assert!(gone_when_opened(&built.unwrap_err()));
        assert_eq!(builds, MAX_BUILDS);
    }

    /// A bundle's `leafIndex` is read from a file: one beyond the tree (2^64-1 among
    /// them, whose chainSeq would overflow) is a refused bundle naming the field.
    #[test]
    fn a_leaf_index_beyond_the_tree_is_refused_naming_it() {
        let body = br#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}},"origAddress":null,"serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":null"#;
        let mut line = Vec::new();
        auditrail_store::chain::Chain::genesis().seal(body, &mut line);
        line.pop();
        let bundle = |leaf_index: u64| InclusionBundle {
            proof: INCLUSION.into(),
            store_id: "s".into(),
            event_id: "01936f6e-1b2c-7d3e-8f40-123456789abc".into(),
            record: String::from_utf8(line.clone()).unwrap(),
            prev_chain_hash: "0".repeat(64),
            leaf_index,
            tree_size: 1,
            checkpoint: String::new(),
            path: Vec::new(),
            handovers: Vec::new(),
        };
        assert_eq!(bundle(0).check_record().unwrap().seq, 1);
        for leaf_index in [u64::MAX, 1] {
            let err = bundle(leaf_index).check_record().unwrap_err().to_string();
            assert!(
                err.contains(&format!("leafIndex {leaf_index} is no leaf"))
                    && err.contains("treeSize 1"),
                "{err}"
            );
        }
    }

    /// The node ranges computed from ct-merkle's indices give the same proofs as
    /// ct-merkle's own in-memory tree, for every size and leaf up to 40.
    #[test]
    fn node_ranges_match_ct_merkle_proofs() {
        for size in 1..=40u64 {
            let mut t = MemoryBackedTree::<Sha256, Vec<u8>>::new();
            let leaves: Vec<Hash> = (0..size)
                .map(|i| {
                    t.push(vec![i as u8; 3]);
                    leaf_hash_of(&[i as u8; 3])
                })
                .collect();
            let hash_of = |i: u64| {
                let (a, b) = node_range(i, size);
                let mut r = CompactRange::new(a);
                leaves[a as usize..b as usize]
                    .iter()
                    .for_each(|l| r.push_leaf(*l));
                r.root().unwrap()
            };
            for idx in 0..size {
                let ours: Vec<u8> = indices_for_inclusion_proof(size, idx)
                    .into_iter()
                    .flat_map(hash_of)
                    .collect();
                assert_eq!(ours, t.prove_inclusion(idx as usize).as_bytes());
            }
            for old in 1..size {
                let ours: Vec<u8> = indices_for_consistency_proof(old, size - old)
                    .into_iter()
                    .flat_map(hash_of)
                    .collect();
                assert_eq!(
                    ours,
                    t.prove_consistency((size - old) as usize).as_bytes(),
                    "{old} -> {size}"
                );
            }
        }
    }
}
