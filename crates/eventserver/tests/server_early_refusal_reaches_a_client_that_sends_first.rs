//! A request refused before its body is read (its declared or actual size, its key,
//! its type) is answered to a client that sends its whole body before reading, as
//! Python's `http.client` and most simple clients do (no `Expect: 100-continue`): the
//! server reads the body first (up to 4 times `max_body_bytes`) and then answers.
//! Before, it answered and closed at once, the kernel reset the connection under the
//! unread bytes, and the client saw a broken pipe: it could not tell a refusal for
//! good from a network error, and retried the same batch for ever.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const MAX_BODY: usize = 4_000_000;
/// Larger than the limit, within what the server reads of a refused body, and more
/// than loopback socket buffers hold (so an unread rest resets the connection).
const SENT: usize = 15_000_000;

const KEYS: &str = r#"
[[keys]]
id = "svc-a"
secret = "secret-of-a"
"#;

/// Sends `head` and then every byte of `body`, and only then reads the answer.
async fn send_all_then_read(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    for part in body.chunks(64 * 1024) {
        s.write_all(part)
            .await
            .unwrap_or_else(|e| panic!("the server stopped reading the body: {e}"));
    }
    read_answer(&mut s).await
}

fn head(extra: &str, length: usize) -> String {
    format!(
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n\
         {extra}Content-Length: {length}\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_size_over_the_limit_is_answered_413() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}")).await;
    let body = vec![b' '; SENT];
    let answer = send_all_then_read(s.running.local_addr(), &head("", SENT), &body).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_answered_413() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}")).await;
    let head =
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    let mut body = Vec::new();
    for _ in 0..SENT / (64 * 1024) {
        body.extend_from_slice(format!("{:x}\r\n", 64 * 1024).as_bytes());
        body.extend_from_slice(&[b' '; 64 * 1024]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let answer = send_all_then_read(s.running.local_addr(), head, &body).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_answered_401_and_a_wrong_type_415() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}{KEYS}")).await;
    let body = vec![b' '; SENT];
    let answer = send_all_then_read(
        s.running.local_addr(),
        &head("Authorization: Bearer not-a-key\r\n", SENT),
        &body,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let typed = format!(
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer secret-of-a\r\n\
         Content-Type: text/plain\r\nContent-Length: {SENT}\r\n\r\n"
    );
    let answer = send_all_then_read(s.running.local_addr(), &typed, &body).await;
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    assert!(stored_ids(&s.store()).is_empty());
}
