//! Zero bytes in a spool segment are no record. The spool never writes a record
//! shorter than an event's wire form (`{}`); eight zero bytes (a length field 0 and
//! the checksum of nothing, 0) used to read as a record holding nothing: counted as
//! an event to send, and sent. Now they are damage, named (segment, offset, bytes)
//! and kept: in the middle of a segment (a block the disk lost), the records after
//! them are delivered as after any damage; at the end of the head (a file made longer
//! without its data: room another program allocated, or a hole a crash left on some
//! file systems), they are not cut as a torn write either, since they hold no byte
//! of a record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use auditrail_target_eventserver::spool::inspect;
use spool_support::{
    append_by_hand, deliver, open, open_and_check_kept_aside, records, records_at, segment_files,
};

fn expected(i: impl IntoIterator<Item = usize>) -> Vec<String> {
    i.into_iter().map(|i| format!("{{\"i\":{i}}}")).collect()
}

#[test]
fn eight_zero_bytes_at_the_end_of_the_head_are_kept_not_read_as_a_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, _) = open(&dir, 1 << 20);
    spool.append(&records(0, 3), 3).unwrap();
    drop(spool);
    let head = segment_files(&dir).pop().unwrap();
    let written = std::fs::metadata(&head).unwrap().len();
    append_by_hand(&head, &[0; 8]);

    let report = inspect::inspect(&dir).unwrap();
    let seg = report.segments.last().unwrap();
    assert_eq!((seg.records, seg.pending), (3, 3), "{seg:?}");
    let tail = seg.bad_tail.as_ref().unwrap_or_else(|| panic!("{seg:?}"));
    assert_eq!((tail.offset, tail.bytes), (written, 8));
    assert!(!seg.bad_tail_cut_short, "{tail:?}");
    assert!(tail.reason.contains("8 zero bytes"), "{tail:?}");

    let spool = open_and_check_kept_aside(&dir, &head, written, 8);
    spool.append(&records(3, 1), 1).unwrap();
    assert_eq!(deliver(&spool), expected(0..4));
}

#[test]
fn a_record_zeroed_in_place_is_damage_and_the_records_after_it_are_delivered() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, _) = open(&dir, 1 << 20);
    let (buf, starts) = records_at(0, 5);
    spool.append(&buf, 5).unwrap();
    drop(spool);
    let head = segment_files(&dir).pop().unwrap();
    let (from, to) = (starts[1], starts[2]);
    let mut bytes = std::fs::read(&head).unwrap();
    bytes[from as usize..to as usize].fill(0);
    std::fs::write(&head, &bytes).unwrap();

    let report = inspect::inspect(&dir).unwrap();
    let seg = report.segments.last().unwrap();
    assert_eq!((seg.records, seg.pending), (4, 4), "{seg:?}");
    assert_eq!(seg.damaged.len(), 1, "{seg:?}");
    assert_eq!(
        (seg.damaged[0].offset, seg.damaged[0].bytes),
        (from, to - from)
    );
    assert!(seg.bad_tail.is_none(), "{seg:?}");

    let spool = open_and_check_kept_aside(&dir, &head, from, to - from);
    assert_eq!(deliver(&spool), expected([0, 2, 3, 4]));
}
