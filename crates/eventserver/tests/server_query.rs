//! `/v1/query`: read-only SQL and the reports over the server's stores, behind the
//! stats keys, with a row limit that says when it cut the answer; statements that would
//! change anything and malformed requests are refused with a message that says why.

// Helpers outside the test functions unwrap too: a failure there is the test's failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

const STATS_AUTH: &str =
    "require_auth_for_stats = true\n[[stats_keys]]\nid = \"ops\"\nsecret = \"ops-secret\"\n";

async fn get(s: &TestServer, query: &[(&str, &str)], key: Option<&str>) -> (u16, Value) {
    let mut req = s.client.get(s.url("/v1/query")).query(query);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn seed(s: &TestServer) {
    let mut events = Vec::new();
    for seq in 1..=5 {
        events.push(event("n1", seq));
    }
    for seq in 1..=3 {
        let mut e = event_with("n2", seq, "authfail", None);
        e["message"] =
            json!({"msgType": "login-failed", "authUser": "mallory", "n": 12345678901234567890u64});
        events.push(e);
    }
    assert_eq!(post(s, ndjson(&events), None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_answers_rows_within_the_limit() {
    let s = start(STORE).await;
    seed(&s).await;
    let (status, v) = get(
        &s,
        &[(
            "sql",
            "SELECT node, count(*) AS events FROM events GROUP BY node ORDER BY node",
        )],
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["count"], 2);
    assert_eq!(v["truncated"], false);
    assert_eq!(
        v["rows"],
        json!([{"node": "n1", "events": 5}, {"node": "n2", "events": 3}])
    );

    let (status, v) = get(
        &s,
        &[
            (
                "sql",
                "SELECT seq FROM events WHERE node = 'n1' ORDER BY seq",
            ),
            ("limit", "2"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["count"], 2);
    assert_eq!(v["truncated"], true, "5 rows, 2 asked");
    assert_eq!(v["rows"], json!([{"seq": 1}, {"seq": 2}]));

    // The stored message comes back exactly (a number beyond f64's integers).
    let resp = s
        .client
        .get(s.url("/v1/query"))
        .query(&[(
            "sql",
            "SELECT message FROM events WHERE node = 'n2' AND seq = 1",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("12345678901234567890"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_answer_over_the_stores() {
    let s = start(STORE).await;
    seed(&s).await;
    let (status, v) = get(&s, &[("report", "node-usage")], None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["window"], "all time");
    let nodes = v["report"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["node"], "n1");
    assert_eq!(nodes[0]["events"], 5);
    assert_eq!(nodes[1]["failedLogins"], 3);
    assert_eq!(nodes[1]["users"], 0, "mallory only failed to log in");

    let (status, v) = get(
        &s,
        &[("report", "last-activity"), ("since", "2026-11-25")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"]["users"][0]["user"], "alice");
    assert_eq!(v["report"]["failedLogins"][0]["user"], "mallory");

    let (status, v) = get(
        &s,
        &[("report", "node-usage"), ("since", "2026-11-26")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"], json!([]), "every test event is of 2026-11-25");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_and_malformed_requests_are_refused() {
    let s = start(STORE).await;
    seed(&s).await;
    let refused: &[&str] = &["is refused: the query engine runs read-only statements only"];
    for (query, needles) in [
        (vec![("sql", "CREATE TABLE t AS SELECT 1")], refused),
        (
            vec![("sql", "INSERT INTO events SELECT * FROM events")],
            refused,
        ),
        (vec![("sql", "COPY events TO '/tmp/x.csv'")], refused),
        (
            vec![("sql", "SET datafusion.execution.batch_size = 1")],
            refused,
        ),
        (
            vec![("sql", "SELECT nosuchcolumn FROM events")],
            &["nosuchcolumn"],
        ),
        (vec![("report", "everything")], &["everything"]),
        (vec![("report", "compute"), ("by", "planet")], &["planet"]),
        (
            vec![("report", "node-usage"), ("since", "last tuesday")],
            &["since"],
        ),
        (vec![("sql", "SELECT 1"), ("limit", "100001")], &["100000"]),
        (
            vec![("sql", "SELECT 1"), ("report", "node-usage")],
            &["either"],
        ),
        (vec![("sqll", "SELECT 1")], &["sqll"]),
        (vec![], &["either"]),
    ] {
        let (status, v) = get(&s, &query, None).await;
        assert_eq!(status, 400, "{query:?}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(
            needles.iter().any(|n| message.contains(n)),
            "{query:?}: {message}"
        );
    }
    // Nothing was changed: the events are all there.
    let (_, v) = get(&s, &[("sql", "SELECT count(*) AS n FROM events")], None).await;
    assert_eq!(v["rows"][0]["n"], 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_need_a_stats_key_when_configured() {
    let s = start(&format!("{STATS_AUTH}{STORE}")).await;
    seed(&s).await;
    let sql = [("sql", "SELECT count(*) AS n FROM events")];
    assert_eq!(get(&s, &sql, None).await.0, 401);
    assert_eq!(get(&s, &sql, Some("wrong")).await.0, 401);
    let (status, v) = get(&s, &sql, Some("ops-secret")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["rows"][0]["n"], 8);
}
