//! Two user names of one script that look alike (UTS #39 confusable skeletons: `Iris`
//! and `lris`, `admin` and `adrnin`) are shown in the console's reports with the
//! characters where they differ escaped, both of them (`\u{49}ris` and `\u{6c}ris`),
//! as the CLI's tables show them: before, the page showed `Iris` and `lris` as two
//! rows a reader takes for one user. A name that looks like no other (`bob`) is shown
//! as it is. The server decides, per column of the answer (`lookalikes`): `lris` as the
//! node of every event, alone in its column, is shown as it is there (before, marks
//! were looked up by value, and the node was shown `\u{6c}ris` as the user was).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_that_look_alike_are_marked_where_they_differ() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let now = Timestamp::now().to_string();
    let users = [
        ("Iris", "\\u{49}ris"),
        ("lris", "\\u{6c}ris"),
        ("admin", "ad\\u{6d}in"),
        ("adrnin", "ad\\u{72}\\u{6e}in"),
        ("bob", "bob"),
    ];
    let body = users
        .iter()
        .enumerate()
        .map(|(i, (user, _))| {
            json!({
                "id": new_id(i as u64 + 1, 0x1a3a), "timestamp": now, "topic": "generic",
                "node": "lris", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("look-alike", "report-status", "loaded"),
    )
    .await;
    let table = browser.table("#last-activity-table").await;
    // USER, LAST ACTIVITY, NODE, ...
    let nodes: Vec<&str> = table.iter().map(|row| row[2].as_str()).collect();
    assert_eq!(nodes, ["lris"; 5], "{table:?}");
    let mut shown: Vec<String> = table.into_iter().map(|row| row[0].clone()).collect();
    shown.sort();
    let mut want: Vec<String> = users.iter().map(|(_, s)| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(shown, want);
    browser.close().await;
    server.kill9();
}
