//! Every `413 payload_too_large` said "the body exceeds the limit of N bytes (after
//! decompression)", also for a body never compressed and for one refused from its
//! Content-Length alone. The message now says what was over the limit: the declared
//! Content-Length, the body as sent, or the body once decompressed (and only then).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use crate::server_support;

use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn message_of(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 413);
    let json: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(json["error"], "payload_too_large", "{json}");
    json["message"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_413_names_the_declared_length_the_body_as_sent_or_decompressed() {
    let s = start(&format!("max_body_bytes = 100000\n{STORE}")).await;
    let post = || {
        s.client
            .post(s.url("/v1/events"))
            .header("content-type", "application/x-ndjson")
    };

    let message = message_of(post().body(vec![b'\n'; 200_000]).send().await.unwrap()).await;
    assert!(
        message.starts_with(
            "the body's Content-Length (200000 bytes) exceeds the limit of 100000 bytes"
        ),
        "{message}"
    );

    // Chunked: no length announced; the body as sent goes over.
    let mut c = TcpStream::connect(s.running.local_addr()).await.unwrap();
    let mut request =
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n\
                        Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec();
    for _ in 0..4 {
        request.extend_from_slice(format!("{:x}\r\n", 50_000).as_bytes());
        request.extend_from_slice(&[b'\n'; 50_000]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let _ = c.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("the body as sent ("), "{answer}");
    assert!(!answer.contains("decompress"), "{answer}");

    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![b'\n'; 5_000_000]).unwrap();
    let gz = enc.finish().unwrap();
    let resp = post()
        .header("content-encoding", "gzip")
        .body(gz)
        .send()
        .await
        .unwrap();
    let message = message_of(resp).await;
    assert!(
        message.starts_with("the body once decompressed (gzip: more than 100000 bytes)"),
        "{message}"
    );
}
