//! An event dated outside the years 1677 to 2262 (a node whose clock was far off: the
//! ingest takes 0000 to 9999) makes a statement using DataFusion's time functions fail
//! as a whole. The error now names the event's time and the way out (compute on
//! `CAST(timestamp AS BIGINT)`, or leave such events out), pointing at docs/query.md;
//! before it was DataFusion's `Timestamp -62135596800000 out of range` alone.
//! (Tryout s57-clocktry/04.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

#[test]
fn a_time_function_failing_on_a_far_event_names_its_time_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let events: String = [
        (
            "00000004-0000-7000-8000-000000000001",
            "2026-11-29T10:00:00Z",
            1,
        ),
        (
            "00000004-0000-7000-8000-000000000002",
            "0001-01-01T00:00:00Z",
            2,
        ),
    ]
    .iter()
    .map(|(id, timestamp, seq)| {
        serde_json::json!({
            "id": id, "timestamp": timestamp, "topic": "generic", "node": "n1", "seq": seq,
            "message": {"msgType": "login", "authUser": "alice"}
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
    let run = |sql: &str| {
        let out = node.run(
            &[
                "sql",
                sql,
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
    for sql in [
        "SELECT date_trunc('day', timestamp) AS day, count(*) AS n FROM events GROUP BY 1",
        "SELECT to_char(timestamp, '%Y') AS y FROM events",
    ] {
        let (code, stdout, stderr) = run(sql);
        assert_eq!(code, Some(1), "{sql}: {stdout}{stderr}");
        assert!(
            stderr.contains(
                "an event's time (0001-01-01T00:00:00.000Z) is outside the years 1677 to 2262"
            ) && stderr.contains("CAST(timestamp AS BIGINT)")
                && stderr.contains("Times outside 1677 to 2262"),
            "{sql}: {stderr}"
        );
    }
    // The way out the message gives is answered.
    let (code, stdout, stderr) = run(
        "SELECT date_trunc('day', timestamp) AS day FROM events WHERE timestamp >= '1970-01-01'",
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2026-11-29"), "{stdout}");
}
