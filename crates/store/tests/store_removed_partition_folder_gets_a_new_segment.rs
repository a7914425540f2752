//! A partition folder removed by hand while the store is open, its segment's file still
//! held open by the writer: late events for that partition go to a new segment in the
//! re-created folder (a file at the store's path), never into the unlinked file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

#[test]
fn late_events_for_a_removed_folder_land_in_a_new_file_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 10)).unwrap();
    t.send_blocking(&on_day(24, 11, 10)).unwrap();
    let folder = day_folder(&root, 23);
    std::fs::remove_dir_all(&folder).unwrap();

    // Acknowledged: so they must be in a file of the store, at the folder's path.
    t.send_blocking(&on_day(23, 21, 5)).unwrap();
    t.send_blocking(&on_day(24, 26, 5)).unwrap();
    t.send_blocking(&on_day(23, 31, 5)).unwrap();
    assert_eq!(
        stored_under(&root, &folder),
        (21..=25).chain(31..=35).collect::<Vec<_>>()
    );
    assert_eq!(stored_events(&root).len(), 10 + 10 + 5);
    chain_holds_from(&root, 11, 35);
    assert_eq!(t.handle().head().seq, 35);
}
