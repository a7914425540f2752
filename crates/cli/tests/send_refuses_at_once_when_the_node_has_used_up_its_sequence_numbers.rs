//! A node numbers its events up to 2^64-2 (docs/configuration.md "Sequence numbers"). A
//! run that hands out that last number leaves `next 18446744073709551615` in its
//! sequence file; the next `auditrail send` is refused at once, with exit status 1 and
//! an error naming the node and the file and saying what the operator can do, and
//! nothing is written. It used to spin forever at full CPU reserving a block past
//! `u64::MAX` (`--timeout` did not help), and a number past the last would have wrapped
//! to 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEND: [&str; 10] = [
    "send",
    "--config",
    "node.toml",
    "--timeout",
    "5",
    "--topic",
    "generic",
    "--msg-type",
    "login",
    "--user",
];

/// Runs `auditrail send ... --user USER` in the node folder, killed after 30 s.
fn send(node: &common::Node, user: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(SEND)
        .arg(user)
        .current_dir(node.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "`auditrail send --timeout 5` still ran after 30 s: {:?}",
                common::text(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn the_send_after_the_last_sequence_number_is_refused_naming_the_file() {
    let node = common::Node::with_file_target("");
    let seq_file = node.path().join("run/seq/cli-test-node");
    std::fs::create_dir_all(seq_file.parent().unwrap()).unwrap();
    std::fs::write(&seq_file, format!("next {}\n", u64::MAX - 1)).unwrap();

    // The last number: delivered, and the run records that none is left.
    let out = send(&node, "last");
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
    assert_eq!(
        std::fs::read_to_string(&seq_file).unwrap(),
        format!("next {}\n", u64::MAX)
    );

    let out = send(&node, "past-the-last");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("node \"cli-test-node\" has used up its sequence numbers"),
        "says what: {stderr}"
    );
    assert!(
        stderr.contains("run/seq/cli-test-node says the next is 18446744073709551615"),
        "names the file: {stderr}"
    );
    assert!(
        stderr.contains("write `next N` into it") && stderr.contains("another name"),
        "says what to do: {stderr}"
    );

    let lines = node.audit_lines();
    let users: Vec<&str> = lines
        .iter()
        .map(|l| l["message"]["authUser"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["last"], "nothing numbered past the last: {lines:?}");
    assert_eq!(lines[0]["seq"], u64::MAX - 1);
    assert_eq!(
        std::fs::read_to_string(&seq_file).unwrap(),
        format!("next {}\n", u64::MAX),
        "the file still says the numbers are used up"
    );
}
