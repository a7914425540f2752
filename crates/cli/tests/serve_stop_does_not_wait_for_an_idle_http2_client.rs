//! A stop (SIGTERM) with an HTTP/2 client connected that asked once and then neither
//! reads nor closes (it never answers the `GOAWAY`'s ping) ends cleanly, exit 0: the
//! connection, without a request in progress and writing nothing, is dropped soon
//! after the close was asked for. Before, it was kept until `idle_timeout_ms` (60 s),
//! past `shutdown_timeout_s` (30 s): the stop took the whole deadline and ended with
//! exit 1, "some requests were still running at the shutdown deadline" and "the
//! shutdown was not clean", although nothing was running (tryout hostile/03).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;

use crate::serve_support;

use serve_support::*;

/// An HTTP/2 frame.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK header field, literal without indexing, new name (RFC 7541 §6.2.2).
fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut f = vec![0, name.len() as u8];
    f.extend_from_slice(name.as_bytes());
    f.push(value.len() as u8);
    f.extend_from_slice(value.as_bytes());
    f
}

#[test]
fn the_stop_is_clean_with_an_http2_client_that_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let line = event_line(&new_id(1, 53), "n1", 1);
    assert_eq!(post_events(&server.addr, &line, None).unwrap().0, 200);
    let mut h2 = TcpStream::connect(&server.addr).unwrap();
    let mut head = Vec::new();
    for (name, value) in [
        (":method", "GET"),
        (":path", "/healthz"),
        (":scheme", "http"),
        (":authority", "x"),
    ] {
        head.extend(literal(name, value));
    }
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend(frame(4, 0, 0, b"")); // SETTINGS
    hello.extend(frame(1, 0x5, 1, &head)); // HEADERS, END_STREAM | END_HEADERS
    h2.write_all(&hello).unwrap();
    // The request was handled (a batch posted after it is stored).
    let line = event_line(&new_id(2, 53), "n1", 2);
    assert_eq!(post_events(&server.addr, &line, None).unwrap().0, 200);
    // Before, the server exited (1) only at its 30 s deadline, or not within the 30 s
    // `terminate` waits (a panic).
    assert_eq!(server.terminate(), 0, "the stop was not clean");
    drop(h2);
}
