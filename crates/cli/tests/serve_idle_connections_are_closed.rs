//! Connections that hold a file descriptor without using it are closed by the server:
//! one that never sends a byte (`header_read_timeout_ms`), and a keep-alive connection
//! after its answer (`idle_timeout_ms` / the next request head's deadline). Before,
//! both stayed open for ever, so enough of them exhausted file descriptors before any
//! key was checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serve_support::*;

/// Reads until the server closes the connection; what it sent.
fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    // Far above the configured timeouts: a bound for a broken server, not a measure.
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => got,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => got,
        Err(e) => panic!("the server did not close the connection: {e}; got {got:?}"),
    }
}

#[test]
fn silent_and_idle_keep_alive_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nheader_read_timeout_ms = 300\nidle_timeout_ms = 300\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);

    let mut silent = TcpStream::connect(&server.addr).unwrap();
    assert_eq!(read_until_closed(&mut silent), b"");

    let mut half = TcpStream::connect(&server.addr).unwrap();
    half.write_all(b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let answer = String::from_utf8_lossy(&read_until_closed(&mut half)).into_owned();
    assert!(!answer.contains("200 OK"), "{answer}");

    let mut kept = TcpStream::connect(&server.addr).unwrap();
    let body = event_line(&new_id(1, 10), "node-idle", 1);
    write!(
        kept,
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // The answer comes, then the idle connection is closed (no `Connection: close`).
    let answer = String::from_utf8_lossy(&read_until_closed(&mut kept)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(server.terminate(), 0);
}
