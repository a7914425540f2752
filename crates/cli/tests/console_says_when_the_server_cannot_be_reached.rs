//! The server stops while the console is open. The reports and status views said only
//! the browser's "Failed to fetch", above the status tables of before (a destination's
//! health "ok"): now they say that the server cannot be reached, as the live tail does,
//! and, when tables of an earlier answer are still shown, when that answer was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_and_status_say_the_server_is_unreachable_and_how_old_their_tables_are() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/#status").await;
    browser
        .wait_state("unreachable", "status-status", "loaded")
        .await;
    server.kill9();

    browser.js("location.hash = '#reports';", vec![]).await;
    browser
        .wait_state("unreachable", "report-status", "failed")
        .await;
    let reports = browser.texts("#report-status").await.concat();
    assert!(
        reports.starts_with("cannot reach the server: "),
        "{reports}"
    );
    assert!(
        !reports.contains("what is shown below"),
        "nothing was shown: {reports}"
    );

    browser.js("location.hash = '#status';", vec![]).await;
    browser
        .wait_state("unreachable", "status-status", "failed")
        .await;
    let status = browser.texts("#status-status").await.concat();
    assert!(
        status.starts_with("cannot reach the server: ")
            && status.contains("(what is shown below is the answer of "),
        "{status}"
    );
    browser.close().await;
}
