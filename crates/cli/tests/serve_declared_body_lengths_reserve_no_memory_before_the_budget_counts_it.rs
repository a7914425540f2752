//! A request's declared `Content-Length` makes the server reserve memory for its body
//! only as the body-memory budget counts it for the request (the frames received, as
//! they arrive): clients that
//! send headers declaring 4 MiB bodies and then nothing hold no memory beyond the
//! budget. Before, each such request reserved 4 MiB at once; under an address-space
//! limit (or strict overcommit) a few hundred of them made an allocation fail, and the
//! server aborted with every node's batch in flight.
//!
//! The real server process, its address space limited (`prlimit --as`, util-linux) to
//! what it uses after start plus 256 MiB; 200 connections declaring 4 MiB each (800 MiB
//! if reserved up front); then a normal batch must still be stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};

const HEADERS_ONLY: usize = 200;
const DECLARED: usize = 4 << 20;
const HEADROOM: u64 = 256 << 20;

fn vm_size_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

fn body_memory(client: &reqwest::blocking::Client, url: &str) -> Option<u64> {
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .ok()?
        .text()
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("auditrail_server_body_memory_bytes "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

#[test]
fn headers_declaring_large_bodies_do_not_exhaust_the_servers_memory() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        "max_connections = 1000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = ServerProcess::start(&dir, Some(&config));
    let client = reqwest::blocking::Client::new();
    // The server has answered once, so its threads and buffers exist before the limit.
    assert!(
        body_memory(&client, &server.url).is_some(),
        "{}",
        server.log()
    );

    let limit = vm_size_bytes(server.pid()) + HEADROOM;
    let status = Command::new("prlimit")
        .arg("--pid")
        .arg(server.pid().to_string())
        .arg(format!("--as={limit}:{limit}"))
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed");

    let mut held = Vec::new();
    for _ in 0..HEADERS_ONLY {
        let mut s = TcpStream::connect(&server.addr).unwrap();
        let head = format!(
            "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n\
             Content-Length: {DECLARED}\r\n\r\n{{"
        );
        s.write_all(head.as_bytes()).unwrap();
        held.push(s);
    }
    // Every request's first byte reached its handler (its buffer of one byte counted
    // each: a body arriving is counted for what it holds), so each is as far as it
    // gets before its client sends more.
    let all = HEADERS_ONLY as u64;
    let reached = wait_until(Duration::from_secs(30), || {
        body_memory(&client, &server.url).is_some_and(|b| b >= all)
    });
    assert!(
        reached,
        "the requests did not all reach the server, or it died; its log:\n{}",
        server.log()
    );

    let event = r#"{"id":"0193a5b0-0000-7000-8000-000000000001","timestamp":"2026-12-04T10:00:00.000Z","topic":"generic","node":"node-1","seq":1,"message":{"msgType":"login","authUser":"u1"}}"#;
    let answer = client
        .post(format!("{}/v1/events", server.url))
        .header("Content-Type", "application/x-ndjson")
        .body(format!("{event}\n"))
        .send();
    let answer = match answer {
        Ok(a) => a,
        Err(e) => panic!(
            "the server did not answer ({e}); its log:\n{}",
            server.log()
        ),
    };
    assert_eq!(answer.status().as_u16(), 200, "{:?}", answer.text());
    assert_eq!(server.stored().len(), 1);
    drop(held);
}
