//! A node's spool segments and dead-letter files hold its events (user names,
//! addresses, what they did), like its audit files: under the usual umask `022` they
//! are created `0640`, never readable by every local user (they were `0644`), in
//! folders created `0750` (they were `0755`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common;
use auditrail_testkit::port::Port;

/// Every regular file under `dir`, with its permission bits (folders in `folders`).
fn modes(dir: &Path, out: &mut Vec<(String, u32)>, folders: &mut Vec<(String, u32)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let meta = e.metadata().unwrap();
        if meta.is_dir() {
            folders.push((
                e.path().display().to_string(),
                meta.permissions().mode() & 0o777,
            ));
            modes(&e.path(), out, folders);
        } else {
            out.push((
                e.path().display().to_string(),
                meta.permissions().mode() & 0o777,
            ));
        }
    }
}

#[test]
fn spool_segments_and_dead_letters_are_not_readable_by_others() {
    // Held by the test and never listened on: every send is refused.
    let port = Port::new();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-mode\"\nrun_dir = \"run\"\n\
             [[targets]]\ntype = \"eventserver\"\nname = \"spooled\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 300\n\
             [[targets]]\ntype = \"eventserver\"\nname = \"direct\"\nurl = \"http://127.0.0.1:{port}\"\nspool = false\n"
        ),
    )
    .unwrap();
    // The usual umask, whatever the test runner's: std's default mode for a new file
    // (0666) gives 0644 under it.
    let out = Command::new("sh")
        .args(["-c", "umask 022; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--topic", "generic"])
        .args(["--msg-type", "login", "--user", "alice", "--timeout", "1"])
        .current_dir(node.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let mut files = Vec::new();
    let run = node.path().join("run");
    let mut folders = vec![(
        run.display().to_string(),
        std::fs::metadata(&run).unwrap().permissions().mode() & 0o777,
    )];
    modes(&run, &mut files, &mut folders);
    let holding_events: Vec<&(String, u32)> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".seg") || name.ends_with("direct.jsonl"))
        .collect();
    assert_eq!(
        holding_events.len(),
        2,
        "a spool segment and a dead-letter file: {files:?} {:?}",
        common::text(&out)
    );
    for (name, mode) in holding_events {
        assert_eq!(
            *mode, 0o640,
            "{name} holds events and is mode {mode:o}: readable by every local user"
        );
    }
    // The run folder, the dead-letter and spool folders: their file names tell which
    // targets, nodes and topics there were. (They were 0755.)
    assert!(folders.len() >= 3, "{folders:?}");
    for (name, mode) in &folders {
        assert_eq!(
            *mode, 0o750,
            "{name} holds files of events and is mode {mode:o}: listable by every local user"
        );
    }
}
