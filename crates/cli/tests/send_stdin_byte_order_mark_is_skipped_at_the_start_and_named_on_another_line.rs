//! `auditrail send --stdin` reads a file that starts with a UTF-8 byte order mark (an
//! editor's or a Windows tool's): the mark is skipped, as RFC 8259 (section 8.1) lets a
//! JSON parser do, and every line is sent as written. It was "stdin line 1: not JSON:
//! expected value at line 1 column 1" and nothing was sent. A mark at the start of a
//! later line (files joined together) is a bad line, named with the mark.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

fn send(node: &common::Node, input: &[u8]) -> (std::process::Output, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = common::text(&out);
    (out, stdout, stderr)
}

fn line(user: &str) -> String {
    format!(
        "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"{user}\"}}}}\n"
    )
}

fn users(node: &common::Node) -> Vec<String> {
    node.audit_lines()
        .iter()
        .map(|l| l["message"]["authUser"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_mark_at_the_start_of_the_input_is_skipped() {
    let node = common::Node::with_file_target("");
    let input = format!("\u{feff}{}{}", line("alice"), line("bob"));
    let (out, stdout, stderr) = send(&node, input.as_bytes());
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(users(&node), ["alice", "bob"]);
}

#[test]
fn a_mark_at_the_start_of_a_later_line_is_named() {
    let node = common::Node::with_file_target("");
    let input = format!("{}\u{feff}{}", line("alice"), line("bob"));
    let (out, stdout, stderr) = send(&node, input.as_bytes());
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stdin line 2") && stderr.contains("byte order mark"),
        "{stderr}"
    );
    assert_eq!(users(&node), ["alice"], "the line before it is sent");
}
