//! The window of events a `/v1/stream` finds look-alikes in (`event: lookalikes`, held
//! for as long as the stream runs: up to 1 MiB) counts in `max_answer_memory_bytes`:
//! 64 KiB when the stream opens, refused `503 answer_memory` with `Retry-After` as an
//! answer beyond the budget is, more as it fills while the budget has room, and when it
//! has none the window keeps to the room it has (its oldest events leave it); all of it
//! comes back when the stream ends. Before, the windows were counted nowhere: a client
//! opening `max_streams` streams held hundreds of megabytes past the operator's bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use serve_support::*;

/// Room for one window's first 64 KiB, not for a second, nor for the first to grow.
const BUDGET: usize = 100 * 1024;

/// A login of `user` with a routing key and client address of its own.
fn login(n: u64, user: &str) -> String {
    json!({
        "id": new_id(n, 0x100c_a11e), "timestamp": "2026-12-08T10:00:00.000Z",
        "topic": "generic", "node": "n1", "seq": n, "routingKey": format!("key-{n:06}"),
        "message": {"msgType": "login", "authUser": user, "clientIP": format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255)}
    })
    .to_string()
}

/// What the stream `s` sent until `needle` (bounded wait).
fn read_until(s: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = s.read(&mut buf).expect("the stream sent nothing for 60 s");
        assert!(
            n > 0,
            "the stream closed: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn a_streams_lookalike_window_is_counted_refused_beyond_the_budget_and_given_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_answer_budget(dir.path(), BUDGET);
    let addr = server.addr.as_str();

    let (mut first, head) = ask_without_reading(addr, "/v1/stream");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // The first stream's window holds 64 KiB of the 100 KiB: no room for a second.
    let (mut refused, head) = ask_without_reading(addr, "/v1/stream");
    assert!(
        head.starts_with("HTTP/1.1 503"),
        "a second stream's look-alike window was held past the budget: {head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{head}"
    );
    let answer = body_after(&mut refused, &head);
    assert_eq!(answer["error"], "answer_memory", "{answer}");
    assert_eq!(answer["retry_after_s"], 1, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("look-alike window") && message.contains("max_answer_memory_bytes"),
        "{answer}"
    );
    drop(refused);

    // The first window cannot grow past its 64 KiB: with 300 events of distinct values
    // between them, `Iris` left it before `lris` came, and no look-alike is said.
    let mut events = vec![login(1, "Iris")];
    events.extend((2..302).map(|n| login(n, &format!("user-{n:06}"))));
    events.push(login(302, "lris"));
    for batch in events.chunks(100) {
        assert_eq!(post_events(addr, &batch.join("\n"), None).unwrap().0, 200);
    }
    let sent = read_until(&mut first, r#""authUser":"lris""#);
    assert!(
        !sent.contains("event: lookalikes"),
        "a window kept to 64 KiB still held `Iris` 300 events later"
    );

    // The stream ends: its window's room comes back, and a new stream opens.
    drop(first);
    let until = Instant::now() + Duration::from_secs(60);
    let mut next = loop {
        let (mut s, head) = ask_without_reading(addr, "/v1/stream");
        if head.starts_with("HTTP/1.1 200") {
            break s;
        }
        let answer = body_after(&mut s, &head);
        assert_eq!(answer["error"], "answer_memory", "{answer}");
        assert!(
            Instant::now() < until,
            "the room of an ended stream's window never came back: {answer}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // Look-alikes close together fit in the room it has, and are said.
    let pair = [login(303, "Iris"), login(304, "lris")];
    assert_eq!(post_events(addr, &pair.join("\n"), None).unwrap().0, 200);
    let sent = read_until(&mut next, r#""seq":304"#);
    assert!(
        sent.contains("event: lookalikes")
            && sent.contains(
                r#"{"column":".clientEvent.message.authUser","value":"lris","escaped":[0]}"#
            ),
        "{sent}"
    );
    server.kill9();
}
