//! Connections and the stores' open segment files share one open-file limit. Each was
//! sized alone: `max_connections` half the limit and EACH store a quarter of it (+ 32
//! while it fsyncs), so with two stores a client with no key holding every connection
//! open made a batch over many partitions fail with `Too many open files` (tryout62/04,
//! `ulimit -n` 1024). The defaults are now one budget that adds up to no more than the
//! limit: with every connection but one held idle, a batch spread over 600 partitions of
//! two stores is stored, and nothing runs out of descriptors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;

use auditrail_testkit::server::ServerProcess;

/// Low enough that the old split over-commits it with two stores (128 connections +
/// 2 × (64 + 32) files + the server's own), high enough for the server to start.
const NOFILE: u64 = 256;

#[test]
fn every_connection_but_one_held_idle_leaves_two_stores_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let keys = |prefix: &str| {
        (0..300)
            .map(|i| format!("\"{prefix}{i:03}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let config = dir.path().join("s.toml");
    std::fs::write(
        &config,
        format!(
            "header_read_timeout_ms = 60000\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = \"a\"\nrouting_keys = [{}]\n\
             [[destinations]]\nname = \"b\"\ntype = \"store\"\npath = \"b\"\nrouting_keys = [{}]\n",
            keys("a"),
            keys("b")
        ),
    )
    .unwrap();
    let server = ServerProcess::start_with_nofile(&dir.path().join("d"), Some(&config), NOFILE);
    let log = server.log();
    let max_connections: usize = log
        .split("max_connections=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no connection limit in the log:\n{log}"));
    // A request head never finished: each holds its connection (no key needed) until
    // `header_read_timeout_ms`, longer than the test.
    let idle: Vec<TcpStream> = (0..max_connections - 1)
        .map(|_| {
            let mut c = TcpStream::connect(&server.addr).unwrap();
            c.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
            c
        })
        .collect();
    let body: String = (0..600)
        .map(|i| {
            let key = format!("{}{:03}", if i % 2 == 0 { "a" } else { "b" }, i / 2);
            let hour = i % 24;
            format!(
                "{{\"id\":\"018f0000-0000-7000-8000-{i:012x}\",\"timestamp\":\"2026-11-25T{hour:02}:00:00Z\",\"topic\":\"generic\",\
                 \"routingKey\":\"{key}\",\"node\":\"n1\",\"seq\":{},\"message\":{{\"msgType\":\"t\"}}}}\n",
                i + 1
            )
        })
        .collect();
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/v1/events", server.url))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().unwrap();
    let log = server.log();
    assert_eq!(status, 200, "{text}\n{log}");
    assert!(
        !log.contains("Too many open files"),
        "{} idle connections held, and the server ran out of descriptors:\n{log}",
        idle.len()
    );
    drop(idle);
}
