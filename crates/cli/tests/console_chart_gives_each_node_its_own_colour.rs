//! The chart of events per hour per node gives each node a colour (docs/console.md):
//! with more nodes than the palette's 10 colours, node 11 took node 1's colour, and two
//! nodes read as one in the stacked columns. Twelve nodes get twelve colours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use std::collections::BTreeSet;

use browser_support::Browser;
use serde_json::json;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_nodes_get_twelve_colours() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let now = auditrail::Timestamp::now().to_string();
    let body = (1..=12u64)
        .map(|i| {
            json!({
                "id": new_id(i, 49), "timestamp": now, "topic": "generic",
                "node": format!("node-{i:02}"), "seq": 1,
                "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("colours", "report-status", "loaded"),
    )
    .await;
    let legend = browser
        .js(
            "return Array.from(document.querySelectorAll('#events-per-hour-chart .legend-item'), \
             g => [g.textContent, g.querySelector('rect').getAttribute('fill')]);",
            vec![],
        )
        .await;
    let legend: Vec<(String, String)> = serde_json::from_value(legend).unwrap();
    assert_eq!(legend.len(), 12, "{legend:?}");
    let colours: BTreeSet<&str> = legend.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(colours.len(), 12, "{legend:?}");
    browser.close().await;
    server.kill9();
}
