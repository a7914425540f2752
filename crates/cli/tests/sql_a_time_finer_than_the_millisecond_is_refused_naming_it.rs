//! `auditrail sql` with a time column compared with a literal finer than the
//! millisecond (`timestamp < '2026-11-29T10:00:11.0001Z'`) exits 1 naming the literal,
//! the column and where it is. Event times are whole milliseconds and the engine cut
//! such a literal to its millisecond: with one event at `10:00:11.000`, `<` found
//! nothing, `>= '…11.0009Z'` and `= '…11.000000001Z'` found the event. Literals of whole
//! milliseconds (trailing zeros too) are answered as before. (Tryout s46-edge-b/04.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

#[test]
fn a_comparison_with_a_sub_millisecond_time_is_refused_and_whole_milliseconds_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let event = serde_json::json!({
        "id": "00000004-0000-7000-8000-000000000001", "timestamp": "2026-11-29T10:00:11.000Z",
        "topic": "generic", "node": "n1", "seq": 1,
        "message": {"msgType": "login", "authUser": "alice"}
    });
    let (status, answer) =
        serve_support::post_events(&server.addr, &format!("{event}\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let store = dir.path().join("data").join("store");
    let node = common::Node::with_file_target("");
    let count = |condition: &str| {
        let sql = format!("SELECT count(*) AS n FROM events\nWHERE {condition}");
        let out = node.run(
            &[
                "sql",
                &sql,
                "--store",
                store.to_str().unwrap(),
                "--format",
                "csv",
            ],
            "",
        );
        let (stdout, stderr) = common::text(&out);
        (out.status.code(), stdout, stderr)
    };

    for (condition, literal, column) in [
        (
            "timestamp < '2026-11-29T10:00:11.0001Z'",
            "2026-11-29T10:00:11.0001Z",
            "timestamp",
        ),
        (
            "timestamp >= '2026-11-29T10:00:11.0009Z'",
            "2026-11-29T10:00:11.0009Z",
            "timestamp",
        ),
        (
            "'2026-11-29T10:00:11.000000001Z' = timestamp",
            "2026-11-29T10:00:11.000000001Z",
            "timestamp",
        ),
        (
            "events.timestamp BETWEEN '2026-11-29' AND TIMESTAMP '2026-11-29 10:00:11.0005'",
            "2026-11-29 10:00:11.0005",
            "timestamp",
        ),
        (
            "\"serverTimestamp\" IN ('2026-11-29T10:00:11.0000001Z')",
            "2026-11-29T10:00:11.0000001Z",
            "serverTimestamp",
        ),
    ] {
        let (code, stdout, stderr) = count(condition);
        assert_eq!(code, Some(1), "{condition}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "the time '{literal}' compared with `{column}` (line 2, column "
            )) && stderr.contains("has digits below the millisecond"),
            "{condition}: {stderr}"
        );
    }

    for (condition, n) in [
        ("timestamp < '2026-11-29T10:00:11.001Z'", "1"),
        ("timestamp >= '2026-11-29T10:00:11.000000Z'", "1"),
        ("timestamp > '2026-11-29T10:00:11.000Z'", "0"),
        // Not a comparison with a time column: the text is only text.
        ("message LIKE '%10:00:11.0001Z%'", "0"),
    ] {
        let (code, stdout, stderr) = count(condition);
        assert_eq!(code, Some(0), "{condition}: {stdout}{stderr}");
        assert_eq!(stdout.lines().last(), Some(n), "{condition}: {stdout}");
    }
}
