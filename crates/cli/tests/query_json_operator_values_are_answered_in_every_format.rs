//! A column made by `->` or `json_get` (datafusion-functions-json's JSON union) could
//! not be answered: the server said `400 query_failed` with Arrow's internals ("Json
//! error: Unsupported data type for JSON encoding: Union([(0, Field { name: ..."),
//! `auditrail sql --format json|ndjson` failed the same, and `table` and `csv` wrote
//! Arrow's debug form (`{object={"prediction":"legit"}}`, `{int=200}`, `{str=200}`: the
//! number and the string 200 alike). Each value is now its JSON: the value itself in
//! JSON and NDJSON, its JSON text in a table and CSV (`{"prediction":"legit"}`, `200`,
//! `"200"`), and a missing path or JSON `null` is a null.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::query_support;
use crate::retention_support::run;
use crate::serve_support;

const SQL: &str = "SELECT seq, message->'response' AS r, json_get(message, 'httpCode') AS code \
                   FROM events ORDER BY seq";

#[test]
fn json_operator_values_are_their_json_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let messages = [
        json!({"msgType": "prediction-query", "httpCode": 200, "response": {"prediction": "legit"}}),
        json!({"msgType": "prediction-query", "httpCode": "200", "response": [1, "two"]}),
        json!({"msgType": "prediction-query", "httpCode": null, "response": "plain"}),
        json!({"msgType": "prediction-query", "response": 2.5}),
    ];
    let body: String = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({"id": serve_support::new_id(i as u64 + 1, 0x0a0a), "timestamp": "2026-12-01T10:00:00Z",
                "topic": "apinode-query", "routingKey": "fraud-scoring", "node": "api-1",
                "seq": i + 1, "message": m})
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let want = json!([
        {"seq": 1, "r": {"prediction": "legit"}, "code": 200},
        {"seq": 2, "r": [1, "two"], "code": "200"},
        {"seq": 3, "r": "plain", "code": null},
        {"seq": 4, "r": 2.5, "code": null},
    ]);
    let (status, served) = query_support::query(&server.addr, SQL);
    assert_eq!(status, 200, "{served}");
    assert_eq!(served["rows"], want, "server");
    assert_eq!(server.terminate(), 0);

    let sql = |format: &str| {
        let (code, out) = run(
            dir.path(),
            &["sql", SQL, "--store", "data/store", "--format", format],
        );
        assert_eq!(code, 0, "--format {format}: {out}");
        out
    };
    assert_eq!(
        serde_json::from_str::<Value>(&sql("json")).unwrap(),
        want,
        "json"
    );
    let ndjson: Vec<Value> = sql("ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(Value::Array(ndjson), want, "ndjson");

    let csv = sql("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "seq,r,code",
            r#"1,"{""prediction"":""legit""}",200"#,
            r#"2,"[1,""two""]","""200""""#,
            r#"3,"""plain""","#,
            "4,2.5,",
        ],
        "csv: {csv}"
    );

    let table = sql("table");
    assert!(!table.contains("{object="), "{table}");
    let row = |seq: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {seq} ")))
            .unwrap_or_else(|| panic!("row {seq} in {table}"))
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("1"),
        ["1", r#"{"prediction":"legit"}"#, "200"],
        "{table}"
    );
    // The number 200 and the string "200" are shown apart.
    assert_eq!(row("2"), ["2", r#"[1,"two"]"#, r#""\"200\"""#], "{table}");
}
