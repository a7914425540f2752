//! A node sends two different events with one id, node and seq (a harmless one first,
//! then the one that matters). The server stores both (`accepted: 1` each), in two
//! stores: every query shows both events, once each. Copies of one event (the same
//! event in both stores) still count once; another event hides behind no id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::query_support;
use crate::serve_support;

use serde_json::{json, Value};

const CONFIG: &str = r#"
[[destinations]]
type = "store"
path = "store"

[[destinations]]
type = "store"
name = "copy"
path = "copy-store"
"#;

fn event(user: &str) -> String {
    json!({"id": "44444444-4444-4444-8444-444444444444",
        "timestamp": "2026-12-03T01:00:00Z", "topic": "generic", "node": "victim", "seq": 7,
        "message": {"msgType": "delete-project", "authUser": user}})
    .to_string()
}

#[test]
fn both_events_sharing_id_node_and_seq_are_shown_by_every_query() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = serve_support::start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for user in ["alice", "mallory"] {
        let (status, answer) =
            serve_support::post_events(&server.addr, &format!("{}\n", event(user)), None).unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["accepted"], 1, "{user}'s event is stored: {answer}");
    }
    // The same request again is a retry: nothing new stored.
    let (_, answer) =
        serve_support::post_events(&server.addr, &format!("{}\n", event("mallory")), None).unwrap();
    assert_eq!(answer["accepted"], 0, "{answer}");

    let (status, answer) = query_support::query(
        &server.addr,
        "SELECT authUser FROM events WHERE node = 'victim' ORDER BY authUser",
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["rows"],
        json!([{"authUser": "alice"}, {"authUser": "mallory"}]),
        "/v1/query shows both stored events, each once although stored in two stores"
    );
    assert_eq!(server.terminate(), 0);

    let node = common::Node::with_file_target("");
    let data = dir.path().join("data");
    let out = node.run(
        &[
            "sql",
            "SELECT authUser FROM events WHERE node = 'victim' ORDER BY authUser",
            "--dir",
            data.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    let rows: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        rows,
        json!([{"authUser": "alice"}, {"authUser": "mallory"}]),
        "auditrail sql shows both stored events, each once"
    );
}
