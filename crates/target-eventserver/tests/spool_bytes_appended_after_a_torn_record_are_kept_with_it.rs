//! Bytes someone else appended after a record cut short by a crash (the node died
//! during an append; while it was stopped, `echo note >> segment`) are no part of a
//! torn write: a record the spool writes holds an event's wire form, JSON text on one
//! line, with no byte below 0x20. The whole tail is kept (where the record cut short
//! ends and their bytes begin cannot be told): copied aside, named (segment, offset,
//! bytes) in an ERROR, counted as damage, and its reason names the first byte no
//! record holds. Both used to be cut as the crash's torn tail, the note with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use auditrail_target_eventserver::spool::inspect;
use spool_support::{
    append_by_hand, deliver, open, open_and_check_kept_aside, padded_records, records,
    segment_files,
};

fn expected(i: impl IntoIterator<Item = usize>) -> Vec<String> {
    i.into_iter().map(|i| format!("{{\"i\":{i}}}")).collect()
}

const NOTE: &[u8] = b"a note someone appended\n";

#[test]
fn a_line_appended_after_a_torn_record_is_kept_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, _) = open(&dir, 1 << 20);
    spool.append(&records(0, 3), 3).unwrap();
    drop(spool);
    let head = segment_files(&dir).pop().unwrap();
    let written = std::fs::metadata(&head).unwrap().len();
    // The record an append was writing when the crash came, cut short (without the
    // note, the start cuts it: see `spool_torn_tail_after_a_crash_is_not_reported_as_lost`).
    let torn = padded_records(3, 1);
    let torn = &torn[..torn.len() / 2];
    append_by_hand(&head, torn);
    append_by_hand(&head, NOTE);
    let len = (torn.len() + NOTE.len()) as u64;

    let report = inspect::inspect(&dir).unwrap();
    let seg = report.segments.last().unwrap();
    let tail = seg.bad_tail.as_ref().unwrap_or_else(|| panic!("{seg:?}"));
    assert_eq!((tail.offset, tail.bytes), (written, len));
    assert!(!seg.bad_tail_cut_short, "{tail:?}");
    let newline = written + len - 1;
    assert!(
        tail.reason
            .contains(&format!("byte 0x0a at offset {newline}")),
        "{tail:?}"
    );

    let spool = open_and_check_kept_aside(&dir, &head, written, len);
    spool.append(&records(3, 1), 1).unwrap();
    assert_eq!(deliver(&spool), expected(0..4));
}
