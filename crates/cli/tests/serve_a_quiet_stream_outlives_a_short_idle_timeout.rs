//! A `/v1/stream` follower on a quiet server keeps its stream when `idle_timeout_ms` is
//! shorter than the stream's keep-alive default (15 s): the stream writes its keep-alive
//! comment within the idle timeout, so its connection is never idle and is not closed
//! as one that writes nothing (which closes connections whose clients read nothing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serve_support::*;

#[test]
fn a_quiet_stream_outlives_a_short_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nidle_timeout_ms = 300\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /v1/stream HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .unwrap();
    // Read what the stream sends for ten idle timeouts with nothing stored: the
    // connection must stay open.
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    let quiet_until = Instant::now() + Duration::from_millis(3000);
    while Instant::now() < quiet_until {
        let n = s.read(&mut chunk).unwrap();
        assert!(
            n > 0,
            "the stream was closed on a quiet server: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&chunk[..n]);
    }
    assert!(
        String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    // And it still delivers.
    let id = new_id(1, 97);
    let (status, answer) = post_events(&server.addr, &event_line(&id, "node-q", 1), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    while !String::from_utf8_lossy(&seen).contains(&id) {
        let n = s.read(&mut chunk).unwrap();
        assert!(
            n > 0,
            "closed before the event: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&chunk[..n]);
    }
    server.kill9();
}
