//! emit -> dispatcher -> null target, with 1 and 2 emitting threads.
//!
//! Reports, for each thread count:
//! - criterion throughput (events/s) of `emit` until every event is delivered
//!   (the clock stops after `flush`, so queued-but-undelivered events do not count);
//! - the same through `emit_batch`, 1, 16 and 256 events per call
//!   (`dispatcher_batch_N`);
//! - emit latency percentiles (p50, p99, p99.9), measured per call with `Instant` in a
//!   custom loop and printed (criterion has no percentile output);
//! - a baseline measured in the same run: the same events through a bare bounded
//!   `flume` channel to a thread that drops them (the floor any dispatcher pays), and
//!   the ratio dispatcher/baseline.
//!
//! Run: `cargo bench -p auditrail-core --bench dispatch`.

// A benchmark is not library code: a failed setup should stop it loudly.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_core::{Dispatcher, Event, EventDraft, NodeId};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "sample/null_target.rs"]
mod null_target;
use null_target::{dispatcher, draft};

fn flush(d: &Dispatcher) {
    futures_block_on(d.flush()).unwrap_or_else(|e| panic!("flush: {e:?}"));
}

/// A tiny executor for `flush` from the bench thread (the dispatcher has its own
/// runtime; this thread only waits).
fn futures_block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .block_on(f)
}

/// Emits `n` events from each of `threads` threads; drafts are built before the
/// clock starts, so the time is the dispatcher's (emit + delivery).
fn emit_all(d: &Dispatcher, threads: usize, n: u64) -> Duration {
    let drafts: Vec<Vec<EventDraft>> = (0..threads).map(|_| (0..n).map(draft).collect()).collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for batch in drafts {
            s.spawn(move || {
                for dr in batch {
                    d.emit(dr).unwrap_or_else(|e| panic!("{e}"));
                }
            });
        }
    });
    flush(d);
    start.elapsed()
}

/// [`emit_all`] through `emit_batch`, `size` events per call (the drafts are split
/// into batches before the clock starts).
fn emit_all_batched(d: &Dispatcher, threads: usize, n: u64, size: usize) -> Duration {
    let batches: Vec<Vec<Vec<EventDraft>>> = (0..threads)
        .map(|_| {
            let drafts: Vec<EventDraft> = (0..n).map(draft).collect();
            let mut batches = Vec::with_capacity(drafts.len().div_ceil(size));
            let mut drafts = drafts.into_iter();
            loop {
                let batch: Vec<EventDraft> = drafts.by_ref().take(size).collect();
                if batch.is_empty() {
                    break batches;
                }
                batches.push(batch);
            }
        })
        .collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for thread in batches {
            s.spawn(move || {
                for batch in thread {
                    d.emit_batch(batch).unwrap_or_else(|e| panic!("{e}"));
                }
            });
        }
    });
    flush(d);
    start.elapsed()
}

/// The floor: the same events through a bare bounded channel to a thread that drops
/// them (no ids, no seq, no filters, no counters).
fn channel_all(threads: usize, n: u64) -> Duration {
    let node = NodeId::new("bench-node").unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<Vec<Arc<Event>>> = (0..threads)
        .map(|t| {
            (0..n)
                .map(|i| {
                    let seq = t as u64 * n + i + 1;
                    Arc::new(
                        draft(i)
                            .complete(&node, || seq)
                            .unwrap_or_else(|e| panic!("{e}")),
                    )
                })
                .collect()
        })
        .collect();
    let (tx, rx) = flume::bounded::<Arc<Event>>(10_000);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(move || while rx.recv().is_ok() {});
        for batch in events {
            let tx = tx.clone();
            s.spawn(move || {
                for e in batch {
                    let _ = tx.send(e);
                }
            });
        }
        drop(tx);
    });
    start.elapsed()
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("emit_to_null_target");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    for threads in [1usize, 2] {
        let d = dispatcher();
        group.bench_function(format!("dispatcher/{threads}_threads"), |b| {
            b.iter_custom(|iters| emit_all(&d, threads, iters.div_ceil(threads as u64)))
        });
        d.shutdown_blocking(Duration::from_secs(10));
        // Several events per call: what `emit` pays per call, paid once per batch.
        for size in [1usize, 16, 256] {
            let d = dispatcher();
            group.bench_function(format!("dispatcher_batch_{size}/{threads}_threads"), |b| {
                b.iter_custom(|iters| {
                    emit_all_batched(&d, threads, iters.div_ceil(threads as u64), size)
                })
            });
            d.shutdown_blocking(Duration::from_secs(10));
        }
        // As a node config's dispatcher: sequence numbers from the run folder's file,
        // the folder locked (what the run-folder lock check costs per emit).
        let run = tempfile::tempdir().expect("tempdir");
        let d = with_run_folder(run.path());
        group.bench_function(format!("dispatcher_run_folder/{threads}_threads"), |b| {
            b.iter_custom(|iters| emit_all(&d, threads, iters.div_ceil(threads as u64)))
        });
        d.shutdown_blocking(Duration::from_secs(10));
        group.bench_function(format!("baseline_channel/{threads}_threads"), |b| {
            b.iter_custom(|iters| channel_all(threads, iters.div_ceil(threads as u64)))
        });
    }
    group.finish();
}

