//! Bytes someone else appended to the spool's current (head) segment while the node
//! runs (`printf x >> segment`, an editor saving it without a final newline). The
//! next append went after them, its first record glued to their last line: the reader,
//! reading the segment up to the length the spool wrote, met damage where it expected
//! that record and skipped it, so the event was never sent. The head is now checked
//! for being exactly as long as the spool wrote it: a longer one is closed (as a cut
//! one is), its records are sent as before, nothing is reported lost, the foreign
//! bytes are left where they are, and the next records go to a new segment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use spool_support::{deliver, id_of, open_with, records_at, segment_files};
use std::io::Write;

use auditrail_target_eventserver::spool::inspect;
use auditrail_target_eventserver::SpoolFsync;

#[test]
fn its_records_and_the_next_ones_are_all_delivered_and_nothing_is_lost() {
    for fsync in [SpoolFsync::Always, SpoolFsync::Never] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let (spool, metrics) = open_with(&dir, 1 << 20, fsync);
        let (buf, _) = records_at(0, 3);
        spool.append(&buf, 3).unwrap();
        let segs = segment_files(&dir);
        assert_eq!(segs.len(), 1, "{segs:?}");
        let head = id_of(&segs[0]);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&segs[0])
            .unwrap()
            .write_all(b"x")
            .unwrap();

        spool.append(&records_at(3, 2).0, 2).unwrap();
        assert!(
            spool.end().segment > head,
            "a new segment: {:?}",
            spool.end()
        );
        let mut expected_head = buf.clone();
        expected_head.push(b'x');
        assert_eq!(
            std::fs::read(&segs[0]).unwrap(),
            expected_head,
            "nothing appended after the foreign byte, and it is left there"
        );
        let expected: Vec<String> = (0..5).map(|i| format!("{{\"i\":{i}}}")).collect();
        assert_eq!(deliver(&spool), expected, "{fsync:?}");
        let m = metrics.snapshot();
        assert_eq!(
            (m.lost_segments, m.lost_records, m.lost_bytes),
            (0, 0, 0),
            "{m:?}"
        );
        assert!(inspect::inspect(&dir).unwrap().lost.is_empty());
    }
}
