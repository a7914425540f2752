//! The console's live tail shows users that only look alike as different cells, by
//! the CLI's rule (`shown.rs`): U+00A0 "bob" and " bob", and "José" in NFC and in NFD
//! (`e` + U+0301), were shown alike (a no-break space was not escaped, and NFD text
//! was shown as it is).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookalike_users_are_shown_apart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("lookalike", "tail-status", "live").await;

    let now = auditrail::Timestamp::now().to_string();
    // (the user sent, how the tail shows it)
    let users = [
        ("Jos\u{e9}", "Jos\u{e9}"),
        ("Jose\u{301}", "Jose\\u{301}"),
        ("\u{a0}bob", "\\u{a0}bob"),
        (" bob", "\" bob\""),
    ];
    let body = users
        .iter()
        .enumerate()
        .map(|(i, (user, _))| {
            json!({
                "id": new_id(i as u64 + 1, 49), "timestamp": now, "topic": "generic",
                "node": "node-l", "seq": i + 1,
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
            "lookalike",
            "the events in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 4",
        )
        .await;
    // Newest on top.
    let expected: Vec<&str> = users.iter().rev().map(|(_, shown)| *shown).collect();
    assert_eq!(browser.texts("#tail-body td.f-user").await, expected);
    browser.close().await;
    server.kill9();
}
