//! An HTTP/2 connection (h2c with prior knowledge, served on the plain port) whose
//! client keeps a stream from ending while writing nothing more is closed once it has
//! had no request in progress and nothing written for `idle_timeout_ms` after its
//! graceful close was asked for, and its place under `max_connections` goes to the
//! next client. The streams: a header block that never ends (a HEADERS frame without
//! END_HEADERS, no CONTINUATION), a body that never comes (no END_STREAM), an answer
//! that cannot be sent (SETTINGS_INITIAL_WINDOW_SIZE 0). Before, the graceful close
//! (GOAWAY) waited for such streams for ever: `max_connections` of them, before any key
//! was checked, took every connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::AsyncWriteExt;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = u32::try_from(payload.len()).unwrap().to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The bytes of each way to keep a stream open (HPACK: `\x82` GET, `\x83` POST, `\x86`
/// http, `\x84` path `/`, `\x04\x13...` path `/console/console.js`).
fn stuck_streams() -> [(&'static str, Vec<u8>); 3] {
    let open = |settings: &[u8], headers: Vec<u8>| {
        [PREFACE.to_vec(), frame(SETTINGS, 0, 0, settings), headers].concat()
    };
    [
        (
            "a header block without its end",
            open(b"", frame(HEADERS, 0, 1, b"\x82\x86\x84")),
        ),
        (
            "a body that never comes",
            open(b"", frame(HEADERS, END_HEADERS, 1, b"\x83\x86\x84")),
        ),
        (
            "a flow-control window of 0",
            open(
                &[0, 4, 0, 0, 0, 0], // SETTINGS_INITIAL_WINDOW_SIZE = 0
                frame(
                    HEADERS,
                    END_STREAM | END_HEADERS,
                    1,
                    b"\x82\x86\x04\x13/console/console.js",
                ),
            ),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn such_a_connection_gives_its_place_to_the_next_client() {
    let s = start(&format!(
        "idle_timeout_ms = 500\nheader_read_timeout_ms = 500\nmax_connections = 1\n{STORE}"
    ))
    .await;
    for (how, bytes) in stuck_streams() {
        let mut stuck = tokio::net::TcpStream::connect(s.running.local_addr())
            .await
            .unwrap();
        stuck.write_all(&bytes).await.unwrap();
        // The only connection is taken. A bound for a broken server, not a measure: a
        // fixed one answers once the body's start deadline (10 s) and idle_timeout_ms
        // have passed, at most.
        let answer = s
            .client
            .get(s.url("/healthz"))
            // Not kept for the next round: the next stuck connection must take the
            // only place, not wait behind this one.
            .header("connection", "close")
            .timeout(Duration::from_secs(40))
            .send()
            .await;
        let answer = answer.unwrap_or_else(|e| panic!("{how}: the connection is held: {e}"));
        assert_eq!(answer.status(), 200, "{how}");
        drop(stuck);
    }
}
