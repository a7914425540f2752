//! `/v1/recent` answers (up to 1000 kept events of up to 16 KiB: some 16 MB) that their
//! clients do not read are counted in `max_answer_memory_bytes`, as `/v1/query`
//! answers are: one that does not fit beside those held is `503 answer_memory` with
//! `Retry-After`. Before, each was held by its connection, uncounted, for as long as
//! the connection lived: 40 connections that asked and never read grew the server by
//! 670 MB, and `max_connections` of them could take gigabytes, until the OOM killer
//! stopped collection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::time::Duration;

use serve_support::*;

/// 24 MiB: one answer of 1000 events of 15 kB (15 MB) fits, a second does not.
const BUDGET: usize = 24 * 1024 * 1024;
const EVENTS: u64 = 1000;

#[test]
fn an_unread_recent_answer_counts_in_the_budget_and_the_next_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_answer_budget(dir.path(), BUDGET);
    let addr = server.addr.as_str();
    post_padded_logins(addr, EVENTS, 15_000, 0x5eed_0102);

    let (unread, head) = ask_without_reading(addr, "/v1/recent?limit=1000");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let (status, body) = request(addr, "GET", "/v1/recent?limit=1000", &[], b"").unwrap();
    let shown: String = body.chars().take(300).collect();
    assert_eq!(
        status, 503,
        "a second answer of 15 MB was held beside an unread one, past a budget of 24 MiB: {shown}"
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
    // A small answer still fits.
    let (status, body) = request(addr, "GET", "/v1/recent?limit=1", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["count"], 1, "{body}");

    // The reader that did not read goes away: its answer's room comes back.
    drop(unread);
    let until = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = request(addr, "GET", "/v1/recent?limit=1000", &[], b"").unwrap();
        if status == 200 {
            assert!(body.contains("{\"count\":1000,"), "{}", &body[..100]);
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            std::time::Instant::now() < until,
            "the room of a closed connection never came back: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill9();
}
