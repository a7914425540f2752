//! A torn tail (a last line without `\n`, or a last line that is not a sealed record)
//! is cut on open, kept in a `.cut` sidecar, and the chain stays valid and resumes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::fs::OpenOptions;
use std::io::Write;

use serde_json::json;
use store_support::*;

#[test]
fn a_partial_last_line_is_cut_and_the_chain_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&events(1, 20)).unwrap();
    drop(t);

    // A crash in the middle of a write: half a record without its newline.
    let seg = segments(&root).pop().unwrap();
    let good_len = std::fs::metadata(&seg).unwrap().len();
    let torn = br#"{"clientEvent":{"id":"0193"#;
    OpenOptions::new()
        .append(true)
        .open(&seg)
        .unwrap()
        .write_all(torn)
        .unwrap();

    let t = open(&root, json!({}));
    let report = t.handle().recovery_report();
    assert_eq!(
        (report.torn_tails_cut, report.tail_bytes_cut),
        (1, torn.len() as u64)
    );
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), good_len);
    let mut side = seg.clone().into_os_string();
    side.push(".cut");
    assert_eq!(
        std::fs::read(side).unwrap(),
        torn,
        "cut bytes are kept aside"
    );
    assert_eq!(t.handle().head().seq, 20);

    t.send_blocking(&events(21, 5)).unwrap();
    assert_eq!(verify_chain(&root).seq, 25);
}

#[test]
fn complete_lines_that_are_not_records_at_the_end_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    open(&root, json!({})).send_blocking(&events(1, 5)).unwrap();
    let seg = segments(&root).pop().unwrap();
    // Zeroes after a power loss, then a newline: a complete line but no record.
    OpenOptions::new()
        .append(true)
        .open(&seg)
        .unwrap()
        .write_all(b"\0\0\0\0\0\0\n\0\0")
        .unwrap();

    let t = open(&root, json!({}));
    assert_eq!(t.handle().recovery_report().torn_tails_cut, 1);
    t.send_blocking(&events(6, 1)).unwrap();
    assert_eq!(verify_chain(&root).seq, 6);
}

#[test]
fn a_segment_holding_only_a_torn_first_record_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    open(&root, json!({})).send_blocking(&events(1, 3)).unwrap();
    // A crash right after a new segment was created and partly written.
    let seg = segments(&root).pop().unwrap();
    let new_seg = seg.with_file_name("00000000000000000004.jsonl");
    std::fs::write(&new_seg, b"{\"clientEv").unwrap();

    let t = open(&root, json!({}));
    assert!(!new_seg.exists());
    t.send_blocking(&events(4, 2)).unwrap();
    assert_eq!(verify_chain(&root).seq, 5);
}
