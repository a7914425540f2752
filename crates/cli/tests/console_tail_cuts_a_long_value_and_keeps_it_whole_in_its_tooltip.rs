//! A user name (or any column's value) of thousands of characters was wrapped whole in
//! its narrow column: one row some 4 000 px tall pushed every other event of the live
//! tail out of sight. The tail now shows the first 200 characters of such a value, says
//! how many more there are, and keeps the whole value in the cell's tooltip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_user_name_is_cut_in_its_cell_and_whole_in_its_tooltip() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/").await;
    browser.wait_state("long", "tail-status", "live").await;

    let now = auditrail::Timestamp::now().to_string();
    // 5 000 characters, two of them outside the BMP: the count is of characters, not
    // of JavaScript's UTF-16 units (which would say 4 802 more).
    let long = format!("é{}😀", "u".repeat(4_997)) + "😀";
    let users = [long.as_str(), "alice"];
    let body = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            json!({
                "id": new_id(i as u64 + 1, 48), "timestamp": now, "topic": "generic",
                "node": "node-l", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    browser
        .wait_for(
            "long",
            "the events in the tail",
            "document.querySelectorAll('#tail-body tr.event').length === 2",
        )
        .await;
    // Newest on top: alice, then the long name.
    let shown = browser.texts("#tail-body td.f-user").await;
    assert_eq!(shown[0], "alice");
    let start: String = long.chars().take(200).collect();
    assert_eq!(shown[1], format!("{start}… (4800 more characters)"));
    let tooltips = browser
        .js(
            "return Array.from(document.querySelectorAll('#tail-body td.f-user'))\
             .map((td) => td.getAttribute('title'));",
            vec![],
        )
        .await;
    assert_eq!(tooltips, json!([null, long]));
    // The row of the long name stays about as tall as the other one (a few lines), not
    // the thousands of pixels of the whole name wrapped.
    let heights = browser
        .js(
            "return Array.from(document.querySelectorAll('#tail-body tr.event'))\
             .map((tr) => tr.getBoundingClientRect().height);",
            vec![],
        )
        .await;
    let heights: Vec<f64> = heights
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_f64().unwrap())
        .collect();
    assert!(
        heights[1] < 10.0 * heights[0],
        "the long name's row is {} px tall, the other {} px",
        heights[1],
        heights[0]
    );
    browser.screenshot("console_tail_long_value").await;
    browser.close().await;
    server.kill9();
}
