//! A partition folder removed by hand while the store is open, its segment's file no
//! longer held open (`max_open_files = 1`, another partition written since): the next
//! batch for that partition re-creates the folder and is written, instead of failing
//! (ENOENT, retried for ever) and holding up every later batch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod store_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::chain::{parse_line, verify_link};
use auditrail_testkit::store::stored_in;
use serde_json::json;
use store_support::*;

/// `count` events numbered from `first`, on day `day` of November 2026 (one partition
/// folder per day).
fn on_day(day: u32, first: u64, count: u64) -> Vec<Arc<Event>> {
    (first..first + count)
        .map(|n| event("generic", None, &format!("2026-11-{day}T10:00:00.000Z"), n))
        .collect()
}

fn day_folder(root: &Path, day: u32) -> PathBuf {
    root.join(format!("generic/_none/2026/11/{day}"))
}

/// The numbers (`seq`) of the events stored in a file under `folder`, sorted.
fn stored_under(root: &Path, folder: &Path) -> Vec<u64> {
    let mut seqs: Vec<u64> = stored_in(root)
        .into_iter()
        .filter(|(path, _)| path.starts_with(folder))
        .map(|(_, e)| e.seq)
        .collect();
    seqs.sort_unstable();
    seqs
}

/// Every record from chain number `from` on is in the store and links to the one
/// before it (the records before `from` went with the removed folder).
fn chain_holds_from(root: &Path, from: u64, to: u64) {
    let all = lines(root);
    let by_seq: HashMap<u64, _> = all
        .iter()
        .map(|(_, l)| {
            let p = parse_line(l).unwrap();
            (p.link.seq, p)
        })
        .collect();
    for seq in from + 1..=to {
        let prev = by_seq
            .get(&(seq - 1))
            .unwrap_or_else(|| panic!("record {} missing", seq - 1));
        let line = by_seq
            .get(&seq)
            .unwrap_or_else(|| panic!("record {seq} missing"));
        assert!(
            verify_link(&prev.link, line),
            "chain broken at record {seq}"
        );
    }
}

#[test]
fn a_batch_for_a_removed_folder_whose_file_is_closed_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({"max_open_files": 1}));
    t.send_blocking(&on_day(23, 1, 10)).unwrap();
    t.send_blocking(&on_day(24, 11, 10)).unwrap(); // day 23's file is closed now
    let folder = day_folder(&root, 23);
    std::fs::remove_dir_all(&folder).unwrap();

    t.send_blocking(&on_day(23, 21, 5)).unwrap();
    t.send_blocking(&on_day(25, 26, 5)).unwrap();
    assert_eq!(stored_under(&root, &folder), (21..=25).collect::<Vec<_>>());
    assert_eq!(stored_events(&root).len(), 10 + 5 + 5);
    chain_holds_from(&root, 11, 30);
    assert_eq!(t.handle().head().seq, 30);
}
