//! An event whose partition the file system refuses for good (here a file sits where
//! its folder must go, as `ENAMETOOLONG` or `EINVAL` would for a name) fails alone: the
//! batch is answered `422 unstorable` naming that event and why, the other events of
//! the batch are stored, and every later batch, from any node, is stored at once (never
//! a store stuck retrying, never 503 for everybody).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use ingest_support::*;

#[test]
fn an_unmakeable_partition_refuses_its_event_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("data/store/generic");
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join("svc-x"), b"not a folder").unwrap();
    let mut server = Server::start_in(
        dir,
        Some("ack_timeout_ms = 5000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n"),
    );

    let good = event_text(
        "node-a",
        1,
        Some("svc-a"),
        r#"{"msgType":"login","authUser":"alice"}"#,
    );
    let bad = event_text(
        "node-a",
        2,
        Some("svc-x"),
        r#"{"msgType":"login","authUser":"bob"}"#,
    );
    let bad_id = serde_json::from_str::<serde_json::Value>(&bad).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, answer) = server.post(format!("{good}\n{bad}\n"));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"], "unstorable", "{answer}");
    assert_eq!(answer["line"], 2, "{answer}");
    let events = answer["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{answer}");
    assert_eq!(events[0]["id"], bad_id.as_str());
    let reason = events[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("generic/svc-x") && reason.contains("retrying"),
        "{reason}"
    );

    // Another node right after: stored at once.
    let other = event_text(
        "node-b",
        1,
        None,
        r#"{"msgType":"login","authUser":"carol"}"#,
    );
    let (status, answer) = server.post(other);
    assert_eq!(status, 200, "{answer}");
    // The same event again: the same answer, again without holding anything up.
    let (status, answer) = server.post(bad.clone());
    assert_eq!(status, 422, "{answer}");

    let users: Vec<String> = stored_events(&server.store())
        .iter()
        .map(|e| e.message.json().into_owned())
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    assert!(users.iter().any(|m| m.contains("alice")) && users.iter().any(|m| m.contains("carol")));
    assert!(!users.iter().any(|m| m.contains("bob")));
    assert_eq!(
        std::fs::read(server.store().join("generic/svc-x")).unwrap(),
        b"not a folder",
        "what was in the way is left alone"
    );
    // The refused event is kept in the server's dead-letter file (twice: sent twice),
    // which the shutdown report counts (and exits 1 for, as for any dead letter).
    let code = server.stop();
    let log = server.process.log();
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains("\"dead_lettered\":2") && log.contains("\"lost\":0"),
        "{log}"
    );
}
