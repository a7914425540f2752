//! A line `auditrail send --stdin` cannot read is named by its line of the input and
//! the column in that line: "stdin line 2: ... at column 39". It said "stdin line 2:
//! ... at line 1 column 39" (serde_json's count, in the one line it parsed), which sent
//! people to the first line of the input; with `--topic` put into a line without one,
//! the column also counted the bytes put in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

fn refusal(args: &[&str], input: &str) -> String {
    let node = common::Node::with_file_target("");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .args(args)
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    stderr
}

const GOOD: &str = r#"{"topic":"generic","message":{"msgType":"login","authUser":"alice"}}"#;

#[test]
fn the_column_is_the_lines_with_and_without_a_topic_put_in() {
    // Column 60 of line 2 is the `x` where a value was expected.
    let bad = r#"{"topic":"generic","message":{"msgType":"login","authUser":x}}"#;
    assert_eq!(bad.find('x').unwrap() + 1, 60);
    let err = refusal(&[], &format!("{GOOD}\n{bad}\n"));
    assert!(
        err.contains("stdin line 2") && err.contains("at column 60") && !err.contains("at line 1"),
        "{err}"
    );
    // The same place in a line without a topic, read with `--topic generic`: the
    // column is the line's own, not the one in the text with the topic put in.
    let bad = r#"  {"message":{"msgType":"login","authUser":x}}"#;
    let column = bad.find('x').unwrap() + 1;
    let err = refusal(&["--topic", "generic"], &format!("{GOOD}\n{bad}\n"));
    assert!(
        err.contains("stdin line 2") && err.contains(&format!("at column {column}")),
        "{err}"
    );
    // A line cut short: its end is column 19.
    let err = refusal(&[], &format!("{GOOD}\n{GOOD}\n{{\"topic\":\"generic\",\n"));
    assert!(
        err.contains("stdin line 3: not JSON") && err.contains("at column 19"),
        "{err}"
    );
}
