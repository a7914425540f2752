//! A query lists a node's audit folder, then reads its files, while the node's file
//! target (a size roll renames `audit.log` to `audit.log.1`, ...) or a rotation tool
//! (logrotate's `create` mode: `mv audit.log audit.log-20261205`, then a new empty
//! `audit.log`) goes on working in it. The reader opened each file by the name it was
//! listed under: after such a move it read the new, empty `audit.log` and answered
//! without the events of the file it had listed, in silence. Now each listed file is
//! read where it went (found again by its device and inode in its folder).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::fs;

use crate::common::{seqs_read, write_audit_file};

#[test]
fn a_file_moved_by_a_rotation_tool_between_listing_and_reading_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    fs::create_dir(&dir).unwrap();
    write_audit_file(&dir.join("audit.log.1"), 1..4);
    write_audit_file(&dir.join("audit.log"), 4..7);
    let seqs = seqs_read(&dir, || {
        fs::rename(dir.join("audit.log"), dir.join("audit.log-20261205")).unwrap();
        fs::write(dir.join("audit.log"), "").unwrap();
    });
    // Without the fix: [1, 2, 3], the moved file's events missing.
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn files_renamed_by_a_size_roll_between_listing_and_reading_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    fs::create_dir(&dir).unwrap();
    write_audit_file(&dir.join("audit.log.1"), 1..4);
    write_audit_file(&dir.join("audit.log"), 4..7);
    let seqs = seqs_read(&dir, || {
        // What the target's roll does (`max_files` 3): each file one name older, a
        // new `audit.log`.
        fs::rename(dir.join("audit.log.1"), dir.join("audit.log.2")).unwrap();
        fs::rename(dir.join("audit.log"), dir.join("audit.log.1")).unwrap();
        write_audit_file(&dir.join("audit.log"), 7..10);
    });
    // Without the fix: [4, ..., 9]: the names were read, and the events of the file
    // listed as `audit.log.1` missing. Those of the new `audit.log`, not listed, are
    // for the next query.
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
}
