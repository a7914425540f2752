//! A `/v1/stream` opened with a backlog (`limit=1000`: up to 1000 kept events of up to
//! 16 KiB, some 16 MB) counts that backlog in `max_answer_memory_bytes` until it is
//! sent, as a `/v1/recent` answer of the same events does: one that does not fit beside
//! those held is `503 answer_memory` with `Retry-After`. Before, a client that opened a
//! stream and never read kept its backlog alive, uncounted, for as long as its
//! connection lived: `max_streams` (128) such streams, some 2 GB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::Read;
use std::time::Duration;

use serve_support::*;

/// 20 MiB: one backlog of 1000 events of 15 kB (15 MB) fits, a second does not, even
/// with the megabytes of the first that the connection has taken.
const BUDGET: usize = 20 * 1024 * 1024;
const EVENTS: u64 = 1000;

#[test]
fn an_unread_stream_backlog_counts_in_the_budget_and_the_next_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_answer_budget(dir.path(), BUDGET);
    let addr = server.addr.as_str();
    post_padded_logins(addr, EVENTS, 15_000, 0x5eed_0103);

    let (unread, head) = ask_without_reading(addr, "/v1/stream?limit=1000");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let (mut refused, head) = ask_without_reading(addr, "/v1/stream?limit=1000");
    assert!(
        head.starts_with("HTTP/1.1 503"),
        "a second backlog of 15 MB was held beside an unread one, past a budget of 20 MiB: \
         {head}"
    );
    let answer = body_after(&mut refused, &head);
    assert_eq!(answer["error"], "answer_memory", "{answer}");
    assert_eq!(answer["retry_after_s"], 1, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("max_answer_memory_bytes"),
        "{answer}"
    );
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{head}"
    );
    drop(refused);

    // A small backlog still fits, and is sent.
    let (mut small, head) = ask_without_reading(addr, "/v1/stream?limit=1");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"clientEvent\"") {
        let n = small.read(&mut buf).unwrap();
        assert!(n > 0, "the stream closed");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(small);

    // The reader that did not read goes away: its backlog's room comes back.
    drop(unread);
    let until = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (mut s, head) = ask_without_reading(addr, "/v1/stream?limit=1000");
        if head.starts_with("HTTP/1.1 200") {
            break;
        }
        let answer = body_after(&mut s, &head);
        assert_eq!(answer["error"], "answer_memory", "{answer}");
        assert!(
            std::time::Instant::now() < until,
            "the room of a closed stream never came back: {answer}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill9();
}
