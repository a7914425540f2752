//! One to three bytes someone else appended to the spool's head segment (`echo >>
//! segment`: a newline; `ok` and a newline) are no torn write. Fewer than 4 bytes are
//! part of a length field and cannot tell by what they hold, but by where they end: a
//! crash stops the spool's write at a page boundary (a multiple of 4096 bytes) or at
//! the end of a record. Ending elsewhere, they are kept: the next start copies them
//! aside, names them (segment, offset, bytes) in an ERROR and counts them as damage.
//! They used to be cut as a crash's torn tail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use auditrail_target_eventserver::spool::inspect;
use spool_support::{
    append_by_hand, deliver, open, open_and_check_kept_aside, records, segment_files,
};

fn expected(i: impl IntoIterator<Item = usize>) -> Vec<String> {
    i.into_iter().map(|i| format!("{{\"i\":{i}}}")).collect()
}

#[test]
fn a_newline_or_a_short_line_appended_to_the_head_is_kept_not_cut() {
    for foreign in [&b"\n"[..], b"ok\n"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let (spool, _) = open(&dir, 1 << 20);
        spool.append(&records(0, 3), 3).unwrap();
        drop(spool);
        let head = segment_files(&dir).pop().unwrap();
        let written = std::fs::metadata(&head).unwrap().len();
        append_by_hand(&head, foreign);
        let len = foreign.len() as u64;
        assert_ne!(
            (written + len) % 4096,
            0,
            "the file ends where no write stops"
        );

        let report = inspect::inspect(&dir).unwrap();
        let seg = report.segments.last().unwrap();
        let tail = seg.bad_tail.as_ref().unwrap_or_else(|| panic!("{seg:?}"));
        assert_eq!((tail.offset, tail.bytes), (written, len));
        assert!(!seg.bad_tail_cut_short, "{foreign:?}: {tail:?}");
        assert!(
            tail.reason
                .contains(&format!("ending at offset {}", written + len)),
            "{tail:?}"
        );

        let spool = open_and_check_kept_aside(&dir, &head, written, len);
        spool.append(&records(3, 1), 1).unwrap();
        assert_eq!(deliver(&spool), expected(0..4));
    }
}
