//! The head segment removed, moved aside or cut, or the whole spool folder removed,
//! *while* an append writes to it: after the check before the write and before the
//! append returns `Ok` (another program racing the spool: an operator's `rm` or `mv`,
//! a cleanup job, a rotation's `copytruncate`). The append's records count only once
//! they are in the spool's file at its path: they are delivered (read back by the
//! spool's reader) and counted once, what the segment held before is reported as the
//! pre-append check reports it, and a segment that keeps going fails the append with
//! nothing of it kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::synced::tests::{hook_in, no_hook_in};
use super::{gone, record, Spool, SpoolError, SpoolFsync, SpoolOptions};
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

/// Records `{"i":from}` .. `{"i":from + n - 1}`, encoded.
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

/// Runs `act` on the head segment written to by the next `times` appends in `dir`,
/// between their write and the check after it; returns how many times it ran.
fn race_next(dir: &Path, times: usize, act: impl Fn(&Path) + Send + 'static) -> Arc<AtomicUsize> {
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    hook_in(
        dir,
        Box::new(move |segment: &Path| {
            if count.load(Ordering::SeqCst) < times {
                count.fetch_add(1, Ordering::SeqCst);
                act(segment);
            }
        }),
    );
    ran
}

/// The case: records 0-2 appended, `act` run on the head segment while records 3-4 are
/// appended, which must succeed. Returns the spool (records not yet delivered).
fn case(
    dir: &Path,
    fsync: SpoolFsync,
    act: impl Fn(&Path) + Send + 'static,
) -> (Arc<Spool>, Arc<Metrics>) {
    let (spool, metrics) = open(dir, fsync);
    spool.append(&records(0, 3), 3).unwrap();
    let ran = race_next(dir, 1, act);
    let appended = spool.append(&records(3, 2), 2);
    no_hook_in(dir);
    appended.unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(metrics.snapshot().spooled_events, 5, "counted once");
    (spool, metrics)
}

/// Records 0-2 went with the segment (the other program's doing): reported lost once;
/// records 3-4 are delivered, once.
fn only_the_append_is_delivered(dir: &Path, spool: &Arc<Spool>, metrics: &Metrics) {
    assert_eq!(spool.pending_events(), 2);
    assert_eq!(deliver(spool), expected(3..5));
    assert!(spool.is_drained());
    let m = metrics.snapshot();
    assert_eq!((m.lost_segments, m.lost_records), (1, 3));
    let lost = gone::list(dir).unwrap().lost;
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0].records, Some(3), "{lost:?}");
}

fn spool_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("spool")
}

#[test]
fn a_head_removed_while_records_are_written_gets_them_in_a_new_segment() {
    for fsync in [SpoolFsync::Always, SpoolFsync::Never] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = spool_dir(&tmp);
        let (spool, metrics) = case(&dir, fsync, |seg| std::fs::remove_file(seg).unwrap());
        only_the_append_is_delivered(&dir, &spool, &metrics);
        // And the next start finds nothing else missing.
        drop(spool);
        let (spool, metrics) = open(&dir, fsync);
        assert_eq!(metrics.snapshot().lost_segments, 0);
        assert!(spool.is_drained());
    }
}

#[test]
fn a_head_moved_aside_while_records_are_written_keeps_only_what_it_had() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spool_dir(&tmp);
    let moved = tmp.path().join("moved.seg");
    let to = moved.clone();
    let (spool, metrics) = case(&dir, SpoolFsync::Always, move |seg| {
        std::fs::rename(seg, &to).unwrap()
    });
    only_the_append_is_delivered(&dir, &spool, &metrics);
    // Cut back to what it held before: the append's records are not in two places.
    assert_eq!(std::fs::read(&moved).unwrap(), records(0, 3));
}

