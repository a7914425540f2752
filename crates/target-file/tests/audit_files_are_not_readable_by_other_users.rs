//! The files a `file` target creates hold the audit trail (user names, addresses, what
//! they did): under the usual umask `022` they are created `0640`, never readable by
//! every local user, whatever the rotation, rolled files included. (They were `0644`.)
//!
//! A process of its own: it sets the process's umask.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, EventDraft, Filter, NodeId};
use serde_json::{json, Value};

fn dispatcher(config: Value) -> Dispatcher {
    Dispatcher::builder(NodeId::new("node-mode").unwrap())
        .registered_target(
            "file",
            &auditrail_target_file::REGISTRATION,
            config,
            Filter::all(),
            DeliveryOptions {
                batch_max_events: 1,
                ..Default::default()
            },
        )
        .build()
        .unwrap()
}

fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut modes: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            (e.file_name().into_string().unwrap(), mode)
        })
        .collect();
    modes.sort();
    modes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_files_are_created_without_access_for_others() {
    // The usual umask: std's default mode for a new file (0666) gives 0644 under it.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    for (rotation, extra) in [
        ("size", json!({ "max_bytes": 1, "max_files": 3 })),
        ("hourly", json!({})),
        ("never", json!({})),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = json!({ "dir": dir.path(), "rotation": rotation, "fsync": false });
        config
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let d = dispatcher(config);
        for i in 0..3u64 {
            d.emit_acked(EventDraft::new("generic", "login").field("i", i))
                .await
                .unwrap();
        }
        assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
        let modes = modes(dir.path());
        assert!(!modes.is_empty(), "{rotation}: no file");
        for (name, mode) in &modes {
            assert_eq!(
                *mode, 0o640,
                "{rotation}: {name} is mode {mode:o}: an audit file must not be readable by \
                 every local user ({modes:?})"
            );
        }
    }
}

/// The folders the target creates for its files (and their missing parents) are not
/// listable by every local user: the file names tell which days and hours there were.
/// A folder that was there already keeps its mode. (They were `0755`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_folders_are_created_without_access_for_others() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let tmp = tempfile::tempdir().unwrap();
    let existing = tmp.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = existing.join("new-parent/audit");
    let d = dispatcher(json!({ "dir": dir, "fsync": true }));
    d.emit_acked(EventDraft::new("generic", "login"))
        .await
        .unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for created in [dir.as_path(), dir.parent().unwrap()] {
        assert_eq!(
            mode(created),
            0o750,
            "{} is mode {:o}: a folder of audit files must not be listable by every local user",
            created.display(),
            mode(created)
        );
    }
    assert_eq!(
        mode(&existing),
        0o755,
        "a folder already there keeps its mode"
    );
}
