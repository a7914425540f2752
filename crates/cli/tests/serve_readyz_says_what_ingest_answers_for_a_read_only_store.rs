//! `/readyz` for a store folder that turned read-only said "batches are refused (503)"
//! while the ingest stored the events of the partitions the store had open (`200`) and
//! refused, per event, only those it had to make a new folder for (`503
//! refused_for_now`, naming the folder). Now readiness says what the ingest answers,
//! naming the store and the cause.
//!
//! Real parts: a server process, its store folder made read-only by a read-only bind
//! mount (root ignores file modes), unmounted at the end. Needs root; says so and
//! passes without checking anything otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::serve_support;

use auditrail::Timestamp;
use serde_json::json;
use serve_support::*;

/// A read-only bind mount of a folder over itself, unmounted when dropped.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn mount(folder: &Path) -> Option<ReadOnly> {
        let ok = |args: &[&str]| {
            Command::new("mount")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        let f = folder.to_str().unwrap();
        if !ok(&["--bind", f, f]) {
            eprintln!("skipped: a bind mount needs root");
            return None;
        }
        let ro = ReadOnly(folder.to_owned());
        assert!(ok(&["-o", "remount,bind,ro", f]));
        Some(ro)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Events at `at`: one time for all, so that the second is filed in the partition the
/// first opened (an hour turning in between would need a new one).
fn event(n: u64, topic: &str, at: &str) -> String {
    json!({
        "id": new_id(n, 73), "timestamp": at, "topic": topic,
        "node": "n1", "seq": n, "message": {"msgType": "login"}
    })
    .to_string()
}

#[test]
fn readyz_says_what_ingest_answers_for_a_read_only_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("audit-store");
    std::fs::create_dir(&store).unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\nname = \"main\"\npath = {:?}\n",
            store.to_str().unwrap()
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let at = Timestamp::now().to_string();
    let (status, answer) = post_events(&server.addr, &event(1, "generic", &at), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let Some(_ro) = ReadOnly::mount(&store) else {
        server.kill9();
        return;
    };
    // A verdict is kept up to a second: ask until one taken after the mount.
    let mut answer = serde_json::Value::Null;
    for _ in 0..100 {
        let (status, body) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
        answer = serde_json::from_str(&body).unwrap();
        if status == 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(answer["reason"], "read_only_file_system", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"main\" refuses a new file (Read-only file system")
            && message.contains("are refused (503 refused_for_now, naming the folder")
            && message.contains("events of the partitions it has open are stored"),
        "{message}"
    );
    // What the ingest answers indeed: the open partition's event is stored...
    let (status, answer) = post_events(&server.addr, &event(2, "generic", &at), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // ...and one that needs a new folder is refused for now, naming it.
    let (status, answer) = post_events(&server.addr, &event(3, "authfail", &at), None).unwrap();
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "refused_for_now", "{answer}");
    assert!(answer.to_string().contains("authfail"), "{answer}");
    server.kill9();
}
