//! Load generator for the event server (`cargo xtask bench server`).
//!
//! Sends batches of `--batch` events of about `--event-bytes` bytes over
//! `--connections` concurrent connections for `--seconds`, and reports events/s, MB/s
//! and request latency p50/p99. With `--events N` it sends exactly N events instead (split
//! over the connections) and stops when all were answered, so that two systems can be fed
//! the same amount (`cargo xtask bench peers`). Either against a running server (`--url`), or against
//! a server it starts itself in this process on its own threads (`--mode durable`,
//! `--mode flush` or `--mode both`), with one store destination in a temp folder.
//!
//! ```text
//! cargo run --release -p auditrail-eventserver --example auditrail-loadgen -- \
//!     --mode both --connections 8 --seconds 10 --batch 1000 --event-bytes 300
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

#[path = "common/event.rs"]
mod event;

#[derive(Parser, Clone)]
#[command(about = "auditrail event server load generator")]
struct Args {
    /// Server base URL (e.g. http://127.0.0.1:9980). Without it, the generator starts
    /// its own server for each `--mode`.
    #[arg(long)]
    url: Option<String>,
    /// durable | flush | both (only without --url).
    #[arg(long, default_value = "both")]
    mode: String,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Events per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Approximate size of one event's JSON.
    #[arg(long, default_value_t = 300)]
    event_bytes: usize,
    /// Duration of each run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Send exactly this many events (split over the connections), then stop; replaces
    /// `--seconds`. Events of a refused request are sent again as new events.
    #[arg(long)]
    events: Option<u64>,
    /// Bearer key.
    #[arg(long)]
    key: Option<String>,
    /// Send a fresh `Auditrail-Request-Nonce` with every request, as nodes do, so that
    /// the server signs each answer (`answerSig`) and hashes each body: the server's
    /// cost for a real node's request (docs/protocol.md, "answerSig"). The generator
    /// does not check the signatures (a node's own cost, not the server's).
    #[arg(long)]
    nonce: bool,
    /// Server worker threads (own server only).
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

struct Report {
    mode: String,
    events: u64,
    bytes: u64,
    requests: u64,
    errors: u64,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    durable: bool,
}

fn main() {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("loadgen")
        .enable_all()
        .build()
        .unwrap();
    let mut reports = Vec::new();
    match &args.url {
        Some(url) => reports.push(client_rt.block_on(run(&args, url.clone(), "external".into()))),
        None => {
            let modes: Vec<&str> = match args.mode.as_str() {
                "both" => vec!["durable", "flush"],
                m => vec![m],
            };
            for mode in modes {
                let server_rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(args.server_threads)
                    .thread_name("server")
                    .enable_all()
                    .build()
                    .unwrap();
                let dir = tempfile::tempdir().unwrap();
                let flush = match mode {
                    "durable" => "\"durable\"".to_owned(),
                    "flush" => "{ every_bytes = 8388608, every_seconds = 1 }".to_owned(),
                    other => panic!("unknown mode {other:?}: durable, flush or both"),
                };
                let text = format!(
                    "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\nmax_concurrent_batches = 1024\n\
                     [[destinations]]\ntype = \"store\"\npath = \"store\"\nflush = {flush}\n",
                    dir.path().display().to_string()
                );
                let registry = auditrail_eventserver::registry(&[]).unwrap();
                let config = auditrail_eventserver::config::ServerConfig::parse(
                    &text,
                    "loadgen.toml",
                    false,
                    &registry,
                )
                .unwrap();
                let running = server_rt
                    .block_on(auditrail_eventserver::server::start(config))
                    .unwrap();
                let url = running.url();
                reports.push(client_rt.block_on(run(&args, url, mode.to_owned())));
                let stop = server_rt.block_on(running.shutdown());
                assert!(stop.destinations.is_clean(), "{:?}", stop.destinations);
            }
        }
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| mode | connections | batch | events/s | MB/s | p50 ms | p99 ms | requests | errors | durable |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|---|---|");
    for r in &reports {
        let secs = r.elapsed.as_secs_f64();
        let _ = writeln!(
            table,
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
            r.mode,
            args.connections,
            args.batch,
            r.events as f64 / secs,
            r.bytes as f64 / secs / 1e6,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.requests,
            r.errors,
            r.durable
        );
    }
    print!("{table}");
    if let Some(path) = &args.json {
        let v: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                let secs = r.elapsed.as_secs_f64();
                serde_json::json!({
                    "mode": r.mode, "connections": args.connections, "batch": args.batch,
                    "event_bytes": args.event_bytes, "seconds": secs,
                    "events": r.events, "events_per_s": r.events as f64 / secs,
                    "mb_per_s": r.bytes as f64 / secs / 1e6,
                    "p50_ms": r.p50.as_secs_f64() * 1e3, "p99_ms": r.p99.as_secs_f64() * 1e3,
                    "requests": r.requests, "errors": r.errors, "durable": r.durable,
                })
            })
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    }
}

