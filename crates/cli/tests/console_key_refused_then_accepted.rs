//! With stats keys configured, the console asks for one: without a key it says the
//! server needs one, a wrong key is refused with a clear message, and the right one
//! (kept in the tab's sessionStorage, sent as `Authorization: Bearer`) shows the data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

const KEYS: &str = "data_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"event-secret\"\n\
                    [[stats_keys]]\nid = \"ops\"\nsecret = \"stats-secret\"\n\
                    [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_and_the_right_one_works() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), KEYS).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    // Now: inside the reports' default window (24 h).
    let body = serde_json::json!({
        "id": new_id(1, 45), "timestamp": auditrail::Timestamp::now().to_string(),
        "topic": "generic", "node": "node-k", "seq": 1,
        "message": {"msgType": "login", "authUser": "alice"}
    })
    .to_string();
    let (status, answer) = post_events(&server.addr, &body, Some("event-secret")).unwrap();
    assert_eq!(status, 200, "{answer}");

    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    let panel_shown = "!document.getElementById('key-panel').hidden";
    browser
        .wait_for(
            "key",
            "the key form asking for a key",
            &format!(
                "{panel_shown} && document.getElementById('key-message').textContent\
                 .startsWith('This server needs a stats key')"
            ),
        )
        .await;
    browser.screenshot("key-needed").await;

    // An event key is not a stats key.
    browser.type_into("#key-input", "event-secret").await;
    browser.click("#key-submit").await;
    browser
        .wait_for(
            "key",
            "the key refused",
            &format!(
                "{panel_shown} && document.getElementById('key-message').textContent\
                 .startsWith('Key refused (HTTP 401)')"
            ),
        )
        .await;
    assert!(browser.texts("#tail-body tr.event").await.is_empty());
    browser.screenshot("key-refused").await;

    browser.type_into("#key-input", "stats-secret").await;
    browser.click("#key-submit").await;
    browser.wait_state("key", "tail-status", "live").await;
    browser
        .wait_for(
            "key",
            "the stored event in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 1",
        )
        .await;
    assert_eq!(browser.texts("#tail-body td.f-node").await, ["node-k"]);
    assert!(
        browser
            .js(
                "return document.getElementById('key-panel').hidden;",
                vec![]
            )
            .await
            .as_bool()
            .unwrap(),
        "the key form is still shown after the right key"
    );
    // The key survives a reload of the tab (sessionStorage), and reads the reports.
    browser.open(&server.addr, "/#reports").await;
    browser.wait_state("key", "report-status", "loaded").await;
    assert_eq!(browser.table("#node-usage-table").await[0][0], "node-k");
    browser.close().await;
    server.kill9();
}
