//! An event over 16 KiB reaches the live view as a stub (its envelope, msgType and
//! authUser, with `omittedBytes`): the console's row says it is cut and how large the
//! event is, rather than showing the stub as the whole message; and when the stub holds
//! its authUser or msgType cut (`cutFields`), that only its start is shown.
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

    // A stub of short fields, and one whose authUser it holds cut (to 256 bytes).
    let long_user = "u".repeat(1000);
    let events = [("bob", 1), (long_user.as_str(), 2)].map(|(user, seq)| {
        json!({
            "id": new_id(seq, 49), "timestamp": auditrail::Timestamp::now().to_string(),
            "topic": "generic", "node": "node-s", "seq": seq,
            "message": {"msgType": "upload", "authUser": user, "blob": "b".repeat(20_000)}
        })
        .to_string()
    });
    let (status, answer) = post_events(&server.addr, &events.join("\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "stub",
            "the events in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 2",
        )
        .await;
    // Newest first.
    assert_eq!(
        browser.texts("#tail-body td.message pre").await,
        [
            format!(
                r#"{{"msgType":"upload","authUser":"{}"}}"#,
                &long_user[..256]
            ),
            r#"{"msgType":"upload","authUser":"bob"}"#.to_owned()
        ]
    );
    let said = browser.texts("#tail-body td.message p.omitted").await;
    assert_eq!(said.len(), 2, "no word that the events are cut: {said:?}");
    for (said, event) in said.iter().zip(events.iter().rev()) {
        assert!(
            said.contains(&format!("{} bytes", event.len())),
            "{said:?} (the event is {} bytes)",
            event.len()
        );
    }
    assert!(
        said[0].contains("of authUser (1000 bytes) only the start"),
        "{:?}",
        said[0]
    );
    assert!(!said[1].contains("only the start"), "{:?}", said[1]);
    browser.close().await;
    server.kill9();
}
