//! A command that fails exits with status 1 also when its standard error is a closed
//! pipe (or a terminal that hung up: `send` goes on after a SIGHUP and may report an
//! error later). `eprintln!` panicked there ("failed printing to stderr"), and the
//! status became 101, which scripts and service managers read as a crash of the
//! program rather than the command's error. The error text cannot be read then; the
//! status still tells it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};

#[test]
fn a_failing_command_with_its_stderr_closed_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    // A pipe whose reader is gone before the command starts: every write is EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(dir.path().join("no-such-store"))
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "{status}");
}
