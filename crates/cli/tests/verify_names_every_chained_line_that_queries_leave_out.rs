//! Every line of a store that queries leave out, `verify` names (file and line, exit 1),
//! and no line `verify` passes is left out by queries: the two share the store's one
//! judgment of whether a line is a readable stored event (`StoredEvent::read`).
//!
//! The lines here chain correctly (hash computed as docs/tamper-evidence.md says): the
//! server was killed, lines were appended onto its last record, and its restart took
//! them as records recovered at start and signed them. verify used to check only their
//! chain fields and hash and pass the store (exit 0, "verdict: OK") while `query events`
//! left each of them out and told the user that `auditrail verify STORE` names them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_store::chain::{parse_line, Chain};

use crate::retention_support::run;
use crate::serve_support::{new_id, post_events, start};
use crate::tamper_support::{only_segment, problems_at, stop, try_start, verify, CONFIG};

const TAIL: &str =
    r#","origAddress":"127.0.0.1","serverTimestamp":"2026-12-05T16:47:14.000Z","keyId":null"#;

/// An event in its wire form with id number `n`, `edit` applied to its text.
fn event(n: u64, edit: impl FnOnce(String) -> String) -> String {
    edit(format!(
        r#"{{"id":"{}","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":{n},"message":{{"msgType":"login","authUser":"alice"}}}}"#,
        new_id(n, 91)
    ))
}

/// A record body (the line before its chain fields) holding `client_event`.
fn body(client_event: &str) -> String {
    format!(r#"{{"clientEvent":{client_event}{TAIL}"#)
}

#[test]
fn verify_names_every_chained_line_that_queries_leave_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    let batch: String = (1..=5).map(|n| event(n, |e| e) + "\n").collect();
    let (status, answer) = post_events(&server.addr, &batch, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    server.kill9();
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (file, rel) = only_segment(&dir.path().join("data/store"));

    // Lines 6.. : what a query cannot read as an event, each chained onto the one before.
    let unreadable: Vec<(&str, String)> = vec![
        (
            "clientEvent without id",
            body(&event(6, |e| {
                e.replace(&format!(r#""id":"{}","#, new_id(6, 91)), "")
            })),
        ),
        (
            "seq a string",
            body(&event(7, |e| e.replace(r#""seq":7"#, r#""seq":"7""#))),
        ),
        (
            "clientEvent given twice",
            format!(
                r#"{{"clientEvent":{},"clientEvent":{}{TAIL}"#,
                event(8, |e| e),
                event(80, |e| e)
            ),
        ),
        (
            "a second pair of chain fields",
            body(&event(9, |e| e))
                + r#","chainSeq":9,"chainHash":"0000000000000000000000000000000000000000000000000000000000000000""#,
        ),
        (
            "message not an object",
            body(&event(10, |e| {
                e.replace(
                    r#""message":{"msgType":"login","authUser":"alice"}"#,
                    r#""message":["login"]"#,
                )
            })),
        ),
        (
            "id not a UUID",
            body(&event(11, |e| e.replace(&new_id(11, 91), "not-a-uuid"))),
        ),
        (
            "node a number",
            body(&event(12, |e| e.replace(r#""node":"n1""#, r#""node":12"#))),
        ),
        (
            "not JSON",
            body(&event(13, |e| e.replace(r#""seq":13"#, r#""seq":13,,"#))),
        ),
    ];
    // And lines a query reads (fields it does not know, half a surrogate pair in a
    // message value): verify must pass them.
    let readable = [
        body(&event(14, |e| {
            e.replace(r#""node":"n1""#, r#""node":"n1","severity":"info""#)
        })) + r#","note":{"from":"an older version"}"#,
        body(&event(15, |e| {
            e.replace(r#""authUser":"alice""#, r#""authUser":"\ud800""#)
        })),
    ];
    let mut text = std::fs::read_to_string(&file).unwrap();
    let last = text.lines().last().unwrap().to_string();
    let mut chain = Chain::resume(parse_line(last.as_bytes()).unwrap().link);
    let mut appended = Vec::new();
    for b in unreadable.iter().map(|(_, b)| b).chain(readable.iter()) {
        chain.seal(b.as_bytes(), &mut appended);
    }
    text.push_str(std::str::from_utf8(&appended).unwrap());
    std::fs::write(&file, text).unwrap();

    // The restart takes them as records and signs them (recovered at start).
    let server = try_start(dir.path()).unwrap_or_else(|(code, err)| panic!("{code}: {err}"));
    assert_eq!(stop(server), 0);

    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 1, "{report}");
    let named = problems_at(&report, "malformed-line");
    let expected: Vec<(String, u64)> = (6..6 + unreadable.len() as u64)
        .map(|line| (rel.clone(), line))
        .collect();
    assert_eq!(named, expected, "{report}");
    let errors: Vec<&serde_json::Value> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), unreadable.len(), "{report}");

    let (code, out) = run(
        dir.path(),
        &["query", "-d", "data", "events", "--format", "ndjson"],
    );
    assert_eq!(code, 0, "{out}");
    let shown: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(shown.len(), 7, "{out}");
    for n in [1, 2, 3, 4, 5, 14, 15] {
        assert!(out.contains(&new_id(n, 91)), "event {n}: {out}");
    }
    assert!(
        out.contains(&format!("skipped {} line(s)", unreadable.len())),
        "{out}"
    );
}
