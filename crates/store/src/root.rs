//! The files a store keeps in its root folder, next to its first folder level, and
//! finding stores under a folder by them.
//!
//! ```text
//! <store>/store-id            the store's id (one line); created with the first checkpoint
//! <store>/checkpoints.jsonl   signed checkpoints (written by auditrail's integrity layer)
//! <store>/checkpoints.jsonl.cut  the bytes of torn checkpoint lines cut at start, kept
//! <store>/.store-id.tmp       the id while it is being written (renamed into place)
//! <store>/.deleted-seqs.jsonl each node's sequence numbers its prunes deleted (`deleted_seqs`)
//! <store>/.checkpoints-head.json the newest deletion line that removed log pieces (integrity's)
//! ```
//!
//! The single-writer lock is an advisory `flock` on the root folder itself, so no name
//! in the root is taken for it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::chain::ChainLink;
use crate::error::StoreError;
use crate::merkle::CompactRange;

/// File name of the store id inside a store (one line, the id).
pub const STORE_ID_FILE: &str = "store-id";
/// File name of the checkpoint log inside a store (its line format belongs to the
/// integrity layer that writes it; the name belongs to the store's root).
pub const CHECKPOINT_LOG: &str = "checkpoints.jsonl";
/// Where the bytes of a torn last checkpoint line cut at start are kept (the log's name
/// and [`CUT_SUFFIX`](crate::CUT_SUFFIX), as every file's cut bytes are).
pub const CHECKPOINT_LOG_CUT: &str = "checkpoints.jsonl.cut";
/// Temporary name of the store id while it is written.
const STORE_ID_TMP: &str = ".store-id.tmp";

/// Names a store keeps for itself in its root folder. An event whose first folder
/// level (its topic, or its routing key when `folder_by_topic = false`) would take one
/// of these names cannot be stored there: its folder cannot be created, and if it
/// were, the store's own files could not.
pub const RESERVED_ROOT_NAMES: [&str; 3] = [STORE_ID_FILE, CHECKPOINT_LOG, CHECKPOINT_LOG_CUT];

/// Takes the store's single-writer lock: an advisory `flock` on the root folder itself
/// (so that no file name in the root is taken from topics or routing keys). The lock
/// belongs to the open file description, so a second open of the same store is refused
/// in this process as in any other, and the lock goes with the returned handle.
pub(crate) fn lock_root(root: &Path) -> Result<File, StoreError> {
    let dir = File::open(root).map_err(|e| StoreError::io(root, e))?;
    #[cfg(unix)]
    {
        use rustix::fs::{flock, FlockOperation};
        match flock(&dir, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                return Err(StoreError::Locked {
                    root: root.to_path_buf(),
                })
            }
            Err(e) => return Err(StoreError::io(root, e.into())),
        }
    }
    Ok(dir)
}

/// Reads `<store>/store-id`, or creates it with a fresh UUID v7 (fsynced, then renamed
/// into place and the folder fsynced).
pub fn load_or_create_store_id(store: &Path) -> Result<String, StoreError> {
    let path = store.join(STORE_ID_FILE);
    match auditrail_core::regular_file::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim().to_string();
            if !is_store_id(&id) {
                return Err(StoreError::BadStoreId { path });
            }
            Ok(id)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            auditrail_core::durable::create_dir_all(store).map_err(|e| StoreError::io(store, e))?;
            let id = uuid::Uuid::now_v7().to_string();
            write_store_id(store, &id)?;
            Ok(id)
        }
        Err(e) => Err(StoreError::io(&path, e)),
    }
}

/// Writes `<store>/store-id` as `id`, all or nothing across a crash: fsynced under a
/// temporary name, renamed into place, the folder fsynced. The id names the store in
/// every checkpoint and receipt: a sync that fails is an error, not a name a power loss
/// may take back, and a crash never leaves a torn id (which the next start would refuse
/// and `store accept` could not read).
pub fn write_store_id(store: &Path, id: &str) -> Result<(), StoreError> {
    let path = store.join(STORE_ID_FILE);
    auditrail_core::durable::replace_file(
        &path,
        &store.join(STORE_ID_TMP),
        format!("{id}\n").as_bytes(),
    )
    .map_err(|e| StoreError::io(&path, e))
}

