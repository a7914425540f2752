//! The console's live tail (the server's `/v1/stream`, read by the page's script) shows
//! an event accepted after the page opened, without reloading the page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_sent_after_the_page_opened_appears_in_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    // Live: the server answered the stream request, so it follows new events from here.
    browser.wait_state("tail", "tail-status", "live").await;
    assert!(browser.texts("#tail-body tr.event").await.is_empty());

    let event = json!({
        "id": new_id(1, 42), "timestamp": "2026-11-29T10:00:00.000Z", "topic": "generic",
        "routingKey": "svc-late", "node": "node-late", "seq": 1,
        "message": {"msgType": "dataset-read-data", "authUser": "carol", "clientIP": "10.1.2.3"}
    });
    let (status, answer) = post_events(&server.addr, &event.to_string(), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    browser
        .wait_for(
            "tail",
            "the event in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 1",
        )
        .await;
    let row = &browser.table("#tail-table").await[0];
    assert_eq!(
        row[..8],
        [
            "2026-11-29T10:00:00.000Z",
            "node-late",
            "1",
            "generic",
            "svc-late",
            "dataset-read-data",
            "carol",
            "10.1.2.3"
        ]
    );
    assert!(row[8].contains("\"authUser\":\"carol\""), "{row:?}");
    browser.screenshot("tail").await;
    browser.close().await;
    server.kill9();
}
