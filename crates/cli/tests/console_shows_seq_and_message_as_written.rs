//! The console shows an event's seq and message as the node wrote them, not as
//! JavaScript numbers and objects would: a seq of 9007199254740993 (above 2^53), a
//! message number 12345678901234567890, 1e400 (beyond a double) and the key "10" after
//! "b" keep their text and order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

const MESSAGE: &str =
    r#"{"msgType":"x","b":1,"10":2,"big":12345678901234567890,"e":1e400,"f":1.50}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seq_and_message_are_shown_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser
        .wait_state("as-written", "tail-status", "live")
        .await;

    let now = auditrail::Timestamp::now().to_string();
    // Written by hand: serde_json would not keep these numbers as they are.
    let event = format!(
        r#"{{"id":"{}","timestamp":"{now}","topic":"generic","node":"node-w","seq":9007199254740993, "message": {MESSAGE}}}"#,
        new_id(1, 48)
    );
    let (status, answer) = post_events(&server.addr, &event, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "as-written",
            "the event in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 1",
        )
        .await;
    assert_eq!(
        browser.texts("#tail-body td.f-seq").await,
        ["9007199254740993"]
    );
    assert_eq!(browser.texts("#tail-body td.message pre").await, [MESSAGE]);
    browser.close().await;
    server.kill9();
}
