//! The reader checks each segment against the length the spool wrote to it (a segment
//! cut in place by hand loses its events, which is reported). Appends go on while it
//! reads: a length it found before an append finished is not a cut. (It was, once: the
//! reader took the file's length before the spool's lock, an append grew the segment
//! in between, and 99 acknowledged events of a running node were reported lost and
//! never sent.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use auditrail_target_eventserver::SpoolFsync;
use spool_support::{open_with, records};

#[test]
fn reading_while_another_thread_appends_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Segments large enough that the reader reads the head while it grows.
    let (spool, metrics) = open_with(dir.path(), 512 * 1024, SpoolFsync::Never);
    const BATCHES: usize = 3_000;
    const PER_BATCH: usize = 10;
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (spool, done) = (spool.clone(), done.clone());
        std::thread::spawn(move || {
            for b in 0..BATCHES {
                spool
                    .append(&records(b * PER_BATCH, PER_BATCH), PER_BATCH as u64)
                    .unwrap();
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut reader = spool.reader();
    let mut read = Vec::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        let b = reader.read_batch(7, 1 << 20).unwrap();
        let n = b.payloads.len();
        spool.ack(b.end, n as u64);
        read.extend(
            b.payloads
                .into_iter()
                .map(|p| String::from_utf8(p).unwrap()),
        );
        if n == 0 && finished {
            break;
        }
    }
    writer.join().unwrap();
    let lost = metrics.snapshot();
    assert_eq!(
        (lost.lost_segments, lost.lost_records),
        (0, 0),
        "nothing was cut: {} of {} records read",
        read.len(),
        BATCHES * PER_BATCH
    );
    let expected: Vec<String> = (0..BATCHES * PER_BATCH)
        .map(|i| format!("{{\"i\":{i}}}"))
        .collect();
    assert_eq!(read.len(), expected.len());
    assert!(read == expected, "every record once, in order");
    assert!(!dir.path().join("lost.jsonl").exists());
}
