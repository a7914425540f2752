//! `auditrail query`'s tables wrote a failed login that named no user as `(none)`, and
//! a user literally named `(none)` the same: two rows that read alike, one of them an
//! attacker's guess passed off as "no name". A missing user is still `(none)`; a name
//! that reads so is shown in quotes, as the web console quotes its own placeholder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::common;

fn line(seq: u64, topic: &str, user: Value) -> String {
    json!({"id": format!("01936f6e-1b2c-7d3e-8f40-{seq:012x}"),
        "timestamp": "2026-11-25T10:00:00.000Z", "topic": topic, "node": "node-a",
        "seq": seq, "message": {"msgType": "login", "authUser": user}})
    .to_string()
        + "\n"
}

#[test]
fn a_missing_user_reads_apart_from_a_user_named_none() {
    let node = common::Node::with_file_target("");
    let input = line(1, "authfail", Value::Null)
        + &line(2, "authfail", json!("(none)"))
        + &line(3, "authfail", json!("(none)"))
        + &line(4, "generic", json!("(none)"));
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], &input);
    assert!(out.status.success(), "{:?}", common::text(&out));
    let first_column = |report: &str| {
        let out = node.run(&["query", report, "--dir", "audit"], "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{stderr}");
        let mut cells: Vec<String> = stdout
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        cells.sort();
        (cells, stdout)
    };
    let (tried, table) = first_column("failed-logins");
    assert_eq!(tried, ["\"(none)\"", "(none)"], "{table}");
    let (active, table) = first_column("last-activity");
    assert_eq!(active, ["\"(none)\""], "{table}");
}
