//! End-to-end benchmark: one node (an in-process dispatcher with one `eventserver`
//! target) sending to a real `auditrail serve` process (release build, durable store)
//! on the same machine, with the spool on and off.
//!
//! Reports (never asserts):
//! - throughput: events/s from the first emit until the server acknowledged (200,
//!   after fsync) the last event, for `EVENTS` events emitted as fast as possible;
//! - latency emit -> stored, p50/p99, at a fixed offered rate. "Stored" is when the
//!   target's count of server-acknowledged events passes the event's index (the
//!   sender delivers in spool order; with several requests in flight this is exact
//!   to within one request window).
//!
//! Not criterion: the measured path crosses processes, fsyncs and HTTP; one timed run
//! per configuration is what is meaningful here.
//!
//! Run: `cargo bench -p auditrail-target-eventserver --bench end_to_end`
//! (optional env: `E2E_EVENTS` (default 200000), `E2E_RATE` (default 20000), `E2E_RUNS`
//! (default `baseline,direct,spool,latency`: the runs to do, in this order, so that a
//! script can alternate one of them with another program's rounds, or profile one)).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_testkit::server;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auditrail_core::{
    topics, DeliveryOptions, Dispatcher, EventDraft, Filter, NodeId, StatsReader,
};
use server::ServerProcess;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn draft(i: u64, payload: &str) -> EventDraft {
    EventDraft::new(topics::GENERIC, "bench")
        .routing_key("svc-a")
        .auth_user("alice")
        .field("i", i)
        .field("payload", payload)
}

/// Events the server confirmed (the forwarding figure in spool mode; in direct mode
/// the target's `Ok` is the server's answer).
fn sent(reader: &StatsReader) -> u64 {
    reader.targets().first().map_or(0, |t| {
        t.forwarding.as_ref().map_or(t.delivered, |f| f.forwarded)
    })
}

struct Node {
    dispatcher: Dispatcher,
    _dir: tempfile::TempDir,
}

fn node(url: &str, spool: bool, name: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({
        "url": url,
        "spool": spool,
        "max_in_flight": 4,
        "send_batch_max_events": 2000,
    });
    let options = DeliveryOptions {
        queue_capacity: 50_000,
        batch_max_events: 2000,
        ..Default::default()
    };
    // A node of its own per run: each run's dispatcher numbers its events from 1
    // again, which the server would see as one node that reset its sequence.
    let dispatcher = Dispatcher::builder(NodeId::new(format!("bench-{name}")).unwrap())
        .run_dir(dir.path().join("run"))
        .dead_letter_dir(dir.path().join("deadletter"))
        .registered_target(
            name,
            &auditrail_target_eventserver::REGISTRATION,
            config,
            Filter::all(),
            options,
        )
        .build()
        .unwrap();
    Node {
        dispatcher,
        _dir: dir,
    }
}

