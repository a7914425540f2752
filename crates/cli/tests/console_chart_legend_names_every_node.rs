//! The chart of events per hour per node names every node in its legend: the legend was
//! one line cut off at the chart's width, so with twelve nodes sending in the same hour
//! only the first five had a name next to their colour. It now wraps, each entry inside
//! the chart; and a legend of long outcome names (the API outcomes chart) does the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

/// `[text, inside]` of each legend entry of the chart `css`: whether it lies within
/// the chart's box.
const ENTRIES: &str = "const svg = document.querySelector(arguments[0] + ' svg');\
     const box = svg.getBoundingClientRect();\
     return Array.from(svg.querySelectorAll('g.legend-item'), g => { const r = g.getBoundingClientRect();\
       return [g.textContent, r.left >= box.left - 0.5 && r.right <= box.right + 0.5\
         && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5]; });";

async fn entries(browser: &Browser, chart: &str) -> Vec<(String, bool)> {
    let v = browser.js(ENTRIES, vec![json!(chart)]).await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legend_names_every_node_inside_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let now = auditrail::Timestamp::now().to_string();
    let mut lines: Vec<String> = (1..=12u64)
        .map(|i| {
            json!({
                "id": new_id(i, 66), "timestamp": now, "topic": "generic",
                "node": format!("node-{i:02}"), "seq": 1,
                "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
        })
        .collect();
    // Eight outcomes of one API service, named at length.
    let outcomes: Vec<String> = (1..=8).map(|i| format!("outcome-number-{i}")).collect();
    for (i, outcome) in outcomes.iter().enumerate() {
        let message: Value = json!({"msgType": "prediction-query", "status": outcome});
        lines.push(
            json!({
                "id": new_id(100 + i as u64, 66), "timestamp": now, "topic": "apinode-query",
                "node": "api-1", "seq": i + 1, "routingKey": "svc-a", "message": message
            })
            .to_string(),
        );
    }
    let (status, answer) = post_events(&server.addr, &lines.join("\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let browser = Browser::start().await;
    browser.open(&server.addr, "/#reports").await;
    browser
        .wait_state("legend", "report-status", "loaded")
        .await;
    let nodes = entries(&browser, "#events-per-hour-chart").await;
    let mut expected: Vec<(String, bool)> = vec![("api-1".to_owned(), true)];
    expected.extend((1..=12).map(|i| (format!("node-{i:02}"), true)));
    assert_eq!(nodes, expected);
    let shown = entries(&browser, "#api-outcomes-chart").await;
    assert_eq!(shown.len(), 8, "{shown:?}");
    assert!(shown.iter().all(|(_, inside)| *inside), "{shown:?}");
    browser
        .screenshot_of("#report-node-usage", "report-legend-of-13-nodes")
        .await;
    browser.close().await;
    server.kill9();
}
