//! Which sequence numbers of each node a prune deleted, kept in the store's root
//! ([`DELETED_SEQS_FILE`]) so that a reader of the store (the server's start, which
//! rebuilds its per-node table from the records left) can tell numbers retention
//! deleted from numbers never stored. Without it, every event a retention deleted was
//! reported after the next start as missing from its node's sequence (a false alarm of
//! data loss that never cleared, while the deletion is signed and `verify` passes).
//!
//! One JSON line per node, `{"node":"n1","seqs":[[1,2670]],"records":2670}`: the node's
//! deleted numbers as inclusive ranges, ascending, apart, and how many records were
//! deleted (a number stored twice counts twice; the ranges are bounded, the count is
//! exact), so that a node's `count` of events stored is the same after a restart. The file is rewritten whole (fsynced
//! under a temporary name, then renamed) by each prune, after its deletion is recorded
//! in the checkpoint log and before its files are removed; a crash in between leaves
//! the numbers listed while their records are still there (they are stored then, and a
//! number stored is no gap either way), and the next prune lists them again.
//!
//! A deleted record that announced abandoned numbers (`abandonedSeqs`: a crashed run's
//! reservation its node never used) takes the only word of them with it: without it,
//! the next start reported them as missing. So the line keeps the announcements of the
//! deleted records too, each as announced (`"abandoned":[[4,999]]`, left out when there
//! are none): a start takes them as the records' own.
//!
//! The file is bound to the signed deletion lines (format of the line's
//! `deletedSeqs` since 2026-12-07; older lines do not carry it): each prune plans the
//! file's new content before its line is written (`plan_add`), and the line signs the
//! SHA-256 of the file's bytes before and after it ([`Listed`]); `auditrail verify`
//! checks that each line's `before` is what the previous one left and that the file is
//! what a line left, so an edit (numbers that never arrived listed as deleted) shows.
//! A missing file is the empty content.
//!
//! Bounded per node: beyond [`MAX_RANGES_PER_NODE`] ranges the lowest ones are joined
//! into one (the holes between them, real gaps once, are older than what the store
//! keeps and were reported while their neighbours were stored). The name starts with
//! `.`, which no topic or routing key may (their folders are next to it). Beyond
//! [`MAX_RANGES_PER_NODE`] announcements the lowest go first, as the server's table
//! drops them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::StoreError;

/// File name of the deleted numbers in a store's root.
pub const DELETED_SEQS_FILE: &str = ".deleted-seqs.jsonl";

/// Ranges kept per node at most (see the module docs).
pub const MAX_RANGES_PER_NODE: usize = 1024;

/// What a prune deletes of one node: its records and their sequence numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeDeleted {
    /// Records deleted (a number stored twice counts twice).
    pub records: u64,
    /// The numbers, as inclusive ranges, ascending and apart.
    pub seqs: Vec<(u64, u64)>,
    /// The abandoned ranges the deleted records announced (`abandonedSeqs`), inclusive,
    /// each as announced (two may overlap or share a first number), ascending.
    pub abandoned: Vec<(u64, u64)>,
}

impl NodeDeleted {
    /// Adds one deleted record numbered `seq`. Records mostly come in order: the last
    /// range is extended in place; [`NodeDeleted::tidy`] sorts and joins the rest.
    pub(crate) fn add(&mut self, seq: u64) {
        self.records += 1;
        match self.seqs.last_mut() {
            Some(last) if last.0 <= seq && seq <= last.1.saturating_add(1) => {
                last.1 = last.1.max(seq);
            }
            _ => self.seqs.push((seq, seq)),
        }
    }

    /// Adds the abandoned range `first..=last` a deleted record announced.
    pub(crate) fn add_abandoned(&mut self, first: u64, last: u64) {
        self.abandoned.push((first, last));
    }

    /// Adds what `other` lists (another partition's, or another prune's).
    pub(crate) fn join(&mut self, other: NodeDeleted) {
        self.records = self.records.saturating_add(other.records);
        self.seqs.extend(other.seqs);
        self.abandoned.extend(other.abandoned);
    }