/// Whether `id` has the shape of a store id: not empty, ASCII letters, digits and `-`.
pub fn is_store_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Reads `<store>/store-id`: `None` when there is no such file. A file that is there
/// but cannot be read (its mode, another owner, an I/O error) is an error naming it,
/// never taken for a missing id: a missing id is restored (`store accept`) and said so
/// in a signed line, and an id that is merely unreadable must not be replaced.
pub fn read_store_id(store: &Path) -> Result<Option<String>, StoreError> {
    let path = store.join(STORE_ID_FILE);
    // Opened so that a FIFO at its name cannot block (`regular_file`).
    match auditrail_core::regular_file::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

/// Whether `dir` looks like one store (it has a checkpoint log or a store id). Any
/// file at those names counts, not only a regular one: a store whose log was replaced
/// by a FIFO is found, and its reader names what is wrong there, instead of the store
/// being skipped in silence.
pub fn is_store(dir: &Path) -> bool {
    let there = |name| fs::metadata(dir.join(name)).is_ok_and(|m| !m.is_dir());
    there(CHECKPOINT_LOG)
        || there(STORE_ID_FILE)
        || crate::checkpoint_pieces::sealed_pieces(dir).is_ok_and(|p| !p.is_empty())
}

/// The stores at or under `dir`, sorted: `dir` itself when it is a store, else every
/// folder down to three levels that is one (a server's data dir holds its stores
/// below it). Folders that cannot be read are skipped. Walked by [`walk_folders`]: a
/// symbolic link to a folder is followed (a store moved to another disk with a link
/// left at its path), and each real folder is walked and each store listed once, by
/// the first path found; a link back up (`loop -> .`) or a second link to a store
/// would otherwise have a store verified and pruned once per path (and its high-water
/// mark rewritten under another path).
pub fn find_stores(dir: &Path) -> Vec<PathBuf> {
    if is_store(dir) {
        return vec![dir.to_path_buf()];
    }
    walk_folders(dir, 3, |s| {
        if is_store(s) {
            Met::Found(s.to_path_buf())
        } else {
            Met::Descend
        }
    })
}

/// What a walker of [`walk_folders`] makes of a folder it meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Met {
    /// It holds (or is) what is looked for, at this path: listed, not walked into.
    Found(PathBuf),
    /// Walked into, if the depth allows.
    Descend,
    /// Neither listed nor walked into (a store, when looking for something else).
    Skip,
}

/// The one walk of the folders under `dir` for the commands given a data folder, down
/// to `depth` levels, whatever they look for in it (the data dir's stores,
/// [`find_stores`]; the Kafka sources' partition stores, which sit deeper and are told
/// by their partition folder): `met` says of each folder met whether it is found,
/// walked into or skipped. The found paths come back sorted. Folders that cannot be
/// read are skipped. A symbolic link to a folder is one ([`folder_entries`]) and is
/// followed, but each real folder is met once, by the first path found (a folder
/// itself before a link at its level, each by name): a link back up (`loop -> ..`)
/// ends there instead of walking the tree again, and two paths to one folder list what
/// it holds once.
pub fn walk_folders(dir: &Path, depth: usize, mut met: impl FnMut(&Path) -> Met) -> Vec<PathBuf> {
    let real = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut seen = std::collections::HashSet::from([real(dir)]);
    let mut found = Vec::new();
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for d in level {
            let Ok(entries) = folder_entries(&d) else {
                continue;
            };
            let mut subdirs: Vec<PathBuf> = entries
                .into_iter()
                .filter(|e| e.is_folder)
                .map(|e| e.path)
                .collect();
            // Folders before links (stable: by name within each).
            subdirs.sort_by_key(|s| s.symlink_metadata().is_ok_and(|m| m.is_symlink()));
            for s in subdirs {
                if !seen.insert(real(&s)) {
                    continue;
                }
                match met(&s) {
                    Met::Found(p) => found.push(p),
                    Met::Descend => next.push(s),
                    Met::Skip => {}
                }
            }
        }
        level = next;
    }
    found.sort();
    found
}

/// One entry of a folder, as the walkers that look for stores under a folder see it
/// ([`folder_entries`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    /// Its path (the folder's path joined with its name).
    pub path: PathBuf,
    /// Whether it is a folder, or a symbolic link to one.
    pub is_folder: bool,
}

/// The entries of `dir`, sorted by name: the one listing of the walkers that find
/// stores under a folder ([`walk_folders`]: [`find_stores`] for `verify`, `store prune` and the other
/// commands given a data dir; `auditrail query --dir` and `sql --dir`), so that they
/// agree on what is a folder. A symbolic link to a folder is one (the documented way
/// to move a store to another disk leaves a link at its path); a dangling link or a
/// link to a file is not. A walker that goes deeper than a few levels guards itself
/// against a link that leads back up. An entry that cannot be listed is an error.
pub fn folder_entries(dir: &Path) -> std::io::Result<Vec<FolderEntry>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        let is_folder = kind.is_dir() || (kind.is_symlink() && path.is_dir());
        out.push(FolderEntry { path, is_folder });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// What crash recovery reads from the store's checkpoint log, in one pass over it,
/// without checking signatures (the line format belongs to the integrity layer; whether
/// a line is genuine is `auditrail verify`'s question).
#[derive(Debug, Default)]
pub struct CheckpointLogFacts {
    /// The highest chain link a complete line names (`chainSeq` and `chainHash`): a
    /// floor for crash recovery, since a record at or below a checkpointed number was
    /// acknowledged and is never cut (see [`crate::recovery`]). A forged line can only
    /// make recovery cut less, never more.
    pub last_link: Option<ChainLink>,
    /// The Merkle frontier of the last complete line that carries one (`"treeSize":N`
    /// and `"frontier":["<64 hex>",...]`): where the writer resumes its tree after a
    /// restart (the records after it are replayed from the segments). A forged frontier
    /// makes the server sign tree heads that `auditrail verify` reports as not matching.
    pub frontier: Option<CompactRange>,
    /// The chain ranges lines record as deleted (retention:
    /// `"deleted":{"ranges":[[first,last,"<hash>"],...]}`), unsorted: after a restart
    /// they tell a range deleted by retention from one removed by hand.
    pub deleted: Vec<(u64, u64)>,
}

