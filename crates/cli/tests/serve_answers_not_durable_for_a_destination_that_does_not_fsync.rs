//! A destination whose `Ok` means "in the page cache", not "on disk", is answered
//! `durable: false` with a `note`, and named in a WARN at start: a `file` destination
//! with `fsync = false` and a forwarding `eventserver` destination with `spool_fsync =
//! "never"` (their configs' `TargetConfig::durability`). A real `auditrail serve`
//! answered both `durable: true` with no note, as a fsynced store's (tryout63/03). The
//! same destinations with their defaults (fsync) are answered `durable: true`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::{event_line, new_id, post_events, start_with_config, Port};

/// Starts a server with `destination` (one `[[destinations]]` entry named `d`), posts
/// one event, and returns the answer and the server's log.
fn answer_of(destination: &str, n: u64) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_config(
        dir.path(),
        &format!("data_dir = \"data\"\nshutdown_timeout_s = 1\n[[destinations]]\nname = \"d\"\n{destination}"),
    );
    let body = event_line(&new_id(n, 6303), "n1", n) + "\n";
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let log = server.stderr();
    server.terminate();
    (answer, log)
}

fn assert_not_durable(destination: &str, setting: &str, n: u64) {
    let (answer, log) = answer_of(destination, n);
    assert_eq!(answer["durable"], false, "{destination}: {answer}");
    assert!(
        answer["note"].as_str().is_some_and(|n| n.contains(setting)),
        "{destination}: the note names no {setting}: {answer}"
    );
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("destination is not durable"))
        .unwrap_or_else(|| panic!("{destination}: no WARN at start: {log}"));
    assert!(
        warning.contains("destination=d") && warning.contains(setting),
        "{warning}"
    );
}

fn assert_durable(destination: &str, n: u64) {
    let (answer, log) = answer_of(destination, n);
    assert_eq!(answer["durable"], true, "{destination}: {answer}");
    assert!(answer.get("note").is_none(), "{answer}");
    assert!(!log.contains("destination is not durable"), "{log}");
}

#[test]
fn a_file_destination_without_fsync_is_answered_not_durable() {
    assert_not_durable("type = \"file\"\nfsync = false\n", "fsync = false", 1);
    assert_durable("type = \"file\"\n", 2);
}

#[test]
fn a_forwarding_destination_whose_spool_is_not_fsynced_is_answered_not_durable() {
    // Nobody listens at the next hop: the destination's `Ok` is its spool's.
    let down = Port::new();
    let url = format!("type = \"eventserver\"\nurl = \"http://{}\"\n", down.addr());
    assert_not_durable(
        &format!("{url}spool_fsync = \"never\"\n"),
        "spool_fsync = \"never\"",
        3,
    );
    assert_durable(&url, 4);
}
