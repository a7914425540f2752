//! `/v1/stream` and `/v1/query` show stored events as `/v1/recent` does, so they follow
//! its rule: once the server has `[[keys]]`, they answer 401 without a stats key and
//! with an event key; a stats key reads them; `allow_unauthenticated_recent = true`
//! opens them explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const KEYS: &str = "data_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"event-secret\"\n\
                    [[stats_keys]]\nid = \"ops\"\nsecret = \"stats-secret\"\n\
                    [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

const QUERY: &str = "/v1/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events";
const STREAM: &str = "/v1/stream";

fn get(addr: &str, path: &str, key: Option<&str>) -> (u16, String) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    request(addr, "GET", path, &headers, b"").unwrap()
}

fn run(config: &str) -> (tempfile::TempDir, ServerProc) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), config).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let body = event_line(&new_id(1, 13), "node-q", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("event-secret")).unwrap();
    assert_eq!(status, 200, "{answer}");
    (dir, server)
}

#[test]
fn stream_and_query_need_a_stats_key_once_keys_exist() {
    let (_dir, server) = run(KEYS);
    for path in [STREAM, QUERY] {
        let (status, body) = get(&server.addr, path, None);
        assert_eq!(status, 401, "{path}: {body}");
        assert!(
            body.contains("allow_unauthenticated_recent"),
            "{path}: {body}"
        );
        let (status, body) = get(&server.addr, path, Some("event-secret"));
        assert_eq!(status, 401, "an event key reads {path}: {body}");
    }
    let (status, body) = get(&server.addr, QUERY, Some("stats-secret"));
    assert_eq!(status, 200, "{body}");
    server.kill9();
}

#[test]
fn the_open_choice_opens_the_query_endpoint_too() {
    let (_dir, server) = run(&format!("allow_unauthenticated_recent = true\n{KEYS}"));
    let (status, body) = get(&server.addr, QUERY, None);
    assert_eq!(status, 200, "{body}");
    server.kill9();
}
