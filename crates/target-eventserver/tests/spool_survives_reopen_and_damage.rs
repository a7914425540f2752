//! The spool on real files: what is appended is read back in order after a reopen,
//! acknowledged records are not read again, a torn tail is cut, a corrupt segment is
//! set aside (and counted) without failing the open, and the size bound refuses
//! appends without keeping anything of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use auditrail_target_eventserver::metrics::Metrics;
use auditrail_target_eventserver::spool::{record, Spool, SpoolError, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

fn options(dir: &Path, max: u64, segment: u64) -> SpoolOptions {
    SpoolOptions {
        dir: dir.to_owned(),
        max_bytes: max,
        segment_bytes: segment,
        fsync: SpoolFsync::Always,
    }
}

fn records(from: usize, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for i in from..from + n {
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    buf
}

fn read_all(spool: &Arc<Spool>) -> Vec<String> {
    let mut reader = spool.reader();
    let mut out = Vec::new();
    loop {
        let b = reader.read_batch(7, 1 << 20).unwrap();
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

fn expected(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{{\"i\":{i}}}")).collect()
}

fn segments(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

#[test]
fn appended_records_are_read_back_in_order_across_segments_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let spool =
            Arc::new(Spool::open(options(dir.path(), 1 << 20, 200), Arc::default()).unwrap());
        for k in 0..10 {
            spool.append(&records(k * 5, 5), 5).unwrap();
        }
        assert!(
            segments(dir.path(), ".seg").len() > 1,
            "small segments roll"
        );
        assert_eq!(read_all(&spool), expected(0..50));
    }
    // Reopen: nothing was acknowledged, so everything is read again.
    let spool = Arc::new(Spool::open(options(dir.path(), 1 << 20, 200), Arc::default()).unwrap());
    assert_eq!(read_all(&spool), expected(0..50));
    spool.append(&records(50, 3), 3).unwrap();
    assert_eq!(read_all(&spool), expected(0..53));
}

#[test]
fn acknowledged_records_are_forgotten_and_their_segments_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(Spool::open(options(dir.path(), 1 << 20, 200), Arc::default()).unwrap());
    for k in 0..10 {
        spool.append(&records(k * 5, 5), 5).unwrap();
    }
    let before = segments(dir.path(), ".seg").len();
    let mut reader = spool.reader();
    let first = reader.read_batch(30, 1 << 20).unwrap();
    assert_eq!(first.payloads.len(), 30);
    spool.ack(first.end, first.payloads.len() as u64);
    assert!(
        segments(dir.path(), ".seg").len() < before,
        "wholly acknowledged segments are deleted"
    );
    assert!(!spool.is_drained());
    drop(reader);
    drop(spool);
    let spool = Arc::new(Spool::open(options(dir.path(), 1 << 20, 200), Arc::default()).unwrap());
    assert_eq!(
        read_all(&spool),
        expected(30..50),
        "the ack position survives a reopen"
    );
    let mut reader = spool.reader();
    let rest = reader.read_batch(100, 1 << 20).unwrap();
    spool.ack(rest.end, rest.payloads.len() as u64);
    assert!(spool.is_drained());
}

#[test]
fn a_torn_tail_is_cut_and_counted_and_earlier_records_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let spool = Spool::open(options(dir.path(), 1 << 20, 1 << 20), Arc::default()).unwrap();
        spool.append(&records(0, 10), 10).unwrap();
    }
    // A crash in the middle of a write: half a record at the end of the newest segment.
    let seg = segments(dir.path(), ".seg").pop().unwrap();
    let half = records(10, 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let good_len = bytes.len();
    bytes.extend_from_slice(&half[..half.len() / 2]);
    std::fs::write(&seg, &bytes).unwrap();

    let metrics = Arc::new(Metrics::default());
    let spool =
        Arc::new(Spool::open(options(dir.path(), 1 << 20, 1 << 20), metrics.clone()).unwrap());
    assert_eq!(read_all(&spool), expected(0..10));
    assert_eq!(
        std::fs::metadata(&seg).unwrap().len() as usize,
        good_len,
        "the tail is cut on disk"
    );
    assert_eq!(metrics.snapshot().torn_tails_cut, 1);
    // Appending after the repair works and is read after the good records.
    spool.append(&records(10, 2), 2).unwrap();
    assert_eq!(read_all(&spool), expected(0..12));
}

#[test]
fn a_corrupt_segment_is_set_aside_counted_and_the_others_still_delivered() {
    let dir = tempfile::tempdir().unwrap();
    {
        let spool = Spool::open(options(dir.path(), 1 << 20, 100), Arc::default()).unwrap();
        for k in 0..6 {
            spool.append(&records(k * 5, 5), 5).unwrap();
        }
    }
    let segs = segments(dir.path(), ".seg");
    assert!(segs.len() >= 3);
    // Flip a byte inside the first record of the first segment (bit rot, not a crash).
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    bytes[record::HEADER + 1] ^= 0x55;
    std::fs::write(&segs[0], &bytes).unwrap();

    let metrics = Arc::new(Metrics::default());
    let spool = Arc::new(Spool::open(options(dir.path(), 1 << 20, 100), metrics.clone()).unwrap());
    let got = read_all(&spool);
    assert_eq!(metrics.snapshot().corrupt_segments, 1);
    assert_eq!(
        segments(dir.path(), ".seg.corrupt").len(),
        1,
        "kept for the operator"
    );
    assert!(!got.is_empty() && got.len() < 30, "{got:?}");
    assert_eq!(
        got,
        expected(30 - got.len()..30),
        "later segments are still read, in order"
    );
    // Opening again does not trip over the set-aside file (no crash loop).
    drop(spool);
    let again = Arc::new(Spool::open(options(dir.path(), 1 << 20, 100), Arc::default()).unwrap());
    assert_eq!(read_all(&again), got);
}

#[test]
fn corruption_found_while_reading_sets_the_segment_aside_too() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::default());
    let spool = Arc::new(Spool::open(options(dir.path(), 1 << 20, 100), metrics.clone()).unwrap());
    for k in 0..6 {
        spool.append(&records(k * 5, 5), 5).unwrap();
    }
    let segs = segments(dir.path(), ".seg");
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    bytes[record::HEADER + 1] ^= 0x55;
    std::fs::write(&segs[0], &bytes).unwrap();
    let got = read_all(&spool);
    assert_eq!(metrics.snapshot().corrupt_segments, 1);
    assert_eq!(got, expected(30 - got.len()..30));
    // The spool keeps working afterwards.
    spool.append(&records(30, 1), 1).unwrap();
    let mut r = spool.reader();
    let mut all = Vec::new();
    loop {
        let b = r.read_batch(100, 1 << 20).unwrap();
        if b.payloads.is_empty() {
            break;
        }
        all.extend(b.payloads);
    }
    assert_eq!(all.last().unwrap(), b"{\"i\":30}");
}

