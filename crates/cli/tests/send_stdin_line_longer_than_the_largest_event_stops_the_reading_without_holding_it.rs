//! `auditrail send --stdin` meets a line longer than the largest event a node can
//! deliver (64 MiB, the most a spool record holds): input that never holds a newline,
//! as `< /dev/zero` or a binary file piped by mistake. It is a bad line like any other
//! (named by its number, the events of the lines before it delivered, exit status 1),
//! refused once 64 MiB of it were read: the command reads no further (the writer of
//! its input finds the pipe closed long before the 256 MiB it offers), so its memory
//! stays bounded. (Before, it read the whole line into memory first: `< /dev/zero`
//! grew without limit.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

const OFFERED: usize = 256 << 20;

#[test]
fn a_line_of_256_mib_without_a_newline_is_refused_after_64_mib_naming_the_line() {
    let node = common::Node::with_file_target("");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..2 {
            writeln!(
                stdin,
                "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\"}}}}"
            )
            .unwrap();
        }
        let zeros = vec![0u8; 1 << 20];
        let mut written = 0;
        while written < OFFERED {
            if stdin.write_all(&zeros).is_err() {
                break;
            }
            written += zeros.len();
        }
        written
    });
    let out = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stdin line 3: longer than 67108864 bytes"),
        "{stderr}"
    );
    assert!(
        written < 128 << 20,
        "{} MiB of the line were taken: read on past the limit",
        written >> 20
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 2, "{summary}");
    let users: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["authUser"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["user0", "user1"]);
}