#[test]
fn a_head_cut_while_records_are_written_gets_them_in_a_new_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spool_dir(&tmp);
    let (spool, metrics) = case(&dir, SpoolFsync::Always, |seg| {
        let f = std::fs::OpenOptions::new().write(true).open(seg).unwrap();
        f.set_len(0).unwrap();
    });
    only_the_append_is_delivered(&dir, &spool, &metrics);
}

#[test]
fn a_head_cut_into_the_records_just_written_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spool_dir(&tmp);
    let before = records(0, 3).len() as u64;
    // Half of record 3 stays: it must not stay before the records written again.
    let (spool, metrics) = case(&dir, SpoolFsync::Always, move |seg| {
        let f = std::fs::OpenOptions::new().write(true).open(seg).unwrap();
        f.set_len(before + 5).unwrap();
    });
    assert_eq!(spool.pending_events(), 5);
    assert_eq!(deliver(&spool), expected(0..5));
    let m = metrics.snapshot();
    assert_eq!((m.lost_segments, m.damaged_bytes), (0, 0));
}

/// A cut between the check before the write and the write: the records land where the
/// cut left the file's end (`O_APPEND`), after what the cut kept of the segment.
#[test]
fn a_head_cut_just_before_the_write_is_reported_and_the_records_delivered_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spool_dir(&tmp);
    let before = records(0, 3).len() as u64;
    let (spool, metrics) = case(&dir, SpoolFsync::Always, move |seg| {
        // What the file holds after such a cut (to 0) and the write.
        let f = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(seg)
            .unwrap();
        let mut written = vec![0u8; (f.metadata().unwrap().len() - before) as usize];
        f.read_exact_at(&mut written, before).unwrap();
        f.set_len(0).unwrap();
        std::io::Write::write_all(&mut &f, &written).unwrap();
    });
    only_the_append_is_delivered(&dir, &spool, &metrics);
}

#[test]
fn the_spool_folder_removed_while_records_are_written_gets_them_in_the_new_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spool_dir(&tmp);
    let (spool, metrics) = case(&dir, SpoolFsync::Always, |seg| {
        std::fs::remove_dir_all(seg.parent().unwrap()).unwrap()
    });
    only_the_append_is_delivered(&dir, &spool, &metrics);
}

#[test]
fn an_append_whose_segments_keep_going_fails_and_keeps_nothing_and_a_later_one_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spool_dir(&tmp);
    let (spool, metrics) = open(&dir, SpoolFsync::Always);
    spool.append(&records(0, 3), 3).unwrap();
    let ran = race_next(&dir, usize::MAX, |seg| std::fs::remove_file(seg).unwrap());
    let e = spool.append(&records(3, 2), 2).unwrap_err();
    no_hook_in(&dir);
    assert_eq!(ran.load(Ordering::SeqCst), 1 + super::MAX_REWRITES as usize);
    assert!(
        matches!(&e, SpoolError::WrittenSegmentGone { path, .. } if path.parent() == Some(dir.as_path())),
        "{e:?}"
    );
    let message = e.to_string();
    assert!(message.contains("its path is gone"), "{message}");
    assert!(message.contains("the records are not kept"), "{message}");
    // Nothing of it counted; records 0-2 went with the first segment removed.
    assert_eq!((spool.pending_events(), spool.bytes()), (0, 0));
    let m = metrics.snapshot();
    assert_eq!((m.spooled_events, m.lost_records), (3, 3));

    spool.append(&records(3, 2), 2).unwrap();
    assert_eq!(metrics.snapshot().spooled_events, 5);
    // The next start reports no loss for the segments the failed append wrote to
    // (they held nothing that counted), and delivers the later append.
    drop(spool);
    let (spool, metrics) = open(&dir, SpoolFsync::Always);
    assert_eq!(metrics.snapshot().lost_segments, 0);
    assert_eq!(gone::list(&dir).unwrap().lost.len(), 1);
    assert_eq!(spool.pending_events(), 2);
    assert_eq!(deliver(&spool), expected(3..5));
}
