//! A data folder that refuses a new file (its mode reset to 555) made `/readyz`
//! answer `503 not_ready` ("batches are refused (503)") while every batch was stored
//! and acknowledged (`200`): what it refuses is the files the server rewrites there,
//! the stores' high-water marks, whose failure the checkpoint task logs every second
//! (`writing a checkpoint failed`), and which would also have read as `unsealed`.
//! Now the server stays ready and says what is true under `degraded`: the data
//! folder refuses new files, and each store whose high-water mark cannot be written.
//!
//! The server runs as a user the file modes stop: as root (whom no mode stops) the
//! folder is given to uid 65534 and the server runs as that user (`tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::serve_support::{new_id, post_events, request};
use crate::tamper_support::{give_to_unprivileged, stop, try_start_unprivileged};

// A mark is due every second: its failure shows without a long wait.
const CONFIG: &str = "\
[checkpoints]
every_seconds = 1
[[destinations]]
name = \"a\"
type = \"store\"
path = \"a\"
";

/// Ten events (sequence numbers from `first`).
fn ten(first: u64) -> String {
    (first..first + 10)
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, 821), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "routingKey": "svc", "node": "n-1",
                "seq": n, "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
                + "\n"
        })
        .collect()
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn reasons(ready: &serde_json::Value) -> Vec<String> {
    ready["degraded"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| x["reason"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `/readyz` once `done` holds of it, or the last answer after 20 s.
fn readyz_once(
    addr: &str,
    done: impl Fn(u16, &serde_json::Value) -> bool,
) -> (u16, serde_json::Value) {
    let until = Instant::now() + Duration::from_secs(20);
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
fn a_data_folder_refusing_new_files_is_degraded_while_batches_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    give_to_unprivileged(dir.path());
    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    let (status, answer) = post_events(&server.addr, &ten(1), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let data = dir.path().join("data");
    set_mode(&data, 0o555);
    let (status, answer) = post_events(&server.addr, &ten(11), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // Once a mark was due and could not be written.
    let (status, ready) = readyz_once(&server.addr, |s, r| {
        s != 200 || reasons(r).iter().any(|x| x == "high_water_mark_unwritten")
    });
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    let reasons = reasons(&ready);
    assert!(
        reasons.iter().any(|x| x == "data_folder_refuses_writes")
            && reasons.iter().any(|x| x == "high_water_mark_unwritten"),
        "{ready}"
    );
    let mark = ready["degraded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["reason"] == "high_water_mark_unwritten")
        .unwrap();
    assert_eq!(mark["store"], "a", "{ready}");
    assert!(server.stderr().contains("writing a checkpoint failed"));
    // What it says is true: batches are still stored.
    let (status, answer) = post_events(&server.addr, &ten(21), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    set_mode(&data, 0o755);
    let (status, ready) = readyz_once(&server.addr, |s, r| s == 200 && r.get("degraded").is_none());
    assert_eq!(status, 200, "{ready}");
    assert!(ready.get("degraded").is_none(), "{ready}");
    assert_eq!(stop(server), 0);
}
