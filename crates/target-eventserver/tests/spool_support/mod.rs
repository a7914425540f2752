//! Set-up shared by the spool tests that drive a [`Spool`] directly: open one on a
//! folder, encode records, read and acknowledge everything as the sender does, and
//! list the segment files.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_target_eventserver::metrics::Metrics;
use auditrail_target_eventserver::spool::{record, Spool, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

/// Opens the spool in `dir` (1 MiB bound, `spool_fsync = "always"`).
pub(crate) fn open(dir: &Path, segment_bytes: u64) -> (Arc<Spool>, Arc<Metrics>) {
    open_with(dir, segment_bytes, SpoolFsync::Always)
}

/// Opens the spool in `dir` (1 MiB bound) with the fsync policy `fsync`.
pub(crate) fn open_with(
    dir: &Path,
    segment_bytes: u64,
    fsync: SpoolFsync,
) -> (Arc<Spool>, Arc<Metrics>) {
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

/// Records `{"i":from}` .. `{"i":from + n - 1}`, encoded.
pub(crate) fn records(from: usize, n: usize) -> Vec<u8> {
    records_at(from, n).0
}

/// [`records`], and the offset where each one starts.
pub(crate) fn records_at(from: usize, n: usize) -> (Vec<u8>, Vec<u64>) {
    let mut buf = Vec::new();
    let mut starts = Vec::new();
    for i in from..from + n {
        starts.push(buf.len() as u64);
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    (buf, starts)
}

/// Reads everything there is to read and acknowledges it, as the sender does.
pub(crate) fn deliver(spool: &Arc<Spool>) -> Vec<String> {
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

/// The segment files in `dir`, in id order.
pub(crate) fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

/// The id of the segment file at `path`.
pub(crate) fn id_of(path: &Path) -> u64 {
    path.file_stem().unwrap().to_str().unwrap().parse().unwrap()
}
