//! Parsing and validating events from their JSON wire form, as the event server does
//! for every event of every request (`Event::from_json_slice`), against two baselines
//! measured in the same run on the same bytes: serde_json skipping the text
//! (`IgnoredAny`: tokenizing and UTF-8 checks, the floor of any JSON reader) and
//! serde_json building a `Value` (what a server that checks nothing but "is JSON" and
//! keeps a tree would pay).
//!
//! Writing events back (`Event::write_json`, the `clientEvent` of every stored record)
//! is measured against copying the same bytes (the floor: a record that kept the wire
//! text).
//!
//! Each iteration parses a batch of 1000 distinct ~300-byte events (one request of the
//! load generator). Run: `cargo bench -p auditrail-core --bench event_parse`; compare
//! two builds with criterion's `-- --save-baseline NAME` and `-- --baseline NAME`.

// A benchmark is not library code: a failed setup should stop it loudly.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use auditrail_core::Event;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "sample/events.rs"]
mod sample;
use sample::{batch, BATCH};

fn parse(c: &mut Criterion) {
    let events = batch();
    let bytes: usize = events.iter().map(Vec::len).sum();
    println!(
        "event_parse: {BATCH} events per iteration, {} bytes each on average",
        bytes / BATCH
    );
    let mut group = c.benchmark_group("event_parse");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("auditrail/from_json_slice", |b| {
        b.iter(|| {
            for e in &events {
                let event = Event::from_json_slice(e).unwrap();
                std::hint::black_box(event);
            }
        })
    });
    group.bench_function("baseline/serde_json_ignored_any", |b| {
        b.iter(|| {
            for e in &events {
                let v: serde::de::IgnoredAny = serde_json::from_slice(e).unwrap();
                std::hint::black_box(v);
            }
        })
    });
    group.bench_function("baseline/serde_json_value", |b| {
        b.iter(|| {
            for e in &events {
                let v: serde_json::Value = serde_json::from_slice(e).unwrap();
                std::hint::black_box(v);
            }
        })
    });
    group.finish();
}

fn write(c: &mut Criterion) {
    let wire = batch();
    let events: Vec<Event> = wire
        .iter()
        .map(|e| Event::from_json_slice(e).unwrap())
        .collect();
    let mut group = c.benchmark_group("event_write");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(5));
    let mut out = Vec::with_capacity(1 << 20);
    group.bench_function("auditrail/write_json", |b| {
        b.iter(|| {
            out.clear();
            for e in &events {
                e.write_json(&mut out);
            }
            std::hint::black_box(&out);
        })
    });
    group.bench_function("baseline/copy_wire_bytes", |b| {
        b.iter(|| {
            out.clear();
            for e in &wire {
                out.extend_from_slice(e);
            }
            std::hint::black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(benches, parse, write);
criterion_main!(benches);