/// This process's CPU time (user + system) so far, in seconds, from `/proc/self/stat`
/// (clock ticks of 10 ms): the node's side alone (the server is another process).
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's `)`: utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// Events/s, and the node's CPU microseconds per event (emitting included).
fn throughput(rt: &tokio::runtime::Runtime, url: &str, spool: bool, events: u64) -> (f64, f64) {
    let name = format!("tp-{}", if spool { "spool" } else { "direct" });
    let n = node(url, spool, &name);
    let payload = "x".repeat(180); // ~300-byte events on the wire
    let cpu = own_cpu_seconds();
    let start = Instant::now();
    rt.block_on(async {
        for i in 0..events {
            n.dispatcher.emit_async(draft(i, &payload)).await.unwrap();
        }
    });
    let reader = n.dispatcher.stats_reader();
    while sent(&reader) < events {
        std::thread::sleep(Duration::from_micros(200));
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_us = (own_cpu_seconds() - cpu) * 1e6 / events as f64;
    let report = n.dispatcher.shutdown_blocking(Duration::from_secs(30));
    assert!(report.is_clean(), "{report:?}");
    (events as f64 / secs, cpu_us)
}

fn latency(
    rt: &tokio::runtime::Runtime,
    url: &str,
    spool: bool,
    rate: u64,
    seconds: u64,
) -> (f64, f64) {
    let name = format!("lat-{}", if spool { "spool" } else { "direct" });
    let n = node(url, spool, &name);
    let payload = "x".repeat(180);
    let total = rate * seconds;
    let tick = Duration::from_millis(5);
    let per_tick = (rate * 5 / 1000).max(1);
    let emitted_at: Arc<Mutex<Vec<Instant>>> =
        Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let stored_at: Arc<Mutex<Vec<Instant>>> =
        Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let done = Arc::new(AtomicBool::new(false));
    // Watcher: when the acknowledged count passes k, event k is stored.
    let watcher = {
        let (stored_at, done, reader) =
            (stored_at.clone(), done.clone(), n.dispatcher.stats_reader());
        std::thread::spawn(move || {
            let mut seen = 0u64;
            while seen < total && !done.load(Ordering::Relaxed) {
                let now_sent = sent(&reader);
                if now_sent > seen {
                    let t = Instant::now();
                    let mut s = stored_at.lock().unwrap();
                    for _ in seen..now_sent.min(total) {
                        s.push(t);
                    }
                    seen = now_sent;
                } else {
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
        })
    };
    rt.block_on(async {
        let mut next = Instant::now();
        let mut i = 0;
        while i < total {
            for _ in 0..per_tick.min(total - i) {
                emitted_at.lock().unwrap().push(Instant::now());
                n.dispatcher.emit_async(draft(i, &payload)).await.unwrap();
                i += 1;
            }
            next += tick;
            tokio::time::sleep_until(next.into()).await;
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_at.lock().unwrap().len() < total as usize && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    done.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    n.dispatcher.shutdown_blocking(Duration::from_secs(30));
    let e = emitted_at.lock().unwrap();
    let s = stored_at.lock().unwrap();
    let mut lat: Vec<f64> = e
        .iter()
        .zip(s.iter())
        .map(|(a, b)| b.saturating_duration_since(*a).as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    (pct(0.50), pct(0.99))
}

/// Baseline: the same events, serialized in advance, posted by bare reqwest with the
/// same batch size and requests in flight. Its events/s is what the server (and the
/// loopback HTTP path) can take in this run; the target's ratio to it is the node's
/// own cost.
fn baseline(rt: &tokio::runtime::Runtime, url: &str, events: u64) -> f64 {
    use futures_util::stream::{self, StreamExt};
    let node = NodeId::new("baseline-node").unwrap();
    let payload = "x".repeat(180);
    let mut bodies = Vec::new();
    let mut body = Vec::new();
    for i in 0..events {
        draft(i, &payload)
            .complete(&node, || i + 1)
            .unwrap()
            .write_json(&mut body);
        body.push(b'\n');
        if (i + 1) % 2000 == 0 || i + 1 == events {
            bodies.push(std::mem::take(&mut body));
        }
    }
    let client = reqwest::Client::new();
    let endpoint = format!("{url}/v1/events");
    let start = Instant::now();
    rt.block_on(async {
        let requests: Vec<_> = bodies
            .into_iter()
            .map(|b| {
                client
                    .post(&endpoint)
                    .header("content-type", "application/x-ndjson")
                    .body(b)
                    .send()
            })
            .collect();
        let answers: Vec<_> = stream::iter(requests).buffer_unordered(4).collect().await;
        for a in answers {
            assert!(a.unwrap().status().is_success());
        }
    });
    events as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let events = env_u64("E2E_EVENTS", 200_000);
    let rate = env_u64("E2E_RATE", 20_000);
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&data.path().join("server"), None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runs = std::env::var("E2E_RUNS").unwrap_or_else(|_| "baseline,direct,spool,latency".into());
    let runs: Vec<&str> = runs.split(',').map(str::trim).collect();
    println!("end-to-end node -> auditrail serve (durable store), {events} events of ~300 B");
    // Warm-up (connections, page cache, store files).
    let _ = throughput(&rt, &server.url, false, 20_000);
    let mut direct = None;
    for run in &runs {
        match *run {
            "baseline" => {
                let bare = baseline(&rt, &server.url, events);
                println!(
                    "throughput baseline (bare reqwest, pre-serialized): {bare:>10.0} events/s"
                );
            }
            "direct" => {
                let (d, cpu_us) = throughput(&rt, &server.url, false, events);
                println!(
                    "throughput spool off: {d:>10.0} events/s  (node CPU {cpu_us:.2} us/event)"
                );
                direct = Some(d);
            }
            "spool" => {
                let (spooled, cpu_us) = throughput(&rt, &server.url, true, events);
                let ratio = direct.map_or(String::new(), |d| {
                    format!("  (ratio on/off {:.2})", spooled / d)
                });
                println!("throughput spool on:  {spooled:>10.0} events/s  (node CPU {cpu_us:.2} us/event){ratio}");
            }
            "latency" => {
                for spool in [false, true] {
                    let (p50, p99) = latency(&rt, &server.url, spool, rate, 3);
                    println!(
                        "latency emit->stored at {rate} events/s, spool {}: p50 {p50:.2} ms, p99 {p99:.2} ms",
                        if spool { "on " } else { "off" }
                    );
                }
            }
            other => {
                panic!("E2E_RUNS: unknown run {other:?} (known: baseline, direct, spool, latency)")
            }
        }
    }
}
