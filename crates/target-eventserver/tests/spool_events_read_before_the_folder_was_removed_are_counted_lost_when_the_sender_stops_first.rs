//! The sender read 5 spooled events (in flight, not acknowledged) when the spool folder
//! was removed (`rm -rf`). They are not counted lost while the sender may still deliver
//! them; when it stops first (the spool is closed) they are lost: counted then, and
//! `lost.jsonl` lists them.

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

#[test]
fn events_in_flight_when_the_folder_went_are_lost_only_once_the_sender_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, metrics) = open(&dir);
    spool.append(&records(0, 5), 5).unwrap();
    let spooled_bytes = spool.end().offset;
    let mut reader = spool.reader();
    let in_flight = reader.read_batch(10, 1 << 20).unwrap();
    assert_eq!(in_flight.payloads.len(), 5);

    std::fs::remove_dir_all(&dir).unwrap();
    spool.append(&records(5, 2), 2).unwrap();
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records),
        (0, 0),
        "events the sender holds are not lost yet"
    );
    assert_eq!(spool.in_hand_of_gone(), (1, 5, spooled_bytes));
    // The sender stops without an answer for them.
    spool.close();
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 5, spooled_bytes)
    );
    assert_eq!(spool.in_hand_of_gone(), (0, 0, 0));
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(report.lost[0].records, Some(5), "{report:?}");
    assert_eq!(report.lost[0].in_flight, Some(5), "{report:?}");
}
