//! Cells of the reports' text tables that list values from events (`failed-logins`'
//! client addresses, `api-answers`' outcomes, top answers and errors, `compute`'s
//! types) joined them with `,` and `=` as they were: the one address "203.0.113.7,
//! 10.0.0.1" read as two, and the error "age=x, expected number" of 2 queries as
//! `age=x, expected number=2`, two errors. A listed value holding `,` or `=` (or empty,
//! or with white space at an end) is now shown in quotes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::common;

fn line(seq: u64, topic: &str, message: Value) -> String {
    json!({"id": format!("01936f6e-1b2c-7d3e-8f40-{seq:012x}"),
        "timestamp": "2026-11-25T10:00:00.000Z", "topic": topic, "routingKey": "svc",
        "node": "node-a", "seq": seq, "message": message})
    .to_string()
        + "\n"
}

#[test]
fn a_listed_value_holding_a_comma_or_equals_sign_is_quoted() {
    let node = common::Node::with_file_target("");
    let error = json!({"msgType": "prediction-query", "status": "error",
        "error": {"message": "age=x, expected number"}});
    let input = line(
        1,
        "authfail",
        json!({"msgType": "login-failed", "authUser": "bob", "clientIP": "203.0.113.7, 10.0.0.1"}),
    ) + &line(2, "apinode-query", error.clone())
        + &line(3, "apinode-query", error);
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], &input);
    assert!(out.status.success(), "{:?}", common::text(&out));
    let report = |name: &str| {
        let out = node.run(&["query", name, "--dir", "audit"], "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{stderr}");
        stdout
    };
    let failed = report("failed-logins");
    assert!(
        failed.contains("  \"203.0.113.7, 10.0.0.1\"  "),
        "one address, in quotes:\n{failed}"
    );
    let api = report("api-answers");
    assert!(
        api.contains("  \"age=x, expected number\"=2"),
        "one error of 2 queries, in quotes:\n{api}"
    );
}
