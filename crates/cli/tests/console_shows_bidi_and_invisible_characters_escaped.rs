//! A user name is text a node chooses: "\u{202e}ecila" (RIGHT-TO-LEFT OVERRIDE, then
//! "ecila") reads "alice" on the page, "bob\u{200b}" reads "bob", "bob " too. The
//! console shows such characters escaped, as the CLI does (`\u{202e}`), and a value
//! with spaces at its ends in quotes, in the live tail and in the reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidi_and_invisible_characters_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("bidi", "tail-status", "live").await;

    let now = auditrail::Timestamp::now().to_string();
    let users = ["\u{202e}ecila", "bob\u{200b}", "carol "];
    let body = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            json!({
                "id": new_id(i as u64 + 1, 47), "timestamp": now, "topic": "generic",
                "node": "node-b", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "bidi",
            "the events in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 3",
        )
        .await;
    // Newest on top.
    assert_eq!(
        browser.texts("#tail-body td.f-user").await,
        ["\"carol \"", "bob\\u{200b}", "\\u{202e}ecila"]
    );
    let message = browser.texts("#tail-body td.message pre").await;
    assert_eq!(
        message[2],
        // As sent (serde_json writes keys in order), the character as a JSON escape.
        "{\"authUser\":\"\\u202eecila\",\"msgType\":\"login\"}"
    );

    browser.open(&server.addr, "/#reports").await;
    browser.wait_state("bidi", "report-status", "loaded").await;
    let mut shown: Vec<String> = browser
        .table("#last-activity-table")
        .await
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    shown.sort();
    assert_eq!(shown, ["\"carol \"", "\\u{202e}ecila", "bob\\u{200b}"]);
    browser.close().await;
    server.kill9();
}
