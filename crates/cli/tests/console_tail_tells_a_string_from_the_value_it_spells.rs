//! `authUser` is whatever JSON a node sends: the number 42 and the string "42", null
//! and "null", an object and the string of its JSON, "" and no `authUser` at all. The
//! live tail showed each pair alike (`42` twice), while the server's user filter tells
//! them apart. A string that spells another value, and the empty string, are now shown
//! in quotes; values of other types as their JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_value_is_shown_apart_from_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("spelled", "tail-status", "live").await;

    let now = auditrail::Timestamp::now().to_string();
    // (the value sent, or none; how the tail shows it)
    let users: [(Option<Value>, &str); 9] = [
        (Some(json!(42)), "42"),
        (Some(json!("42")), "\"42\""),
        (Some(Value::Null), "null"),
        (Some(json!("null")), "\"null\""),
        (Some(json!({"a": "b"})), "{\"a\":\"b\"}"),
        (Some(json!("{\"a\":\"b\"}")), "\"{\\\"a\\\":\\\"b\\\"}\""),
        (Some(json!("")), "\"\""),
        (None, ""),
        (Some(json!("alice")), "alice"),
    ];
    let body = users
        .iter()
        .enumerate()
        .map(|(i, (user, _))| {
            let mut message = json!({"msgType": "login"});
            if let Some(user) = user {
                message["authUser"] = user.clone();
            }
            json!({
                "id": new_id(i as u64 + 1, 48), "timestamp": now, "topic": "generic",
                "node": "node-s", "seq": i + 1, "message": message
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "spelled",
            "the events in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 9",
        )
        .await;
    // Newest on top.
    let expected: Vec<&str> = users.iter().rev().map(|(_, shown)| *shown).collect();
    assert_eq!(browser.texts("#tail-body td.f-user").await, expected);
    browser.close().await;
    server.kill9();
}
