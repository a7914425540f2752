//! `auditrail sql` with a time column compared with a leap-second literal
//! (`timestamp = '2026-11-23T10:30:60Z'`) exits 1 naming the literal, the column and
//! where it is. The ingest stores an event sent with that text at second 59 of its
//! minute (`10:30:59.000Z`, docs/protocol.md), as `--since`/`--until` read it, while
//! the engine read the literal as the next minute: `=` found nothing and `<` took in
//! an event at `10:30:59.500`. (Tryout s57-clocktry/02.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

#[test]
fn a_comparison_with_a_leap_second_is_refused_and_second_59_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let events: String = [
        (
            "00000004-0000-7000-8000-000000000001",
            "2026-11-23T10:30:60Z",
            1,
            "leap",
        ),
        (
            "00000004-0000-7000-8000-000000000002",
            "2026-11-23T10:30:59.500Z",
            2,
            "later",
        ),
    ]
    .iter()
    .map(|(id, timestamp, seq, user)| {
        serde_json::json!({
            "id": id, "timestamp": timestamp, "topic": "generic", "node": "n1", "seq": seq,
            "message": {"msgType": "login", "authUser": user}
        })
        .to_string()
            + "\n"
    })
    .collect();
    let (status, answer) = serve_support::post_events(&server.addr, &events, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let store = dir.path().join("data").join("store");
    let node = common::Node::with_file_target("");
    let users = |condition: &str| {
        let sql = format!("SELECT authUser FROM events\nWHERE {condition} ORDER BY authUser");
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

    for (condition, literal) in [
        ("timestamp = '2026-11-23T10:30:60Z'", "2026-11-23T10:30:60Z"),
        (
            "timestamp < '2026-11-23T10:30:60.000Z'",
            "2026-11-23T10:30:60.000Z",
        ),
        (
            "timestamp BETWEEN '2026-11-23' AND TIMESTAMP '2026-11-23 02:30:60-08:00'",
            "2026-11-23 02:30:60-08:00",
        ),
    ] {
        let (code, stdout, stderr) = users(condition);
        assert_eq!(code, Some(1), "{condition}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "the time '{literal}' compared with `timestamp` (line 2, column "
            )) && stderr.contains("has a leap second"),
            "{condition}: {stderr}"
        );
    }

    // Second 59, as the event was stored, is answered.
    let (code, stdout, stderr) = users("timestamp = '2026-11-23T10:30:59Z'");
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), ["authUser", "leap"]);
}
