//! An event written as a JSON array of its field values in a row (serde's sequence form
//! of the server's own struct) was accepted, stored and signed as an object the client
//! never sent; one of the wrong length was refused naming an internal type (`expected
//! struct Wire with 8 elements`). docs/protocol.md defines an event as an object only:
//! each is refused `400 invalid_event` saying so, as a JSON line and inside an array
//! body, and nothing is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

use crate::server_support;

use server_support::*;

/// The values of `event(node, seq)` in the order of the server's fields.
fn positional(node: &str, seq: u64) -> Value {
    let e = event(node, seq);
    serde_json::json!([
        e["id"],
        e["timestamp"],
        e["topic"],
        null,
        node,
        seq,
        null,
        e["message"]
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_as_an_array_is_refused_as_a_line_and_inside_an_array_body() {
    let s = start(STORE).await;
    let short = serde_json::json!(["a", "b", "c", "d"]);
    for item in [positional("arr", 1), short] {
        let (status, _, answer) = post(&s, format!("{item}\n"), None).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "invalid_event", "{answer}");
        assert_eq!(answer["line"], 1, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("an event must be a JSON object, not an array"),
            "{message}"
        );
        assert!(!message.contains("struct"), "{message}");

        let resp = s
            .client
            .post(s.url("/v1/events"))
            .header("content-type", "application/json")
            .body(format!("[{item}]"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400);
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_event", "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("an event must be a JSON object, not an array"),
            "{message}"
        );
    }
    assert!(stored_ids(&s.store()).is_empty());
}
