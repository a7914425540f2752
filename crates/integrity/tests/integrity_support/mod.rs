//! Helpers shared by the `integrity_*` tests: a real store of thousands of events
//! written by the `store` destination with signed checkpoints, file surgery to tamper
//! with it, and running the verifier.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_integrity::verify::{
    self, NoProgress, Problem, ProblemKind, Report, Severity, VerifyOptions,
};
use auditrail_integrity::{CheckpointPolicy, Checkpointer, PublicKey, Receipt, Signer};
use auditrail_store::{SegmentReader, StoreConfig, StoreHandle, StoreTarget};

/// A closed store with its data dir, key and the receipts of every batch.
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub store: PathBuf,
    pub public_key: PublicKey,
    pub signer: Arc<Signer>,
    /// One signed receipt per batch, in order.
    pub receipts: Vec<Receipt>,
}

/// Events spread over 3 topics, 3 routing-key folders and 3 hours, so that the
/// store-wide chain interleaves many partition files (as on a real server).
pub(crate) fn event(n: u64) -> Arc<Event> {
    let topic = ["generic", "authfail", "apicalls"][(n % 3) as usize];
    let hour = 10 + (n / 1000) % 3;
    let mut v = serde_json::json!({
        "id": uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + u128::from(n)).hyphenated().to_string(),
        "timestamp": format!("2026-11-25T{hour:02}:00:{:02}.000Z", n % 60),
        "topic": topic,
        "node": "node-1",
        "seq": n,
        "message": {"msgType": "login", "authUser": format!("user-{n}"), "pad": "x".repeat(120)}
    });
    if !n.is_multiple_of(5) {
        v["routingKey"] = ["svc-a", "svc-b"][(n % 2) as usize].into();
    }
    Arc::new(Event::from_json(&v.to_string()).unwrap())
}

/// Writes `count` events in batches of 100 through the real `store` destination (small
/// segments, so hundreds of files), checkpointing every 500 records and at close.
pub(crate) fn build(count: u64) -> Fixture {
    build_with(count, event)
}

/// Like [`build`], every event in one partition folder (one file at a time).
pub(crate) fn build_single_partition(count: u64) -> Fixture {
    build_with(count, |n| {
        let mut e = (*event(n)).clone();
        e.topic = event(1).topic.clone();
        e.routing_key = event(1).routing_key.clone();
        e.timestamp = event(1).timestamp;
        Arc::new(e)
    })
}

pub(crate) fn build_with(count: u64, event: impl Fn(u64) -> Arc<Event>) -> Fixture {
    build_configured(serde_json::json!({}), count, event)
}

/// Like [`build_with`], with more keys of the store's config (`{"partitioning": "day"}`).
pub(crate) fn build_configured(
    extra: serde_json::Value,
    count: u64,
    event: impl Fn(u64) -> Arc<Event>,
) -> Fixture {
    build_sealed_at(extra, count, event, CheckpointPolicy::default().piece_bytes)
}

/// Like [`build`], the checkpoint log sealed in pieces of `piece_bytes`.
pub(crate) fn build_in_pieces(count: u64, piece_bytes: u64) -> Fixture {
    build_sealed_at(serde_json::json!({}), count, event, piece_bytes)
}

fn build_sealed_at(
    extra: serde_json::Value,
    count: u64,
    event: impl Fn(u64) -> Arc<Event>,
    piece_bytes: u64,
) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let store = data_dir.join("store");
    let signer = Arc::new(Signer::load_or_create(&data_dir).unwrap());
    let mut json = serde_json::json!({"path": "store", "segment_max_bytes": 4096});
    for (k, v) in extra.as_object().unwrap() {
        json[k] = v.clone();
    }
    let config: StoreConfig = serde_json::from_value(json).unwrap();
    let target = StoreTarget::open(&store, &config, "store").unwrap();
    let handle = target.handle();
    let policy = CheckpointPolicy {
        every_records: 500,
        every_seconds: 0,
        seal_every_batch: false,
        piece_bytes,
        ..CheckpointPolicy::default()
    };
    let mut cp = Checkpointer::open(&store, signer.clone(), policy, handle.head()).unwrap();
    let mut receipts = Vec::new();
    let mut n = 1;
    while n <= count {
        let batch: Vec<Arc<Event>> = (n..(n + 100).min(count + 1)).map(&event).collect();
        n += batch.len() as u64;
        target.send_blocking(&batch).unwrap();
        let keys: Vec<_> = batch.iter().map(|e| StoreHandle::receipt_key(e)).collect();
        let r = handle.chain_range(&keys).unwrap();
        receipts.push(Receipt::new(cp.store_id(), r.first_seq, r.last).signed(&signer));
        cp.after_batch(handle.head()).unwrap();
    }
    let head = handle.head();
    drop(target);
    cp.close(head).unwrap();
    Fixture {
        public_key: *signer.public_key(),
        dir,
        data_dir,
        store,
        signer,
        receipts,
    }
}

