//! The event server refuses a node's events for good (a wrong key: `401`) and the
//! spool's sender cannot write them to the dead-letter file (a folder is at its path).
//! The log says what happened: "cannot write the dead-letter file", the events stay in
//! the spool; it never says, of any event, "written to the dead-letter file".

use crate::common;
use auditrail_testkit::server::ServerProcess;

#[test]
fn a_dead_letter_write_that_fails_is_not_logged_as_written() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[[keys]]\nid = \"k\"\nsecret = \"the-right-secret\"\n\n[[destinations]]\ntype = \"store\"\npath = \"{}\"\n",
            root.path().join("data/store").display()
        ),
    )
    .unwrap();
    let server = ServerProcess::start(&root.path().join("data"), Some(&config));
    let node = common::Node::with_eventserver_target(
        "node-dl",
        &server.url,
        "auth_key = \"not-the-secret\"\nshutdown_drain_ms = 100",
    );
    // A folder where the dead-letter file would be: every write of it fails.
    std::fs::create_dir_all(node.path().join("run/deadletter/central.jsonl")).unwrap();

    let lines: String = (0..3)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"u{i}\"}}}}\n"))
        .collect();
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "3"],
        &lines,
    );
    let (stdout, stderr) = common::text(&out);
    assert!(
        stderr.contains("cannot write the dead-letter file"),
        "{stdout}\n{stderr}"
    );
    assert!(
        !stderr.contains("written to the dead-letter file"),
        "{stdout}\n{stderr}"
    );
    assert!(server.stored().is_empty());
}
