//! Bytes someone else appends to the head segment between the spool's check before an
//! append and its write (`printf x >> segment` racing the spool): the records written
//! after them, the first glued to their last line, do not count there. They are
//! written again into a new segment and delivered, once; the records before the bytes
//! are delivered too, nothing is reported lost, and the bytes are left where they were.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::synced::tests::{no_write_hook_in, write_hook_in};
use super::{gone, record, segment_ids, segment_path, Spool, SpoolFsync, SpoolOptions};
use crate::metrics::Metrics;

fn open(dir: &Path, fsync: SpoolFsync) -> (Arc<Spool>, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.to_owned(),
            max_bytes: 1 << 20,
            segment_bytes: 1 << 20,
            fsync,
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
fn bytes_appended_between_the_check_and_the_write_get_the_records_a_new_segment() {
    for fsync in [SpoolFsync::Always, SpoolFsync::Never] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let (spool, metrics) = open(&dir, fsync);
        spool.append(&records(0, 3), 3).unwrap();
        let first = segment_path(&dir, segment_ids(&dir).unwrap()[0]);
        let before = std::fs::read(&first).unwrap();

        let ran = Arc::new(AtomicUsize::new(0));
        let count = ran.clone();
        write_hook_in(
            &dir,
            Box::new(move |segment: &Path| {
                if count.fetch_add(1, Ordering::SeqCst) == 0 {
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(segment)
                        .unwrap();
                    f.write_all(b"x").unwrap();
                }
            }),
        );
        let appended = spool.append(&records(3, 2), 2);
        no_write_hook_in(&dir);
        appended.unwrap();
        assert!(ran.load(Ordering::SeqCst) >= 1);

        // The first segment holds its records and the byte appended, nothing more;
        // the records appended are in a second one.
        let mut with_byte = before;
        with_byte.push(b'x');
        assert_eq!(std::fs::read(&first).unwrap(), with_byte);
        assert_eq!(segment_ids(&dir).unwrap().len(), 2, "{fsync:?}");
        let expected: Vec<String> = (0..5).map(|i| format!("{{\"i\":{i}}}")).collect();
        assert_eq!(deliver(&spool), expected, "{fsync:?}");
        let m = metrics.snapshot();
        assert_eq!(m.spooled_events, 5, "counted once");
        assert_eq!(m.lost_segments, 0, "nothing lost");
        assert!(gone::list(&dir).unwrap().lost.is_empty());
    }
}
