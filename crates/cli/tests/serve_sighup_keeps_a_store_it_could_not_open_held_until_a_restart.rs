//! A store held because it could not be opened at start (its checkpoint log at mode
//! 000: a restore with the wrong owner) is not opened by a SIGHUP, even once its files
//! can be read again: a store is opened (its lock taken, its recovery run) only by a
//! start. The SIGHUP's re-check leaves it held, says in the log that a restart is
//! needed, writes nothing in its folder, and keeps what its open found in its
//! `503 store_held`; the other store goes on, and the next start takes the store.
//!
//! The server runs as a user the file modes stop: as root (whom no mode stops) the
//! folder is given to uid 65534 and the server runs as that user (`tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::serve_support::{post_events, request, wait_for_log};
use crate::tamper_support::{
    file_bytes as files, give_to_unprivileged, keyed_event as event, stop,
    try_start_unprivileged as try_start,
};

/// Two stores, `a` and `b`, each taking one routing key.
const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_store_not_opened_at_start_stays_held_at_sighup_until_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    give_to_unprivileged(dir.path());
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    for key in ["svc-a", "svc-b"] {
        let (status, answer) = post_events(&server.addr, &event(key, 1, 631), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(stop(server), 0);

    let a = dir.path().join("data/a");
    let log = a.join("checkpoints.jsonl");
    set_mode(&log, 0o000);
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    let (status, answer) = post_events(&server.addr, &event("svc-a", 2, 631), None).unwrap();
    assert_eq!(
        (status, &answer["error"]),
        (503, &"store_held".into()),
        "{answer}"
    );
    // The operator makes the file readable again, and sends SIGHUP.
    set_mode(&log, 0o644);
    let before = files(&a);
    server.hangup();
    wait_for_log(&server, "server.toml reloaded");
    let said = server.stderr();
    assert!(
        said.lines().any(|l| l.contains("store still held")
            && l.contains("destination=a")
            && l.contains("SIGHUP does not open a store")
            && l.contains("start the server again")),
        "{said}"
    );
    assert!(!said.contains("store taken back"), "{said}");
    let (status, answer) = post_events(&server.addr, &event("svc-a", 2, 631), None).unwrap();
    assert_eq!(
        (status, &answer["error"]),
        (503, &"store_held".into()),
        "{answer}"
    );
    // What its open found, still: the OS error, not the re-check's.
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("Permission denied"), "{message}");
    let (_, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["held"][0]["destination"], "a", "{ready}");
    let (status, answer) = post_events(&server.addr, &event("svc-b", 2, 631), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(
        before == files(&a),
        "the held store's folder was written to"
    );
    assert_eq!(stop(server), 0);

    // The next start opens it.
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    let (status, answer) = post_events(&server.addr, &event("svc-a", 2, 631), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stop(server), 0);
}
