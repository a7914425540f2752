//! The de-duplication window at steady state (issue 17): 1 Mi events remembered (id
//! and content fingerprint), each stored event costs a lookup when its request is
//! admitted, then a push (which evicts the oldest) when it commits. Batches of 1000
//! fresh UUIDv7 ids with random fingerprints, in the order the server does it: 1000
//! lookups, then 1000 pushes.
//!
//! Each twice: back to back, and with 16 MiB of other memory written (untimed, 4 times
//! the L2 cache of the project's machine) between the lookups and the pushes and after
//! them, as a request's store write and fsync wait sit between its admission and its
//! commit in the server (group `dedup_window_1Mi_steady_cold`).
//!
//! Three implementations in the same run:
//! - `recent_ids`: the server's window (`dedup/window.rs`, ring of (id, fingerprint)
//!   slots + hashbrown table of indices, foldhash);
//! - `std_siphash`: what it replaced, a `HashSet` (SipHash) + `VecDeque`, here keyed by
//!   (id, fingerprint) as the server's window is;
//! - `std_foldhash`: the same set and queue with foldhash, to tell the hasher's share
//!   from the layout's.
//!
//! `cargo bench -p auditrail-eventserver --bench dedup_window`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashSet, VecDeque};
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use auditrail_core::EventId;
use auditrail_eventserver::__bench::RecentIds;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const WINDOW: usize = 1 << 20;
const BATCH: usize = 1000;
/// Fresh ids cycle through a stream longer than the window, so every pushed id is absent.
const STREAM: usize = 3 * WINDOW;

/// An event as the window knows it: its id and its content's fingerprint.
type Key = (EventId, u64);

trait Window {
    fn contains(&self, k: &Key) -> bool;
    fn push(&mut self, k: &Key);
}

impl Window for RecentIds {
    fn contains(&self, k: &Key) -> bool {
        RecentIds::contains(self, &k.0, k.1)
    }
    fn push(&mut self, k: &Key) {
        RecentIds::push(self, &k.0, k.1);
    }
}

/// The replaced implementation (dedup/mod.rs before issue 17), generic over the hasher.
struct SetAndQueue<S> {
    set: HashSet<Key, S>,
    order: VecDeque<Key>,
}

impl<S: BuildHasher + Default> SetAndQueue<S> {
    fn new() -> Self {
        SetAndQueue {
            set: HashSet::default(),
            order: VecDeque::new(),
        }
    }
}

impl<S: BuildHasher> Window for SetAndQueue<S> {
    fn contains(&self, k: &Key) -> bool {
        self.set.contains(k)
    }
    fn push(&mut self, k: &Key) {
        if self.set.insert(*k) {
            self.order.push_back(*k);
            while self.order.len() > WINDOW {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// Writes every word of `buf` (evicting the window from the caches).
fn pollute(buf: &mut [u64]) {
    for (i, v) in buf.iter_mut().enumerate() {
        *v = v.wrapping_add(i as u64);
    }
    let _ = std::hint::black_box(buf);
}

fn run<W: Window>(c: &mut Criterion, name: &str, mut w: W, ids: &[Key], cold: bool) {
    for id in &ids[..WINDOW] {
        w.push(id);
    }
    let mut at = WINDOW;
    let mut other = if cold {
        vec![1u64; 2 << 20]
    } else {
        Vec::new()
    };
    let mut group = c.benchmark_group(if cold {
        "dedup_window_1Mi_steady_cold"
    } else {
        "dedup_window_1Mi_steady"
    });
    group.throughput(Throughput::Elements(BATCH as u64));
    if cold {
        // Criterion sizes the run by the timed part; the untimed writes dominate here.
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_secs(2));
    }
    group.bench_function(BenchmarkId::new(name, "admit_then_commit_1000"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if at + BATCH > ids.len() {
                    at = 0;
                }
                let batch = &ids[at..at + BATCH];
                at += BATCH;
                let start = Instant::now();
                let mut dup = 0;
                for id in batch {
                    dup += usize::from(w.contains(id));
                }
                total += start.elapsed();
                pollute(&mut other);
                let start = Instant::now();
                for id in batch {
                    w.push(id);
                }
                total += start.elapsed();
                pollute(&mut other);
                assert_eq!(dup, 0, "fresh ids only");
            }
            total
        });
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    // Fingerprints are keyed hashes: any well-spread 64-bit values stand for them.
    let seed = foldhash::quality::RandomState::default();
    let ids: Vec<Key> = (0..STREAM)
        .map(|i| (EventId::new(), seed.hash_one(i)))
        .collect();
    for cold in [false, true] {
        run(
            c,
            "std_siphash",
            SetAndQueue::<std::hash::RandomState>::new(),
            &ids,
            cold,
        );
        run(c, "recent_ids", RecentIds::new(WINDOW), &ids, cold);
        run(
            c,
            "std_foldhash",
            SetAndQueue::<foldhash::quality::RandomState>::new(),
            &ids,
            cold,
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
