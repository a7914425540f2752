//! A store held at start whose damage is still there at a SIGHUP stays held: its
//! batches are still answered `503 store_held`, `/readyz` still names it, nothing is
//! written in its folder, and the log says once why it was not taken back, while the
//! other store goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{post_events, request, start, wait_for_log};
use crate::tamper_support::{
    file_bytes as files, keyed_event as event, log_lines, stop, try_start,
};

/// Two stores, `a` and `b`, each taking one routing key.
const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;

#[test]
fn a_store_still_damaged_at_sighup_stays_held_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for key in ["svc-a", "svc-b"] {
        for n in 1..=5 {
            let (status, answer) = post_events(&server.addr, &event(key, n, 621), None).unwrap();
            assert_eq!(status, 200, "{answer}");
        }
    }
    assert_eq!(server.terminate(), 0);
    // Store b's checkpoint log cut to its first line, and left so.
    let b = dir.path().join("data/b");
    let lines = log_lines(&b);
    std::fs::write(b.join("checkpoints.jsonl"), format!("{}\n", lines[0])).unwrap();

    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("exit {code}: {log}"));
    let before = files(&b);
    server.hangup();
    wait_for_log(&server, "server.toml reloaded");
    let log = server.stderr();
    assert_eq!(
        log.matches("store still held: checked again on SIGHUP")
            .count(),
        1,
        "{log}"
    );
    let (status, answer) = post_events(&server.addr, &event("svc-b", 6, 621), None).unwrap();
    assert_eq!(
        (status, &answer["error"]),
        (503, &"store_held".into()),
        "{answer}"
    );
    let (_, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["held"][0]["destination"], "b", "{ready}");
    let (status, answer) = post_events(&server.addr, &event("svc-a", 6, 621), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(
        before == files(&b),
        "the held store's folder was written to"
    );
    assert_eq!(stop(server), 0);
}
