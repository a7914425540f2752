//! `auditrail spool resend` given a dead-letter file by mistake (it holds JSON lines,
//! no spool record): refused before anything is sent, exit status 1, saying that it
//! is a dead-letter file and which command sends it (`send --stdin`), which then
//! stores its event. (Before, it said the file's bytes were damaged and not sent, and
//! exited 0 with `"sent":0`: a script took the re-send as done and deleted the file.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use auditrail_testkit::port::Port;

use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};

#[test]
fn a_dead_letter_file_is_refused_and_the_command_it_names_sends_it() {
    let port = Port::new();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-resend\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nspool = false\n"
        ),
    )
    .unwrap();
    // The server is down: the event is dead-lettered.
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "login",
            "--timeout",
            "2",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(4), "{:?}", common::text(&out));
    let moved = node.path().join("central.resend.jsonl");
    std::fs::rename(node.path().join("run/deadletter/central.jsonl"), &moved).unwrap();

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let out = node.run(
        &[
            "spool",
            "resend",
            "--config",
            "node.toml",
            "--timeout",
            "5",
            "central.resend.jsonl",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for part in [
        "central.resend.jsonl: a dead-letter file",
        "nothing was sent",
        "auditrail send --config node.toml --stdin < central.resend.jsonl",
    ] {
        assert!(stderr.contains(part), "{part:?} in: {stderr}");
    }
    assert!(server.stored().is_empty());

    // The command it names sends the event.
    let out = node.run_from(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "5"],
        &moved,
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
    assert!(wait_until(Duration::from_secs(10), || server
        .stored()
        .len()
        == 1));
}
