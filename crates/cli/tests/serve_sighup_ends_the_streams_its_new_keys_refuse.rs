//! A `/v1/stream` never finishes, so it cannot keep the keys it started with: after a
//! SIGHUP whose config removed its stats key (or turned `allow_unauthenticated_recent`
//! off under a stream opened without a key), the stream ends and gets no later event.
//! A stream whose key is still configured goes on and gets them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serve_support::*;

fn config(open: bool, stats_keys: &[(&str, &str)]) -> String {
    let mut c = String::from("data_dir = \"data\"\n");
    if open {
        c.push_str("allow_unauthenticated_recent = true\n");
    }
    c.push_str("[[keys]]\nid = \"node\"\nsecret = \"event-secret\"\n");
    for (id, secret) in stats_keys {
        c.push_str(&format!(
            "[[stats_keys]]\nid = \"{id}\"\nsecret = \"{secret}\"\n"
        ));
    }
    c.push_str("[[destinations]]\ntype = \"store\"\npath = \"store\"\n");
    c
}

/// An open `/v1/stream` and what it received so far.
struct Stream {
    socket: TcpStream,
    received: String,
    ended: bool,
}

impl Stream {
    fn open(addr: &str, key: Option<&str>) -> Stream {
        let mut socket = TcpStream::connect(addr).unwrap();
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        // `Connection: close`: the end of the stream is the end of the connection.
        write!(
            socket,
            "GET /v1/stream HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\r\n"
        )
        .unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut s = Stream {
            socket,
            received: String::new(),
            ended: false,
        };
        s.read_until(|s| s.received.contains("\r\n\r\n"));
        assert!(
            s.received.starts_with("HTTP/1.1 200"),
            "the stream did not open: {}",
            s.received
        );
        s
    }

    /// Reads until `done` holds or the stream ends, at most 20 s.
    fn read_until(&mut self, done: impl Fn(&Stream) -> bool) {
        let until = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 4096];
        while !done(self) && !self.ended && Instant::now() < until {
            match self.socket.read(&mut buf) {
                Ok(0) => self.ended = true,
                Ok(n) => self.received.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("reading the stream: {e}"),
            }
        }
    }
}

#[test]
fn streams_of_a_removed_key_or_of_a_closed_policy_end_and_a_kept_keys_stream_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        config(true, &[("leaked", "leaked-secret"), ("ops", "ops-secret")]),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let mut revoked = Stream::open(&server.addr, Some("leaked-secret"));
    let mut unauthenticated = Stream::open(&server.addr, None);
    let mut kept = Stream::open(&server.addr, Some("ops-secret"));

    std::fs::write(&file, config(false, &[("ops", "ops-secret")])).unwrap();
    hangup(&server);
    wait_for_log(&server, "reloaded (keys");

    let line = event_line(&new_id(1, 21), "after-the-reload", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &line, Some("event-secret")).unwrap();
    assert_eq!(status, 200, "{answer}");

    kept.read_until(|s| s.received.contains("after-the-reload"));
    assert!(
        kept.received.contains("after-the-reload"),
        "the stream of a key still configured stopped: {}",
        kept.received
    );
    assert!(!kept.ended, "the stream of a key still configured ended");
    for (name, stream) in [
        ("the removed key's", &mut revoked),
        ("the unauthenticated", &mut unauthenticated),
    ] {
        stream.read_until(|_| false);
        assert!(
            stream.ended,
            "{name} stream is still open after the reload: {}",
            stream.received
        );
        assert!(
            !stream.received.contains("after-the-reload"),
            "{name} stream got an event accepted after the reload: {}",
            stream.received
        );
        // Its last message says why, so that a follower tells it from a broken
        // connection.
        assert!(
            stream.received.contains("event: end\ndata: {")
                && stream.received.contains("\"reason\":\"refused\"")
                && stream
                    .received
                    .contains("after a reload of the server's config"),
            "{name} stream ended without saying why: {}",
            stream.received
        );
    }
    server.kill9();
}
