//! `/v1/query` answers that their clients do not read stay held in the server, after the
//! query's turn has ended; all of them together stay within `max_answer_memory_bytes`.
//! An answer that does not fit beside those held is answered `503 answer_memory` with
//! `Retry-After`, one that fits (a small one) is answered, and the room comes back when
//! the clients that did not read go away.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serve_support::*;

/// 25 MiB: two answers of [`LARGE`] fit, a third does not.
const BUDGET: usize = 25 * 1024 * 1024;
/// About 10 MB of JSON: more than the kernel's socket buffers take from a server whose
/// client does not read, so the server keeps most of it.
const LARGE: &str = "/v1/query?limit=10000&sql=SELECT%20repeat('x'%2C%201000)%20AS%20a%2C%20N%20AS%20n%20FROM%20generate_series(1%2C%2010000)";

fn large(n: u32) -> String {
    LARGE.replace("%20N%20", &format!("%20{n}%20"))
}

/// The start of an answer, for a failure's message (a large answer would flood it).
fn head(body: &str) -> String {
    body.chars().take(300).collect()
}

/// Asks `path` and reads only the answer's head: the body stays unread.
fn ask_without_reading(addr: &str, path: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "the connection closed");
        head.push(byte[0]);
    }
    (s, String::from_utf8_lossy(&head).into_owned())
}

#[test]
fn unread_answers_stay_within_the_budget_and_the_next_large_one_is_refused_until_room_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\nmax_answer_memory_bytes = {BUDGET}\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n"
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let addr = server.addr.as_str();

    let mut unread = Vec::new();
    for n in 1..=2 {
        let (socket, head) = ask_without_reading(addr, &large(n));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        unread.push(socket);
    }

    let (status, body) = request(addr, "GET", &large(3), &[], b"").unwrap();
    assert_eq!(
        status,
        503,
        "a third large answer was held beside two unread ones: {}",
        head(&body)
    );
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "answer_memory", "{body}");
    assert_eq!(answer["retry_after_s"], 1, "{body}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("max_answer_memory_bytes"),
        "{body}"
    );
    let (status, body) =
        request(addr, "GET", "/v1/query?sql=SELECT%201%20AS%20one", &[], b"").unwrap();
    assert_eq!(status, 200, "a small answer that fits was refused: {body}");

    // The clients that did not read go away: their answers' room comes back.
    drop(unread);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = request(addr, "GET", &large(4), &[], b"").unwrap();
        if status == 200 {
            assert!(body.contains("\"count\":10000"), "{}", head(&body));
            break;
        }
        assert_eq!(status, 503, "{}", head(&body));
        assert!(
            Instant::now() < until,
            "the room of closed connections never came back: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill9();
}
