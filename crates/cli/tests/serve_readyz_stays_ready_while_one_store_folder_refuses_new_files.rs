//! One store's folder that refuses a new file (its mode reset to 555 by a backup
//! tool) turned the whole server's `/readyz` to `503 not_ready`, while every batch,
//! that store's included, was stored (`200`): a load balancer took the server out of
//! service for every store's nodes. Now the server stays ready, naming the store
//! under `degraded` with the OS error, and is not ready only when every store's folder
//! refuses.
//!
//! The server runs as a user the file modes stop: as root (whom no mode stops) the
//! folder is given to uid 65534 and the server runs as that user (`tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::serve_support::{post_events, request};
use crate::tamper_support::{give_to_unprivileged, stop, ten, try_start_unprivileged};

/// Two stores, `a` and `b`, each taking one routing key.
const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `/readyz` once `done` holds of it (the probe's verdict is kept up to a second), or
/// the last answer after 15 s.
fn readyz_once(
    addr: &str,
    done: impl Fn(u16, &serde_json::Value) -> bool,
) -> (u16, serde_json::Value) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = request(addr, "GET", "/readyz", &[], b"").unwrap();
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        if done(status, &body) || Instant::now() > until {
            return (status, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn one_store_folder_refusing_new_files_is_degraded_and_every_one_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    give_to_unprivileged(dir.path());
    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    for (key, salt) in [("svc-a", 811), ("svc-b", 812)] {
        let (status, answer) = post_events(&server.addr, &ten(key, 1, salt), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let (a, b) = (dir.path().join("data/a"), dir.path().join("data/b"));
    set_mode(&a, 0o555);
    let (status, ready) = readyz_once(&server.addr, |s, r| s != 200 || r.get("degraded").is_some());
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    let degraded = &ready["degraded"][0];
    assert_eq!(degraded["reason"], "store_refuses_new_files", "{ready}");
    assert_eq!(degraded["store"], "a", "{ready}");
    assert!(
        degraded["message"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{ready}"
    );
    // What it says is true: both stores store.
    for (key, salt) in [("svc-a", 811), ("svc-b", 812)] {
        let (status, answer) = post_events(&server.addr, &ten(key, 11, salt), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }

    // Every store's folder refuses: nothing new can be stored anywhere.
    set_mode(&b, 0o555);
    let (status, ready) = readyz_once(&server.addr, |s, _| s != 200);
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "not_ready", "{ready}");
    assert_eq!(ready["reason"], "permission_denied", "{ready}");

    set_mode(&a, 0o755);
    set_mode(&b, 0o755);
    let (status, ready) = readyz_once(&server.addr, |s, r| s == 200 && r.get("degraded").is_none());
    assert_eq!(status, 200, "{ready}");
    assert!(ready.get("degraded").is_none(), "{ready}");
    assert_eq!(stop(server), 0);
}
