//! `auditrail sql`: camelCase columns without quotes, the JSON functions over the
//! message, and statements that would change anything refused with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

fn node() -> common::Node {
    let node = common::Node::with_file_target("");
    let input = r#"{"id":"01936f6e-1b2c-7d3e-8f40-000000000001","timestamp":"2026-11-29T10:00:00.000Z","topic":"apinode-query","routingKey":"svc-a","node":"n1","seq":1,"message":{"msgType":"prediction-query","httpCode":500,"error":{"message":"boom"}}}
{"id":"01936f6e-1b2c-7d3e-8f40-000000000002","timestamp":"2026-11-29T10:01:00.000Z","topic":"apinode-query","routingKey":"svc-a","node":"n1","seq":2,"message":{"msgType":"prediction-query","httpCode":200}}
"#;
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], input);
    assert!(out.status.success(), "{:?}", common::text(&out));
    node
}

#[test]
fn columns_and_json_functions() {
    let n = node();
    let out = n.run(
        &["sql", "SELECT routingKey, msgType, json_get_int(message, 'httpCode') AS code, message->>'error' AS error FROM events ORDER BY seq",
          "--dir", "audit", "--format", "csv"],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "routingKey,msgType,code,error\nsvc-a,prediction-query,500,\"{\"\"message\"\":\"\"boom\"\"}\"\nsvc-a,prediction-query,200,\n");
}

#[test]
fn statements_that_change_anything_are_refused() {
    let n = node();
    for sql in [
        "CREATE TABLE x AS SELECT * FROM events",
        "INSERT INTO events SELECT * FROM events",
        "COPY events TO '/tmp/x.csv'",
        "SET datafusion.execution.batch_size = 1",
        "DROP TABLE events",
    ] {
        let out = n.run(&["sql", sql, "--dir", "audit"], "");
        let (stdout, stderr) = common::text(&out);
        assert!(!out.status.success(), "{sql}: {stdout}");
        assert!(
            stderr.contains("is refused: the query engine runs read-only statements only"),
            "{sql}: {stderr}"
        );
    }
    let out = n.run(&["sql", "SELEC 1", "--dir", "audit"], "");
    assert!(!out.status.success());
    assert!(
        common::text(&out).1.contains("SELEC"),
        "{:?}",
        common::text(&out)
    );
}