async fn run(args: &Args, url: String, mode: String) -> Report {
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let durable = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let url = format!("{url}/v1/events");
        let (stop, events, bytes, errors, durable) = (
            stop.clone(),
            events.clone(),
            bytes.clone(),
            errors.clone(),
            durable.clone(),
        );
        let (batch, event_bytes, key, nonce) =
            (args.batch, args.event_bytes, args.key.clone(), args.nonce);
        let node = format!("loadgen-{}-{c}", std::process::id());
        // This connection's share of `--events`; unbounded when the run is timed.
        let mut remaining = match args.events {
            Some(total) => {
                let n = args.connections as u64;
                total / n + u64::from((c as u64) < total % n)
            }
            None => u64::MAX,
        };
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut seq = 0u64;
            let mut body = Vec::with_capacity(batch * (event_bytes + 16));
            while !stop.load(Ordering::Relaxed) && remaining > 0 {
                let batch = remaining.min(batch as u64) as usize;
                body.clear();
                for _ in 0..batch {
                    seq += 1;
                    write_event(&mut body, &node, c as u64, seq, event_bytes);
                }
                let len = body.len() as u64;
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/x-ndjson")
                    .body(body.clone());
                if let Some(k) = &key {
                    req = req.bearer_auth(k);
                }
                if nonce {
                    // 32 hex digits, new for each request. A node's are 16 random bytes;
                    // the server only checks the form, and its work is the same.
                    req = req.header(
                        auditrail_core::answer::NONCE_HEADER,
                        format!("{:016x}{c:08x}{:08x}", std::process::id(), seq as u32),
                    );
                    // As a node asks: the answer's signature binds the credential too.
                    req = req.header(
                        auditrail_core::answer::VERSION_HEADER,
                        auditrail_core::answer::BOUND_VERSION,
                    );
                }
                let t = Instant::now();
                match req.send().await {
                    Ok(r) if r.status() == 200 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        latencies.push(t.elapsed());
                        if v["durable"] == false {
                            durable.store(false, Ordering::Relaxed);
                        }
                        events.fetch_add(batch as u64, Ordering::Relaxed);
                        bytes.fetch_add(len, Ordering::Relaxed);
                        remaining -= batch as u64;
                    }
                    Ok(r) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let retry = r
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()?.parse().ok())
                            .unwrap_or(1u64);
                        tokio::time::sleep(Duration::from_millis(100 * retry.min(10))).await;
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
            latencies
        }));
    }
    if args.events.is_none() {
        tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Report {
        mode,
        events: events.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        requests: latencies.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        durable: durable.load(Ordering::Relaxed),
    }
}

/// One event of about `size` bytes, as a JSON line.
fn write_event(out: &mut Vec<u8>, node: &str, conn: u64, seq: u64, size: usize) {
    event::write_event_json(out, node, conn, seq, size.saturating_sub(1));
    out.push(b'\n');
}
