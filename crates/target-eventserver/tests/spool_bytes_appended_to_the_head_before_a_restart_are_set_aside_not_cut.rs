//! Bytes someone else appended to the spool's head segment after its last append and
//! before the node stopped, or while it was stopped (`echo note >> segment`, an
//! editor saving it), are no torn write: no crash of the spool leaves a whole line of
//! text, or anything but a record cut short. The next start keeps them in the
//! segment, copies them to a side file (`<segment>-<offset>.seg.corrupt`, as any
//! damaged bytes), logs an ERROR naming the segment and their byte range, and counts
//! them as damage; the spool's records before them are delivered, and later events
//! too. They used to be cut as a crash's torn tail: discarded, with a WARN.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use std::io::Write;
use std::path::Path;

use auditrail_core::testing::logged;
use auditrail_target_eventserver::spool::{damage, inspect};
use spool_support::{deliver, open, records, segment_files};

const FOREIGN: &[u8] = b"a note someone appended to the spool's file\n";

fn append_to(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
}

/// Three records in the head, `FOREIGN` appended to it before the spool stops or
/// after, then a restart.
fn check(before_the_stop: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, _) = open(&dir, 1 << 20);
    spool.append(&records(0, 3), 3).unwrap();
    let head = segment_files(&dir).pop().unwrap();
    let written = std::fs::metadata(&head).unwrap().len();
    if before_the_stop {
        append_to(&head, FOREIGN);
    }
    drop(spool);
    if !before_the_stop {
        append_to(&head, FOREIGN);
    }
    let with_them = std::fs::read(&head).unwrap();
    assert_eq!(with_them.len() as u64, written + FOREIGN.len() as u64);

    // Seen before the start too: a bad tail that no crash of the spool leaves.
    let report = inspect::inspect(&dir).unwrap();
    let seg = report.segments.last().unwrap();
    assert_eq!(seg.bad_tail.as_ref().map(|t| t.offset), Some(written));
    assert!(!seg.bad_tail_cut_short);

    let ((spool, metrics), log) = logged(|| open(&dir, 1 << 20));
    let m = metrics.snapshot();
    assert_eq!(
        (m.torn_tails_cut, m.damaged_ranges, m.damaged_bytes),
        (0, 1, FOREIGN.len() as u64),
        "{m:?}"
    );
    // Kept in the segment, and copied aside byte for byte.
    assert_eq!(std::fs::read(&head).unwrap(), with_them);
    let aside = damage::list(&dir).unwrap();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        (aside[0].offset, aside[0].bytes),
        (written, FOREIGN.len() as u64)
    );
    assert_eq!(std::fs::read(&aside[0].path).unwrap(), FOREIGN);
    // An ERROR naming the segment and where the bytes are.
    let line = log
        .lines()
        .find(|l| l.contains("ERROR") && l.contains(&head.display().to_string()))
        .unwrap_or_else(|| panic!("no ERROR naming {}: {log}", head.display()));
    assert!(line.contains(&format!("offset={written}")), "{line}");
    assert!(line.contains(&format!("bytes={}", FOREIGN.len())), "{line}");
    assert!(line.contains("bytes the spool did not write"), "{line}");

    // The records before them are delivered, and the events after the start too.
    spool.append(&records(3, 2), 2).unwrap();
    let expected: Vec<String> = (0..5).map(|i| format!("{{\"i\":{i}}}")).collect();
    assert_eq!(deliver(&spool), expected);
}

#[test]
fn appended_after_the_last_append_and_before_the_stop() {
    check(true);
}

#[test]
fn appended_while_the_node_was_stopped() {
    check(false);
}
