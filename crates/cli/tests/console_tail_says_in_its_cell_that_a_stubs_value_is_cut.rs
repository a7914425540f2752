//! A stub (an event over 16 KiB in the live view) holds its authUser cut to 256 bytes.
//! With the tail's cells cut at 200 characters, a 300-character user showed 200 and
//! "… (56 more characters)", and its tooltip, which docs/console.md calls the whole
//! value, held 256: the cell read as if the value had 256 characters. A cut field's
//! cell now says it is cut and how large the whole value is, whatever its length.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stubs_cut_user_is_said_cut_in_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("stubcell", "tail-status", "live").await;

    let long_user = "u".repeat(300);
    let event = json!({
        "id": new_id(1, 50), "timestamp": auditrail::Timestamp::now().to_string(),
        "topic": "generic", "node": "node-s", "seq": 1,
        "message": {"msgType": "upload", "authUser": long_user, "blob": "b".repeat(20_000)}
    })
    .to_string();
    let (status, answer) = post_events(&server.addr, &event, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "stubcell",
            "the event in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 1",
        )
        .await;
    let cell = browser.texts("#tail-body td.f-user").await;
    assert_eq!(
        cell,
        [format!(
            "{}… (cut: the value is 300 bytes; auditrail query events has it whole)",
            "u".repeat(200)
        )]
    );
    // The msgType, short and whole, is shown as it is.
    assert_eq!(browser.texts("#tail-body td.f-msgType").await, ["upload"]);
    browser.close().await;
    server.kill9();
}
