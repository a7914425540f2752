//! Event fields are written by nodes, so attacker-controlled: the console shows markup
//! in them as text, in the live tail and in the reports, and nothing of it runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

const USER: &str = "<img src=x onerror=\"document.title='pwned'\">";
const MSG_TYPE: &str = "<script>document.title='pwned'</script>";
/// Routing keys may hold anything but `/`, a backslash, NUL and control characters.
const ROUTING_KEY: &str = "<svg onload=\"document.title='pwned'\">";

const CONFIG: &str = "data_dir = \"data\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_event_fields_is_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("hostile", "tail-status", "live").await;

    let now = auditrail::Timestamp::now().to_string();
    let event = json!({
        "id": new_id(1, 46), "timestamp": now, "topic": "generic",
        "routingKey": ROUTING_KEY, "node": "node-h", "seq": 1,
        "message": {"msgType": MSG_TYPE, "authUser": USER, "clientIP": "<b>10.0.0.1</b>"}
    });
    let (status, answer) = post_events(&server.addr, &event.to_string(), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "hostile",
            "the event in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 1",
        )
        .await;
    assert_eq!(browser.texts("#tail-body td.f-user").await, [USER]);
    assert_eq!(browser.texts("#tail-body td.f-msgType").await, [MSG_TYPE]);
    assert_eq!(
        browser.texts("#tail-body td.f-routingKey").await,
        [ROUTING_KEY]
    );
    assert_eq!(
        browser.texts("#tail-body td.f-clientIP").await,
        ["<b>10.0.0.1</b>"]
    );
    let no_markup =
        "document.querySelectorAll('main img, main script, main b, main td svg').length === 0 \
                     && document.title === 'auditrail console'";
    assert_eq!(
        browser.js(&format!("return {no_markup};"), vec![]).await,
        true
    );
    browser.screenshot("hostile-tail").await;

    // The reports show it as text too.
    browser.open(&server.addr, "/#reports").await;
    browser
        .wait_state("hostile", "report-status", "loaded")
        .await;
    let users = browser.table("#last-activity-table").await;
    assert_eq!(users[0][0], USER, "{users:?}");
    assert_eq!(users[0][3], MSG_TYPE, "{users:?}");
    assert_eq!(
        browser.js(&format!("return {no_markup};"), vec![]).await,
        true
    );
    browser.close().await;
    server.kill9();
}
