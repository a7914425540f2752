//! A statement the engine refuses is answered in auditrail's words, the same by the
//! server (`GET` and `POST /v1/query`, run by its query worker) and by `auditrail
//! sql`: what is wrong (the unknown column, table or function, the syntax error, the
//! refused statement) and where in the statement (`(line 1, column 15)`), with its
//! cause, and none of DataFusion's wrappers ("External error: ", "Error during
//! planning: ", "SQL error: ParserError(", "Optimizer rule '…' failed / caused by").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

use crate::query_support;
use crate::serve_support;

/// What DataFusion puts around its errors.
const WRAPPERS: [&str; 10] = [
    "External error",
    "Error during planning",
    "Arrow error",
    "Execution error",
    "Schema error",
    "SQL error",
    "ParserError(",
    "Optimizer rule",
    "caused by",
    "datafusion.public",
];

/// Each statement and what its error must say.
const CASES: [(&str, &str); 7] = [
    (
        "SELECT nosuch FROM events",
        "no column 'nosuch'; the columns: 'id', 'timestamp'",
    ),
    (
        "SELECT * FROM nosuchtable",
        "no table 'nosuchtable' (the table is `events`) (line 1, column 15)",
    ),
    (
        "SELEC 1",
        "syntax error: expected an SQL statement, found SELEC (line 1, column 1)",
    ),
    (
        "SELECT 1 +",
        "syntax error: expected an expression, found the end of the statement",
    ),
    ("SELECT 'a' ~ '('", "invalid regex: regex parse error"),
    (
        "CREATE TABLE t (a INT)",
        "CREATE is refused: the query engine runs read-only statements only",
    ),
    (
        "SELECT 1; SELECT 2",
        "the text holds more than one statement",
    ),
];

fn check(how: &str, sql: &str, message: &str, expected: &str) {
    assert!(
        message.contains(expected),
        "{how} {sql:?}: {message:?} does not say {expected:?}"
    );
    for wrapper in WRAPPERS {
        assert!(
            !message.contains(wrapper),
            "{how} {sql:?}: {message:?} has the engine's {wrapper:?}"
        );
    }
}

#[test]
fn the_server_and_the_sql_command_say_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let line = serve_support::event_line(&serve_support::new_id(1, 0x5e42), "n1", 1);
    let (status, answer) = serve_support::post_events(&server.addr, &line, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    for (sql, expected) in CASES {
        let (status, answer) = query_support::query(&server.addr, sql);
        assert_eq!(status, 400, "GET {sql:?}: {answer}");
        assert_eq!(answer["error"], "query_failed", "GET {sql:?}: {answer}");
        check("GET", sql, answer["message"].as_str().unwrap(), expected);

        let (status, answer) = query_support::query_form(&server.addr, sql);
        assert_eq!(status, 400, "POST {sql:?}: {answer}");
        check("POST", sql, answer["message"].as_str().unwrap(), expected);
    }
    assert_eq!(server.terminate(), 0);

    let store = dir.path().join("data/store");
    for (sql, expected) in CASES {
        let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args(["sql", sql, "--store"])
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "sql {sql:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        check("auditrail sql", sql, &stderr, expected);
    }
}
