//! Throughput of the file target on ~300-byte events, with and without fsync, against
//! baselines measured in the same run: the same serialized lines written straight
//! through tracing-appender's writer, with no dispatcher.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-file cargo bench -p auditrail-target-file --bench file_throughput
//! ```
//!
//! Every benchmark moves `EVENTS` events per iteration and reports elements/s.
//! - `dispatcher/fsync_off`, `dispatcher/fsync_on`: `emit` each event (drafts built
//!   before the clock starts; the dispatcher gives id, timestamp, sequence number and
//!   queues it) and wait with `flush` until the file target has serialized, written
//!   (and fsynced) every batch.
//! - `dispatcher_batch/fsync_off`: the same events through one `emit_batch` call per
//!   iteration (the dispatcher completes and queues them 256 at a time).
//! - `appender/per_line`: the pre-serialized lines, one `write_all` per line into
//!   tracing-appender's `RollingFileAppender` (what a `tracing` fmt layer does).
//! - `appender/batched`, `appender/batched_fsync`: the same pre-serialized lines,
//!   1000 per `write_all` (the dispatcher's default batch), with an `fdatasync` per
//!   write in the second. This is the issue's baseline.
//! - `appender/serialize_batched`: complete events serialized to lines (the target's
//!   own encoder) and written 1000 per `write_all`: the same work as the dispatcher
//!   path minus the dispatcher, which isolates what the dispatcher costs. Its events
//!   are completed (id, timestamp, seq) before the clock and never freed.
//! - `appender/complete_serialize_batched`: the dispatcher path's own drafts (built
//!   before the clock), completed (id, timestamp, seq), encoded, written 1000 per
//!   `write_all` and freed, on one thread: everything the dispatcher path does to
//!   an event except queueing it and handing it between threads.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, Event, EventDraft, Filter, NodeId};
use auditrail_target_file::line::{encode_line, LoggerName};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::json;
use tracing_appender::rolling::RollingFileAppender;

const EVENTS: usize = 20_000;
const BATCH: usize = 1000;

fn draft(i: usize) -> EventDraft {
    EventDraft::new("generic", "dataset-read-data")
        .auth_user("alice")
        .field("callPath", "/api/datasets/customers")
        .field("clientIP", "10.1.2.3")
        .field("index", i as u64)
}

fn dispatcher(dir: &std::path::Path, fsync: bool) -> Dispatcher {
    Dispatcher::builder(NodeId::new("bench-node").unwrap())
        .registered_target(
            "file",
            &auditrail_target_file::REGISTRATION,
            // Bounded disk use over many iterations.
            json!({ "dir": dir, "fsync": fsync, "max_bytes": 64 * 1024 * 1024, "max_files": 2 }),
            Filter::all(),
            DeliveryOptions::default(),
        )
        .build()
        .unwrap()
}

fn logger() -> LoggerName {
    LoggerName {
        prefix: "audit".into(),
        suffix: String::new(),
        append_topic: true,
    }
}

fn events() -> Vec<Event> {
    let node = NodeId::new("bench-node").unwrap();
    (0..EVENTS)
        .map(|i| draft(i).complete(&node, || i as u64).unwrap())
        .collect()
}

