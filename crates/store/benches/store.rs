//! Store throughput: batches of 1000 events of ~300 bytes written by the `store`
//! destination, durable (fsync per batch) vs a flush policy, hash chain with the Merkle
//! tree, chain alone, and neither.
//! The chain-off runs are the baseline for issue 7's "cost of chaining".
//!
//! `cargo bench -p auditrail-store --bench store`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::{StoreConfig, StoreTarget};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const BATCH: usize = 1000;

fn batch() -> Vec<Arc<Event>> {
    (0..BATCH as u64)
        .map(|n| {
            let v = serde_json::json!({
                "id": uuid::Uuid::now_v7().hyphenated().to_string(),
                "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "apinode-query",
                "routingKey": "svc-a",
                "node": "bench-node",
                "seq": n + 1,
                "message": {"msgType": "prediction-query", "authUser": "alice",
                            "clientIP": "10.0.0.7", "callPath": "/api/v1/predict",
                            "pad": "x".repeat(20)}
            });
            Arc::new(Event::from_json(&v.to_string()).unwrap())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let events = batch();
    let event_bytes = events[0].to_json().len();
    eprintln!("event JSON: {event_bytes} bytes; batch: {BATCH} events");
    let mut group = c.benchmark_group("store_batch_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    for (mode, flush) in [
        ("durable", serde_json::json!("durable")),
        (
            "flush_policy",
            serde_json::json!({"every_bytes": 8 * 1024 * 1024, "every_seconds": 1}),
        ),
    ] {
        for (chain, merkle) in [(true, true), (true, false), (false, false)] {
            let dir =
                tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
                    .unwrap();
            let config: StoreConfig = serde_json::from_value(
                serde_json::json!({"path": "store", "flush": flush, "chain": chain, "merkle": merkle}),
            )
            .unwrap();
            let target = StoreTarget::open(&dir.path().join("store"), &config, "bench").unwrap();
            let id = BenchmarkId::new(
                mode,
                match (chain, merkle) {
                    (true, true) => "chain_merkle",
                    (true, false) => "chain_on",
                    _ => "chain_off",
                },
            );
            group.bench_function(id, |b| {
                b.iter(|| target.send_blocking(&events).unwrap());
            });
        }
    }
    group.finish();
}

/// The CPU cost of chaining alone: sealing the record bodies of one batch (SHA-256
/// over each body, hex, framing), without any file I/O.
fn seal_only(c: &mut Criterion) {
    use auditrail_store::chain::Chain;
    let bodies: Vec<Vec<u8>> = batch()
        .iter()
        .map(|e| {
            let mut b = b"{\"clientEvent\":".to_vec();
            e.write_json(&mut b);
            b.extend_from_slice(br#","origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.123Z","keyId":"k1""#);
            b
        })
        .collect();
    let mut group = c.benchmark_group("chain_seal_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut out = Vec::with_capacity(BATCH * 600);
    let mut chain = Chain::genesis();
    group.bench_function("seal", |b| {
        b.iter(|| {
            out.clear();
            for body in &bodies {
                chain.seal(body, &mut out);
            }
        });
    });
    // What the Merkle tree adds per record: its leaf hash and the frontier's merges.
    let mut tree = auditrail_store::merkle::CompactRange::new(chain.last().seq);
    group.bench_function("seal_and_merkle_leaf", |b| {
        b.iter(|| {
            out.clear();
            for body in &bodies {
                let link = chain.seal(body, &mut out);
                tree.push_leaf(auditrail_store::merkle::leaf_hash(&link));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench, seal_only);
criterion_main!(benches);
