//! A filter of the console's live tail narrows what it shows: with `user = bob`, an
//! event of alice sent before one of bob never appears (the stream delivers events in
//! order, so once bob's is shown, alice's would have been too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

fn event(n: u64, user: &str, topic: &str) -> String {
    json!({
        "id": new_id(n, 43), "timestamp": "2026-11-29T10:00:00.000Z", "topic": topic,
        "node": "node-f", "seq": n, "message": {"msgType": "login", "authUser": user}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_and_topic_filters_narrow_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("filter", "tail-status", "live").await;

    browser.type_into("#f-user", "bob").await;
    browser.type_into("#f-topic", "generic").await;
    browser.click("#tail-apply").await;
    // The new request's answer says which filters it applies.
    browser
        .wait_for(
            "filter",
            "the tail to follow with the filters",
            "document.getElementById('tail-status').dataset.state === 'live' \
             && document.getElementById('tail-status').textContent.includes('user=bob')",
        )
        .await;

    for (n, user, topic) in [
        (1, "alice", "generic"),
        (2, "bob", "authfail"),
        (3, "bob", "generic"),
    ] {
        let (status, answer) = post_events(&server.addr, &event(n, user, topic), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    browser
        .wait_for(
            "filter",
            "bob's generic event in the tail",
            "Array.from(document.querySelectorAll('#tail-body tr.event td.f-seq'))\
             .some(td => td.textContent === '3')",
        )
        .await;
    assert_eq!(browser.texts("#tail-body tr.event td.f-seq").await, ["3"]);
    assert_eq!(
        browser.texts("#tail-body tr.event td.f-user").await,
        ["bob"]
    );
    browser.screenshot("tail-filtered").await;

    // Clearing the filters shows every kept event again (the stream's backlog).
    browser.click("#tail-clear").await;
    browser
        .wait_for(
            "filter",
            "every event after clearing the filters",
            "document.querySelectorAll('#tail-body tr.event').length === 3",
        )
        .await;
    browser.close().await;
    server.kill9();
}