/// Reads [`CheckpointLogFacts`] from the store's checkpoint log: one read, one split
/// into lines (only complete lines: a torn last line is the integrity layer's to
/// report). A missing log gives empty facts.
pub fn checkpoint_log_facts(store: &Path) -> Result<CheckpointLogFacts, StoreError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Link {
        chain_seq: u64,
        chain_hash: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Tree {
        tree_size: u64,
        frontier: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Deletion {
        deleted: Deleted,
    }
    #[derive(serde::Deserialize)]
    struct Deleted {
        ranges: Vec<(u64, u64, serde::de::IgnoredAny)>,
        #[serde(default, rename = "logPieces")]
        log_pieces: Option<Pieces>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Pieces {
        through_seq: u64,
    }
    let mut facts = CheckpointLogFacts::default();
    let mut last_tree: Option<Tree> = None;
    // Piece by piece (one in memory at a time), in order.
    crate::checkpoint_pieces::for_each_line(store, |l| {
        let line = l.bytes;
        // Each field family is parsed on its own, so a line whose other parts are
        // malformed still gives what it has (as three separate readers would).
        if let Ok(l) = serde_json::from_slice::<Link>(line) {
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(&l.chain_hash, &mut hash).is_ok()
                && facts.last_link.is_none_or(|m| l.chain_seq > m.seq)
            {
                facts.last_link = Some(ChainLink {
                    seq: l.chain_seq,
                    hash,
                });
            }
        }
        // Seal lines (nearly all of them) carry neither: skipped without parsing.
        if memchr::memmem::find(line, b"\"frontier\":").is_some() {
            if let Ok(t) = serde_json::from_slice::<Tree>(line) {
                last_tree = Some(t);
            }
        }
        if memchr::memmem::find(line, b"\"deleted\":").is_some() {
            if let Ok(d) = serde_json::from_slice::<Deletion>(line) {
                facts
                    .deleted
                    .extend(d.deleted.ranges.into_iter().map(|(a, b, _)| (a, b)));
                // Pieces of the log removed with their lines: every record their
                // lines vouched for was deleted before (see `checkpoint_pieces`).
                if let Some(p) = d.deleted.log_pieces {
                    if p.through_seq > 0 {
                        facts.deleted.push((1, p.through_seq));
                    }
                }
            }
        }
    })
    .map_err(|e| StoreError::io(&e.path, e.source))?;
    facts.frontier = last_tree.and_then(|tree| {
        let mut hashes = Vec::with_capacity(tree.frontier.len());
        for h in &tree.frontier {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(h, &mut hash).ok()?;
            hashes.push(hash);
        }
        CompactRange::from_hashes(0, tree.tree_size, hashes).ok()
    });
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserved_cut_name_is_the_one_recovery_gives_the_log() {
        assert_eq!(
            CHECKPOINT_LOG_CUT,
            format!("{CHECKPOINT_LOG}{}", crate::CUT_SUFFIX)
        );
    }

    #[test]
    fn store_id_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_store_id(dir.path()).unwrap();
        let b = load_or_create_store_id(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(read_store_id(dir.path()).unwrap(), Some(a));
        assert!(is_store(dir.path()));
    }

    #[test]
    fn a_malformed_store_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STORE_ID_FILE), "not/an id\n").unwrap();
        let err = load_or_create_store_id(dir.path()).unwrap_err();
        assert!(err.to_string().contains("store id"), "{err}");
    }

    #[test]
    fn stores_are_found_below_a_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        for s in ["b/store", "a"] {
            load_or_create_store_id(&dir.path().join(s)).unwrap();
        }
        fs::create_dir_all(dir.path().join("deadletter")).unwrap();
        assert_eq!(
            find_stores(dir.path()),
            vec![dir.path().join("a"), dir.path().join("b/store")]
        );
    }

    /// A link back up, a link to the data dir's parent and a second link to a store:
    /// each store once, by its own path (before, a store was listed once per path, and
    /// `verify` checked it and `store prune` pruned it that many times).
    #[cfg(unix)]
    #[test]
    fn each_store_is_found_once_whatever_links_lead_to_it() {
        let top = tempfile::tempdir().unwrap();
        let data = top.path().join("data");
        load_or_create_store_id(&data.join("store")).unwrap();
        std::os::unix::fs::symlink(".", data.join("loop")).unwrap();
        std::os::unix::fs::symlink("..", data.join("up")).unwrap();
        std::os::unix::fs::symlink("store", data.join("alias")).unwrap();
        assert_eq!(find_stores(&data), vec![data.join("store")]);
    }
}
