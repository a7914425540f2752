//! The live tail opened on 100 kept events shows the newest 50; the tab is hidden, an
//! event comes in, the tab is shown again. The resumed stream asks for up to 500 kept
//! events and so is sent the 50 older ones too: they were never shown because they are
//! older than the oldest row, and must not be drawn above the row that says the stream
//! was interrupted, as if they had been accepted meanwhile. Above it: only the new event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_events_accepted_meanwhile_are_above_the_interruption() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let addr = server.addr.clone();
    let (status, answer) = post_events(&addr, &lines_now("node-o", 1..=100, 51), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let browser = Browser::start().await;
    browser.open(&addr, "/").await;
    browser.wait_state("older", "tail-status", "live").await;
    browser
        .wait_for(
            "older",
            "the newest 50 kept events",
            "document.querySelectorAll('#tail-body tr.event').length === 50",
        )
        .await;

    // A hidden tab gives its stream back, and resumes it when shown (a restarted server
    // keeps no events for the stream to send again, the same server does).
    browser.client.minimize_window().await.unwrap();
    browser.wait_state("older", "tail-status", "hidden").await;
    let (status, answer) = post_events(&addr, &lines_now("node-o", 101..=101, 51), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser.client.maximize_window().await.unwrap();
    browser.wait_state("older", "tail-status", "live").await;
    // The stream sends the kept events before any new one, so once 101 is drawn every
    // older event sent has been drawn or dropped.
    browser
        .wait_for(
            "older",
            "the event sent after the restart",
            "[...document.querySelectorAll('#tail-body td.f-seq')].some(td => td.textContent === '101')",
        )
        .await;
    let rows = browser.table("#tail-table").await;
    // An event row's seq, or the whole text of a notice row (one cell).
    let seqs: Vec<&str> = rows
        .iter()
        .map(|r| r.get(2).unwrap_or(&r[0]).as_str())
        .collect();
    assert_eq!(seqs[0], "101", "{seqs:?}");
    assert!(
        seqs[1].starts_with("Interrupted at ") && seqs[1].contains("resumed at"),
        "the row below the new event says the interruption: {seqs:?}"
    );
    let kept: Vec<String> = (51..=100).rev().map(|s| s.to_string()).collect();
    assert_eq!(seqs[2..], kept, "{seqs:?}");
    browser.close().await;
    server.kill9();
}
