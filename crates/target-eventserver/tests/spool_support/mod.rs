//! Set-up shared by the spool tests that drive a [`Spool`] directly: open one on a
//! folder, encode records, read and acknowledge everything as the sender does, and
//! list the segment files.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_target_eventserver::metrics::Metrics;
use auditrail_target_eventserver::spool::{damage, record, Spool, SpoolOptions, SpoolReader};
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
    deliver_with(spool, &mut spool.reader())
}

/// [`deliver`] with `reader`, kept from one delivery to the next as the sender keeps
/// its reader.
pub(crate) fn deliver_with(spool: &Arc<Spool>, reader: &mut SpoolReader) -> Vec<String> {
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

/// Opens the spool in `dir` with `spool_fsync = "always"`, a 1 GiB bound and the
/// default segment size (16 MiB): its size bound never frees anything before a small
/// file system is full.
pub(crate) fn open_default_segments(dir: &Path) -> Arc<Spool> {
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.to_owned(),
            max_bytes: 1 << 30,
            segment_bytes: 16 << 20,
            fsync: SpoolFsync::Always,
        },
        Arc::new(Metrics::default()),
    )
    .unwrap();
    Arc::new(spool)
}

/// Records `{"i":from,"pad":"ppp..."}` .. of about 1 KiB each, encoded.
pub(crate) fn padded_records(from: usize, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let pad = "p".repeat(1000);
    for i in from..from + n {
        record::encode_payload(
            format!("{{\"i\":{i},\"pad\":\"{pad}\"}}").as_bytes(),
            &mut buf,
        );
    }
    buf
}

/// The `i` of a payload of [`padded_records`] (or [`records`]).
pub(crate) fn i_of(payload: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(payload).unwrap();
    v["i"].as_u64().unwrap() as usize
}

/// A tmpfs of `size` (`mount -o size=`) mounted on a temporary folder: a real file
/// system that fills up (`ENOSPC`). Unmounted (then removed) when dropped. `None`
/// where it cannot be mounted (needs root).
pub(crate) struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    pub(crate) fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// Appends `bytes` to the file at `path` by hand (another program, `echo >> file`).
pub(crate) fn append_by_hand(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
}

/// Opens the spool in `dir` (as [`open`]) and checks that the `len` bytes at `offset`
/// of its segment file `seg` were taken for damage and kept: the file as it was, the
/// bytes copied aside byte for byte, an ERROR naming the segment and the range, and
/// counted as damage, not cut as a torn write.
pub(crate) fn open_and_check_kept_aside(
    dir: &Path,
    seg: &Path,
    offset: u64,
    len: u64,
) -> Arc<Spool> {
    let before = std::fs::read(seg).unwrap();
    let ((spool, metrics), log) = auditrail_core::testing::logged(|| open(dir, 1 << 20));
    let m = metrics.snapshot();
    assert_eq!(
        (m.torn_tails_cut, m.damaged_ranges, m.damaged_bytes),
        (0, 1, len),
        "{m:?}"
    );
    assert_eq!(
        std::fs::read(seg).unwrap(),
        before,
        "the segment is as it was"
    );
    let aside = damage::list(dir).unwrap();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!((aside[0].offset, aside[0].bytes), (offset, len));
    let range = offset as usize..(offset + len) as usize;
    assert_eq!(std::fs::read(&aside[0].path).unwrap(), before[range]);
    let line = log
        .lines()
        .find(|l| l.contains("ERROR") && l.contains(&seg.display().to_string()))
        .unwrap_or_else(|| panic!("no ERROR naming {}: {log}", seg.display()));
    assert!(line.contains(&format!("offset={offset}")), "{line}");
    assert!(line.contains(&format!("bytes={len}")), "{line}");
    spool
}