    /// Sorts the ranges, joins overlapping and adjacent ones, and bounds them; sorts the
    /// announcements, drops repeated ones, and bounds them (the lowest go first).
    pub(crate) fn tidy(&mut self) {
        self.seqs = merged(std::mem::take(&mut self.seqs));
        self.abandoned.sort_unstable();
        self.abandoned.dedup();
        let over = self.abandoned.len().saturating_sub(MAX_RANGES_PER_NODE);
        self.abandoned.drain(..over);
    }
}

/// `ranges` sorted, overlapping or adjacent ones joined, at most
/// [`MAX_RANGES_PER_NODE`] (the lowest joined).
pub fn merged(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (first, last) in ranges {
        match out.last_mut() {
            Some(prev) if first <= prev.1.saturating_add(1) => prev.1 = prev.1.max(last),
            _ => out.push((first, last)),
        }
    }
    if out.len() > MAX_RANGES_PER_NODE {
        let cut = out.len() - MAX_RANGES_PER_NODE;
        let last = out[cut].1;
        out.drain(1..=cut);
        out[0].1 = last;
    }
    out
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    node: std::borrow::Cow<'a, str>,
    seqs: Vec<(u64, u64)>,
    #[serde(default)]
    records: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    abandoned: Vec<(u64, u64)>,
}

/// The deleted numbers of every node listed in the store at `root` (none when the file
/// is not there: nothing was ever pruned, or by a version that did not list them).
pub fn read(root: &Path) -> Result<BTreeMap<String, NodeDeleted>, StoreError> {
    let path = root.join(DELETED_SEQS_FILE);
    let text = match auditrail_core::regular_file::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(StoreError::io(&path, e)),
    };
    let mut nodes = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line<'_> = serde_json::from_str(line).map_err(|e| {
            StoreError::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {}: not a node's deleted numbers: {e}", i + 1),
                ),
            )
        })?;
        let node: &mut NodeDeleted = nodes.entry(parsed.node.into_owned()).or_default();
        node.join(NodeDeleted {
            records: parsed.records,
            seqs: parsed.seqs,
            abandoned: parsed.abandoned,
        });
    }
    for node in nodes.values_mut() {
        node.tidy();
    }
    Ok(nodes)
}

/// What a prune's deletion line signs of the file (its `deletedSeqs`): the SHA-256 of
/// its bytes before the prune and once the prune listed its numbers (a missing file is
/// the empty content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// Before the prune.
    pub before: [u8; 32],
    /// After it.
    pub after: [u8; 32],
}

