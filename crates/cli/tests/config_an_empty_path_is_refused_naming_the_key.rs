//! An empty path-valued key or variable is refused when the config is read, naming the
//! file (or the variable), the entry and the key; nothing is written, not even in the
//! working directory. An empty path is the working directory to every file operation:
//! an eventserver target's `spool_dir = ""` was accepted, the target then never started
//! ("the target cannot start: : No such file or directory", naming no key) and its lock
//! file went to the working directory; `AUDITRAIL_DATA_DIR=""` (a systemd
//! `Environment=AUDITRAIL_DATA_DIR=`) started a server whose store and signing key went
//! to the working directory; `AUDITRAIL_SIGNING_KEY=""` stopped the start with
//! "tamper evidence: : No such file or directory".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

use crate::common;
use std::time::Duration;

const EMPTY: &str = "must not be empty";

/// Runs `auditrail ARGS` with `env` in `cwd` (an empty folder); a process still running
/// after 20 s (a server that started anyway) is killed and reported.
fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    common::run_within(cwd, args, env, Duration::from_secs(20)).unwrap_or_else(|out| {
        panic!(
            "`auditrail {args:?}` with {env:?} was not refused: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn assert_refused(out: &Output, cwd: &Path, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    let written: Vec<_> = std::fs::read_dir(cwd).unwrap().collect();
    assert!(
        written.is_empty(),
        "nothing is written to the working directory: {written:?}"
    );
}

#[test]
fn a_node_config_with_an_empty_path_key_sends_nothing() {
    let config = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let file = config.path().join("node.toml");
    let send = [
        "send",
        "--config",
        file.to_str().unwrap(),
        "--topic",
        "generic",
        "--msg-type",
        "login",
        "--timeout",
        "2",
    ];
    let eventserver = "[[targets]]\ntype = \"eventserver\"\nurl = \"http://127.0.0.1:9\"\n";
    let mut cases: Vec<(String, String)> = [
        "spool_dir",
        "receipts_dir",
        "dead_letter_file",
        "ca_file",
        "client_cert",
        "client_key",
    ]
    .iter()
    .map(|key| {
        (
            format!("{eventserver}{key} = \"\"\n"),
            format!("targets[0] (\"eventserver-0\", type \"eventserver\"): `{key}`: {EMPTY}"),
        )
    })
    .collect();
    cases.push((
        "[[targets]]\ntype = \"file\"\ndir = \"\"\n".into(),
        format!("targets[0] (\"file-0\", type \"file\"): `dir`: {EMPTY}"),
    ));
    for key in ["run_dir", "dead_letter_dir"] {
        cases.push((
            format!("{key} = \"\"\n[[targets]]\ntype = \"file\"\ndir = \"audit\"\n"),
            format!("`{key}`: {EMPTY}"),
        ));
    }
    for (targets, expected) in cases {
        std::fs::write(&file, format!("node = \"n-empty\"\n{targets}")).unwrap();
        let out = run(cwd.path(), &send, &[]);
        assert_refused(&out, cwd.path(), &format!("node.toml: {expected}"));
        let left: Vec<_> = std::fs::read_dir(config.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the config: {left:?}");
    }
}

#[test]
fn a_server_with_an_empty_path_variable_does_not_start() {
    let cwd = tempfile::tempdir().unwrap();
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    for (var, shown, key) in [
        ("AUDITRAIL_DATA_DIR", "\"\"", "data_dir"),
        ("AUDITRAIL_DEAD_LETTER_DIR", "\"\"", "dead_letter_dir"),
        ("AUDITRAIL_SIGNING_KEY", "(hidden)", "signing_key"),
    ] {
        let out = run(cwd.path(), &serve, &[(var, "")]);
        assert_refused(
            &out,
            cwd.path(),
            &format!("environment {var}: invalid value {shown}: {key}: {EMPTY}"),
        );
    }
}
