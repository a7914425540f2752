//! Upgrading guard, the other way: a node config used for the first time from a
//! working directory whose `./run` holds ANOTHER node's state (`run/seq/node-1`, its
//! lock file) is not refused: nothing there is this node's. Its first `send` works and
//! takes `run_dir` in the config file's folder, leaving the other node's folder as it
//! was. (It was refused with "holds this node's state ... move that folder", advice
//! that would have handed node-1's spools and sequence to it.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn the_first_send_works_and_takes_run_dir_beside_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let (etc, cwd) = (root.join("nodes/design-1"), root.join("cwd"));
    std::fs::create_dir_all(&etc).unwrap();
    // Another node's run folder in the working directory.
    std::fs::create_dir_all(cwd.join("run/seq")).unwrap();
    std::fs::write(cwd.join("run/auditrail.lock"), "").unwrap();
    std::fs::write(cwd.join("run/seq/node-1"), "next 42\n").unwrap();
    std::fs::write(
        etc.join("node.toml"),
        "node = \"design-1\"\n[[targets]]\ntype = \"file\"\ndir = \"audit\"\n",
    )
    .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "../nodes/design-1/node.toml"])
        .args(["--topic", "generic", "--msg-type", "login", "--user", "bob"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        etc.join("run/seq/design-1").is_file(),
        "run_dir taken in the config's folder: {stderr}"
    );
    assert!(etc.join("audit").is_dir(), "the event was written");
    let theirs: Vec<_> = std::fs::read_dir(cwd.join("run/seq"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(theirs, ["node-1"], "the other node's folder is left alone");
    assert_eq!(
        std::fs::read_to_string(cwd.join("run/seq/node-1")).unwrap(),
        "next 42\n"
    );
}
