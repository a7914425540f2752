//! The server restarts while the live tail is open: the page keeps the rows it showed,
//! reconnects, shows the new events above them, and says in a row between them that the
//! stream was interrupted (what was accepted meanwhile is shown only as far as the
//! server still keeps it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_kept_across_a_restart_and_the_interruption_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let addr = server.addr.clone();
    let browser = Browser::start().await;
    browser.open(&addr, "/").await;
    browser.wait_state("resume", "tail-status", "live").await;
    let (status, answer) = post_events(&addr, &lines_now("node-r", 1..=3, 50), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "resume",
            "the first events",
            "document.querySelectorAll('#tail-body tr.event').length === 3",
        )
        .await;

    assert_eq!(server.terminate(), 0);
    browser
        .wait_state("resume", "tail-status", "retrying")
        .await;
    let server = start_with_env(dir.path(), &["--data-dir", "data", "--listen", &addr], &[]);
    let (status, answer) = post_events(&addr, &lines_now("node-r", 4..=4, 50), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "resume",
            "the event sent after the restart",
            "document.querySelectorAll('#tail-body tr.event').length === 4",
        )
        .await;
    let rows = browser.table("#tail-table").await;
    // An event row's seq, or the whole text of a notice row (one cell).
    let seqs: Vec<&str> = rows
        .iter()
        .map(|r| r.get(2).unwrap_or(&r[0]).as_str())
        .collect();
    assert_eq!(seqs[0], "4", "{rows:?}");
    assert!(
        seqs[1].starts_with("Interrupted at ") && seqs[1].contains("resumed at"),
        "{rows:?}"
    );
    assert_eq!(seqs[2..], ["3", "2", "1"], "{rows:?}");
    browser.screenshot("tail-resumed").await;
    browser.close().await;
    server.kill9();
}
