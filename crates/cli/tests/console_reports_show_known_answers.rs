//! Each report of the console renders the known answer of generated data: last
//! activity per user (failed logins apart), node usage (and events per hour as a
//! chart), compute per project (a usage's cumulative updates counted once) and per
//! user, and API answers (outcomes, latency percentiles, top answers and errors).
//! The events are a few hours old, inside the console's default window (24 h).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

const MINUTE: i64 = 60_000;

/// The start of the hour three hours ago, in ms since the epoch.
fn base() -> i64 {
    let now = Timestamp::now().unix_millis();
    now - now.rem_euclid(60 * MINUTE) - 3 * 60 * MINUTE
}

fn at(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).unwrap().to_string()
}

struct Events {
    lines: Vec<String>,
}

impl Events {
    fn add(
        &mut self,
        node: &str,
        seq: u64,
        ms: i64,
        topic: &str,
        key: Option<&str>,
        message: Value,
    ) {
        let mut e = json!({
            "id": new_id(self.lines.len() as u64 + 1, 44), "timestamp": at(ms), "topic": topic,
            "node": node, "seq": seq, "message": message
        });
        if let Some(k) = key {
            e["routingKey"] = json!(k);
        }
        self.lines.push(e.to_string());
    }
}

fn usage(id: &str, project: &str, user: &str, cpu_ms: u64, start: i64, end: i64) -> Value {
    json!({"msgType": "compute-resource-usage-update", "computeResourceUsage": {
        "id": id, "type": "LOCAL_PROCESS", "startTime": start, "endTime": end,
        "context": {"type": "JOB", "projectKey": project, "authIdentifier": user},
        "localProcess": {"cpuTotalMS": cpu_ms}}})
}

fn api(status: &str, latency: Option<u64>, prediction: Option<&str>, error: Option<&str>) -> Value {
    let mut m = json!({"msgType": "api-query", "status": status});
    if let Some(l) = latency {
        m["responseTimeMS"] = json!(l);
    }
    if let Some(p) = prediction {
        m["response"] = json!({"prediction": p});
    }
    if let Some(e) = error {
        m["error"] = json!({"message": e});
    }
    m
}

fn generated(b: i64) -> Vec<String> {
    let m = |n: i64| b + n * MINUTE;
    let mut e = Events { lines: Vec::new() };
    let login = |user: &str| json!({"msgType": "login", "authUser": user});
    e.add("node-a", 1, m(10), "generic", None, login("alice"));
    e.add("node-a", 2, m(20), "generic", None, login("bob"));
    for seq in [3, 4] {
        e.add(
            "node-a",
            seq,
            m(10 * seq as i64),
            "authfail",
            None,
            json!({"msgType": "login", "authUser": "mallory", "clientIP": "10.0.0.9"}),
        );
    }
    e.add(
        "node-b",
        1,
        m(70),
        "generic",
        None,
        json!({"msgType": "dataset-read-data", "authUser": "alice"}),
    );
    // u1's updates are cumulative: it used 3000 ms of CPU, not 1000 + 3000.
    let topic = "compute-resource-usage";
    e.add(
        "node-b",
        2,
        m(75),
        topic,
        None,
        usage("u1", "p-alpha", "alice", 1000, m(60), m(61)),
    );
    e.add(
        "node-b",
        3,
        m(80),
        topic,
        None,
        usage("u1", "p-alpha", "alice", 3000, m(60), m(61)),
    );
    e.add(
        "node-b",
        4,
        m(85),
        topic,
        None,
        usage("u2", "p-alpha", "bob", 2000, m(62), m(62) + 30_000),
    );
    e.add(
        "node-b",
        5,
        m(90),
        topic,
        None,
        usage("u3", "p-beta", "alice", 1500, m(63), m(63) + 45_000),
    );
    let q = "apinode-query";
    e.add(
        "node-c",
        1,
        m(130),
        q,
        Some("svc-a"),
        api("success", Some(10), Some("yes"), None),
    );
    e.add(
        "node-c",
        2,
        m(131),
        q,
        Some("svc-a"),
        api("success", Some(20), Some("yes"), None),
    );
    e.add(
        "node-c",
        3,
        m(132),
        q,
        Some("svc-a"),
        api("failure", Some(30), None, Some("timeout")),
    );
    e.add(
        "node-c",
        4,
        m(133),
        q,
        Some("svc-b"),
        api("success", None, Some("no"), None),
    );
    e.lines
}

