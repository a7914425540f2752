//! A query lists a node's audit folder, then reads its files, while the node's file
//! target goes on: its retention (`max_files`) deletes the oldest file in between. The
//! reader opened the listed name and the whole query failed (`audit/audit.log.13: No
//! such file or directory`). Now the file is left out, with a warning, as a store's
//! segment removed by retention while a query runs is: the answer holds every other
//! file's events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::fs;

use crate::common::{seqs_read, write_audit_file};

#[test]
fn the_oldest_file_removed_between_listing_and_reading_is_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    fs::create_dir(&dir).unwrap();
    write_audit_file(&dir.join("audit.2026-12-04.log"), 1..4);
    write_audit_file(&dir.join("audit.2026-12-05.log"), 4..7);
    let seqs = seqs_read(&dir, || {
        fs::remove_file(dir.join("audit.2026-12-04.log")).unwrap();
    });
    // Without the fix: a panic in `seqs_read`, the query failing with
    // `.../audit.2026-12-04.log: No such file or directory`.
    assert_eq!(seqs, vec![4, 5, 6]);
}
