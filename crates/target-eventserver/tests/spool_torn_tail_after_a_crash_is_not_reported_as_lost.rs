//! A crash (the process killed, the machine losing power) during an append leaves a
//! torn tail: the bytes of a write that never returned, which nothing acknowledged.
//! The next start cuts it as before: it is not reported as a segment cut by hand
//! (`lost_segments` stays 0, `lost.jsonl` is not written), and the intact records are
//! delivered. The segment being appended to when the crash came has no recorded
//! length; the segments finished before it have theirs and stay as they were.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use spool_support::{deliver, open_with, records_at, segment_files};
use std::path::Path;

use auditrail_target_eventserver::spool::inspect;
use auditrail_target_eventserver::SpoolFsync;

/// The spool folder as a crash leaves it: copied while the spool is open (the lock
/// file aside), so nothing the spool does when it closes is in the copy.
fn crashed_copy(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap();
        if name != "auditrail.lock" {
            std::fs::copy(&p, to.join(name)).unwrap();
        }
    }
}

#[test]
fn a_torn_tail_after_a_crash_is_cut_and_not_reported_as_lost() {
    for fsync in [SpoolFsync::Always, SpoolFsync::Never] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let copy = tmp.path().join("crashed");
        let (spool, _) = open_with(&dir, 1, fsync);
        // One finished segment, and a head the crash interrupts.
        spool.append(&records_at(0, 2).0, 2).unwrap();
        spool.append(&records_at(2, 3).0, 3).unwrap();
        crashed_copy(&dir, &copy);
        drop(spool);
        let segs = segment_files(&copy);
        assert_eq!(segs.len(), 2, "{segs:?}");
        // The append under way when the crash came: half a record.
        let (torn, _) = records_at(5, 1);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&segs[1])
            .unwrap();
        std::io::Write::write_all(&mut f, &torn[..torn.len() / 2]).unwrap();
        drop(f);

        assert!(!inspect::inspect(&copy).unwrap().has_losses(), "{fsync:?}");
        let (spool, metrics) = open_with(&copy, 1, fsync);
        let m = metrics.snapshot();
        assert_eq!(
            (
                m.lost_segments,
                m.lost_records,
                m.lost_bytes,
                m.torn_tails_cut
            ),
            (0, 0, 0, 1),
            "{fsync:?}: {m:?}"
        );
        let expected: Vec<String> = (0..5).map(|i| format!("{{\"i\":{i}}}")).collect();
        assert_eq!(deliver(&spool), expected, "{fsync:?}");
        assert!(!inspect::inspect(&copy).unwrap().has_losses(), "{fsync:?}");
    }
}