fn lines(events: &[Event]) -> Vec<Vec<u8>> {
    let logger = logger();
    events
        .iter()
        .map(|event| {
            let mut line = Vec::new();
            encode_line(&logger, event, &mut line);
            line
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let events = events();
    let logger = logger();
    let lines = lines(&events);
    let avg = lines.iter().map(Vec::len).sum::<usize>() / lines.len();
    eprintln!("average line: {avg} bytes");
    let chunks: Vec<Vec<u8>> = lines.chunks(BATCH).map(|c| c.concat()).collect();
    let flusher = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let mut g = c.benchmark_group("file_target");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    for (name, fsync) in [
        ("dispatcher/fsync_off", false),
        ("dispatcher/fsync_on", true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dispatcher(dir.path(), fsync);
        g.bench_function(name, |b| {
            b.iter_batched(
                || (0..EVENTS).map(draft).collect::<Vec<_>>(),
                |drafts| {
                    for dr in drafts {
                        d.emit(dr).unwrap();
                    }
                    flusher.block_on(d.flush()).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
        assert!(d.shutdown_blocking(Duration::from_secs(60)).is_clean());
    }
    {
        let dir = tempfile::tempdir().unwrap();
        let d = dispatcher(dir.path(), false);
        g.bench_function("dispatcher_batch/fsync_off", |b| {
            b.iter_batched(
                || (0..EVENTS).map(draft).collect::<Vec<_>>(),
                |drafts| {
                    d.emit_batch(drafts).unwrap();
                    flusher.block_on(d.flush()).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
        assert!(d.shutdown_blocking(Duration::from_secs(60)).is_clean());
    }

    let dir = tempfile::tempdir().unwrap();
    let mut appender = tracing_appender::rolling::never(dir.path(), "baseline.log");
    let path = dir.path().join("baseline.log");
    g.bench_function("appender/per_line", |b| {
        b.iter(|| {
            truncate_if_large(&path, &mut appender);
            for line in &lines {
                appender.write_all(line).unwrap();
            }
        })
    });
    g.bench_function("appender/batched", |b| {
        b.iter(|| {
            truncate_if_large(&path, &mut appender);
            for chunk in &chunks {
                appender.write_all(chunk).unwrap();
            }
        })
    });
    let mut buf = Vec::with_capacity(BATCH * 512);
    g.bench_function("appender/serialize_batched", |b| {
        b.iter(|| {
            truncate_if_large(&path, &mut appender);
            for chunk in events.chunks(BATCH) {
                buf.clear();
                for e in chunk {
                    encode_line(&logger, e, &mut buf);
                }
                appender.write_all(&buf).unwrap();
            }
        })
    });
    // The same drafts as the dispatcher path (built before the clock), completed
    // (id, timestamp, sequence number: one clock read each, as `emit` does), encoded
    // 1000 per `write_all` and freed, all on this thread: what a program does that
    // writes its audit lines itself, without a dispatcher.
    let node = NodeId::new("bench-node").unwrap();
    let mut seq = 0u64;
    let mut completed: Vec<Event> = Vec::with_capacity(BATCH);
    g.bench_function("appender/complete_serialize_batched", |b| {
        b.iter_batched(
            || (0..EVENTS).map(draft).collect::<Vec<_>>(),
            |drafts| {
                truncate_if_large(&path, &mut appender);
                let mut drafts = drafts.into_iter();
                loop {
                    completed.clear();
                    completed.extend(drafts.by_ref().take(BATCH).map(|d| {
                        seq += 1;
                        d.complete(&node, || seq).unwrap()
                    }));
                    if completed.is_empty() {
                        break;
                    }
                    buf.clear();
                    for e in &completed {
                        encode_line(&logger, e, &mut buf);
                    }
                    appender.write_all(&buf).unwrap();
                }
            },
            BatchSize::PerIteration,
        )
    });
    let sync_handle = OpenOptions::new().append(true).open(&path).unwrap();
    g.bench_function("appender/batched_fsync", |b| {
        b.iter(|| {
            truncate_if_large(&path, &mut appender);
            for chunk in &chunks {
                appender.write_all(chunk).unwrap();
                sync_handle.sync_data().unwrap();
            }
        })
    });
    g.finish();
}

/// Keeps the baseline file small (the dispatcher side rolls at 64 MB for the same reason).
fn truncate_if_large(path: &std::path::Path, _appender: &mut RollingFileAppender) {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > 64 * 1024 * 1024 {
        // The appender's descriptor is O_APPEND: it goes on at the new end.
        OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap()
            .set_len(0)
            .unwrap();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
