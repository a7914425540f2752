//! A spool segment is cut in place (`: > file`, `truncate -s`) while the node runs.
//! The head segment is checked before each append: what it held after the cut is
//! reported lost (`lost_segments`, `lost_records`, `lost_bytes`, `lost.jsonl`) and
//! nothing is appended after the cut (a new segment is started). A finished segment
//! cut while waiting to be sent is found by the reader: the records before the cut
//! and those after it in later segments are delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use spool_support::{deliver, id_of, open_with, records_at, segment_files};
use std::path::Path;

use auditrail_target_eventserver::spool::inspect;
use auditrail_target_eventserver::SpoolFsync;

fn cut(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn a_head_segment_emptied_while_running_is_reported_and_not_appended_after() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, metrics) = open_with(&dir, 1 << 20, SpoolFsync::Always);
    let (buf, _) = records_at(0, 5);
    spool.append(&buf, 5).unwrap();
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 1, "{segs:?}");
    let head = id_of(&segs[0]);
    cut(&segs[0], 0);

    spool.append(&records_at(5, 1).0, 1).unwrap();
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 5, buf.len() as u64),
        "{m:?}"
    );
    assert!(
        spool.end().segment > head,
        "a new segment: {:?}",
        spool.end()
    );
    assert_eq!(
        std::fs::metadata(&segs[0]).unwrap().len(),
        0,
        "nothing appended after the cut"
    );
    assert_eq!(deliver(&spool), vec![r#"{"i":5}"#.to_owned()]);
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(
        (
            report.lost[0].first,
            report.lost[0].cut_to,
            report.lost[0].records
        ),
        (head, Some(0), Some(5))
    );
}

#[test]
fn a_finished_segment_cut_while_running_is_found_by_the_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    // Every append after the first starts a new segment.
    let (spool, metrics) = open_with(&dir, 1, SpoolFsync::Always);
    let (buf, starts) = records_at(0, 4);
    spool.append(&buf, 4).unwrap();
    spool.append(&records_at(4, 2).0, 2).unwrap();
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 2, "{segs:?}");
    cut(&segs[0], starts[2]);

    let expected: Vec<String> = [0, 1, 4, 5]
        .iter()
        .map(|i| format!("{{\"i\":{i}}}"))
        .collect();
    assert_eq!(deliver(&spool), expected);
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 2, buf.len() as u64 - starts[2]),
        "{m:?}"
    );
    drop(spool);
    // Reported once: the next start finds the segment as long as its record says.
    let (_spool, metrics) = open_with(&dir, 1, SpoolFsync::Always);
    assert_eq!(metrics.snapshot().lost_segments, 0);
}
