//! A statement whose answer would have two columns of one name (`SELECT * FROM events
//! e1, events e2`: JSON rows held `"id"` twice, and a JSON reader kept one value) is
//! refused before it runs, with the same words everywhere: by `auditrail serve`'s
//! `/v1/query` (its query worker) as `400 duplicate_column`, and by `auditrail sql` in
//! every output format (`table`, `json`, `ndjson`, `csv`) with exit status 1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

use crate::query_support;
use crate::serve_support;

const SQL: &str = "SELECT e1.id, e2.id FROM events e1 JOIN events e2 ON e1.seq < e2.seq";
const SAYS: &str = r#"more than one column named "id" (columns 1 and 2): each column of an answer"#;

#[test]
fn the_server_and_sql_in_every_format_refuse_it_alike() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    for seq in 1..=2 {
        let line = serve_support::event_line(&serve_support::new_id(seq, 0xd0c), "n1", seq);
        let (status, answer) = serve_support::post_events(&server.addr, &line, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = query_support::query(&server.addr, SQL);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "duplicate_column", "{answer}");
    let message = answer["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with(SAYS), "{message}");
    assert!(message.contains(" AS "), "{message}");
    assert_eq!(server.terminate(), 0);

    let store = dir.path().join("data/store");
    for format in ["table", "json", "ndjson", "csv"] {
        let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args(["sql", SQL, "--format", format, "--store"])
            .arg(&store)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--format {format}: {stdout}");
        assert_eq!(
            stdout, "",
            "--format {format}: nothing of the answer is written"
        );
        assert_eq!(
            stderr.trim_end(),
            format!("auditrail: error: {message}"),
            "--format {format}: the server's words"
        );
    }
}
