//! An event the server stored (answered 200) is in the reports however deeply its
//! message nests: the stored record wraps the event one level deeper, and reading it
//! back must not stop at a parser's recursion limit (case server-05).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

#[test]
fn a_deeply_nested_stored_event_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let depth = 125;
    let body = format!(
        r#"{{"id":"{}","timestamp":"2026-11-29T10:00:00.000Z","topic":"generic","node":"node-deep","seq":1,"message":{{"msgType":"login","authUser":"alice","n":{}0{}}}}}"#,
        serve_support::new_id(1, 5),
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(server.terminate(), 0);
    if status != 200 {
        // Refusing it at ingest is the other correct answer.
        assert!((400..500).contains(&status), "{status} {answer}");
        return;
    }
    let node = common::Node::with_file_target("");
    let data = dir.path().join("data");
    let out = node.run(
        &[
            "query",
            "last-activity",
            "--dir",
            data.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report[0]["user"], "alice", "{stdout} {stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
}
