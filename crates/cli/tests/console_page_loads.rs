//! The web console loads from `auditrail serve` in a real (headless Chromium) browser:
//! its script runs (the live tail connects), and the store view shows the store's
//! chain and last signed checkpoint and the destinations' health.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

const CONFIG: &str = "data_dir = \"data\"\n\
                      [[destinations]]\ntype = \"store\"\nname = \"main-store\"\npath = \"store\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_loads_and_shows_the_store_status() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let body = event_line(&new_id(1, 41), "node-1", 1) + "\n";
    assert_eq!(post_events(&server.addr, &body, None).unwrap().0, 200);

    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    assert_eq!(browser.client.title().await.unwrap(), "auditrail console");
    // The script ran and its stream request was answered.
    browser.wait_state("page", "tail-status", "live").await;
    browser.screenshot("tail-empty").await;

    browser.open(&server.addr, "/#status").await;
    browser.wait_state("page", "status-status", "loaded").await;
    let stores = browser.table("#stores-table").await;
    assert_eq!(stores.len(), 1, "{stores:?}");
    assert_eq!(stores[0][0], "main-store");
    assert_eq!(stores[0][2], "1", "records in the chain: {stores:?}");
    assert!(
        stores[0][3].contains("signed through record 1"),
        "integrity: {stores:?}"
    );
    assert!(stores[0][7].starts_with("ed25519:"), "key: {stores:?}");
    // A server without sources has no partition store: that table is not shown.
    let parts_hidden = browser
        .js(
            "return document.getElementById('partition-stores').hidden;",
            vec![],
        )
        .await;
    assert_eq!(parts_hidden, serde_json::json!(true));
    let destinations = browser.table("#destinations-table").await;
    assert_eq!(destinations[0][0], "main-store");
    assert_eq!(destinations[0][2], "ok", "{destinations:?}");
    browser.screenshot("status").await;
    browser.close().await;
    server.kill9();
}
