//! The folder of a running spool is removed with everything in it (`rm -rf
//! run/spool/central`, a cleanup job). The next append does not fail for ever for want
//! of a folder: the spool creates the folder again with its lock file, reports what the
//! removed segments held that was not acknowledged (logged, counted as `lost_segments`,
//! `lost_records`, `lost_bytes`, recorded in a new `lost.jsonl`), and goes on in a new
//! segment, whose records are read and delivered. The next start finds nothing else
//! missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
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

#[test]
fn the_removed_folder_is_created_again_and_the_loss_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run/spool/central");
    let (spool, metrics) = open(&dir);
    spool.append(&records(0, 5), 5).unwrap();
    let mut reader = spool.reader();
    let first = reader.read_batch(2, 1 << 20).unwrap();
    assert_eq!(first.payloads.len(), 2);
    spool.ack(first.end, 2);
    let unacked_bytes = spool.end().offset - first.end.offset;
    let old_head = spool.end().segment;

    std::fs::remove_dir_all(&dir).unwrap();
    spool
        .append(&records(5, 3), 3)
        .expect("an append after the folder was removed");

    assert!(spool.end().segment > old_head, "a new segment was started");
    assert!(
        dir.join(auditrail_core::folder_lock::LOCK_FILE).exists(),
        "the lock file is in the new folder"
    );
    assert!(dir.join("newest").exists(), "the newest mark is written");
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
    assert_eq!(report.lost[0].first, old_head, "{report:?}");
    assert_eq!(report.lost[0].records, Some(3), "{report:?}");

    // The next start finds the new folder whole: nothing else missing, nothing to send.
    drop(reader);
    drop(spool);
    let (spool, metrics) = open(&dir);
    assert_eq!(metrics.snapshot().lost_segments, 0);
    assert!(spool.is_drained());
}

/// The sender's reader meets the removal first (the server was down, nothing was read
/// yet): the folder is created again there, so that the loss is recorded in it, and
/// the next append goes on in a new segment.
#[test]
fn a_reader_that_finds_the_folder_removed_creates_it_again_and_records_the_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, metrics) = open(&dir);
    spool.append(&records(0, 5), 5).unwrap();
    let spooled_bytes = spool.end().offset;

    std::fs::remove_dir_all(&dir).unwrap();
    let mut reader = spool.reader();
    let batch = reader.read_batch(10, 1 << 20).unwrap();
    assert!(batch.payloads.is_empty(), "{batch:?}");

    assert!(dir.join(auditrail_core::folder_lock::LOCK_FILE).exists());
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 5, spooled_bytes)
    );
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(report.lost[0].records, Some(5), "{report:?}");

    spool.append(&records(5, 2), 2).unwrap();
    assert_eq!(deliver(&spool), expected(5..7));
    assert!(spool.is_drained());
}

/// Everything spooled was delivered when the folder went (a node that keeps up): no
/// loss, and the appends go on, instead of failing for ever for want of a folder.
#[test]
fn appends_go_on_after_the_folder_of_a_delivered_spool_was_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, metrics) = open(&dir);
    spool.append(&records(0, 3), 3).unwrap();
    assert_eq!(deliver(&spool), expected(0..3));

    std::fs::remove_dir_all(&dir).unwrap();
    spool
        .append(&records(3, 2), 2)
        .expect("an append after the folder was removed");
    assert_eq!(deliver(&spool), expected(3..5));
    assert!(spool.is_drained());
    assert!(dir.join(auditrail_core::folder_lock::LOCK_FILE).exists());
    assert_eq!(metrics.snapshot().lost_segments, 0);
    assert!(!inspect::inspect(&dir).unwrap().has_losses());
}
