//! A `CASE` whose every branch is the events' `message` (or `NULL`) answers a stored
//! message, or nothing, in every row: written as the JSON object it is. The engine
//! drops the message's JSON marker from any `CASE`, and such messages were answered
//! as strings holding their JSON text. A `CASE` with a branch of text stays text
//! (`query_json_union_of_the_message_and_a_text_is_text.rs` for the `UNION`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::query_support;
use crate::retention_support::run;
use crate::serve_support;

#[test]
fn a_case_of_messages_is_json_and_one_with_a_text_is_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body: String = (1..=3u64)
        .map(|seq| {
            json!({"id": serve_support::new_id(seq, 0x3e57), "timestamp": "2026-12-01T10:00:00Z",
                "topic": "generic", "node": "n-1", "seq": seq,
                "message": {"msgType": "login", "n": seq}})
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let messages = "SELECT seq, CASE WHEN seq = 1 THEN message WHEN seq = 2 THEN NULL \
                    ELSE message END AS m FROM events ORDER BY seq";
    let mixed = "SELECT seq, CASE WHEN seq = 1 THEN message ELSE '404' END AS m \
                 FROM events ORDER BY seq";
    let want_messages = vec![
        json!({"msgType": "login", "n": 1}),
        Value::Null,
        json!({"msgType": "login", "n": 3}),
    ];
    // A string holding JSON text is compared as `{"string of": <its JSON>}`.
    let want_mixed = vec![
        json!({"string of": {"msgType": "login", "n": 1}}),
        json!("404"),
        json!("404"),
    ];
    let column =
        |rows: &[Value]| -> Vec<Value> { rows.iter().map(|r| string_of(&r["m"])).collect() };
    for (sql, want) in [(messages, &want_messages), (mixed, &want_mixed)] {
        let (status, served) = query_support::query(&server.addr, sql);
        assert_eq!(status, 200, "{served}");
        assert_eq!(
            &column(served["rows"].as_array().unwrap()),
            want,
            "server, {sql}"
        );
    }
    assert_eq!(server.terminate(), 0);
    for (sql, want) in [(messages, &want_messages), (mixed, &want_mixed)] {
        let (code, out) = run(
            dir.path(),
            &["sql", sql, "--store", "data/store", "--format", "ndjson"],
        );
        assert_eq!(code, 0, "{out}");
        let rows: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(&column(&rows), want, "sql --format ndjson, {sql}");
    }
}

/// `v`, and a string holding a JSON object as `{"string of": <that object>}`.
fn string_of(v: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with('{') => {
            json!({"string of": serde_json::from_str::<Value>(s).unwrap()})
        }
        other => other.clone(),
    }
}
