//! A node spools 20 events while its server is down (`send` exits 3, "spooled"); then
//! the spool's `ack` file is replaced by one naming a segment past every segment file
//! ("99 0": an ack file put back next to an older copy of the spool, or copied from
//! another one). `auditrail spool inspect` counts the 20 events as still to send and
//! says the ack file is damaged (exit status 1). The next run, with the server up, says
//! on stderr that the ack file is not followed, naming it, deletes no segment before it
//! is delivered, and delivers all 20 events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use auditrail_testkit::port::Port;

use auditrail_testkit::server::ServerProcess;

#[test]
fn an_ack_past_every_segment_is_not_followed_and_the_spooled_events_are_delivered() {
    let port = Port::new();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-ack\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nbackoff_max_ms = 200\nshutdown_drain_ms = 300\n"
        ),
    )
    .unwrap();
    let twenty: String = (1..=20)
        .map(|i| {
            format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i:02}\"}}}}\n")
        })
        .collect();
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        &twenty,
    );
    assert_eq!(out.status.code(), Some(3), "{:?}", common::text(&out));

    let spool = node.path().join("run/spool/central");
    let ack = spool.join("ack");
    assert_eq!(std::fs::read_to_string(&ack).unwrap().trim(), "0 0");
    std::fs::write(&ack, "99 0\n").unwrap();

    let out = node.run(&["spool", "inspect", "--config", "node.toml", "--json"], "");
    assert_eq!(out.status.code(), Some(1), "{:?}", common::text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["pendingEvents"], 20, "{report}");
    assert!(
        report[0]["ack_damaged"]
            .as_str()
            .is_some_and(|why| why.contains("99")),
        "{report}"
    );
    let out = node.run(&["spool", "inspect", "--config", "node.toml"], "");
    let (stdout, _) = common::text(&out);
    assert!(
        stdout.contains("20 event(s) to send") && stdout.contains("ack file damaged"),
        "{stdout}"
    );

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--timeout",
            "10",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("ack position cannot be right")
            && stderr.contains("run/spool/central/ack")
            && stderr.contains("said=\"99 0\""),
        "the ack file not followed is said, naming it: {stderr}"
    );
    auditrail_testkit::server::wait_until(std::time::Duration::from_secs(20), || {
        server.stored().len() >= 20
    });
    let expected: Vec<String> = (1..=20).map(|i| format!("user{i:02}")).collect();
    assert_eq!(common::stored_users(&server), expected);

    let out = node.run(&["spool", "inspect", "--config", "node.toml", "--json"], "");
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["pendingEvents"], 0, "{report}");
}
