//! A `POST /v1/events` body that cannot be read was answered `400 bad_body` with
//! hyper's outer text alone ("error reading a body from connection"), the same for a
//! body that ends before its Content-Length and a chunked body with an invalid chunk
//! size. The message now says why, and how much of the announced length arrived.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn exchange(addr: std::net::SocketAddr, request: &[u8], half_close: bool) -> String {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(request).await.unwrap();
    if half_close {
        c.shutdown().await.unwrap();
    }
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let json: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap_or_default();
    assert_eq!(json["error"], "bad_body", "{answer}");
    json["message"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_and_a_bad_chunk_size_are_each_named() {
    let s = start(STORE).await;
    let addr = s.running.local_addr();
    let body = ndjson(&[event("cut", 1), event("cut", 2)]);
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let cut = format!("{head}{}", &body[..100]);
    let message = exchange(addr, cut.as_bytes(), true).await;
    assert!(
        message.contains(&format!(
            "cannot be read after 100 bytes of the {} its Content-Length announces",
            body.len()
        )),
        "{message}"
    );
    assert!(message.contains("end of file"), "{message}");
    let chunked = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n\
                   Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n";
    let message = exchange(addr, chunked.as_bytes(), false).await;
    assert!(message.contains("chunk size"), "{message}");
}
