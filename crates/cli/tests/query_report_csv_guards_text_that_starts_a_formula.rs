//! `auditrail query <report> --format csv` writes a text cell that starts with `=`, `+`,
//! `-` or `@` with a `'` in front, and its control characters escaped, as `sql` and
//! `query events` do: a user name is whatever a client sent, and a spreadsheet opening
//! the report would otherwise run `=HYPERLINK(...)` as a formula.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use serde_json::json;

use crate::common;
use crate::serve_support;

const NAME: &str = "=HYPERLINK(\"http://x.example\",\"y\")";

#[test]
fn a_user_name_starting_with_equals_is_not_a_formula() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let events = [
        json!({"id": serve_support::new_id(1, 0xc5f1), "timestamp": "2026-11-25T10:00:00.000Z",
            "topic": "generic", "node": "n1", "seq": 1,
            "message": {"msgType": "login", "authUser": NAME}}),
        json!({"id": serve_support::new_id(2, 0xc5f1), "timestamp": "2026-11-25T10:01:00.000Z",
            "topic": "authfail", "node": "n1", "seq": 2,
            "message": {"msgType": "login-failed", "authUser": "@SUM(A1)\u{1b}[2J",
                "clientIP": "203.0.113.9"}}),
    ]
    .map(|e| e.to_string())
    .join("\n");
    let (status, answer) = serve_support::post_events(&server.addr, &events, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let store = dir.path().join("data/store");
    let node = common::Node::with_file_target("");
    let csv = |report: &str| {
        let args = [
            "query",
            report,
            "--format",
            "csv",
            "--store",
            store.to_str().unwrap(),
        ];
        let out = node.run(&args, "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{args:?}: {stderr}");
        stdout
    };

    assert_eq!(
        csv("last-activity"),
        "user,lastActivity,node,msgType,events,failedLogins\n\
         \"'=HYPERLINK(\"\"http://x.example\"\",\"\"y\"\")\",2026-11-25T10:00:00.000Z,n1,login,1,0\n"
    );
    assert_eq!(
        csv("failed-logins"),
        "user,attempts,lastAttempt,clientIps,hasActivity,invalidValues\n\
         '@SUM(A1)\\u{1b}[2J,1,2026-11-25T10:01:00.000Z,\"[\"\"203.0.113.9\"\"]\",false,0\n"
    );
}
