//! `auditrail send --stdin` meets a line longer than the largest event a node can
//! deliver (64 MiB, the most a spool record holds): a dead letter of a larger event,
//! or a run of bytes without a newline, as a binary file piped by mistake. It is a bad
//! line like any other: named by its number, counted (`badLines`), exit status 1. No
//! more than 64 MiB of it is read into memory: the rest is passed over up to its newline, and the
//! lines after it are sent. (Reading stopped there: the lines after it were never
//! sent. Before that, the whole line was read into memory first: `< /dev/zero` grew
//! without limit.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

const OFFERED: usize = 256 << 20;

/// The most memory the process ever held (`VmHWM`, its peak resident set).
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_line_of_256_mib_is_named_not_held_whole_and_the_next_line_is_sent() {
    let node = common::Node::with_file_target("");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let login = |user: &str| {
        format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"{user}\"}}}}\n")
    };
    let writer = std::thread::spawn(move || {
        for user in ["user0", "user1"] {
            stdin.write_all(login(user).as_bytes()).unwrap();
        }
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..OFFERED >> 20 {
            stdin.write_all(&zeros).unwrap();
        }
        // All but what the pipe buffers was read by now, and the line is not ended:
        // the most the process held while reading it.
        let peak = peak_kib(pid);
        stdin.write_all(b"\n").unwrap();
        stdin.write_all(login("after").as_bytes()).unwrap();
        peak
    });
    let out = child.wait_with_output().unwrap();
    let peak = writer.join().unwrap();
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stdin line 3: longer than 67239936 bytes"),
        "{stderr}"
    );
    // 64 MiB of the line and the buffer's growth to hold it (about 180 MiB in all):
    // the whole line would be more than 256 MiB.
    assert!(
        peak < OFFERED as u64 >> 10,
        "{} MiB held while reading a line of 256 MiB",
        peak >> 10
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 3, "{summary}");
    assert_eq!(summary["badLines"], 1, "{summary}");
    let users: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["authUser"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["user0", "user1", "after"]);
}
