//! hyper takes `chunked` off a request body and passes any other transfer coding
//! through. A request with `Transfer-Encoding: gzip, chunked` is refused with `501
//! unsupported_transfer_coding` naming `gzip` (RFC 9112 §6.1), and nothing is stored.
//! Before, the still gzip-coded body reached the ingest as if it were not coded: a real
//! gzip batch was refused as `invalid_event` at line 1, an uncoded one so labelled was
//! stored. `Transfer-Encoding: chunked` alone is served as before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use std::io::Write;

use server_support::*;
use tokio::io::AsyncWriteExt;

/// Sends a chunked `POST /v1/events` with `transfer_encoding` and `body` (one chunk),
/// returns the answer's head and body.
async fn send(s: &TestServer, transfer_encoding: &str, body: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(s.running.local_addr())
        .await
        .unwrap();
    let mut request = format!(
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n\
         Transfer-Encoding: {transfer_encoding}\r\nConnection: close\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    read_answer(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_as_a_transfer_coding_is_501_naming_it() {
    let s = start(STORE).await;
    let plain = ndjson(&[event("n1", 1)]).into_bytes();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gzipped = gz.finish().unwrap();
    for body in [&gzipped, &plain] {
        let answer = send(&s, "gzip, chunked", body).await;
        assert!(answer.starts_with("HTTP/1.1 501"), "{answer}");
        assert!(
            answer.contains("\"error\":\"unsupported_transfer_coding\""),
            "{answer}"
        );
        assert!(
            answer.contains("Transfer-Encoding \\\"gzip\\\""),
            "{answer}"
        );
    }
    assert!(stored_ids(&s.store()).is_empty(), "nothing stored");

    let answer = send(&s, "chunked", &plain).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
