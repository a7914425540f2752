//! Requests whose head the HTTP layer (hyper) cannot parse are refused before they
//! reach the server's handlers: a malformed header line, a `Content-Length` that is not
//! a number or is sent twice with different values (400), a target over 65 534 bytes
//! (414), more header fields than are read (431). Their answers carry the JSON error
//! body every answer has (`{"error", "message"}`), with a `content-type`, on a fresh
//! connection and after a first request answered on a kept-alive one. (They were empty:
//! a node's dead letter read `HTTP 400 Bad Request from ...: ` and told nothing.)

use crate::server_support;

use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `request` and reads until the server closes the connection.
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(60), s.read_to_end(&mut out))
        .await
        .expect("the server closes the connection after its refusal")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The last answer of `answers` (several on a kept-alive connection): its status line
/// and its body, parsed.
fn last_answer(answers: &str) -> (String, serde_json::Value) {
    // A status line: `HTTP/1.1 ` and a digit (a message may say `HTTP/1.1 (RFC 9112)`).
    let start = answers
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| i)
        .filter(|&i| answers[i + 9..].starts_with(|c: char| c.is_ascii_digit()))
        .last()
        .unwrap_or_else(|| panic!("no answer: {answers:?}"));
    let (head, body) = answers[start..]
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head: {answers:?}"));
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\ncontent-type: application/json"),
        "{head}"
    );
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(length, body.len(), "{answers}");
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{body:?}: {e}"));
    (head.lines().next().unwrap().to_owned(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_of_the_http_parser_has_a_json_body_naming_the_cause() {
    let s = start(STORE).await;
    let addr = s.running.local_addr();
    let many_headers: Vec<u8> = (0..200)
        .flat_map(|i| format!("X-H{i}: v\r\n").into_bytes())
        .collect();
    let long_target = format!(
        "GET /healthz?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    let cases: Vec<(Vec<u8>, &str, &str, &str)> = vec![
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
            "bad_request",
            "malformed request line or header field",
        ),
        (
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
            "bad_request",
            "Content-Length",
        ),
        (
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
                .to_vec(),
            "HTTP/1.1 400 Bad Request",
            "bad_request",
            "Content-Length",
        ),
        (
            long_target.into_bytes(),
            "HTTP/1.1 414 URI Too Long",
            "uri_too_long",
            "65534 bytes",
        ),
        (
            [
                &b"GET /healthz HTTP/1.1\r\nHost: x\r\n"[..],
                &many_headers,
                b"\r\n",
            ]
            .concat(),
            "HTTP/1.1 431 Request Header Fields Too Large",
            "headers_too_large",
            "more fields",
        ),
    ];
    for (request, status, code, says) in cases {
        let answer = exchange(addr, &request).await;
        let (status_line, body) = last_answer(&answer);
        assert_eq!(status_line, status, "{answer}");
        assert_eq!(body["error"], code, "{answer}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_parser_refuses_after_one_answered_on_the_same_connection_is_explained() {
    let s = start(STORE).await;
    let answers = exchange(
        s.running.local_addr(),
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
    )
    .await;
    assert!(answers.starts_with("HTTP/1.1 200 OK\r\n"), "{answers}");
    let (status_line, body) = last_answer(&answers);
    assert_eq!(status_line, "HTTP/1.1 400 Bad Request", "{answers}");
    assert_eq!(body["error"], "bad_request", "{answers}");
}
