//! `/v1/checkpoints` answers count in `max_answer_memory_bytes` until their clients have
//! read them, as the other answers of the read endpoints do (`/v1/recent`, `/v1/stats`,
//! `/metrics`, `/v1/query`): one that does not fit beside those held is `503
//! answer_memory` with `Retry-After`. Before, it was the one read endpoint left
//! uncounted. The budget is filled, but for less than a `/v1/checkpoints` answer, by a
//! query answer that its client does not read (its size set to the byte by the
//! length of the value it selects).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::time::{Duration, Instant};

use serve_support::*;

/// 4 MiB: an unread answer of this size stays held (the socket and the connection's
/// buffers take far less of it).
const BUDGET: usize = 4 * 1024 * 1024;

/// The path of `SELECT repeat('x', n) AS v`: an answer of `n` bytes plus its envelope.
fn value_of(n: usize) -> String {
    format!("/v1/query?sql=SELECT%20repeat(%27x%27,%20{n})%20AS%20v")
}

#[test]
fn an_unread_answer_leaving_less_room_than_a_checkpoints_answer_gets_it_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_answer_budget(dir.path(), BUDGET);
    let addr = server.addr.as_str();

    let (status, checkpoints) = request(addr, "GET", "/v1/checkpoints", &[], b"").unwrap();
    assert_eq!(status, 200, "{checkpoints}");
    let (status, probe) = request(addr, "GET", &value_of(10), &[], b"").unwrap();
    assert_eq!(status, 200, "{probe}");
    let envelope = probe.len() - 10;
    // Leaves one byte less than the checkpoints answer takes.
    let filler = BUDGET - (checkpoints.len() - 1) - envelope;
    let (unread, head) = ask_without_reading(addr, &value_of(filler));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let (status, body) = request(addr, "GET", "/v1/checkpoints", &[], b"").unwrap();
    assert_eq!(
        status,
        503,
        "a checkpoints answer of {} bytes was held beside an unread one that left {} of \
         the {BUDGET} bytes: {body}",
        checkpoints.len(),
        checkpoints.len() - 1
    );
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "answer_memory", "{body}");
    assert_eq!(answer["retry_after_s"], 1, "{body}");

    // The reader that did not read goes away: its answer's room comes back.
    drop(unread);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = request(addr, "GET", "/v1/checkpoints", &[], b"").unwrap();
        if status == 200 {
            assert_eq!(body, checkpoints);
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            Instant::now() < until,
            "the room of a closed connection never came back: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill9();
}
