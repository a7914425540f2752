//! A partition folder moved aside (out of the store) while the store is open, its
//! segment's file still held open by the writer: late events for that partition go to
//! a new segment in the re-created folder, never into the moved file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::path::Path;

use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

/// How many lines the files under `dir` hold, at any depth.
fn lines_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                lines_under(&path)
            } else {
                std::fs::read_to_string(&path).unwrap().lines().count()
            }
        })
        .sum()
}

#[test]
fn late_events_for_a_moved_folder_land_in_a_new_file_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 10)).unwrap();
    t.send_blocking(&on_day(24, 11, 10)).unwrap();
    let folder = day_folder(&root, 23);
    let aside = dir.path().join("day-23-aside");
    std::fs::rename(&folder, &aside).unwrap();

    t.send_blocking(&on_day(23, 21, 5)).unwrap();
    t.send_blocking(&on_day(23, 26, 5)).unwrap();
    assert_eq!(stored_under(&root, &folder), (21..=30).collect::<Vec<_>>());
    // The moved file got nothing more: the operator's copy is as it was.
    let moved = lines_under(&aside);
    assert_eq!(moved, 10);
    chain_holds_from(&root, 11, 30);
    assert_eq!(t.handle().head().seq, 30);
}
