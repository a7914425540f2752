//! An event over 16 KiB reaches the live view as a stub (its envelope, msgType and
//! authUser, with `omittedBytes`): the console's row says it is cut and how large the
//! event is, rather than showing the stub as the whole message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stub_is_said_to_be_cut() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("stub", "tail-status", "live").await;

    let event = json!({
        "id": new_id(1, 49), "timestamp": auditrail::Timestamp::now().to_string(),
        "topic": "generic", "node": "node-s", "seq": 1,
        "message": {"msgType": "upload", "authUser": "bob", "blob": "b".repeat(20_000)}
    })
    .to_string();
    let (status, answer) = post_events(&server.addr, &event, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "stub",
            "the event in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 1",
        )
        .await;
    assert_eq!(
        browser.texts("#tail-body td.message pre").await,
        [r#"{"msgType":"upload","authUser":"bob"}"#]
    );
    let said = browser.texts("#tail-body td.message p.omitted").await;
    assert_eq!(said.len(), 1, "no word that the event is cut");
    assert!(
        said[0].contains(&format!("{} bytes", event.len())),
        "{said:?} (the event is {} bytes)",
        event.len()
    );
    browser.close().await;
    server.kill9();
}
