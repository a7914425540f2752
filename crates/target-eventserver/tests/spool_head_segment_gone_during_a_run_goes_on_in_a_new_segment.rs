//! The segment a running spool appends to is deleted, moved away or replaced by
//! another file by hand. The next append does not write into a file nobody finds at
//! the segment's path any more: it starts a new segment, whose records are read and
//! delivered, and the records the gone segment held that were not acknowledged are
//! counted as lost (`lost_segments`, `lost_records`, `lost_bytes`) and recorded in
//! `lost.jsonl`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_target_eventserver::metrics::Metrics;
use auditrail_target_eventserver::spool::{inspect, record, Spool, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

fn open(dir: &Path) -> (Arc<Spool>, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.to_owned(),
            max_bytes: 1 << 20,
            segment_bytes: 1 << 20,
            fsync: SpoolFsync::Always,
        },
        metrics.clone(),
    )
    .unwrap();
    (Arc::new(spool), metrics)
}

fn records(from: usize, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for i in from..from + n {
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    buf
}

fn expected(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{{\"i\":{i}}}")).collect()
}

/// Reads everything there is to read and acknowledges it, as the sender does.
fn deliver(spool: &Arc<Spool>) -> Vec<String> {
    let mut reader = spool.reader();
    let mut out = Vec::new();
    loop {
        let b = reader.read_batch(4, 1 << 20).unwrap();
        spool.ack(b.end, b.payloads.len() as u64);
        if b.payloads.is_empty() {
            return out;
        }
        out.extend(
            b.payloads
                .into_iter()
                .map(|p| String::from_utf8(p).unwrap()),
        );
    }
}

fn head_path(dir: &Path, spool: &Spool) -> PathBuf {
    dir.join(format!("{:020}.seg", spool.end().segment))
}

/// Runs the case: 5 records appended and 2 of them delivered, then `gone` applied to
/// the head segment's path, then 3 more appended.
fn case(gone: impl FnOnce(&Path)) -> (tempfile::TempDir, Arc<Spool>, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, metrics) = open(&dir);
    spool.append(&records(0, 5), 5).unwrap();
    let mut reader = spool.reader();
    let first = reader.read_batch(2, 1 << 20).unwrap();
    assert_eq!(first.payloads.len(), 2);
    spool.ack(first.end, 2);
    let head = head_path(&dir, &spool);
    let unacked_bytes = std::fs::metadata(&head).unwrap().len() - first.end.offset;
    gone(&head);
    let before = std::fs::read(&head).ok();

    spool.append(&records(5, 3), 3).unwrap();
    assert_ne!(head_path(&dir, &spool), head, "a new segment was started");
    assert_eq!(
        std::fs::read(&head).ok(),
        before,
        "nothing was written to the file now at the old head's path"
    );
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 3, unacked_bytes),
        "the 3 records not yet acknowledged are counted lost"
    );
    assert_eq!(spool.pending_events(), 3);
    assert_eq!(deliver(&spool), expected(5..8));
    assert!(spool.is_drained());
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(report.lost[0].records, Some(3), "{report:?}");
    (tmp, spool, dir)
}

#[test]
fn a_deleted_head_segment_is_not_appended_to() {
    let (_tmp, spool, dir) = case(|head| std::fs::remove_file(head).unwrap());
    // And the next start finds nothing else missing.
    drop(spool);
    let (spool, metrics) = open(&dir);
    assert_eq!(metrics.snapshot().lost_segments, 0);
    assert!(spool.is_drained());
}

#[test]
fn a_head_segment_moved_away_is_not_appended_to() {
    case(|head| std::fs::rename(head, head.with_extension("seg.moved")).unwrap());
}

#[test]
fn a_head_segment_replaced_by_another_file_is_not_appended_to() {
    case(|head| {
        let other = head.with_extension("other");
        std::fs::write(&other, records(100, 2)).unwrap();
        std::fs::rename(&other, head).unwrap();
    });
}

#[test]
fn a_fully_delivered_head_segment_that_goes_counts_no_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, metrics) = open(&dir);
    spool.append(&records(0, 5), 5).unwrap();
    assert_eq!(deliver(&spool), expected(0..5));
    std::fs::remove_file(head_path(&dir, &spool)).unwrap();
    spool.append(&records(5, 1), 1).unwrap();
    assert_eq!(metrics.snapshot().lost_segments, 0);
    assert_eq!(deliver(&spool), expected(5..6));
    assert!(!inspect::inspect(&dir).unwrap().has_losses());
}
