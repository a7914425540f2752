//! `tail -f x | auditrail send --stdin`: lines written to a pipe that stays open are
//! emitted as they arrive (batched by count and by time), not held until the input
//! ends or thousands of lines have come. SIGTERM then stops the reading; everything
//! read is delivered, the summary printed, and the exit status is 0 since nothing is
//! missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn lines_on_an_open_pipe_are_delivered_before_it_closes() {
    let node = common::Node::with_file_target("");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    for i in 0..10 {
        writeln!(
            input,
            "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"u{i}\"}}}}"
        )
        .unwrap();
    }
    input.flush().unwrap();
    // The pipe stays open: the ten events must still reach the file.
    assert!(
        wait_until(Duration::from_secs(30), || node.audit_lines().len() == 10),
        "streamed events were held back: {} in the file",
        node.audit_lines().len()
    );

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    drop(input);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 10, "{summary}");
    assert_eq!(summary["acknowledged"], 10, "{summary}");
    assert_eq!(node.audit_lines().len(), 10);
}
