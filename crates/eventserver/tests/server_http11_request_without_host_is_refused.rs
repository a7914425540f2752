//! RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
//! HTTP/1.1 request message that lacks a Host header field". Such a request was
//! answered (`/healthz` 200, a `POST /v1/events` stored). It is now `400 missing_host`
//! with a JSON body, and nothing is stored; HTTP/1.0, which has no such rule, is still
//! answered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http11_without_host_is_400_with_a_json_error_and_http10_is_answered() {
    let s = start(STORE).await;
    let addr = s.running.local_addr();
    let body = ndjson(&[event("nohost", 1)]);
    let post = format!(
        "POST /v1/events HTTP/1.1\r\nContent-Type: application/x-ndjson\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    for request in [
        post.as_str(),
        "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
    ] {
        let answer = exchange(addr, request.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        let json: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(json["error"], "missing_host", "{answer}");
        assert!(
            json["message"].as_str().unwrap().contains("no Host header"),
            "{answer}"
        );
    }
    assert!(stored_ids(&s.store()).is_empty());
    let answer = exchange(addr, b"GET /healthz HTTP/1.0\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
}
