//! An HTTP/2 connection that sends its preface and nothing more is closed once
//! `header_read_timeout_ms` passed without a request, not at `idle_timeout_ms`: the
//! server asked for a graceful close (a `GOAWAY`) at the deadline, but the client never
//! answered it, and the connection was dropped only after `idle_timeout_ms` (75 s with
//! the defaults). A flood of such connections, which no key guards, took every place
//! under `max_connections` from the nodes (tryout60/05). An HTTP/1.1 connection that
//! sends half a request head was closed at the deadline already.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serve_support::*;

/// The client's connection preface and an empty SETTINGS frame (RFC 9113, 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

#[test]
fn a_preface_without_a_request_is_closed_long_before_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // The idle timeout is an hour: a connection closed within the bound below was
    // closed by the first request's deadline, not by the idle timeout.
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nheader_read_timeout_ms = 300\nidle_timeout_ms = 3600000\n\
         max_connections = 4\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);

    // As many such connections as the server takes.
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(&server.addr).unwrap();
            s.write_all(PREFACE).unwrap();
            s
        })
        .collect();
    for s in &mut held {
        // Far above the deadline: a bound for a broken server, not a measure.
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut got = Vec::new();
        match s.read_to_end(&mut got) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("the server did not close the connection: {e}; got {got:?}"),
        }
    }
    // Their places are free again: a node's batch is answered.
    let body = event_line(&new_id(1, 10), "node-h2", 1);
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
}
