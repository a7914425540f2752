//! A destination's `required_key` that names no `[[keys]]` entry (a typo, `""`, or a key
//! a reload removed) stops the start, naming the destination, the key and the ids there
//! are, and a SIGHUP with it keeps the running configuration. It was taken without a
//! word: the destination then accepted nothing, ever, and every event went silently to
//! the other destinations only (as `topics = []` would, which is refused).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crate::common;
use crate::serve_support;

const CONFIG: &str = "data_dir = \"data\"\n\
                      [[keys]]\nid = \"svc-a\"\nsecret = \"svc-a-secret-123\"\n\
                      [[destinations]]\nname = \"all\"\ntype = \"store\"\npath = \"all\"\n\
                      [[destinations]]\nname = \"svc-a\"\ntype = \"store\"\npath = \"svc-a\"\n\
                      required_key = \"svc-a\"\n";

#[test]
fn a_required_key_naming_no_key_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    for (given, said) in [
        (
            "\"svc_a\"",
            "destinations[1] (\"svc-a\"): required_key \"svc_a\" names no [[keys]] entry \
             (the [[keys]] ids are \"svc-a\")",
        ),
        (
            "\"\"",
            "destinations[1] (\"svc-a\"): required_key \"\" names no [[keys]] entry",
        ),
    ] {
        let text = CONFIG.replace(
            "required_key = \"svc-a\"",
            &format!("required_key = {given}"),
        );
        std::fs::write(dir.path().join("s.toml"), text).unwrap();
        let out = common::run_within(
            dir.path(),
            &["serve", "-c", "s.toml", "--listen", "127.0.0.1:0"],
            &[],
            Duration::from_secs(20),
        )
        .unwrap_or_else(|out| {
            panic!(
                "started with required_key = {given}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(said), "expected {said:?} in: {err}");
    }
}

#[test]
fn a_reload_that_removes_the_required_key_keeps_the_running_config() {
    use serve_support::*;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    // The key renamed: the destination would require a key there is no more.
    std::fs::write(&file, CONFIG.replace("id = \"svc-a\"", "id = \"svc-b\"")).unwrap();
    hangup(&server);
    wait_for_log(&server, "not reloaded");
    let log = server.stderr();
    assert!(
        log.contains(
            "required_key \"svc-a\" names no [[keys]] entry (the [[keys]] ids are \"svc-b\")"
        ),
        "{log}"
    );
    assert!(server.child_alive(), "{log}");
    // The running key and destination still take the events sent with it.
    let body = event_line(&new_id(1, 15), "node-1", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("svc-a-secret-123")).unwrap();
    assert_eq!(status, 200, "the running key stopped working: {answer}");
    assert_eq!(server.terminate(), 0);
}
