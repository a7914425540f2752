//! `GET /v1/recent` shows stored events (user names, client addresses). Once the server
//! has `[[keys]]`, it answers 401 without a stats key, and with an event key too (a
//! node's key does not read other nodes' events); a stats key reads it. The open
//! choice is explicit: `allow_unauthenticated_recent = true`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const KEYS: &str = "data_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"event-secret\"\n\
                    [[stats_keys]]\nid = \"ops\"\nsecret = \"stats-secret\"\n\
                    [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

fn recent(addr: &str, key: Option<&str>) -> (u16, String) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    request(addr, "GET", "/v1/recent", &headers, b"").unwrap()
}

fn run(config: &str) -> (tempfile::TempDir, ServerProc) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), config).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let body = event_line(&new_id(1, 12), "node-r", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("event-secret")).unwrap();
    assert_eq!(status, 200, "{answer}");
    (dir, server)
}

#[test]
fn recent_needs_a_stats_key_by_default_once_keys_exist() {
    let (_dir, server) = run(KEYS);
    let (status, body) = recent(&server.addr, None);
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("alice"), "{body}");
    assert!(body.contains("allow_unauthenticated_recent"), "{body}");
    let (status, body) = recent(&server.addr, Some("event-secret"));
    assert_eq!(status, 401, "an event key reads the live view: {body}");
    let (status, body) = recent(&server.addr, Some("stats-secret"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("alice"), "{body}");
    server.kill9();
}

#[test]
fn the_open_live_view_is_an_explicit_choice() {
    let (_dir, server) = run(&format!("allow_unauthenticated_recent = true\n{KEYS}"));
    let (status, body) = recent(&server.addr, None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("alice"), "{body}");
    server.kill9();
}