#[test]
fn the_size_bound_refuses_appends_and_keeps_nothing_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(Spool::open(options(dir.path(), 400, 100), Arc::default()).unwrap());
    let mut n = 0;
    let err = loop {
        match spool.append(&records(n, 3), 3) {
            Ok(()) => n += 3,
            Err(e) => break e,
        }
        assert!(n < 1000, "the bound never applied");
    };
    assert!(matches!(err, SpoolError::Full { .. }), "{err}");
    assert!(spool.bytes() <= 400);
    assert_eq!(read_all(&spool), expected(0..n));
    // Room comes back once delivered records are acknowledged.
    let mut reader = spool.reader();
    let b = reader.read_batch(1000, 1 << 20).unwrap();
    spool.ack(b.end, b.payloads.len() as u64);
    spool.append(&records(n, 3), 3).unwrap();
    // A batch larger than the whole bound can never fit: a distinct error.
    let huge = records(0, 100);
    assert!(matches!(
        spool.append(&huge, 100),
        Err(SpoolError::TooLarge { .. })
    ));
}

#[test]
fn a_spool_that_is_delivered_as_fast_as_it_fills_never_jams_at_its_bound() {
    // The bound counts segment files; delivered segments (the head too, once full)
    // are deleted, so steady sending never reports a full spool.
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(Spool::open(options(dir.path(), 400, 200), Arc::default()).unwrap());
    let mut reader = spool.reader();
    for k in 0..200 {
        spool.append(&records(k * 3, 3), 3).unwrap();
        let b = reader.read_batch(100, 1 << 20).unwrap();
        assert_eq!(b.payloads.len(), 3);
        spool.ack(b.end, b.payloads.len() as u64);
    }
    assert!(spool.is_drained());
    assert!(spool.bytes() <= 400);
}
