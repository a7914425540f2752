//! One damaged record in a spool segment (a flipped bit in its payload, or in its
//! length field) costs that record only: every intact record before and after it is
//! read (and so delivered), the damaged bytes are copied byte for byte to a side file
//! named after the segment and their offset, and they are counted. Opening again finds
//! the same damage without a second side file, and the spool keeps working.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_target_eventserver::metrics::Metrics;
use auditrail_target_eventserver::spool::{damage, record, Spool, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

fn options(dir: &Path) -> SpoolOptions {
    SpoolOptions {
        dir: dir.to_owned(),
        max_bytes: 1 << 20,
        segment_bytes: 1 << 20,
        fsync: SpoolFsync::Always,
    }
}

/// Ten records `{"i":0}` … `{"i":9}` in one segment; returns it and each record's offset.
fn ten_records(dir: &Path) -> (PathBuf, Vec<usize>) {
    let spool = Spool::open(options(dir), Arc::default()).unwrap();
    let mut buf = Vec::new();
    let mut offsets = Vec::new();
    for i in 0..10 {
        offsets.push(buf.len());
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    spool.append(&buf, 10).unwrap();
    drop(spool);
    let seg = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    (seg, offsets)
}

fn read_all(spool: &Arc<Spool>) -> Vec<String> {
    let mut reader = spool.reader();
    let mut out = Vec::new();
    loop {
        let b = reader.read_batch(3, 1 << 20).unwrap();
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

fn all_but(skip: usize) -> Vec<String> {
    (0..10)
        .filter(|i| *i != skip)
        .map(|i| format!("{{\"i\":{i}}}"))
        .collect()
}

fn damaged_then_reopened(flip_at: impl Fn(&[usize]) -> usize) {
    let dir = tempfile::tempdir().unwrap();
    let (seg, offsets) = ten_records(dir.path());
    let original = std::fs::read(&seg).unwrap();
    let mut bytes = original.clone();
    bytes[flip_at(&offsets)] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();

    let metrics = Arc::new(Metrics::default());
    let spool = Arc::new(Spool::open(options(dir.path()), metrics.clone()).unwrap());
    assert_eq!(
        read_all(&spool),
        all_but(4),
        "every intact record, in order"
    );
    let m = metrics.snapshot();
    assert_eq!((m.damaged_ranges, m.corrupt_segments), (1, 1));
    assert_eq!(m.damaged_bytes as usize, offsets[5] - offsets[4]);

    let kept = damage::list(dir.path()).unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].offset as usize, offsets[4]);
    assert!(!kept[0].whole_segment);
    assert_eq!(
        std::fs::read(&kept[0].path).unwrap(),
        bytes[offsets[4]..offsets[5]],
        "the damaged bytes, as they are on disk"
    );
    assert!(seg.exists(), "the segment itself stays in use");

    // Opening again: the same damage, the same side file, the same records.
    drop(spool);
    let again = Arc::new(Spool::open(options(dir.path()), Arc::default()).unwrap());
    assert_eq!(read_all(&again), all_but(4));
    assert_eq!(damage::list(dir.path()).unwrap(), kept);
    // And it keeps working: new records come after the old ones; acknowledging
    // everything read drains it (the damaged bytes are passed, not waited for).
    let mut more = Vec::new();
    record::encode_payload(b"{\"i\":10}", &mut more);
    again.append(&more, 1).unwrap();
    let mut reader = again.reader();
    let batch = reader.read_batch(100, 1 << 20).unwrap();
    assert_eq!(batch.payloads.len(), 10);
    again.ack(batch.end, batch.payloads.len() as u64);
    assert_eq!(again.pending_events(), 0);
    assert!(again.is_drained());
}

#[test]
fn a_flipped_bit_in_a_payload_costs_that_record_only() {
    damaged_then_reopened(|offsets| offsets[4] + record::HEADER + 3);
}

#[test]
fn a_flipped_bit_in_a_length_field_costs_that_record_only() {
    // The record now claims 32 more bytes: the next valid record is found by its
    // checksum, not by the damaged length.
    damaged_then_reopened(|offsets| offsets[4]);
}

#[test]
fn damage_in_the_newest_segment_is_not_mistaken_for_a_torn_tail() {
    // The segment above is the newest one: damage followed by valid records must not be
    // cut as a crash's torn tail. Here the last record is damaged and the segment has
    // no recorded length (as when a crash interrupted it, see `lengths.rs`): nothing
    // follows it, but a whole record whose checksum fails is no record cut short, which
    // is all a torn write leaves (`record::could_be_cut_short`): damage, kept aside,
    // never cut (it used to be cut as a torn tail).
    let dir = tempfile::tempdir().unwrap();
    let (seg, offsets) = ten_records(dir.path());
    std::fs::remove_file(dir.path().join("lengths")).unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[offsets[9] + record::HEADER + 2] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let metrics = Arc::new(Metrics::default());
    let spool = Arc::new(Spool::open(options(dir.path()), metrics.clone()).unwrap());
    assert_eq!(read_all(&spool).len(), 9);
    assert_eq!(metrics.snapshot().torn_tails_cut, 0);
    assert_eq!(metrics.snapshot().damaged_ranges, 1);
    assert_eq!(std::fs::metadata(&seg).unwrap().len() as usize, bytes.len());
    assert_eq!(damage::list(dir.path()).unwrap().len(), 1);
}

#[test]
fn a_damaged_last_record_of_a_finished_segment_is_kept_aside_not_cut() {
    // The spool closed the segment and recorded its length: no crash can have torn
    // its end, so a bad last record is damage, kept aside like any other.
    let dir = tempfile::tempdir().unwrap();
    let (seg, offsets) = ten_records(dir.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[offsets[9] + record::HEADER + 2] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let metrics = Arc::new(Metrics::default());
    let spool = Arc::new(Spool::open(options(dir.path()), metrics.clone()).unwrap());
    assert_eq!(read_all(&spool).len(), 9);
    let m = metrics.snapshot();
    assert_eq!(
        (m.torn_tails_cut, m.damaged_ranges, m.lost_segments),
        (0, 1, 0)
    );
    assert_eq!(std::fs::metadata(&seg).unwrap().len() as usize, bytes.len());
    assert_eq!(damage::list(dir.path()).unwrap().len(), 1);
}
