//! A segment in the middle of a running spool is deleted, moved away, or replaced by
//! another file by hand. The reader does not stop on it (it is damage, not an I/O
//! error): it skips it, the loss is counted and recorded, and every record of the
//! other segments is delivered, in order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_target_eventserver::metrics::Metrics;
use auditrail_target_eventserver::spool::{inspect, record, Spool, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

fn records(from: usize, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for i in from..from + n {
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    buf
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

/// Three segments of 4 records each (0-3, 4-7, 8-11), the first 2 records read and
/// acknowledged; then `gone` applied to the middle segment, and the rest read.
fn case(gone: impl FnOnce(&Path, &[PathBuf])) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let metrics = Arc::new(Metrics::default());
    let spool = Arc::new(
        Spool::open(
            SpoolOptions {
                dir: dir.clone(),
                max_bytes: 1 << 20,
                segment_bytes: 60,
                fsync: SpoolFsync::Always,
            },
            metrics.clone(),
        )
        .unwrap(),
    );
    for k in 0..3 {
        spool.append(&records(k * 4, 4), 4).unwrap();
    }
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 3, "{segs:?}");
    let middle_bytes = std::fs::metadata(&segs[1]).unwrap().len();
    let mut reader = spool.reader();
    let first = reader.read_batch(2, 1 << 20).unwrap();
    spool.ack(first.end, 2);

    gone(&dir, &segs);

    let mut got = Vec::new();
    loop {
        let b = reader.read_batch(3, 1 << 20).expect("the reader goes on");
        spool.ack(b.end, b.payloads.len() as u64);
        if b.payloads.is_empty() {
            break;
        }
        got.extend(
            b.payloads
                .into_iter()
                .map(|p| String::from_utf8(p).unwrap()),
        );
    }
    let expected: Vec<String> = (2..4)
        .chain(8..12)
        .map(|i| format!("{{\"i\":{i}}}"))
        .collect();
    assert_eq!(got, expected);
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 4, middle_bytes)
    );
    assert!(spool.is_drained());
    assert_eq!(spool.pending_events(), 0);
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(report.lost[0].records, Some(4));
}

#[test]
fn a_deleted_middle_segment_is_skipped() {
    case(|_, segs| std::fs::remove_file(&segs[1]).unwrap());
}

#[test]
fn a_middle_segment_moved_away_is_skipped() {
    case(|dir, segs| std::fs::rename(&segs[1], dir.join("aside")).unwrap());
}

#[test]
fn a_middle_segment_replaced_by_another_file_is_skipped() {
    // A copy of the last segment put at its path: its records are not the ones that
    // were spooled there, and are not sent twice.
    case(|dir, segs| {
        let copy = dir.join("copy");
        std::fs::copy(&segs[2], &copy).unwrap();
        std::fs::rename(&copy, &segs[1]).unwrap();
    });
}
