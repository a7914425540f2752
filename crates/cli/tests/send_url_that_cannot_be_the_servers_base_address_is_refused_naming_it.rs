//! An `eventserver` target's `url` is the server's base address: the events are posted
//! to `<url>/v1/events`. A url that cannot be one was taken as it was, and every event
//! sent was refused for good and dead-lettered by the real server: the endpoint itself
//! (`.../v1/events`, posted to `/v1/events/v1/events`: 404), a query or a fragment (the
//! appended path became part of them: `POST /?tenant=a/v1/events` is `POST /`, 405),
//! and a `user:password@` (sent as Basic authentication beside `auth_key`'s Bearer
//! key, two Authorization headers: 400 `repeated_header`; and the password printed in
//! every message naming the url, in the dead-letter file too). Each is now a config
//! error naming `url` and why, nothing is sent, and the password is never shown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;

#[test]
fn nothing_is_sent_and_the_error_names_the_url_and_why() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), None);
    let host = server.url.trim_start_matches("http://").to_owned();
    for (url, said) in [
        (
            format!("{}/v1/events", server.url),
            format!(
                "is the events endpoint itself, not the base address (write {:?})",
                server.url
            ),
        ),
        (
            format!("{}/?tenant=a", server.url),
            "holds a query (`?tenant=a`)".to_owned(),
        ),
        (
            format!("{}#x", server.url),
            "holds a fragment (`#x`)".to_owned(),
        ),
        (
            format!("http://node:pa55w0rd@{host}"),
            "holds a user name or password".to_owned(),
        ),
    ] {
        let node =
            common::Node::with_eventserver_target("node-url", &url, "auth_key = \"node-key-1\"");
        let out = node.send_login("10");
        let (stdout, stderr) = common::text(&out);
        let dead = std::fs::read_to_string(node.path().join("run/deadletter/central.jsonl"))
            .unwrap_or_default();
        assert_eq!(
            dead.lines().count(),
            0,
            "url {url}: the event was dead-lettered:\n{dead}\n{stderr}"
        );
        assert_eq!(out.status.code(), Some(1), "url {url}: {stdout}\n{stderr}");
        assert!(
            stderr.contains("url") && stderr.contains(&said),
            "url {url}: {stderr}"
        );
        assert!(
            !stderr.contains("pa55w0rd"),
            "the password is shown: {stderr}"
        );
    }
    assert!(server.stored().is_empty());
}
