//! A `403 host_not_allowed` says why the server checks host names at all: `allowed_hosts`
//! is set (then every other name is refused, with or without a key), or the server
//! answers without a key on loopback. A server with `[[keys]]` and `allowed_hosts` said
//! "it answers without a key", which sent its operator looking for a missing key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

fn refusal(config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), config).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let port = server.addr.rsplit_once(':').unwrap().1.to_owned();
    let host = format!("other.example:{port}");
    let (status, body) = request(
        &server.addr,
        "GET",
        "/v1/stats",
        &[
            ("Host", &host),
            ("Sec-Fetch-Site", "same-origin"),
            ("Authorization", "Bearer stats-secret-1234"),
        ],
        b"",
    )
    .unwrap();
    assert_eq!(status, 403, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "host_not_allowed", "{body}");
    answer["message"].as_str().unwrap().to_owned()
}

const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[test]
fn a_server_with_keys_and_allowed_hosts_says_allowed_hosts_is_set() {
    let message = refusal(&format!(
        "data_dir = \"data\"\nallowed_hosts = [\"audit.example\"]\nrequire_auth_for_stats = true\n\
         [[keys]]\nid = \"k1\"\nsecret = \"secret-four-0000\"\n\
         [[stats_keys]]\nid = \"st\"\nsecret = \"stats-secret-1234\"\n{STORE}"
    ));
    assert!(
        message.contains("allowed_hosts is set") && !message.contains("without a key"),
        "{message}"
    );
}

#[test]
fn a_keyless_server_on_loopback_says_it_answers_without_a_key() {
    let message = refusal(&format!("data_dir = \"data\"\n{STORE}"));
    assert!(
        message.contains("it answers without a key on a loopback address"),
        "{message}"
    );
}
