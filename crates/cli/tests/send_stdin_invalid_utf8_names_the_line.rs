//! `auditrail send --stdin` meets a line that is not valid UTF-8 (line 6 of 11): like a
//! line that is not JSON, it is an error naming the line (and the byte), the 10 events
//! before and after it are delivered, the summary counts it (`badLines`), and the exit
//! status is non-zero.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn an_invalid_byte_is_an_error_naming_the_line_and_earlier_events_are_delivered() {
    let node = common::Node::with_file_target("");
    let mut input = Vec::new();
    for i in 0..5 {
        writeln!(input, "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\"}}}}").unwrap();
    }
    input.extend_from_slice(b"{\"topic\":\"generic\",\"message\":{\"msgType\":\"login\",\"authUser\":\"Estagi\xe1rio\"}}\n");
    for i in 0..5 {
        writeln!(input, "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"late{i}\"}}}}").unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stdin line 6") && stderr.contains("UTF-8") && stderr.contains("0xe1"),
        "{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 10, "{summary}");
    assert_eq!(summary["acknowledged"], 10, "{summary}");
    assert_eq!(summary["badLines"], 1, "{summary}");
    let users: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["authUser"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        users,
        [
            "user0", "user1", "user2", "user3", "user4", "late0", "late1", "late2", "late3",
            "late4"
        ]
    );
}