/// The bench dispatcher with a run folder at `dir`: persisted sequence numbers and the
/// folder's lock, as a dispatcher built from a node config has.
fn with_run_folder(dir: &std::path::Path) -> Dispatcher {
    Dispatcher::builder(NodeId::new("bench-node").unwrap())
        .worker_threads(1)
        .run_dir(dir)
        .persist_seq(true)
        .target(
            "null",
            "null",
            auditrail_core::Filter::all(),
            auditrail_core::DeliveryOptions::default(),
            Box::new(null_target::NullTarget),
        )
        .build()
        .unwrap()
}

/// Per-call emit latency, sorted nanoseconds of every call of every thread.
fn emit_latencies(d: &Dispatcher, threads: usize, n: u64) -> Vec<u64> {
    let mut all = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut lat = Vec::with_capacity(n as usize);
                    for i in 0..n {
                        let dr = draft(i);
                        let t = Instant::now();
                        let r = d.emit(dr);
                        lat.push(t.elapsed().as_nanos() as u64);
                        r.unwrap_or_else(|e| panic!("{e}"));
                    }
                    lat
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect::<Vec<u64>>()
    });
    flush(d);
    all.sort_unstable();
    all
}

/// The same per-call measurement of a bare bounded channel send (the noise floor of
/// this machine at this moment: clock reads, scheduling, a consumer to wake).
fn channel_latencies(threads: usize, n: u64) -> Vec<u64> {
    let node = NodeId::new("bench-node").unwrap();
    let (tx, rx) = flume::bounded::<Arc<Event>>(10_000);
    let mut all = std::thread::scope(|s| {
        s.spawn(move || while rx.recv().is_ok() {});
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let tx = tx.clone();
                let node = node.clone();
                s.spawn(move || {
                    let mut lat = Vec::with_capacity(n as usize);
                    for i in 0..n {
                        let e = Arc::new(draft(i).complete(&node, || i + 1).unwrap());
                        let t = Instant::now();
                        let _ = tx.send(e);
                        lat.push(t.elapsed().as_nanos() as u64);
                    }
                    lat
                })
            })
            .collect();
        drop(tx);
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect::<Vec<u64>>()
    });
    all.sort_unstable();
    all
}

fn print_percentiles(what: &str, lat: &[u64]) {
    println!(
        "{what}: {} calls: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        lat.len(),
        percentile(lat, 50.0),
        percentile(lat, 99.0),
        percentile(lat, 99.9),
        lat.last().copied().unwrap_or(0),
    );
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn latency(_c: &mut Criterion) {
    const PER_THREAD: u64 = 500_000;
    for threads in [1usize, 2] {
        let d = dispatcher();
        // Warm up (allocator, queue, worker) before measuring.
        let _ = emit_latencies(&d, threads, 50_000);
        let lat = emit_latencies(&d, threads, PER_THREAD);
        print_percentiles(&format!("emit latency, {threads} thread(s)"), &lat);
        d.shutdown_blocking(Duration::from_secs(10));
        let _ = channel_latencies(threads, 50_000);
        let base = channel_latencies(threads, PER_THREAD);
        print_percentiles(
            &format!("baseline channel send latency, {threads} thread(s)"),
            &base,
        );
    }
}

criterion_group!(benches, throughput, latency);
criterion_main!(benches);
