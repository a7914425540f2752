//! The message of `400 invalid_event` gives the position in the body, agreeing with the
//! answer's `line`: before, it gave serde's position inside the one event parsed, so the
//! third line of a JSON-lines body was answered `"line": 3` with a message "... at line
//! 1 column 183", and the second event of an array written on the body's line 2 "at line
//! 1 column N", sending whoever read it (the node's dead-letter cause, the log) to line 1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

/// An event with a routing key no route may have (`..`).
fn bad(seq: u64) -> Value {
    let mut e = event("n1", seq);
    e["routingKey"] = "..".into();
    e
}

async fn refused(s: &TestServer, content_type: &str, body: String) -> Value {
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["error"], "invalid_event", "{answer}");
    answer
}

/// The column (1-based) serde names for the bad routing key of `text`: the closing
/// quote of its value.
fn column_of_the_key(text: &str) -> usize {
    text.find(r#""..""#).unwrap() + r#""..""#.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_names_the_line_and_column_of_the_body() {
    let s = start(STORE).await;
    let third = bad(3).to_string();
    let body = ndjson(&[event("n1", 1), event("n1", 2)]) + &third + "\n";
    let answer = refused(&s, "application/x-ndjson", body).await;
    assert_eq!(answer["line"], 3, "{answer}");
    let message = answer["message"].as_str().unwrap();
    let want = format!(
        " at line 3 column {} of the body",
        column_of_the_key(&third)
    );
    assert!(message.ends_with(&want), "{message}: want {want:?}");

    // An array, its second event on the body's second line, after two spaces.
    let second = bad(2).to_string();
    let body = format!("[{},\n  {second}]", event("n1", 1));
    let answer = refused(&s, "application/json", body).await;
    assert_eq!(answer["index"], 1, "{answer}");
    let message = answer["message"].as_str().unwrap();
    let want = format!(
        " at line 2 column {} of the body",
        2 + column_of_the_key(&second)
    );
    assert!(message.ends_with(&want), "{message}: want {want:?}");
}
