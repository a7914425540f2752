//! The console's reports say when events gave an `authUser` that is no string (`42`):
//! no user name, so such events were missing from last activity and from node usage's
//! user counts, and their failed logins shown under "(no user name)", without a word.
//! The server's answers count them (`invalidValues`); the page says so under each table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

fn event(n: u64, topic: &str, user: Value) -> String {
    json!({
        "id": new_id(n, 65), "timestamp": Timestamp::now().to_string(), "topic": topic,
        "node": "node-u", "seq": n, "message": {"msgType": "login", "authUser": user}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_say_which_user_names_they_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body = [
        event(1, "generic", json!("alice")),
        event(2, "generic", json!(42)),
        event(3, "authfail", json!(42)),
    ]
    .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("users-left-out", "report-status", "loaded"),
    )
    .await;
    assert_eq!(
        browser.texts("#last-activity-left-out").await,
        [
            "1 event left out: their authUser is no string (a number, an object), so no user \
          name (docs/query.md)"
        ]
    );
    assert_eq!(
        browser.texts("#failed-logins-left-out").await,
        [
            "1 failed login gave an authUser that is no string (a number, an object): counted \
          under (no user name), the name given left out (docs/query.md)"
        ]
    );
    assert_eq!(
        browser.texts("#node-usage-left-out").await,
        [
            "1 authUser value left out of users as no user name (no string: a number, an \
          object): node-u 1 (docs/query.md)"
        ]
    );
    let shown = browser
        .js(
            "return ['last-activity-left-out', 'failed-logins-left-out', 'node-usage-left-out']\
             .map(id => !document.getElementById(id).hidden);",
            vec![],
        )
        .await;
    assert_eq!(shown, json!([true, true, true]));
    browser.close().await;
    server.kill9();
}
