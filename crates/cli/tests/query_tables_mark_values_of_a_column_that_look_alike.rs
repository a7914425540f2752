//! `auditrail sql` and `query`'s tables and CSV show two values of one column that
//! look alike (UTS #39 confusable skeletons, one script: `Iris` and `lris`, `0pen` and
//! `Open`) with the characters where they differ escaped, both of them (`\u{49}ris`,
//! `\u{6c}ris`): before, they were shown as they are, and read as one user. The same
//! value alone in its column (`lris` as a node, where no `Iris` is) is shown as it is:
//! the rule is per column of the answer, as the web console's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use crate::retention_support::run;
use crate::serve_support;

#[test]
fn values_of_a_column_that_look_alike_are_marked_where_they_differ() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let users = ["Iris", "lris", "0pen", "Open", "bob"];
    let body: String = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            json!({"id": serve_support::new_id(i as u64 + 1, 0x1a3b), "timestamp": "2026-12-01T10:00:00Z",
                "topic": "generic", "node": "lris", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}})
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let sql = "SELECT authUser, node FROM events ORDER BY seq";
    let (code, out) = run(
        dir.path(),
        &["sql", sql, "--store", "data/store", "--format", "csv"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "authUser,node\n\\u{49}ris,lris\n\\u{6c}ris,lris\n\\u{30}pen,lris\n\\u{4f}pen,lris\nbob,lris\n"
    );
    let (code, out) = run(dir.path(), &["sql", sql, "--store", "data/store"]);
    assert_eq!(code, 0, "{out}");
    for shown in [
        "| \\u{49}ris ",
        "| \\u{6c}ris ",
        "| \\u{30}pen ",
        "| \\u{4f}pen ",
        "| bob ",
    ] {
        assert!(out.contains(shown), "{shown} in:\n{out}");
    }
    // The report's table, by the same rule.
    let (code, out) = run(
        dir.path(),
        &[
            "query",
            "last-activity",
            "--store",
            "data/store",
            "--since",
            "2026-11-01",
        ],
    );
    assert_eq!(code, 0, "{out}");
    for shown in ["\\u{49}ris ", "\\u{6c}ris ", "\\u{30}pen ", "\\u{4f}pen "] {
        assert!(out.contains(shown), "{shown} in:\n{out}");
    }
}
