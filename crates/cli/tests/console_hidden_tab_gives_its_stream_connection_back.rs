//! A browser opens at most 6 connections to a server over HTTP/1.1, and a live tail's
//! stream holds one: six console windows left in the background kept a seventh from
//! loading the page at all. A hidden console holds no stream: with six of them hidden
//! (minimized), a seventh loads and goes live, and a hidden one resumes when shown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seventh_window_loads_while_six_are_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    let first = browser.client.window().await.unwrap();
    for i in 0..6 {
        if i > 0 {
            let window = browser.client.new_window(false).await.unwrap();
            browser
                .client
                .switch_to_window(window.handle)
                .await
                .unwrap();
        }
        browser.open(&server.addr, "/").await;
        browser.wait_state("hidden", "tail-status", "live").await;
        browser.client.minimize_window().await.unwrap();
        browser.wait_state("hidden", "tail-status", "hidden").await;
    }
    let window = browser.client.new_window(false).await.unwrap();
    browser
        .client
        .switch_to_window(window.handle)
        .await
        .unwrap();
    browser.open(&server.addr, "/").await;
    browser.wait_state("hidden", "tail-status", "live").await;

    // Shown again, the first one follows the stream again.
    browser.client.switch_to_window(first).await.unwrap();
    browser.client.maximize_window().await.unwrap();
    browser.wait_state("hidden", "tail-status", "live").await;
    browser.close().await;
    server.kill9();
}
