//! An answer with no row still names its columns: `--format csv` writes the header
//! line (docs/query.md: "csv (RFC 4180, header line)"), so a tool reading the header
//! does not fail exactly when nothing matched, and `--format table` shows the column
//! names. For `sql` and `query events` alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

#[test]
fn csv_and_table_of_an_empty_answer_have_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body = serde_json::json!({"id": "66666666-6666-4666-8666-666666666666",
        "timestamp": "2026-12-03T01:00:00Z", "topic": "generic", "node": "n", "seq": 1,
        "message": {"msgType": "x", "authUser": "alice"}})
    .to_string()
        + "\n";
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let node = common::Node::with_file_target("");
    let run = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--dir", data]);
        let out = node.run(&args, "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{args:?}: {stderr}");
        stdout
    };

    let sql = "SELECT node, seq FROM events WHERE node = 'nobody'";
    assert_eq!(run(&["sql", sql, "--format", "csv"]), "node,seq\n");
    let table = run(&["sql", sql, "--format", "table"]);
    assert!(
        table.contains("| node | seq |"),
        "the table names its columns: {table}"
    );

    let csv = run(&["query", "events", "--user", "nobody", "--format", "csv"]);
    assert!(
        csv.starts_with("id,timestamp,") && csv.lines().count() == 1,
        "query events: the header line alone: {csv:?}"
    );
}
