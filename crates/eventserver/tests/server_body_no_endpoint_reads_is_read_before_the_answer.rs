//! A request with a body its endpoint does not read — `GET /v1/query?sql=...` or `GET
//! /v1/stats` sent with one, `PUT /v1/query` (`405`), `POST` to an unknown path (`404`)
//! — is answered to a client that sends its whole body before reading: the server
//! reads the body (bounded by 4 times `max_body_bytes`, as a refused ingest body) and
//! then answers. Before, it answered at once and the kernel reset the connection under
//! the unread bytes: the client saw a broken pipe, not the answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::{start, STORE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_BODY: usize = 4_000_000;
/// Within what the server reads of a body, and more than loopback socket buffers hold
/// (so an unread rest resets the connection).
const SENT: usize = 15_000_000;

/// Sends `method path` with `SENT` bytes of body, and only then reads the answer.
async fn send_all_then_read(addr: std::net::SocketAddr, method: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {SENT}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let body = vec![b' '; SENT];
    for part in body.chunks(64 * 1024) {
        s.write_all(part).await.unwrap_or_else(|e| {
            panic!("{method} {path}: the server stopped reading the body: {e}")
        });
    }
    // Read to the end (`Connection: close`): a query's answer is chunked.
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_is_answered_after_its_body() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}")).await;
    let addr = s.running.local_addr();
    for (method, path, status) in [
        ("GET", "/v1/query?sql=SELECT+1+AS+one", "HTTP/1.1 200"),
        ("GET", "/v1/stats", "HTTP/1.1 200"),
        ("PUT", "/v1/query", "HTTP/1.1 405"),
        ("POST", "/v1/nosuch", "HTTP/1.1 404"),
    ] {
        let answer = send_all_then_read(addr, method, path).await;
        assert!(answer.starts_with(status), "{method} {path}: {answer}");
    }
}

/// A client that asks to continue (`Expect: 100-continue`) has sent no body yet: it
/// gets the final answer at once, not a `100 Continue` inviting the upload of a body
/// nobody reads (before any authentication).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_asks_to_continue_is_not_invited_to_send_it() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}")).await;
    let addr = s.running.local_addr();
    let mut c = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/nosuch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Expect: 100-continue\r\nConnection: close\r\nContent-Length: {SENT}\r\n\r\n"
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 64];
    let n = c.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}
