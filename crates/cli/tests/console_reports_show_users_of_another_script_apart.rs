//! The console's reports show a user name that mixes scripts, or reads as ASCII in
//! another script, with its characters beyond ASCII escaped, as the CLI's tables do:
//! `аdmin` with a Cyrillic `а` (U+0430) is `\u{430}dmin`, and the all-Cyrillic `орѕ`
//! (`ops`) `\u{43e}\u{440}\u{455}`; before, the page showed them exactly like `admin`
//! and `ops`. The server decides (UTS #39, auditrail-query's `lookalikes`) and says so
//! in the answer (`lookalikes`); a name of one script that reads as no ASCII (`Иван`)
//! is shown as it is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_of_another_script_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let now = Timestamp::now().to_string();
    // (the user sent, how the reports show it); each its own node, so that no two
    // share a column's skeleton group by chance of another rule.
    let users = [
        ("\u{430}dmin", "\\u{430}dmin"),
        ("\u{43e}\u{440}\u{455}", "\\u{43e}\\u{440}\\u{455}"),
        (
            "\u{418}\u{432}\u{430}\u{43d}",
            "\u{418}\u{432}\u{430}\u{43d}",
        ),
    ];
    let body = users
        .iter()
        .enumerate()
        .map(|(i, (user, _))| {
            json!({
                "id": new_id(i as u64 + 1, 0x1a39), "timestamp": now, "topic": "generic",
                "node": "node-s", "seq": i + 1,
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
        ("other-script", "report-status", "loaded"),
    )
    .await;
    let mut shown: Vec<String> = browser
        .table("#last-activity-table")
        .await
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    shown.sort();
    let mut want: Vec<String> = users.iter().map(|(_, s)| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(shown, want);
    browser.close().await;
    server.kill9();
}
