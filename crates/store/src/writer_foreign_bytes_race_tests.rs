//! Bytes someone else appends to the current segment between the writer's check of
//! the file (before a chunk) and its append (`printf x >> segment` racing the writer):
//! the records written after them, the first glued to their last line, are never
//! acknowledged there. The batch is written again into a new segment, the bytes are
//! kept where they were appended, and every acknowledged record reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auditrail_testkit::store::{events, stored_in};

use super::tests::{no_write_hook_under, write_hook_under};

fn open(root: &Path, config: serde_json::Value) -> crate::StoreTarget {
    let config: crate::StoreConfig = serde_json::from_value(config).unwrap();
    crate::StoreTarget::open(root, &config, "store").unwrap()
}

/// Appends `bytes` to the file the writer is about to append to, the next `times`
/// appends under `root`.
fn append_before_next_write(root: &Path, times: usize, bytes: &'static [u8]) -> Arc<AtomicUsize> {
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    write_hook_under(
        root,
        Box::new(move |file: &Path| {
            if count.load(Ordering::SeqCst) < times {
                count.fetch_add(1, Ordering::SeqCst);
                let mut f = std::fs::OpenOptions::new().append(true).open(file).unwrap();
                f.write_all(bytes).unwrap();
            }
        }),
    );
    ran
}

fn check(config: serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let t = open(&root, config);
    t.send_blocking(&events(1, 10)).unwrap();
    let first: PathBuf = stored_in(&root).first().unwrap().0.clone();
    let before = std::fs::read(&first).unwrap();

    let ran = append_before_next_write(&root, 1, b"x");
    // Acknowledged: so each of its records must read, in a file of the store.
    t.send_blocking(&events(11, 10)).unwrap();
    no_write_hook_under(&root);
    assert_eq!(ran.load(Ordering::SeqCst), 1);

    let mut seqs: Vec<u64> = stored_in(&root).iter().map(|(_, e)| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    // The batch written again took the same chain numbers, not ten more.
    assert_eq!(t.handle().head().seq, 20);
    // The first segment holds its ten records and the byte appended, nothing more.
    let mut expected = before;
    expected.push(b'x');
    assert_eq!(std::fs::read(&first).unwrap(), expected);
    // The second batch is in a segment of its own.
    let second: Vec<PathBuf> = stored_in(&root)
        .into_iter()
        .filter(|(_, e)| e.seq > 10)
        .map(|(p, _)| p)
        .collect();
    assert!(second.iter().all(|p| *p != first), "{second:?}");
}

#[test]
fn bytes_appended_between_the_check_and_the_write_get_the_batch_a_new_segment() {
    check(serde_json::json!({"path": "store"}));
}

#[test]
fn under_a_flush_policy_too() {
    check(serde_json::json!({"path": "store", "flush": {"every_seconds": 60, "every_bytes": 1}}));
}

/// The bytes land in a segment the store has just made for the batch, before any
/// record of it: the batch written again wants its new segment at the same name (named
/// after the same first record). Their bytes go to the `.cut` sidecar and the segment
/// is made again there; the store used to refuse that name (`SegmentNameTaken`) for
/// this batch and every later one of the partition, until an operator moved the file.
#[test]
fn bytes_appended_to_a_segment_just_made_do_not_take_its_name_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let t = open(&root, serde_json::json!({"path": "store"}));
    let ran = append_before_next_write(&root, 1, b"x");
    t.send_blocking(&events(1, 10))
        .expect("a batch whose fresh segment got someone else's byte is written again");
    no_write_hook_under(&root);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    t.send_blocking(&events(11, 10)).unwrap();

    let stored = stored_in(&root);
    let mut seqs: Vec<u64> = stored.iter().map(|(_, e)| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let segment = stored.first().unwrap().0.clone();
    let mut cut = segment.clone().into_os_string();
    cut.push(".cut");
    assert_eq!(std::fs::read(PathBuf::from(cut)).unwrap(), b"x");
    // The segment made again at its name starts with the store's first record.
    assert_eq!(std::fs::read(&segment).unwrap().first(), Some(&b'{'));
}
