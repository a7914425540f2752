//! A crash (the process killed, the machine losing power) during an append leaves a
//! torn tail: the bytes of a write that never returned, which nothing acknowledged.
//! The next start cuts it as before: it is not reported as a segment cut by hand
//! (`lost_segments` stays 0, `lost.jsonl` is not written), and the intact records are
//! delivered. The segment being appended to when the crash came has no recorded
//! length; the segments finished before it have theirs and stay as they were.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_target_eventserver::metrics::Metrics;
use auditrail_target_eventserver::spool::{inspect, record, Spool, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

fn open(dir: &Path, segment_bytes: u64, fsync: SpoolFsync) -> (Arc<Spool>, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.to_owned(),
            max_bytes: 1 << 20,
            segment_bytes,
            fsync,
        },
        metrics.clone(),
    )
    .unwrap();
    (Arc::new(spool), metrics)
}

/// Records `{"i":from}` .. and the offset where each starts.
fn records(from: usize, n: usize) -> (Vec<u8>, Vec<u64>) {
    let mut buf = Vec::new();
    let mut starts = Vec::new();
    for i in from..from + n {
        starts.push(buf.len() as u64);
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    (buf, starts)
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

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

/// The spool folder as a crash leaves it: copied while the spool is open (the lock
/// file aside), so nothing the spool does when it closes is in the copy.
fn crashed_copy(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap();
        if name != "auditrail.lock" {
            std::fs::copy(&p, to.join(name)).unwrap();
        }
    }
}

#[test]
fn a_torn_tail_after_a_crash_is_cut_and_not_reported_as_lost() {
    for fsync in [SpoolFsync::Always, SpoolFsync::Never] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let copy = tmp.path().join("crashed");
        let (spool, _) = open(&dir, 1, fsync);
        // One finished segment, and a head the crash interrupts.
        spool.append(&records(0, 2).0, 2).unwrap();
        spool.append(&records(2, 3).0, 3).unwrap();
        crashed_copy(&dir, &copy);
        drop(spool);
        let segs = segment_files(&copy);
        assert_eq!(segs.len(), 2, "{segs:?}");
        // The append under way when the crash came: half a record.
        let (torn, _) = records(5, 1);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&segs[1])
            .unwrap();
        std::io::Write::write_all(&mut f, &torn[..torn.len() / 2]).unwrap();
        drop(f);

        assert!(!inspect::inspect(&copy).unwrap().has_losses(), "{fsync:?}");
        let (spool, metrics) = open(&copy, 1, fsync);
        let m = metrics.snapshot();
        assert_eq!(
            (
                m.lost_segments,
                m.lost_records,
                m.lost_bytes,
                m.torn_tails_cut
            ),
            (0, 0, 0, 1),
            "{fsync:?}: {m:?}"
        );
        let expected: Vec<String> = (0..5).map(|i| format!("{{\"i\":{i}}}")).collect();
        assert_eq!(deliver(&spool), expected, "{fsync:?}");
        assert!(!inspect::inspect(&copy).unwrap().has_losses(), "{fsync:?}");
    }
}