impl Fixture {
    /// Verifies the data dir against the real public key.
    pub(crate) fn verify(&self) -> Report {
        self.verify_with(VerifyOptions {
            public_key: Some(self.public_key),
            ..VerifyOptions::default()
        })
    }

    pub(crate) fn verify_with(&self, options: VerifyOptions) -> Report {
        verify::verify(&self.data_dir, &options, &NoProgress).unwrap()
    }

    /// Where the record `seq` is: (path, 0-based line index).
    pub(crate) fn locate(&self, seq: u64) -> (PathBuf, usize) {
        for f in record_files(&self.store) {
            let mut found = None;
            SegmentReader::open(&f)
                .unwrap()
                .for_each_line(|l| {
                    if l.sealed().map(|s| s.link.seq) == Ok(seq) {
                        found.get_or_insert((l.number - 1) as usize);
                    }
                })
                .unwrap();
            if let Some(i) = found {
                return (f, i);
            }
        }
        panic!("chainSeq {seq} not found");
    }

    /// The path relative to the store, as reports name files.
    pub(crate) fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.store)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    }
}

pub(crate) use auditrail_testkit::store::record_files;

/// Drops the checkpoint lines vouching for more than `seq`: the log as it was while
/// the server had stored records beyond its last checkpoint (a running server).
pub(crate) fn keep_checkpoints_up_to(store: &Path, seq: u64) {
    edit_lines(&store.join("checkpoints.jsonl"), |lines| {
        lines.retain(|l| {
            auditrail_integrity::Checkpoint::parse_line(l)
                .unwrap()
                .link
                .seq
                <= seq
        });
    });
}

/// Removes the record lines of `seqs` from whichever files hold them.
pub(crate) fn remove_records(fx: &Fixture, seqs: std::ops::RangeInclusive<u64>) {
    for seq in seqs {
        let (path, idx) = fx.locate(seq);
        edit_lines(&path, |lines| {
            lines.remove(idx);
        });
    }
}

/// Verifies with `--live` (or not) against the real public key.
pub(crate) fn verify_live(fx: &Fixture, live: bool) -> Report {
    fx.verify_with(VerifyOptions {
        public_key: Some(fx.public_key),
        live,
        ..VerifyOptions::default()
    })
}

/// Rewrites a file's lines (without their newlines; the file keeps ending in one).
pub(crate) fn edit_lines(path: &Path, f: impl FnOnce(&mut Vec<Vec<u8>>)) {
    let text = std::fs::read(path).unwrap();
    let mut lines: Vec<Vec<u8>> = text
        .strip_suffix(b"\n")
        .unwrap_or(&text)
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    f(&mut lines);
    let mut out = lines.join(&b'\n');
    if !out.is_empty() {
        out.push(b'\n');
    }
    std::fs::write(path, out).unwrap();
}

/// The error-severity problems as (kind, file, line).
pub(crate) fn errors(report: &Report) -> Vec<(ProblemKind, Option<String>, Option<u64>)> {
    report
        .problems()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| (p.kind, p.file.clone(), p.line))
        .collect()
}

/// The error problems, for assertion messages.
pub(crate) fn show(report: &Report) -> String {
    report.to_string()
}

/// The only error problem of a report (fails the test if there are more or none).
pub(crate) fn only_error(report: &Report) -> Problem {
    let errs: Vec<&Problem> = report
        .problems()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert_eq!(errs.len(), 1, "expected one problem:\n{report}");
    errs[0].clone()
}
