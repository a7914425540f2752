//! Every connection `max_connections_per_client` closes at accept is counted in
//! `auditrail_server_connections_refused_total{reason="max_connections_per_client"}`,
//! with no label per client (the log's warning names the address, at most every
//! 10 s). Before, nothing but that rate-limited warning said a client was refused, so a
//! monitor could not see a hog, or a bound set too low for clients behind one NAT
//! address. Real sockets on loopback: the refused client connects from 127.0.0.2, the
//! scrape from 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::AsyncReadExt;

const FAMILY: &str = "auditrail_server_connections_refused_total";

/// A connection from `from` to `to` that sends nothing.
async fn idle_from(from: &str, to: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_connection_closed_for_the_per_client_bound_is_counted_by_reason() {
    let s = start(&format!(
        "header_read_timeout_ms = 600000\nidle_timeout_ms = 600000\n\
         max_connections_per_client = 1\n{STORE}"
    ))
    .await;
    let addr = s.running.local_addr();
    let _held = idle_from("127.0.0.2", addr).await;
    for _ in 0..2 {
        let mut over = idle_from("127.0.0.2", addr).await;
        let mut buf = [0u8; 16];
        // Closed by the server at accept (a bound for a broken server, not a measure).
        let read = tokio::time::timeout(Duration::from_secs(30), over.read(&mut buf))
            .await
            .expect("the connection over the client's bound is closed");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    let text = metrics_text(&s).await;
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(FAMILY)).collect();
    assert_eq!(
        lines,
        vec![format!("{FAMILY}{{reason=\"max_connections_per_client\"}} 2").as_str()],
        "{text}"
    );
}
