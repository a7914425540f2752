//! A `/v1/stream` is a request in progress for as long as it runs, so no idle timeout
//! closes its connection: streams opened and never read could hold every one of
//! `max_connections`, and a node's events waited in the listen backlog. Beyond
//! `max_streams` a stream is refused (`503 too_many_streams`, `Retry-After`), and
//! events still go in while the streams stay open; a stream that ends gives its place
//! back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serve_support::*;

/// Opens a stream and reads its status line and headers.
fn open_stream(addr: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET /v1/stream HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed: {head:?}");
        head.push(byte[0]);
    }
    (s, String::from_utf8(head).unwrap())
}

#[test]
fn streams_beyond_the_bound_are_refused_and_events_still_go_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nmax_connections = 8\nmax_streams = 2\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let (first, head) = open_stream(&server.addr);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_second, head) = open_stream(&server.addr);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The bound is reached: further streams are refused, each on its own connection.
    for _ in 0..10 {
        let (_refused, head) = open_stream(&server.addr);
        assert!(head.starts_with("HTTP/1.1 503"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("retry-after: "),
            "{head}"
        );
    }
    let (status, body) = request(&server.addr, "GET", "/v1/stream", &[], b"").unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("too_many_streams") && body.contains("max_streams"),
        "{body}"
    );
    let (status, answer) =
        post_events(&server.addr, &event_line(&new_id(1, 51), "node-x", 1), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    // A stream that ends gives its place back.
    drop(first);
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_s, head) = open_stream(&server.addr);
        if head.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "the place was not given back: {head}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.kill9();
}
