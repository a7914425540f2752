//! A file removed, moved aside or cut while a batch is written to it, between the
//! writer's check before the append and the batch's acknowledgement (another program
//! racing the writer: an operator's `rm` or `mv`, a rotation tool): the batch is
//! acknowledged only once its records are in the store's files at their paths, the
//! chain's numbers are not used twice, and a file that keeps going fails the batch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auditrail_testkit::store::{events, stored_events};

use super::tests::{hook_under, no_hook_under};

fn open(root: &Path) -> crate::StoreTarget {
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    crate::StoreTarget::open(root, &config, "store").unwrap()
}

fn store_root(dir: &tempfile::TempDir) -> PathBuf {
    std::fs::canonicalize(dir.path()).unwrap().join("store")
}

fn stored_seqs(root: &Path) -> Vec<u64> {
    let mut seqs: Vec<u64> = stored_events(root).iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    seqs
}

/// Runs `act` on the first file of the next `times` chunks appended under `root`.
fn race_next(root: &Path, times: usize, act: impl Fn(&Path) + Send + 'static) -> Arc<AtomicUsize> {
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    hook_under(
        root,
        Box::new(move |written: &[(PathBuf, u64)]| {
            if count.load(Ordering::SeqCst) < times {
                count.fetch_add(1, Ordering::SeqCst);
                act(&written[0].0);
            }
        }),
    );
    ran
}

#[test]
fn a_segment_removed_while_a_batch_is_written_gets_the_batch_in_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let root = store_root(&dir);
    let t = open(&root);
    t.send_blocking(&events(1, 10)).unwrap();
    let ran = race_next(&root, 1, |file| std::fs::remove_file(file).unwrap());
    // Acknowledged: so its records must be in a file of the store.
    t.send_blocking(&events(11, 10)).unwrap();
    no_hook_under(&root);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    // Events 1-10 went with the removed file (the operator's deletion).
    assert_eq!(stored_seqs(&root), (11..=20).collect::<Vec<_>>());
    // The batch written again took the same chain numbers, not ten more.
    assert_eq!(t.handle().head().seq, 20);
}

#[test]
fn a_segment_moved_aside_while_a_batch_is_written_keeps_only_what_it_had() {
    let dir = tempfile::tempdir().unwrap();
    let root = store_root(&dir);
    let moved = dir.path().join("moved.jsonl");
    let t = open(&root);
    t.send_blocking(&events(1, 10)).unwrap();
    let to = moved.clone();
    race_next(&root, 1, move |file| std::fs::rename(file, &to).unwrap());
    t.send_blocking(&events(11, 10)).unwrap();
    no_hook_under(&root);
    assert_eq!(stored_seqs(&root), (11..=20).collect::<Vec<_>>());
    // The moved file was cut back to what it held before the batch: the batch's
    // records are not in two places.
    let text = std::fs::read_to_string(&moved).unwrap();
    assert_eq!(text.lines().count(), 10, "{text}");
    assert_eq!(t.handle().head().seq, 20);
}

#[test]
fn a_segment_cut_while_a_batch_is_written_gets_the_batch_in_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let root = store_root(&dir);
    let t = open(&root);
    t.send_blocking(&events(1, 10)).unwrap();
    race_next(&root, 1, |file| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(file)
            .unwrap()
            .set_len(0)
            .unwrap();
    });
    t.send_blocking(&events(11, 10)).unwrap();
    no_hook_under(&root);
    assert_eq!(stored_seqs(&root), (11..=20).collect::<Vec<_>>());
}

#[test]
fn a_batch_whose_files_keep_going_is_not_acknowledged_and_a_later_one_is() {
    let dir = tempfile::tempdir().unwrap();
    let root = store_root(&dir);
    let t = open(&root);
    t.send_blocking(&events(1, 10)).unwrap();
    let ran = race_next(&root, usize::MAX, |file| {
        std::fs::remove_file(file).unwrap()
    });
    let e = t.send_blocking(&events(11, 10)).unwrap_err();
    no_hook_under(&root);
    assert_eq!(ran.load(Ordering::SeqCst), 1 + super::MAX_REWRITES as usize);
    let message = auditrail_core::ErrorReport(&e).to_string();
    assert!(message.contains("not acknowledged"), "{message}");
    assert!(message.contains("its path is gone"), "{message}");
    // Nothing of it is stored; sent again, it is.
    assert_eq!(stored_seqs(&root), Vec::<u64>::new());
    t.send_blocking(&events(11, 10)).unwrap();
    assert_eq!(stored_seqs(&root), (11..=20).collect::<Vec<_>>());
    assert_eq!(t.handle().head().seq, 20);
}

/// More partitions than `max_open_files`: the writer holds no handle of a partition's
/// segment when it appends to it again. Another file moved to that segment's path (a
/// copy of a longer segment, an operator's restore from the wrong backup) passed the
/// check, which compared only the length, and the batch was appended to that file,
/// after records that are not this partition's. The identity the file had when the
/// writer opened it tells it apart: a new segment takes the batch.
#[test]
fn another_file_at_a_segment_path_is_not_appended_to_without_a_handle() {
    use auditrail_testkit::store::event;
    let dir = tempfile::tempdir().unwrap();
    let root = store_root(&dir);
    let t = auditrail_testkit::store::open(&root, serde_json::json!({"max_open_files": 1}));
    let of = |rk: &str, seqs: std::ops::Range<u64>| -> Vec<_> {
        seqs.map(|n| event("generic", Some(rk), "2026-11-25T16:55:49.123Z", n))
            .collect()
    };
    t.send_blocking(&of("a", 1..11)).unwrap();
    // Partition b's segment takes the only handle, and is longer than a's.
    t.send_blocking(&of("b", 11..31)).unwrap();
    let segments = auditrail_testkit::store::segments(&root);
    let [a, b] = [&segments[0], &segments[1]];
    assert!(a.to_string_lossy().contains("/a/"), "{segments:?}");
    let copy = a.with_extension("copy");
    std::fs::copy(b, &copy).unwrap();
    std::fs::rename(&copy, a).unwrap();

    t.send_blocking(&of("a", 31..36)).unwrap();
    // The file at a's old name is the copy, untouched.
    assert!(
        std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
        "the batch was appended to the file moved to {}",
        a.display()
    );
    let in_a: Vec<u64> = auditrail_testkit::store::stored_in(&root)
        .into_iter()
        .filter(|(f, _)| f != a && f != b)
        .map(|(_, e)| e.seq)
        .collect();
    assert_eq!(in_a, (31..36).collect::<Vec<_>>());
}
