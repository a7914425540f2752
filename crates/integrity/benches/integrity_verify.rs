//! Verification speed over a store of at least 1 GB (reported, not asserted).
//!
//! Generates a store in a temp dir (6 interleaved partitions, ~330-byte records sealed
//! with the real chain, 64 MiB segments, a signed checkpoint every 10 000 records),
//! then measures, in the same run:
//! - baseline: reading every record file and counting lines (what any verifier must do);
//! - `auditrail verify` (the library call behind it): parse, re-hash, check everything.
//!
//! Each is run 3 times; the median is reported. The store is deleted at the end.
//! Size: `AUDITRAIL_BENCH_STORE_MB` (default 1100).
//!
//! ```text
//! cargo bench -p auditrail-integrity --bench integrity_verify
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_integrity::verify::{self, NoProgress, VerifyOptions};
use auditrail_integrity::{CheckpointPolicy, Checkpointer, Signer};
use auditrail_store::chain::Chain;

const PARTITIONS: usize = 6;
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

struct Partition {
    dir: PathBuf,
    /// The topic and routing key of the records in `dir` (verify checks that each
    /// record is in the folder its values put it in).
    topic: &'static str,
    key: &'static str,
    file: Option<BufWriter<File>>,
    written: u64,
}

fn generate(store: &Path, target_bytes: u64, signer: Arc<Signer>) -> (u64, u64) {
    let mut chain = Chain::genesis();
    let policy = CheckpointPolicy {
        every_records: 10_000,
        every_seconds: 0,
        seal_every_batch: false,
        ..CheckpointPolicy::default()
    };
    let mut cp = Checkpointer::open(store, signer, policy, chain.last()).unwrap();
    let topics = ["generic", "authfail", "apicalls"];
    let mut parts: Vec<Partition> = (0..PARTITIONS)
        .map(|i| Partition {
            dir: store
                .join(topics[i % 3])
                .join(if i < 3 { "svc-a" } else { "svc-b" })
                .join("2026/11/25/17"),
            topic: topics[i % 3],
            key: if i < 3 { "svc-a" } else { "svc-b" },
            file: None,
            written: 0,
        })
        .collect();
    let mut total = 0u64;
    let mut n = 0u64;
    let mut line = Vec::with_capacity(512);
    while total < target_bytes {
        n += 1;
        let p = &mut parts[(n as usize * 7 + n as usize / 3) % PARTITIONS];
        if p.file.is_none() || p.written >= SEGMENT_BYTES {
            if let Some(mut f) = p.file.take() {
                f.flush().unwrap();
            }
            std::fs::create_dir_all(&p.dir).unwrap();
            let name = format!("{:020}.jsonl", chain.last().seq + 1);
            p.file = Some(BufWriter::with_capacity(
                1 << 20,
                File::create(p.dir.join(name)).unwrap(),
            ));
            p.written = 0;
        }
        let body = format!(
            r#"{{"clientEvent":{{"id":"01936f6e-1b2c-7d3e-8f40-{n:012x}","timestamp":"2026-11-25T17:{:02}:{:02}.123Z","topic":"{}","routingKey":"{}","node":"node-{}","seq":{n},"message":{{"msgType":"login","authUser":"user-{}","callPath":"/api/projects/P{}/datasets","pad":"{}"}}}},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T17:00:00.000Z","keyId":"k1""#,
            (n / 60) % 60,
            n % 60,
            p.topic,
            p.key,
            n % 16,
            n % 1000,
            n % 50,
            "x".repeat(40)
        );
        line.clear();
        chain.seal(body.as_bytes(), &mut line);
        p.file.as_mut().unwrap().write_all(&line).unwrap();
        p.written += line.len() as u64;
        total += line.len() as u64;
        if n.is_multiple_of(1000) {
            cp.after_batch(chain.last()).unwrap();
        }
    }
    for p in &mut parts {
        if let Some(mut f) = p.file.take() {
            f.flush().unwrap();
        }
    }
    cp.close(chain.last()).unwrap();
    (n, total)
}

/// Plain reading of every segment (the store's walker lists them), counting lines: the
/// disk-speed baseline verification is compared against.
fn baseline_read(store: &Path) -> u64 {
    let all: Vec<PathBuf> = auditrail_store::StoreFiles::walk(store)
        .unwrap()
        .segments()
        .map(|f| f.path.clone())
        .collect();
    let mut buf = vec![0u8; 256 * 1024];
    let mut lines = 0u64;
    for f in all {
        let mut f = File::open(f).unwrap();
        loop {
            let k = f.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            lines += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64;
        }
    }
    lines
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mb: u64 = std::env::var("AUDITRAIL_BENCH_STORE_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1100);
    let dir = tempfile::tempdir_in(
        std::env::var("AUDITRAIL_BENCH_DIR")
            .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .unwrap();
    let data = dir.path().join("data");
    let signer = Arc::new(Signer::load_or_create(&data).unwrap());
    let store = data.join("store");
    let t = Instant::now();
    let (records, bytes) = generate(&store, mb * 1024 * 1024, signer.clone());
    println!(
        "generated {records} records, {:.1} MiB in {:.1}s",
        bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );
    let mbs = |d: Duration| bytes as f64 / 1048576.0 / d.as_secs_f64();
    let eps = |d: Duration| records as f64 / d.as_secs_f64();

    let mut base = Vec::new();
    let mut ver = Vec::new();
    let options = VerifyOptions {
        public_key: Some(*signer.public_key()),
        ..VerifyOptions::default()
    };
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(baseline_read(&store), records);
        base.push(t.elapsed());
        let t = Instant::now();
        let report = verify::verify(&data, &options, &NoProgress).unwrap();
        ver.push(t.elapsed());
        assert!(report.ok, "{report}");
        assert_eq!(report.stores[0].records, records);
    }
    let (b, v) = (median(base), median(ver));
    println!(
        "baseline read+count lines: {:.2}s  {:.0} MiB/s  {:.0} records/s",
        b.as_secs_f64(),
        mbs(b),
        eps(b)
    );
    println!(
        "verify (chain, checkpoints): {:.2}s  {:.0} MiB/s  {:.0} records/s",
        v.as_secs_f64(),
        mbs(v),
        eps(v)
    );
    println!(
        "verify / baseline time ratio: {:.2}",
        v.as_secs_f64() / b.as_secs_f64()
    );
    drop(dir);
}
