//! The console's live tail marks users that look alike (`Iris` and `lris`, one
//! confusable skeleton) as its reports do, by the server's `event: lookalikes`
//! messages: `\u{49}ris` and `\u{6c}ris`. The row shown before its look-alike came is
//! marked when it comes. Before, the tail marked nothing: two rows read `Iris`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_that_look_alike_are_marked_in_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser
        .wait_state("tail-marks", "tail-status", "live")
        .await;

    let now = auditrail::Timestamp::now().to_string();
    let send = |seq: u64, user: &str| {
        let body = json!({
            "id": new_id(seq, 0x1e), "timestamp": now, "topic": "generic",
            "node": "node-m", "seq": seq,
            "message": {"msgType": "login", "authUser": user}
        })
        .to_string();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    };
    send(1, "Iris");
    browser
        .wait_for(
            "tail-marks",
            "the first event in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 1",
        )
        .await;
    assert_eq!(browser.texts("#tail-body td.f-user").await, ["Iris"]);
    send(2, "lris");
    browser
        .wait_for(
            "tail-marks",
            "both events in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 2",
        )
        .await;
    // Newest on top; the first row marked too.
    assert_eq!(
        browser.texts("#tail-body td.f-user").await,
        ["\\u{6c}ris", "\\u{49}ris"]
    );
    browser.close().await;
    server.kill9();
}
