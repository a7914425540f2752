//! The console names a report's row in three places: its table, its bar in the chart and
//! the line under the table saying which rows had values left out. The table uses
//! `groupName` (the compute group or API service without a name is `(none)`, a project
//! really named `(none)` or `""` is quoted, other text escaped as `shown`); the chart drew
//! that text through `shown` again (`"\"(none)\""`, `a\\\\b`, `cafe\\u{301}`), and the
//! left-out line used `shown(group ?? '(none)')`, so a project named `(none)` and the
//! usages without a project both read `(none)` there and the project `""` read as
//! nothing. Now all three name a row alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

fn event(n: u64, topic: &str, key: Option<&str>, message: Value) -> String {
    let mut e = json!({
        "id": new_id(n, 71), "timestamp": Timestamp::now().to_string(), "topic": topic,
        "node": "node-n", "seq": n, "message": message
    });
    if let Some(k) = key {
        e["routingKey"] = json!(k);
    }
    e.to_string()
}

/// A usage of project `project` (none: no project key) whose CPU time is `cpu_ms`.
fn usage(id: &str, project: Option<&str>, cpu_ms: Value) -> Value {
    let now = Timestamp::now().unix_millis();
    let context = project.map_or(json!({}), |p| json!({ "projectKey": p }));
    json!({"msgType": "compute-resource-usage-complete",
        "computeResourceUsage": {"id": id, "type": "LOCAL_PROCESS",
            "startTime": now - 60_000, "endTime": now, "context": context,
            "localProcess": {"cpuTotalMS": cpu_ms}}})
}

fn query(latency: Value) -> Value {
    json!({"msgType": "prediction-query", "httpCode": 200, "responseTimeMS": latency})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_is_named_alike_in_its_table_its_bar_and_the_left_out_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    // Each row has one value left out: a CPU time or a latency that is no number.
    let body = [
        event(
            1,
            "compute-resource-usage",
            None,
            usage("u-1", Some("(none)"), json!("x")),
        ),
        event(
            2,
            "compute-resource-usage",
            None,
            usage("u-2", None, json!("x")),
        ),
        event(
            3,
            "compute-resource-usage",
            None,
            usage("u-3", Some(""), json!("x")),
        ),
        event(
            4,
            "compute-resource-usage",
            None,
            usage("u-4", Some("a\\b"), json!("x")),
        ),
        event(5, "apinode-query", Some("(none)"), query(json!("x"))),
        event(6, "apinode-query", None, query(json!("x"))),
    ]
    .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("named", "report-status", "loaded"),
    )
    .await;
    for (table, chart, left_out, names) in [
        (
            "#compute-table",
            "#compute-chart",
            "#compute-left-out",
            vec!["\"\"", "\"(none)\"", "a\\\\b", "(none)"],
        ),
        (
            "#api-answers-table",
            "#api-outcomes-chart",
            "#api-left-out",
            vec!["\"(none)\"", "(none)"],
        ),
    ] {
        let rows: Vec<String> = browser
            .table(table)
            .await
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(rows, names, "{table}");
        let bars = browser
            .js(
                "return Array.from(document.querySelectorAll(arguments[0] + ' g.bar > text:first-child'), t => t.textContent);",
                vec![json!(chart)],
            )
            .await;
        assert_eq!(bars, json!(names), "{chart}");
        let line = browser.texts(left_out).await.join("");
        let said: Vec<String> = names.iter().map(|n| format!("{n} 1")).collect();
        assert!(
            line.contains(&format!("): {};", said.join(", "))),
            "{left_out}: {line}"
        );
    }
    browser.close().await;
    server.kill9();
}
