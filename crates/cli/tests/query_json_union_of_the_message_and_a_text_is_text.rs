//! A `UNION` of the events' `message` and a text the statement computes kept the
//! message's JSON marker (the engine keeps the metadata of any branch that has some):
//! the error texts "404" and "[]" were answered as the number 404 and an empty array,
//! and the messages beside them as objects. A column is JSON only when every branch
//! is a JSON value the statement passed on as it is; this one is text, in either
//! order of the branches: from the server (`GET /v1/query?sql=`) and `auditrail sql
//! --format json|ndjson` alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::query_support;
use crate::retention_support::run;
use crate::serve_support;

const TEXTS: [&str; 3] = ["404", "[]", "model failed"];

#[test]
fn a_union_of_the_message_and_a_text_is_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body: String = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"id": serve_support::new_id(i as u64 + 1, 0x3e56), "timestamp": "2026-12-01T10:00:00Z",
                "topic": "apinode-query", "routingKey": "svc", "node": "api-1", "seq": i + 1,
                "message": {"msgType": "prediction-query", "error": {"message": text}}})
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let message = "SELECT seq, message AS m FROM events WHERE seq = 1";
    let text = "SELECT seq + 10 AS seq, json_as_text(message, 'error', 'message') AS m FROM events";
    let statements = [
        format!("SELECT * FROM ({message} UNION ALL {text}) ORDER BY seq"),
        format!("SELECT * FROM ({text} UNION ALL {message}) ORDER BY seq"),
        format!("SELECT * FROM ({message} UNION {text}) ORDER BY seq"),
    ];
    // A string holding JSON text is compared as `{"string of": <its JSON>}`.
    let column =
        |rows: &[Value]| -> Vec<Value> { rows.iter().map(|r| string_of(&r["m"])).collect() };
    let mut want =
        vec![json!({"string of": {"msgType": "prediction-query", "error": {"message": "404"}}})];
    want.extend(TEXTS.iter().map(|t| json!(t)));
    for sql in &statements {
        let (status, served) = query_support::query(&server.addr, sql);
        assert_eq!(status, 200, "{served}");
        assert_eq!(
            column(served["rows"].as_array().unwrap()),
            want,
            "server, {sql}"
        );
    }
    assert_eq!(server.terminate(), 0);

    for format in ["json", "ndjson"] {
        for sql in &statements {
            let (code, out) = run(
                dir.path(),
                &["sql", sql, "--store", "data/store", "--format", format],
            );
            assert_eq!(code, 0, "{out}");
            let rows: Vec<Value> = if format == "json" {
                serde_json::from_str(&out).unwrap()
            } else {
                out.lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            };
            assert_eq!(column(&rows), want, "--format {format}, {sql}");
        }
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
