//! `POST /v1/query` refused from its head (no stats key: `401`; another type than a
//! form: `415`) or for its size (a form over 1 MiB: `413`) is answered to a client that
//! sends its whole body before reading, as `POST /v1/events` is: the server reads the
//! body first (bounded by 4 times `max_body_bytes`) and then answers. Before, it
//! answered at once, the kernel reset the connection under the unread bytes, and the
//! client saw a broken pipe instead of the refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const MAX_BODY: usize = 4_000_000;
/// Within what the server reads of a refused body, and more than loopback socket
/// buffers hold (so an unread rest resets the connection).
const SENT: usize = 15_000_000;

const KEYS: &str = r#"
[[keys]]
id = "svc-a"
secret = "secret-of-a"
[[stats_keys]]
id = "ops"
secret = "ops-secret"
"#;

/// Sends a `POST /v1/query` head with `extra` headers and `SENT` bytes of form, and
/// only then reads the answer.
async fn send_all_then_read(addr: std::net::SocketAddr, extra: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Content-Length: {SENT}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut body = b"sql=".to_vec();
    body.resize(SENT, b'x');
    for part in body.chunks(64 * 1024) {
        s.write_all(part)
            .await
            .unwrap_or_else(|e| panic!("the server stopped reading the body: {e}"));
    }
    read_answer(&mut s).await
}

const FORM: &str = "Content-Type: application/x-www-form-urlencoded\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stats_key_is_answered_401() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}{KEYS}")).await;
    let addr = s.running.local_addr();
    let answer = send_all_then_read(addr, FORM).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // An event key does not read events.
    let event_key = format!("Authorization: Bearer secret-of-a\r\n{FORM}");
    let answer = send_all_then_read(addr, &event_key).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_type_than_a_form_is_answered_415() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}{KEYS}")).await;
    let typed = "Authorization: Bearer ops-secret\r\nContent-Type: text/plain\r\n";
    let answer = send_all_then_read(s.running.local_addr(), typed).await;
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_over_its_limit_is_answered_413() {
    let s = start(&format!("max_body_bytes = {MAX_BODY}\n{STORE}{KEYS}")).await;
    let keyed = format!("Authorization: Bearer ops-secret\r\n{FORM}");
    let answer = send_all_then_read(s.running.local_addr(), &keyed).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}
