//! A batch refused `503 store_held` names the held store, how many of its events go
//! there and where the first one is (`line`, and in the message), as `503 disk_full`
//! does: it named only the store, and a node could not tell which events of a mixed
//! batch to hold back (docs/protocol.md, "Errors").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{post_events, start};
use crate::tamper_support::{keyed_event as event, log_lines, stop, try_start};

const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;
const SALT: u64 = 631;

#[test]
fn a_store_held_answer_gives_the_line_of_the_first_event_for_the_held_store() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for (key, n) in [("svc-a", 1), ("svc-b", 1), ("svc-b", 2)] {
        let (status, answer) = post_events(&server.addr, &event(key, n, SALT), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    // Store b's checkpoint log cut to its first line: b is held at the next start.
    let b = dir.path().join("data/b");
    let lines = log_lines(&b);
    std::fs::write(b.join("checkpoints.jsonl"), format!("{}\n", lines[0])).unwrap();
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("exit {code}: {log}"));

    // Lines 3 and 5 go to the held store b.
    let batch = [
        event("svc-a", 2, SALT),
        event("svc-a", 3, SALT),
        event("svc-b", 3, SALT),
        event("svc-a", 4, SALT),
        event("svc-b", 4, SALT),
    ]
    .concat();
    let (status, answer) = post_events(&server.addr, &batch, None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("store_held")),
        "{answer}"
    );
    assert_eq!(answer["line"], 3, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"b\" is held: its checks at start failed"),
        "{message}"
    );
    assert!(
        message.contains("2 event(s) of the batch go to it, the first at line 3"),
        "{message}"
    );
    assert_eq!(stop(server), 0);
}
