//! The console's reports tell a failed login that named no user from the user named
//! "(no user name)" (the page's own words for the first), and show the empty user name
//! `""` as the live tail does: the three were "(no user name)" twice and a blank cell.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

fn event(n: u64, topic: &str, user: Value) -> String {
    json!({
        "id": new_id(n, 64), "timestamp": Timestamp::now().to_string(), "topic": topic,
        "node": "node-u", "seq": n,
        "message": {"msgType": "login-failed", "authUser": user, "clientIP": format!("10.0.0.{n}")}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_user_reads_apart_from_one_named_like_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body = [
        event(1, "authfail", Value::Null),
        event(2, "authfail", json!("(no user name)")),
        event(3, "authfail", json!("")),
        // The same two names active: last activity shows them too.
        event(4, "generic", json!("(no user name)")),
        event(5, "generic", json!("")),
    ]
    .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("missing-user", "report-status", "loaded"),
    )
    .await;
    let mut tried: Vec<String> = browser
        .table("#failed-logins-table")
        .await
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    tried.sort();
    assert_eq!(tried, ["\"\"", "\"(no user name)\"", "(no user name)"]);
    let mut active: Vec<String> = browser
        .table("#last-activity-table")
        .await
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    active.sort();
    assert_eq!(active, ["\"\"", "\"(no user name)\""]);
    browser.close().await;
    server.kill9();
}
