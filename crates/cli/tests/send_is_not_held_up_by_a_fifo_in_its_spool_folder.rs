//! A FIFO (named pipe) at a file of an eventserver target's spool folder: its newest
//! segment mark, its ack position, its record of segment lengths, or a segment.
//! `auditrail send` blocked for ever opening it (no writer), sent nothing and said
//! nothing. Now nothing there is waited on: a segment that is not a regular file is
//! refused at once, naming it (the target cannot start; as for any target whose files
//! cannot be used, the node's other targets go on and its event is dead-lettered at the
//! deadline: exit status 4); a mark the spool can do without is named in a warning and
//! the send goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::tamper_support;
use auditrail_testkit::port::Port;

use std::time::Duration;

const SEND: &[&str] = &[
    "send",
    "--config",
    "node.toml",
    "--topic",
    "generic",
    "--msg-type",
    "login",
    "--user",
    "alice",
    "--timeout",
    "1",
];

#[cfg(unix)]
#[test]
fn each_spool_file_replaced_by_a_fifo_is_named_and_not_waited_on() {
    // A loopback port nobody listens on: the events stay spooled.
    let port = Port::new();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-spool\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\n\
             name = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 100\n"
        ),
    )
    .unwrap();
    node.run_within(SEND, Duration::from_secs(60))
        .expect("the first send ended");
    let spool = node.path().join("run/spool/central");
    let segment = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with(".seg"))
        .expect("a spooled segment");
    for (name, refused) in [
        ("newest", false),
        ("ack", false),
        ("lengths", false),
        (segment.as_str(), true),
    ] {
        let path = spool.join(name);
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        tamper_support::make_fifo(&path);
        // Without the fix: `None`, the send still waiting in open(2) after a minute.
        let out = node
            .run_within(SEND, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("a FIFO at {name}: send hung"));
        let (_, err) = common::text(&out);
        let named = path.display().to_string();
        assert!(
            err.lines()
                .any(|l| l.contains(&named)
                    && l.contains("is a FIFO (named pipe), not a regular file")),
            "{name}: {err}"
        );
        if refused {
            assert_eq!(out.status.code(), Some(4), "{name}: {err}");
            assert!(err.contains("dead-lettered"), "{name}: {err}");
        }
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            std::fs::remove_file(&path).unwrap();
        }
        if !path.exists() {
            std::fs::write(&path, saved).unwrap();
        }
    }
}
