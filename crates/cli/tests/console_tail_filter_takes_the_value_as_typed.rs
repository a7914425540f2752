//! The console's tail filters are exact matches of the value as typed: a routing key
//! " lead" (a leading space, valid) is found by the filter " lead", and not by "lead".
//! The page trimmed the filter, so it asked for "lead", and an event whose value starts
//! or ends with a space could not be filtered at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

fn event(n: u64, key: &str) -> String {
    json!({
        "id": new_id(n, 65), "timestamp": "2026-11-29T10:00:00.000Z", "topic": "apinode-query",
        "node": "node-k", "seq": n, "routingKey": key, "message": {"msgType": "prediction-query"}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tail_filter_takes_the_value_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body = [event(1, " lead"), event(2, "lead"), event(3, "lead ")].join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/",
        ("filter-typed", "tail-status", "live"),
    )
    .await;
    browser
        .wait_for(
            "filter-typed",
            "the three kept events",
            "document.querySelectorAll('#tail-body tr.event').length === 3",
        )
        .await;
    for (typed, says, seq, shown) in [
        (" lead", "routingKey=\" lead\"", "1", "\" lead\""),
        ("lead", "routingKey=lead", "2", "lead"),
    ] {
        browser.type_into("#f-routingKey", typed).await;
        browser.click("#tail-apply").await;
        browser
            .wait_for(
                "filter-typed",
                &format!("the tail filtered by {typed:?}"),
                &format!(
                    "document.getElementById('tail-status').dataset.state === 'live' \
                     && document.getElementById('tail-status').textContent === {:?} \
                     && document.querySelectorAll('#tail-body tr.event').length > 0",
                    format!("live — {says}")
                ),
            )
            .await;
        assert_eq!(browser.texts("#tail-body tr.event td.f-seq").await, [seq]);
        assert_eq!(
            browser.texts("#tail-body tr.event td.f-routingKey").await,
            [shown]
        );
    }
    browser.close().await;
    server.kill9();
}
