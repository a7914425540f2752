//! A spool segment is cut in place (`truncate -s`, `: > file`, logrotate's
//! `copytruncate`) while the node is not running: the file keeps its path and inode,
//! only its length tells. The inspection already lists the loss; the next start
//! reports it (`lost_segments`, `lost_bytes`, a line in `lost.jsonl` naming the cut),
//! once; the intact records before the cut are delivered, and new events go to a new
//! segment and are delivered. The cut end is not taken for a crash's torn tail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use spool_support::{deliver, id_of, open_with, records_at, segment_files};

use auditrail_target_eventserver::spool::inspect;
use auditrail_target_eventserver::SpoolFsync;

fn cut_between_runs(fsync: SpoolFsync, cut_to: impl Fn(&[u64]) -> u64) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (buf, starts) = records_at(0, 10);
    {
        // The server is down: ten events stay spooled.
        let (spool, _) = open_with(&dir, 1 << 20, fsync);
        spool.append(&buf, 10).unwrap();
    }
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 1, "{segs:?}");
    let id = id_of(&segs[0]);
    let cut = cut_to(&starts);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&segs[0])
        .unwrap();
    f.set_len(cut).unwrap();
    drop(f);
    let intact = starts.iter().filter(|&&s| s < cut).count()
        - usize::from(!starts.contains(&cut) && cut > 0 && cut < buf.len() as u64);
    let lost_bytes = buf.len() as u64 - cut;

    // Before any start, the inspection already sees the loss.
    let report = inspect::inspect(&dir).unwrap();
    assert!(report.has_losses(), "{report:?}");
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(
        (report.lost[0].first, report.lost[0].cut_to),
        (id, Some(cut))
    );
    assert_eq!(report.lost[0].bytes, Some(lost_bytes), "{report:?}");

    let (spool, metrics) = open_with(&dir, 1 << 20, fsync);
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_bytes, m.torn_tails_cut),
        (1, lost_bytes, 0),
        "reported at start as a cut, not as a torn write: {m:?}"
    );
    spool.append(&records_at(10, 1).0, 1).unwrap();
    assert!(spool.end().segment > id, "{:?}", spool.end());
    let expected: Vec<String> = (0..intact)
        .chain(10..11)
        .map(|i| format!("{{\"i\":{i}}}"))
        .collect();
    assert_eq!(deliver(&spool), expected);

    // Recorded for the operator, with when it was found and what is left.
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    let lost = &report.lost[0];
    assert!(lost.found_at.is_some(), "{report:?}");
    assert_eq!((lost.first, lost.cut_to), (id, Some(cut)));
    assert!(lost.reason.contains("truncated"), "{}", lost.reason);
    drop(spool);

    // The next start does not report the same loss again.
    let (_spool, metrics) = open_with(&dir, 1 << 20, fsync);
    assert_eq!(metrics.snapshot().lost_segments, 0);
    assert_eq!(inspect::inspect(&dir).unwrap().lost.len(), 1);
}

#[test]
fn a_segment_cut_inside_a_record_is_reported_and_the_records_before_delivered() {
    cut_between_runs(SpoolFsync::Always, |starts| starts[3] + 5);
}

#[test]
fn a_segment_cut_at_a_record_boundary_is_reported() {
    // Nothing in the file tells this cut: only the recorded length does.
    cut_between_runs(SpoolFsync::Always, |starts| starts[4]);
}

#[test]
fn a_segment_emptied_is_reported_with_fsync_never_too() {
    cut_between_runs(SpoolFsync::Never, |_| 0);
}
