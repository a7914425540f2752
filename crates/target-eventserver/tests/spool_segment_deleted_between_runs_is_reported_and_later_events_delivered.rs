//! A node's spool segment is deleted (or moved away) by hand while the node is not
//! running. The `ack` file alone would make that look like an empty spool; the next
//! start instead reports the missing segment (error log, `lost_segments`, a line in
//! `lost.jsonl` that `auditrail spool inspect` lists), reports it once, and delivers
//! what is appended afterwards. A spool whose segments are all there, delivered or
//! not, reports nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use spool_support::{deliver, id_of, open, records, segment_files};

use auditrail_target_eventserver::spool::inspect;

#[test]
fn a_segment_deleted_between_runs_is_reported_once_and_new_events_are_delivered() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    {
        // The server is down: ten events stay spooled.
        let (spool, _) = open(&dir, 1 << 20);
        spool.append(&records(0, 10), 10).unwrap();
    }
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 1, "{segs:?}");
    let deleted = id_of(&segs[0]);
    std::fs::remove_file(&segs[0]).unwrap();

    // Before any start, the inspection already sees the gap.
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(
        (report.lost[0].first, report.lost[0].last),
        (deleted, deleted)
    );
    assert!(report.lost[0].found_at.is_none(), "{report:?}");
    assert!(report.has_losses());

    let (spool, metrics) = open(&dir, 1 << 20);
    assert_eq!(metrics.snapshot().lost_segments, 1, "reported at start");
    assert_eq!(spool.pending_events(), 0);
    spool.append(&records(10, 1), 1).unwrap();
    assert!(
        spool.end().segment > deleted,
        "a lost segment's id is not used again: {:?}",
        spool.end()
    );
    assert_eq!(deliver(&spool), vec![r#"{"i":10}"#.to_owned()]);
    assert!(spool.is_drained());

    // Recorded for the operator: the inspection lists the loss with when it was found.
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(report.lost[0].first, deleted);
    assert!(report.lost[0].found_at.is_some(), "{report:?}");
    drop(spool);

    // The next start does not report the same loss again.
    let (_spool, metrics) = open(&dir, 1 << 20);
    assert_eq!(metrics.snapshot().lost_segments, 0);
    assert_eq!(inspect::inspect(&dir).unwrap().lost.len(), 1);
}

#[test]
fn a_middle_segment_moved_away_between_runs_is_reported_and_the_others_delivered() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    {
        let (spool, _) = open(&dir, 60);
        for k in 0..3 {
            spool.append(&records(k * 4, 4), 4).unwrap();
        }
    }
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 3, "{segs:?}");
    let middle = id_of(&segs[1]);
    std::fs::rename(&segs[1], tmp.path().join("moved-away.seg")).unwrap();

    let (spool, metrics) = open(&dir, 60);
    assert_eq!(metrics.snapshot().lost_segments, 1);
    let expected: Vec<String> = (0..4)
        .chain(8..12)
        .map(|i| format!("{{\"i\":{i}}}"))
        .collect();
    assert_eq!(deliver(&spool), expected);
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(
        report
            .lost
            .iter()
            .map(|l| (l.first, l.last))
            .collect::<Vec<_>>(),
        vec![(middle, middle)]
    );
}

#[test]
fn a_spool_with_all_its_segments_reports_nothing_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    for run in 0..3 {
        let (spool, metrics) = open(&dir, 60);
        assert_eq!(metrics.snapshot().lost_segments, 0, "run {run}");
        for k in 0..3 {
            spool.append(&records(k * 4, 4), 4).unwrap();
        }
        if run == 1 {
            // Everything delivered: wholly acknowledged segments are deleted.
            assert_eq!(deliver(&spool).len(), 4 * 3 + 12);
        }
    }
    let report = inspect::inspect(&dir).unwrap();
    assert!(!report.has_losses(), "{report:?}");
    let (spool, metrics) = open(&dir, 60);
    assert_eq!(deliver(&spool).len(), 12);
    assert_eq!(metrics.snapshot().lost_segments, 0);
}
