//! Relative paths in a node config are taken in the config file's folder, not in the
//! working directory: the same config used from two working directories (cron and an
//! operator's shell) has one run folder, so its events are numbered 1 then 2, not 1
//! twice (two sequence files, two spools and two locks, one per working directory).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

fn send(cwd: &Path, config: &Path, msg_type: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config"])
        .arg(config)
        .args(["--topic", "generic", "--msg-type", msg_type])
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "send from {}: {}",
        cwd.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_config_used_from_two_working_directories_numbers_its_events_1_then_2() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    let (cwd1, cwd2) = (dir.path().join("cwd1"), dir.path().join("cwd2"));
    for d in [&etc, &cwd1, &cwd2] {
        std::fs::create_dir(d).unwrap();
    }
    // `run_dir` left at its default (`run`), the file target's `dir` relative.
    std::fs::write(
        etc.join("node.toml"),
        "node = \"node-cwd\"\n[[targets]]\ntype = \"file\"\ndir = \"audit\"\n",
    )
    .unwrap();
    send(&cwd1, Path::new("../etc/node.toml"), "first");
    send(&cwd2, &etc.join("node.toml"), "second");

    let log = std::fs::read_to_string(etc.join("audit/audit.log")).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seqs: Vec<(u64, &str)> = events
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().unwrap(),
                e["message"]["msgType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(seqs, [(1, "first"), (2, "second")], "{log}");
    assert!(
        etc.join("run/seq/node-cwd").is_file(),
        "the run folder is beside the config"
    );
    for cwd in [&cwd1, &cwd2] {
        let left: Vec<_> = std::fs::read_dir(cwd).unwrap().collect();
        assert!(
            left.is_empty(),
            "nothing written in the working directory {}",
            cwd.display()
        );
    }
}
