//! `/readyz` answers `503 {"status":"not_ready","reason":"read_only_file_system"}` once
//! the file system of the data folder turns read-only, as the kernel makes an ext4 file
//! system with `errors=remount-ro` after an I/O error: every batch then gets a `503`,
//! and a load balancer or Kubernetes reading `/readyz` should send the nodes elsewhere.
//! It said `ready` throughout. `/healthz` stays `200` (the process is alive; a restart
//! would not help). Since Linux 6.9 such a file system refuses writes without showing
//! read-only in `statvfs`, so the server probes with a file.
//!
//! Real parts: an ext4 file system on a loop device, mounted in a private mount
//! namespace (util-linux `unshare`/`nsenter`) in which the server runs, and a real file
//! system error (`/sys/fs/ext4/<dev>/trigger_fs_error`). Needs root (a loop device); it
//! says so and passes without checking anything when not run as root.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use auditrail_testkit::server::ServerProcess;
use serve_support::ext4::{can_mount, Ext4};
use serve_support::{event_line, new_id, post_events, request};

fn readyz(addr: &str) -> (u16, serde_json::Value) {
    let (status, body) = request(addr, "GET", "/readyz", &[], b"").unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

#[test]
fn readyz_is_503_once_the_file_system_refuses_writes() {
    if !can_mount() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let ns = Ext4::create(
        &dir.path().join("fs.img"),
        64 << 20,
        &mnt,
        "errors=remount-ro",
    );
    let enter = ns.enter();
    let enter: Vec<&str> = enter.iter().map(String::as_str).collect();
    let server = ServerProcess::start_through(&mnt.join("data"), None, &enter);
    let addr = server.addr.clone();
    let post = |n: u64| post_events(&addr, &event_line(&new_id(n, 77), "n1", n), None).unwrap();

    let (status, answer) = readyz(&addr);
    assert_eq!(
        (status, &answer["status"]),
        (200, &"ready".into()),
        "{answer}"
    );
    assert_eq!(post(1).0, 200);

    ns.fail();
    // What readiness stands for: a batch now is refused for now, not stored.
    let (status, answer) = post(2);
    assert_eq!(status, 503, "{answer}");
    // A verdict is kept up to a second: wait for one taken after the failure.
    let mut answer = serde_json::Value::Null;
    for _ in 0..100 {
        let (status, a) = readyz(&addr);
        answer = a;
        if status == 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(answer["status"], "not_ready", "{answer}\n{}", server.log());
    assert_eq!(answer["reason"], "read_only_file_system", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("data folder"), "{answer}");
    let (status, _) = request(&addr, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(status, 200, "the process is alive");
}
