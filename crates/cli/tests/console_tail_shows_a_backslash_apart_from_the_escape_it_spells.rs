//! The console's live tail writes a backslash in a value as `\\`, as the CLI does
//! (`shown.rs`, docs/query.md "Output"): the user "bob" + U+200B is shown `bob\u{200b}`,
//! and the user who typed `bob\u{200b}` (a backslash, `u`, `{`...) `bob\\u{200b}`.
//! Before, a backslash was shown as it is, and both were shown `bob\u{200b}`: a value
//! could spell the escape of another.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backslash_is_shown_apart_from_the_escape_it_spells() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("backslash", "tail-status", "live").await;

    let now = auditrail::Timestamp::now().to_string();
    // (the user sent, how the tail shows it)
    let users = [
        ("bob\u{200b}", "bob\\u{200b}"),
        ("bob\\u{200b}", "bob\\\\u{200b}"),
        ("a\\nb", "a\\\\nb"),
        ("a\nb", "a\\nb"),
    ];
    let body = users
        .iter()
        .enumerate()
        .map(|(i, (user, _))| {
            json!({
                "id": new_id(i as u64 + 1, 53), "timestamp": now, "topic": "generic",
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
            "backslash",
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
