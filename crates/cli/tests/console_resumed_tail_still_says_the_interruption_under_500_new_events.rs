//! The live tail shows 3 events; the tab is hidden, 600 events come in, the tab is shown
//! again. The page keeps the newest 500 events, so the 3 old rows go; the row saying the
//! stream was interrupted stays, below the 500 (it was dropped with the oldest events
//! waiting to be drawn, and the page then showed 500 rows with nothing saying that some
//! events between them and the old ones may be missing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interruption_row_stays_below_the_newest_500() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let addr = server.addr.clone();
    let (status, answer) = post_events(&addr, &lines_now("node-m", 1..=3, 52), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let browser = Browser::start().await;
    browser.open(&addr, "/").await;
    browser.wait_state("many", "tail-status", "live").await;
    browser
        .wait_for(
            "many",
            "the first events",
            "document.querySelectorAll('#tail-body tr.event').length === 3",
        )
        .await;

    browser.client.minimize_window().await.unwrap();
    browser.wait_state("many", "tail-status", "hidden").await;
    let (status, answer) = post_events(&addr, &lines_now("node-m", 4..=603, 52), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser.client.maximize_window().await.unwrap();
    browser.wait_state("many", "tail-status", "live").await;
    // The newest event comes last in the stream: once it is drawn, all are.
    browser
        .wait_for(
            "many",
            "the newest event",
            "[...document.querySelectorAll('#tail-body td.f-seq')].some(td => td.textContent === '603')",
        )
        .await;
    let rows = browser.table("#tail-table").await;
    let seqs: Vec<&str> = rows
        .iter()
        .map(|r| r.get(2).unwrap_or(&r[0]).as_str())
        .collect();
    let newest: Vec<String> = (104..=603).rev().map(|s| s.to_string()).collect();
    assert_eq!(seqs.len(), 501, "{seqs:?}");
    assert_eq!(seqs[..500], newest, "{seqs:?}");
    assert!(
        seqs[500].starts_with("Interrupted at ") && seqs[500].contains("resumed at"),
        "the last row says the interruption: {seqs:?}"
    );
    browser.close().await;
    server.kill9();
}
