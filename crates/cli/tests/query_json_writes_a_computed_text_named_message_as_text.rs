//! JSON answers wrote any column *named* `message` whose text parsed as JSON as that
//! JSON: `SELECT json_as_text(message, 'error', 'message') AS message` (the natural
//! name for an API error's message) answered the error texts "null", "404" and "[]" as
//! JSON null, the number 404 and an empty array, beside the string "model failed". Only
//! the events' own `message` column is written as the object it is, under any name it
//! is given; a text the statement computes is a string, whatever its name: from the
//! server (`GET /v1/query?sql=`) and `auditrail sql --format json|ndjson` alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::query_support;
use crate::retention_support::run;
use crate::serve_support;

const TEXTS: [&str; 4] = ["null", "404", "[]", "model failed"];

#[test]
fn a_computed_text_named_message_is_a_string_and_the_events_message_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body: String = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"id": serve_support::new_id(i as u64 + 1, 0x3e55), "timestamp": "2026-12-01T10:00:00Z",
                "topic": "apinode-query", "routingKey": "svc", "node": "api-1", "seq": i + 1,
                "message": {"msgType": "prediction-query", "httpCode": 500, "error": {"message": text}}})
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let computed =
        "SELECT seq, json_as_text(message, 'error', 'message') AS message FROM events ORDER BY seq";
    // The events' message, as it is and under another name: objects.
    let stored = "SELECT seq, message, message AS m FROM events ORDER BY seq";
    let want: Vec<Value> = TEXTS.iter().map(|t| json!(t)).collect();
    let (status, served) = query_support::query(&server.addr, computed);
    assert_eq!(status, 200, "{served}");
    let texts: Vec<Value> = served["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].clone())
        .collect();
    assert_eq!(texts, want, "server: {served}");
    let (status, served) = query_support::query(&server.addr, stored);
    assert_eq!(status, 200, "{served}");
    for row in served["rows"].as_array().unwrap() {
        assert!(
            row["message"].is_object() && row["m"] == row["message"],
            "server: {served}"
        );
    }
    assert_eq!(server.terminate(), 0);

    for format in ["json", "ndjson"] {
        let sql = |statement: &str| {
            let (code, out) = run(
                dir.path(),
                &[
                    "sql",
                    statement,
                    "--store",
                    "data/store",
                    "--format",
                    format,
                ],
            );
            assert_eq!(code, 0, "{out}");
            let rows: Vec<Value> = if format == "json" {
                serde_json::from_str::<Vec<Value>>(&out).unwrap()
            } else {
                out.lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            };
            rows
        };
        let texts: Vec<Value> = sql(computed).iter().map(|r| r["message"].clone()).collect();
        assert_eq!(texts, want, "--format {format}");
        for row in sql(stored) {
            assert!(
                row["message"].is_object() && row["m"] == row["message"],
                "--format {format}: {row}"
            );
        }
    }
}
