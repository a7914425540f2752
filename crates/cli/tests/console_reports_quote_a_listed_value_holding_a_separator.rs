//! The console's report cells that list values from events joined them with `, ` as
//! they were shown: the one client address "203.0.113.7, 10.0.0.1" read as two, and
//! the error "age=x, expected: number" of 2 queries (`... (2)`) as two errors. A listed
//! value holding `,`, `:`, `(` or `)` is now shown in quotes, as the CLI's tables do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

fn event(n: u64, topic: &str, message: Value) -> String {
    json!({
        "id": new_id(n, 65), "timestamp": Timestamp::now().to_string(), "topic": topic,
        "routingKey": "svc", "node": "node-l", "seq": n, "message": message
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_value_holding_a_separator_is_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let error = json!({"msgType": "prediction-query", "status": "error",
        "error": {"message": "age=x, expected: number"}});
    let body = [
        event(
            1,
            "authfail",
            json!({"msgType": "login-failed", "authUser": "bob",
                "clientIP": "203.0.113.7, 10.0.0.1"}),
        ),
        event(2, "apinode-query", error.clone()),
        event(3, "apinode-query", error),
    ]
    .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("listed-values", "report-status", "loaded"),
    )
    .await;
    let failed = browser.table("#failed-logins-table").await;
    assert_eq!(failed[0][3], "\"203.0.113.7, 10.0.0.1\"", "{failed:?}");
    let api = browser.table("#api-answers-table").await;
    let errors = api[0].last().unwrap();
    assert_eq!(errors, "\"age=x, expected: number\" (2)", "{api:?}");
    browser.close().await;
    server.kill9();
}
