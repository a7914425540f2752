//! A partition folder removed by hand while the store is open, its segment's file no
//! longer held open (`max_open_files = 1`, another partition written since): the next
//! batch for that partition re-creates the folder and is written, instead of failing
//! (ENOENT, retried for ever) and holding up every later batch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

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
