//! `/metrics` answers (the series of up to 1000 nodes and 1000 topics: some MB), asked
//! without a key by default, count in `max_answer_memory_bytes` until their clients have
//! read them, as `/v1/stats` answers do: one that does not fit beside those held is `503
//! answer_memory` with `Retry-After`. Before, each was held by its connection,
//! uncounted, for as long as its client did not read it: `max_connections` (512)
//! scrapers that never read, a gigabyte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

/// 4 MiB: about two answers of 1000 nodes with ids of 128 characters.
const BUDGET: usize = 4 * 1024 * 1024;
const NODES: u64 = 1000;

#[test]
fn unread_metrics_answers_count_in_the_budget_and_one_beyond_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_answer_budget(dir.path(), BUDGET);
    let addr = server.addr.as_str();
    // One event from each of 1000 nodes, whose ids are as long as ids may be.
    let batch: Vec<String> = (1..=NODES)
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, 0x5eed_0104), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "node": format!("node-{n:0>123}"), "seq": 1,
                "message": {"msgType": "login"}
            })
            .to_string()
        })
        .collect();
    let (status, body) = post_events(addr, &batch.join("\n"), None).unwrap();
    assert_eq!(status, 200, "{body:?}");

    // Read whole, an answer gives its room back.
    let (status, whole) = request(addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200, "{whole}");
    let size = whole.len();
    assert!(
        size > 1024 * 1024,
        "the answer ({size} bytes) is too small for this test"
    );

    // Never read: enough of them to take the budget three times over.
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..(3 * BUDGET / size + 1) {
        let (mut s, head) = ask_without_reading(addr, "/metrics");
        if head.starts_with("HTTP/1.1 503") {
            refused = Some(body_after(&mut s, &head));
            break;
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        held.push(s);
    }
    let answer = refused.unwrap_or_else(|| {
        panic!(
            "{} answers of {size} bytes were held for clients that read none of them, past \
             a budget of {BUDGET} bytes",
            held.len()
        )
    });
    assert_eq!(answer["error"], "answer_memory", "{answer}");
    assert_eq!(answer["retry_after_s"], 1, "{answer}");
    assert!(
        held.len() * size <= BUDGET,
        "{} answers of {size} bytes were held, past {BUDGET}",
        held.len()
    );

    // The readers that did not read go away: their room comes back.
    drop(held);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, body) = request(addr, "GET", "/metrics", &[], b"").unwrap();
        if status == 200 {
            assert!(body.contains("auditrail_server_nodes"), "{}", &body[..200]);
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            std::time::Instant::now() < until,
            "the room of closed connections never came back: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    server.kill9();
}
