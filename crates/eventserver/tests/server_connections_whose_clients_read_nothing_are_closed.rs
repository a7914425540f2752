//! A client that sends requests and never reads the answers no longer holds its
//! connection for ever: once its answers could not be written for `idle_timeout_ms`
//! (the socket buffers are full), the server closes the connection, and its place under
//! `max_connections` goes to the next client. Before, a request counted as in progress
//! only until its answer was ready, and the idle timeout's graceful close waited for the
//! answers to be written, which never happened: `max_connections` clients that sent
//! pipelined `GET`s (no key needed) and read nothing took every connection, and nodes
//! could no longer send events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::AsyncWriteExt;

/// Opens a connection with a small receive buffer and sends `count` pipelined requests
/// for the console's script (tens of KiB each) from a task of its own, reading nothing:
/// the answers fill the socket buffers long before the last one.
async fn read_nothing(addr: std::net::SocketAddr, count: usize) -> tokio::task::JoinHandle<()> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    tokio::spawn(async move {
        let requests = b"GET /console/console.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(count);
        // The server stops reading once it cannot write: this write may never end, or
        // fail once the connection is closed.
        let _ = stream.write_all(&requests).await;
        // Kept open, unread, until the test ends.
        std::future::pending::<()>().await;
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn their_places_go_to_the_next_clients() {
    let s = start(&format!(
        "idle_timeout_ms = 500\nheader_read_timeout_ms = 500\nmax_connections = 2\n{STORE}"
    ))
    .await;
    let addr = s.running.local_addr();
    let hogs = [read_nothing(addr, 400).await, read_nothing(addr, 400).await];
    // Both connections are taken and stuck. A bound for a broken server, not a measure:
    // a fixed one answers within about 1.25 × idle_timeout_ms.
    let answer = s
        .client
        .get(s.url("/healthz"))
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    let answer = answer.expect("another client is answered once the stuck ones are closed");
    assert_eq!(answer.status(), 200);
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{body}");
    for hog in hogs {
        hog.abort();
    }
}
