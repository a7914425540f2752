//! A client may shut down its sending side once its request is sent (`nc -N`, `socat`
//! at its input's end, proxies forwarding their client's FIN) and then read the answer
//! (RFC 9112 §9.6). hyper took that end of file for a client gone away: a whole
//! `POST /v1/events` followed by `shutdown(SHUT_WR)` was dropped without an answer, and
//! whether its batch was stored was left to chance (tryout62/05: of 20 such batches
//! none answered, some stored). Each is now answered `200` and stored once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::json;
use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many such requests are sent at once: one alone was sometimes stored and
/// answered before hyper read the end of file; of 20, without the fix, most are not.
const REQUESTS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_requests_sent_then_half_closed_are_answered_and_stored() {
    let s = start(STORE).await;
    let addr = s.running.local_addr();
    let mut ids = Vec::new();
    let mut clients = Vec::new();
    for seq in 1..=REQUESTS as u64 {
        // A body larger than one read, so that the batch is still in progress when
        // hyper looks for the next request.
        let mut e = event("halfclosed", seq);
        e["message"] = json!({"msgType": "login", "pad": "y".repeat(50_000)});
        ids.push(e["id"].as_str().unwrap().to_owned());
        let body = ndjson(&[e]);
        let request = format!(
            "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(request.as_bytes()).await.unwrap();
        c.shutdown().await.unwrap();
        clients.push(c);
    }
    for (i, mut c) in clients.into_iter().enumerate() {
        let mut answer = Vec::new();
        let _ = c.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "request {} of {REQUESTS}, sent whole then half-closed, answered: {answer:?}",
            i + 1
        );
    }
    let stored = stored_ids(&s.store());
    for id in &ids {
        assert_eq!(stored.get(id), Some(&1), "event {id} stored once");
    }
}