/// The SHA-256 of `bytes` (what [`Listed`] holds).
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The SHA-256 of the file in the store at `root` now (the empty content's when it is
/// not there).
pub fn digest_of(root: &Path) -> Result<[u8; 32], StoreError> {
    let path = root.join(DELETED_SEQS_FILE);
    match auditrail_core::regular_file::read(&path) {
        Ok(bytes) => Ok(digest(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(digest(b"")),
        Err(e) => Err(StoreError::io(&path, e)),
    }
}

/// The file's content once `deleted` is added, planned before the prune's line is
/// written (which signs its [`Listed`]), written by [`write`] after it.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) listed: Listed,
    /// The new content; `None`: unchanged (nothing to add).
    text: Option<String>,
}

/// Plans adding `deleted` to the numbers listed in the store at `root`.
pub(crate) fn plan_add(
    root: &Path,
    deleted: &BTreeMap<String, NodeDeleted>,
) -> Result<Planned, StoreError> {
    let before = digest_of(root)?;
    if deleted.is_empty() {
        return Ok(Planned {
            listed: Listed {
                before,
                after: before,
            },
            text: None,
        });
    }
    let text = render(root, deleted)?;
    Ok(Planned {
        listed: Listed {
            before,
            after: digest(text.as_bytes()),
        },
        text: Some(text),
    })
}

/// Writes what [`plan_add`] planned (the file rewritten whole, durably).
pub(crate) fn write(root: &Path, planned: &Planned) -> Result<(), StoreError> {
    let Some(text) = &planned.text else {
        return Ok(());
    };
    let path = root.join(DELETED_SEQS_FILE);
    auditrail_core::durable::replace_file(
        &path,
        &auditrail_core::durable::tmp_beside(&path),
        text.as_bytes(),
    )
    .map_err(|e| StoreError::io(&path, e))
}

/// Adds `deleted` to the numbers listed in the store at `root` (the file rewritten
/// whole, durably).
#[cfg(test)]
pub(crate) fn add(root: &Path, deleted: &BTreeMap<String, NodeDeleted>) -> Result<(), StoreError> {
    write(root, &plan_add(root, deleted)?)
}

/// The file's text with `deleted` added to what it lists.
fn render(root: &Path, deleted: &BTreeMap<String, NodeDeleted>) -> Result<String, StoreError> {
    let mut nodes = read(root)?;
    for (node, d) in deleted {
        let listed = nodes.entry(node.clone()).or_default();
        listed.join(d.clone());
        listed.tidy();
    }
    let mut text = String::new();
    for (node, d) in &nodes {
        let line = serde_json::to_string(&Line {
            node: node.as_str().into(),
            seqs: d.seqs.clone(),
            records: d.records,
            abandoned: d.abandoned.clone(),
        })
        .map_err(|e| StoreError::io(root.join(DELETED_SEQS_FILE), std::io::Error::other(e)))?;
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_joined_and_bounded() {
        assert_eq!(
            merged(vec![(5, 9), (1, 3), (4, 4), (12, 12)]),
            [(1, 9), (12, 12)]
        );
        let many: Vec<(u64, u64)> = (0..MAX_RANGES_PER_NODE as u64 + 5)
            .map(|i| (i * 10, i * 10 + 1))
            .collect();
        let m = merged(many);
        assert_eq!(m.len(), MAX_RANGES_PER_NODE);
        assert_eq!(m[0], (0, 51));
    }

    #[test]
    fn added_numbers_are_read_back_merged() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = NodeDeleted::default();
        for s in [1, 2, 3, 7, 5, 6] {
            d.add(s);
        }
        d.tidy();
        assert_eq!(d.seqs, [(1, 3), (5, 7)]);
        add(dir.path(), &BTreeMap::from([("n1".to_string(), d)])).unwrap();
        let mut more = NodeDeleted::default();
        more.add(4);
        add(dir.path(), &BTreeMap::from([("n1".to_string(), more)])).unwrap();
        let n1 = &read(dir.path()).unwrap()["n1"];
        assert_eq!((n1.seqs.as_slice(), n1.records), ([(1, 7)].as_slice(), 7));
    }

    /// The announcements of abandoned numbers the deleted records carried are listed
    /// with their numbers, each as announced (two sharing a first number both kept).
    #[test]
    fn announced_abandoned_ranges_are_kept_each_as_announced() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = NodeDeleted::default();
        d.add(1000);
        d.add_abandoned(4, 999);
        d.tidy();
        add(dir.path(), &BTreeMap::from([("n1".to_string(), d)])).unwrap();
        let text = std::fs::read_to_string(dir.path().join(DELETED_SEQS_FILE)).unwrap();
        assert!(text.contains(r#""abandoned":[[4,999]]"#), "{text}");
        let mut more = NodeDeleted::default();
        more.add(2000);
        more.add_abandoned(4, 1999);
        more.add_abandoned(4, 999);
        more.tidy();
        add(dir.path(), &BTreeMap::from([("n1".to_string(), more)])).unwrap();
        let n1 = &read(dir.path()).unwrap()["n1"];
        assert_eq!(n1.abandoned, [(4, 999), (4, 1999)]);
        assert_eq!(n1.records, 2);
    }
}
