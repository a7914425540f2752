//! `max_connections_per_client`: a client address holding that many connections open
//! gets its next one closed at once, so that its idle sockets cannot take every one of
//! `max_connections` and keep other clients waiting in the listen backlog until one of
//! them times out (`header_read_timeout_ms`). Before, 600 idle connections of one
//! client over the 440 allowed held a node's connection in the backlog. Real sockets on
//! loopback: the hog connects from 127.0.0.2 (also loopback on Linux), the other client
//! from 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::AsyncReadExt;

/// A connection from `from` to `to` that sends nothing.
async fn idle_from(from: &str, to: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_at_its_bound_has_its_next_connection_closed_and_others_are_served() {
    let s = start(&format!(
        "header_read_timeout_ms = 600000\nidle_timeout_ms = 600000\nmax_connections = 3\n\
         max_connections_per_client = 2\n{STORE}"
    ))
    .await;
    let addr = s.running.local_addr();
    let mut hogs = Vec::new();
    for _ in 0..3 {
        hogs.push(idle_from("127.0.0.2", addr).await);
    }
    // The third is closed by the server before it sends anything (a bound for a
    // broken server, not a measure: a fixed one closes it at accept).
    let mut third = hogs.pop().unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(30), third.read(&mut buf))
        .await
        .expect("the connection over the client's bound is closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    // Another client still gets the place left under max_connections.
    let answer = s
        .client
        .get(s.url("/healthz"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("another client is served while the first holds its bound");
    assert_eq!(answer.status(), 200);
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{body}");
    // The two connections within the bound are still open.
    for hog in &mut hogs {
        let r = tokio::time::timeout(Duration::from_millis(200), hog.read(&mut buf)).await;
        assert!(
            r.is_err(),
            "a connection within the bound was closed: {r:?}"
        );
    }
}
