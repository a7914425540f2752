//! A `/v1/recent` answer larger than the whole of `max_answer_memory_bytes` is refused
//! saying what the reader can change: a smaller `limit`, or the setting. Before, the
//! refusal said, for every endpoint, to "ask fewer rows (limit) or fewer columns", a
//! query's words: `/v1/recent` has no columns to ask fewer of.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

/// 64 KiB: less than 10 events of 15 kB.
const BUDGET: usize = 64 * 1024;

#[test]
fn a_recent_answer_larger_than_the_budget_is_refused_asking_a_smaller_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_answer_budget(dir.path(), BUDGET);
    let addr = server.addr.as_str();
    post_padded_logins(addr, 10, 15_000, 0x5eed_0105);

    let (status, body) = request(addr, "GET", "/v1/recent?limit=10", &[], b"").unwrap();
    let shown: String = body.chars().take(300).collect();
    assert_eq!(status, 400, "{shown}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("a smaller limit") && message.contains("raise max_answer_memory_bytes"),
        "{body}"
    );
    assert!(!message.contains("columns"), "{body}");

    // As the refusal says: a smaller limit is answered.
    let (status, body) = request(addr, "GET", "/v1/recent?limit=2", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["count"], 2, "{body}");
    server.kill9();
}
