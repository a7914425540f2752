//! The store's write path counted by valgrind's `callgrind` (issue 17): instructions
//! per stored event of the server's default store (durable: fsync per batch; hash chain
//! and Merkle tree), batches of 1000 events of ~300 bytes through
//! `StoreTarget::send_blocking`, every thread counted. A count does not move with the
//! machine's load, so two builds compare on a busy machine too. What it leaves out:
//! cache misses, the kernel's work (the copy into the page cache, fsync), and under
//! valgrind `sha2` runs its portable code (valgrind has no SHA extensions), so SHA-256
//! weighs more here than in the server.
//!
//! The bench runs itself under callgrind once with [`EVENTS`] events and once with one
//! batch; the difference divided by the extra events is the count per event, without
//! the setup.
//!
//! Run: `cargo bench -p auditrail-store --bench store_instructions` (valgrind from the
//! distribution's packages).

// A benchmark is not library code: a failed setup should stop it loudly.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::process::Command;
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::{StoreConfig, StoreTarget};

const BATCH: usize = 1000;
/// Events per counted run.
const EVENTS: usize = 20_000;

fn batch(first_seq: u64) -> Vec<Arc<Event>> {
    (0..BATCH as u64)
        .map(|n| {
            let v = serde_json::json!({
                "id": uuid::Uuid::now_v7().hyphenated().to_string(),
                "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "apinode-query",
                "routingKey": "svc-a",
                "node": "bench-node",
                "seq": first_seq + n,
                "message": {"msgType": "prediction-query", "authUser": "alice",
                            "clientIP": "10.0.0.7", "callPath": "/api/v1/predict",
                            "pad": "x".repeat(20)}
            });
            Arc::new(Event::from_json(&v.to_string()).unwrap())
        })
        .collect()
}

/// Writes `events` events (whole batches) into a fresh default store.
fn run_workload(events: usize) {
    let dir = tempfile::tempdir().unwrap();
    let config: StoreConfig = serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let target = StoreTarget::open(&dir.path().join("store"), &config, "bench").unwrap();
    // Both counted runs make the same batches, before writing: only the writing
    // differs between them.
    let batches: Vec<_> = (0..EVENTS / BATCH)
        .map(|b| batch(1 + (b * BATCH) as u64))
        .collect();
    for b in &batches[..events / BATCH] {
        target.send_blocking(b).unwrap();
    }
}

/// Instructions of this program writing `events` events, from callgrind's summary.
fn instructions(events: usize) -> u64 {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--workload", &events.to_string()])
        .output()
        .expect("running valgrind (on Debian: apt-get install valgrind)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "valgrind failed: {stderr}");
    stderr
        .lines()
        .find_map(|line| line.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `Collected :` line in valgrind's output: {stderr}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--workload") {
        run_workload(args[at + 1].parse().unwrap());
        return;
    }
    // The base run writes one batch (the store's first write sets up its files).
    let base = instructions(BATCH);
    let with = instructions(EVENTS);
    let extra = (EVENTS - BATCH) as f64;
    println!(
        "store write, default config (durable, chain, Merkle): {:.0} instructions per event (callgrind, {} events in batches of {BATCH})",
        with.saturating_sub(base) as f64 / extra,
        EVENTS
    );
}
