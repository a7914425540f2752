//! A spool segment is cut in place (`: > file`, `truncate -s`) while the node runs.
//! The head segment is checked before each append: what it held after the cut is
//! reported lost (`lost_segments`, `lost_records`, `lost_bytes`, `lost.jsonl`) and
//! nothing is appended after the cut (a new segment is started). A finished segment
//! cut while waiting to be sent is found by the reader: the records before the cut
//! and those after it in later segments are delivered.

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

fn id_of(path: &Path) -> u64 {
    path.file_stem().unwrap().to_str().unwrap().parse().unwrap()
}

fn cut(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn a_head_segment_emptied_while_running_is_reported_and_not_appended_after() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, metrics) = open(&dir, 1 << 20, SpoolFsync::Always);
    let (buf, _) = records(0, 5);
    spool.append(&buf, 5).unwrap();
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 1, "{segs:?}");
    let head = id_of(&segs[0]);
    cut(&segs[0], 0);

    spool.append(&records(5, 1).0, 1).unwrap();
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 5, buf.len() as u64),
        "{m:?}"
    );
    assert!(
        spool.end().segment > head,
        "a new segment: {:?}",
        spool.end()
    );
    assert_eq!(
        std::fs::metadata(&segs[0]).unwrap().len(),
        0,
        "nothing appended after the cut"
    );
    assert_eq!(deliver(&spool), vec![r#"{"i":5}"#.to_owned()]);
    let report = inspect::inspect(&dir).unwrap();
    assert_eq!(report.lost.len(), 1, "{report:?}");
    assert_eq!(
        (
            report.lost[0].first,
            report.lost[0].cut_to,
            report.lost[0].records
        ),
        (head, Some(0), Some(5))
    );
}

#[test]
fn a_finished_segment_cut_while_running_is_found_by_the_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    // Every append after the first starts a new segment.
    let (spool, metrics) = open(&dir, 1, SpoolFsync::Always);
    let (buf, starts) = records(0, 4);
    spool.append(&buf, 4).unwrap();
    spool.append(&records(4, 2).0, 2).unwrap();
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 2, "{segs:?}");
    cut(&segs[0], starts[2]);

    let expected: Vec<String> = [0, 1, 4, 5]
        .iter()
        .map(|i| format!("{{\"i\":{i}}}"))
        .collect();
    assert_eq!(deliver(&spool), expected);
    let m = metrics.snapshot();
    assert_eq!(
        (m.lost_segments, m.lost_records, m.lost_bytes),
        (1, 2, buf.len() as u64 - starts[2]),
        "{m:?}"
    );
    drop(spool);
    // Reported once: the next start finds the segment as long as its record says.
    let (_spool, metrics) = open(&dir, 1, SpoolFsync::Always);
    assert_eq!(metrics.snapshot().lost_segments, 0);
}
