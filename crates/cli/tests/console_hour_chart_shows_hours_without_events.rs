//! The console's events-per-hour chart has a column for every hour of the window, those
//! without events too: the server answers only hours with events, and the chart drew
//! those side by side, so a node that sent events 6 hours ago and 1 hour ago (and none
//! between: collection down) showed two adjacent columns and no sign of the outage. A run
//! of more than 24 such hours is one shaded column saying how many.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::json;
use serve_support::*;

const HOUR: i64 = 3_600_000;

fn event(n: u64, ms: i64) -> String {
    json!({
        "id": new_id(n, 62), "timestamp": Timestamp::from_unix_millis(ms).unwrap().to_string(),
        "topic": "generic", "node": "node-h", "seq": n,
        "message": {"msgType": "login", "authUser": "alice"}
    })
    .to_string()
}

/// `[label, total]` of each column of the chart.
async fn columns(browser: &Browser) -> Vec<(String, String)> {
    let v = browser
        .js(
            "return Array.from(document.querySelectorAll('#events-per-hour-chart g.bar'), \
             g => [g.dataset.label, g.dataset.total]);",
            vec![],
        )
        .await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hour_chart_shows_the_hours_without_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let now = Timestamp::now().unix_millis();
    // 6 hours ago and 1 hour ago; and 40 days ago (outside the default window of 24
    // hours, inside "all stored events").
    let body = [
        event(1, now - 6 * HOUR),
        event(2, now - HOUR),
        event(3, now - 40 * 24 * HOUR),
    ]
    .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("hour-chart", "report-status", "loaded"),
    )
    .await;
    // The last 24 hours: a column for each hour from the window's start to the current
    // one (25: both partly in the window), the events in two of them.
    let day = columns(&browser).await;
    assert_eq!(day.len(), 25, "{day:?}");
    let totals: Vec<&str> = day.iter().map(|(_, t)| t.as_str()).collect();
    let mut expected = vec!["0"; 25];
    expected[24 - 6] = "1";
    expected[24 - 1] = "1";
    assert_eq!(totals, expected, "{day:?}");

    // All stored events: from the first event's hour to the last's; the 40 days between
    // are one column saying how many hours had no event.
    browser
        .js(
            "const s = document.getElementById('report-since'); s.value = ''; \
             s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await;
    browser
        .wait_for(
            "hour-chart",
            "the chart of all stored events",
            "document.getElementById('report-status').dataset.state === 'loaded' \
             && document.querySelectorAll('#events-per-hour-chart g.gap').length === 1",
        )
        .await;
    let all = columns(&browser).await;
    let gap = all[1].0.clone();
    let hours: i64 = gap.split(' ').next().unwrap().parse().unwrap();
    assert!(gap.ends_with(" h, none"), "{all:?}");
    // The hours from the old event's to the one 6 hours ago, less those two (within one
    // either way: where in their hours the three fell).
    assert!((40 * 24 - 6 - 2..=40 * 24 - 6).contains(&hours), "{all:?}");
    let totals: Vec<&str> = all.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(totals, ["1", "0", "1", "0", "0", "0", "0", "1"], "{all:?}");
    browser
        .screenshot_of("#report-node-usage", "report-hours-without-events")
        .await;
    browser.close().await;
    server.kill9();
}
