//! The folder of a running spool is removed, and another spool (another process: an
//! `auditrail send` with the same node config, say) creates it again and holds it. The
//! first spool's files there are gone; the paths now hold the other spool's state. The
//! first spool must write none of its state files there: its `lengths` would make the
//! other one's next start (and `auditrail spool inspect`) report segments cut by hand
//! that nobody cut, and its `lost.jsonl` lines would report the other one's segments
//! as lost.
//!
//! The other process is played by a second spool in this process: the folder lock
//! belongs to the open file, so it refuses the first spool exactly as another
//! process's does (see `spool_folder_is_opened_by_one_spool_at_a_time.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use std::path::Path;
use std::sync::Arc;

use auditrail_target_eventserver::spool::inspect::inspect;
use auditrail_target_eventserver::spool::{record, Spool};
use spool_support::{open, records};

/// The other spool's state files (`None`: absent).
fn state_files(dir: &Path) -> [Option<String>; 2] {
    ["lengths", "lost.jsonl"].map(|name| std::fs::read_to_string(dir.join(name)).ok())
}

/// The first spool wrote three segments of long records; the second one, after the
/// takeover, two segments of short ones at the same ids.
fn taken_over(dir: &Path) -> (Arc<Spool>, Arc<Spool>) {
    // One record per segment: every append starts a new one.
    let (first, _) = open(dir, 1);
    for i in 0..3 {
        let long = format!("{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(200));
        let mut rec = Vec::new();
        record::encode_payload(long.as_bytes(), &mut rec);
        first.append(&rec, 1).unwrap();
    }
    std::fs::remove_dir_all(dir).unwrap();
    let (second, _) = open(dir, 1);
    for i in 0..2 {
        second.append(&records(i, 1), 1).unwrap();
    }
    (first, second)
}

#[test]
fn a_shutdown_after_the_takeover_leaves_the_others_lengths_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (first, second) = taken_over(&dir);
    let before = state_files(&dir);

    // Its shutdown records the lengths of the segments it finished.
    drop(first);

    assert_eq!(
        state_files(&dir),
        before,
        "the other spool's state files changed"
    );
    let report = inspect(&dir).unwrap();
    assert!(!report.has_losses(), "false losses: {:?}", report.lost);
    drop(second);
}

#[test]
fn reading_after_the_takeover_records_no_loss_in_the_others_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (first, second) = taken_over(&dir);
    let before = state_files(&dir);

    // Its segments' paths now hold the other spool's files: each is "gone" for it,
    // and the folder is not its own to record that in.
    let mut reader = first.reader();
    for _ in 0..4 {
        let _ = reader.read_batch(4, 1 << 20);
    }

    assert_eq!(
        state_files(&dir),
        before,
        "the other spool's state files changed"
    );
    let report = inspect(&dir).unwrap();
    assert!(!report.has_losses(), "false losses: {:?}", report.lost);
    drop(second);
    drop(first);
}

#[test]
fn damage_read_after_the_takeover_is_not_set_aside_in_the_others_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (first, _) = open(&dir, 1 << 20);
    let (recs, starts) = spool_support::records_at(0, 3);
    first.append(&recs, 3).unwrap();
    // The reader is in the segment (it keeps the file open) when the folder goes.
    let mut reader = first.reader();
    assert_eq!(reader.read_batch(1, 1 << 20).unwrap().payloads.len(), 1);
    // The middle record damaged in place, in the file the reader holds.
    let seg = spool_support::segment_files(&dir).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = starts[1] as usize + 6;
    bytes[at] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let (second, _) = open(&dir, 1 << 20);
    second.append(&records(10, 1), 1).unwrap();
    let before = names(&dir);

    let rest = reader.read_batch(4, 1 << 20).unwrap();
    assert_eq!(
        rest.payloads.len(),
        1,
        "the record after the damage is read"
    );

    assert_eq!(
        names(&dir),
        before,
        "a file was written to the other's folder"
    );
    assert!(inspect(&dir).unwrap().set_aside.is_empty());
    drop(second);
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
