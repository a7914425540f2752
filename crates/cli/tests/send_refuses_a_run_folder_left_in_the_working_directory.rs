//! Upgrading: a config whose relative `run_dir` earlier versions took in the working
//! directory left its state there. When that folder holds a run's state and the run
//! folder beside the config does not exist yet, `send` refuses to start anew (events
//! numbered from 1 again, spooled events never sent) and says what to move where.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn the_config_is_refused_naming_both_folders_and_nothing_is_started() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let (etc, cwd) = (root.join("etc"), root.join("cwd"));
    std::fs::create_dir(&etc).unwrap();
    // What an earlier version left in the working directory.
    std::fs::create_dir_all(cwd.join("run/seq")).unwrap();
    std::fs::write(cwd.join("run/auditrail.lock"), "").unwrap();
    std::fs::write(cwd.join("run/seq/node-old"), "next 42\n").unwrap();
    std::fs::write(
        etc.join("node.toml"),
        "node = \"node-old\"\n[[targets]]\ntype = \"file\"\ndir = \"audit\"\n",
    )
    .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "../etc/node.toml"])
        .args(["--topic", "generic", "--msg-type", "login"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&etc.join("run").display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains(&cwd.join("run").display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains("move that folder"),
        "says what to do: {stderr}"
    );
    assert!(!etc.join("run").exists(), "no new run folder");
    assert!(!etc.join("audit").exists(), "nothing sent");
}