const CONFIG: &str = "data_dir = \"data\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_renders_the_known_answer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let b = base();
    let m = |n: i64| at(b + n * MINUTE);
    let (status, answer) = post_events(&server.addr, &generated(b).join("\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let browser = Browser::start().await;
    browser.open(&server.addr, "/#reports").await;
    browser
        .wait_state("reports", "report-status", "loaded")
        .await;

    assert_eq!(
        browser.table("#last-activity-table").await,
        [
            ["alice", &m(70), "node-b", "dataset-read-data", "2", "0"],
            ["bob", &m(20), "node-a", "login", "1", "0"],
        ]
    );
    assert_eq!(
        browser.table("#failed-logins-table").await,
        [["mallory", "2", &m(40), "10.0.0.9", "no"]]
    );
    assert_eq!(
        browser.table("#node-usage-table").await,
        [
            [
                "node-a",
                "4",
                "2",
                "2",
                &m(10),
                &m(40),
                "authfail: 2, generic: 2"
            ],
            [
                "node-b",
                "5",
                "1",
                "0",
                &m(70),
                &m(90),
                "compute-resource-usage: 4, generic: 1"
            ],
            [
                "node-c",
                "4",
                "0",
                "0",
                &m(130),
                &m(133),
                "apinode-query: 4"
            ],
        ]
    );
    // Events per hour: one column per hour of the window (25: its first and the current
    // one are partly in it), each node's events stacked; the events in three hours.
    let totals = browser
        .js(
            "return Array.from(document.querySelectorAll('#events-per-hour-chart g.bar'), g => g.dataset.total);",
            vec![],
        )
        .await;
    let mut expected = vec![json!("0"); 25];
    expected[21..24].clone_from_slice(&[json!("4"), json!("5"), json!("4")]);
    assert_eq!(totals, json!(expected));
    assert_eq!(
        browser.table("#compute-table").await,
        [
            ["p-alpha", "2", "5.0", "90.0", "LOCAL_PROCESS: 2"],
            ["p-beta", "1", "1.5", "45.0", "LOCAL_PROCESS: 1"],
        ]
    );
    let bars = browser
        .js(
            "return Array.from(document.querySelectorAll('#compute-chart g.bar'), g => [g.dataset.label, g.dataset.total]);",
            vec![],
        )
        .await;
    assert_eq!(bars, json!([["p-alpha", "5"], ["p-beta", "1.5"]]));
    assert_eq!(
        browser.table("#api-answers-table").await,
        [
            [
                "svc-a",
                "3",
                "failure: 1, success: 2",
                "20.0",
                "28.0",
                "29.8",
                "30.0",
                "yes (2)",
                "timeout (1)"
            ],
            ["svc-b", "1", "success: 1", "", "", "", "", "no (1)", ""],
        ]
    );
    let outcomes = browser
        .js(
            "return Array.from(document.querySelectorAll('#api-outcomes-chart g.bar'), g => [g.dataset.label, g.dataset.total]);",
            vec![],
        )
        .await;
    assert_eq!(outcomes, json!([["svc-a", "3"], ["svc-b", "1"]]));
    // Only svc-a's events carry a latency; its p99 is the longest bar.
    let latency = browser
        .js(
            "return Array.from(document.querySelectorAll('#api-latency-chart g.bar'), g => [g.dataset.label, g.dataset.total]);",
            vec![],
        )
        .await;
    assert_eq!(latency, json!([["svc-a", "29.8"]]));
    for (css, name) in [
        ("#report-last-activity", "report-last-activity"),
        ("#report-node-usage", "report-node-usage"),
        ("#report-compute", "report-compute"),
        ("#report-api-answers", "report-api-answers"),
    ] {
        browser.screenshot_of(css, name).await;
    }

    // Compute per user: the same usages grouped by who ran them.
    browser
        .js(
            "const s = document.getElementById('report-by'); s.value = 'user'; \
             s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await;
    browser
        .wait_for(
            "reports",
            "compute per user",
            "document.getElementById('compute-group-head').textContent === 'user' \
             && document.getElementById('report-status').dataset.state === 'loaded'",
        )
        .await;
    assert_eq!(
        browser.table("#compute-table").await,
        [
            ["alice", "2", "4.5", "105.0", "LOCAL_PROCESS: 2"],
            ["bob", "1", "2.0", "30.0", "LOCAL_PROCESS: 1"],
        ]
    );
    browser.close().await;
    server.kill9();
}
