//! A SIGHUP while the config file is invalid (broken TOML, a key entry that fails its
//! checks, an unknown log level) changes nothing: the server keeps running with the
//! keys it had, and its log says which file and key are wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const GOOD: &str = "data_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"first-secret\"\n\
                    [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[test]
fn an_invalid_config_is_logged_and_the_running_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, GOOD).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let bad = [
        ("[[keys]\n", "invalid TOML"),
        (
            &*GOOD.replace("first-secret", "short"),
            "secret: must be at least 8 characters",
        ),
        (
            &*format!("log_level = \"auditrail=loud\"\n{GOOD}"),
            "log_level",
        ),
    ];
    for (n, (text, reason)) in bad.iter().enumerate() {
        std::fs::write(&file, text).unwrap();
        hangup(&server);
        wait_for_log_count(&server, "not reloaded", n + 1);
        let log = server.stderr();
        assert!(
            log.contains(reason),
            "the log does not say {reason:?}: {log}"
        );
        assert!(server.child_alive(), "{log}");
        let body = event_line(&new_id(n as u64 + 1, 14), "node-bad", n as u64 + 1) + "\n";
        let (status, answer) = post_events(&server.addr, &body, Some("first-secret")).unwrap();
        assert_eq!(status, 200, "the running key stopped working: {answer}");
    }
    assert_eq!(server.terminate(), 0);
}
