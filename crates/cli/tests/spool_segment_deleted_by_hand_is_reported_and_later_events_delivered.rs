//! A node spools 10 events while its server is down (`send` exits 3, "spooled"); then
//! the spool's segment file is deleted by hand. `auditrail spool inspect` already
//! shows the segment as lost (exit status 1). The next run, with the server up,
//! delivers the new event and says on stderr that a spooled segment is missing and
//! its events are lost (exit status 4); afterwards the inspection still lists the loss, with when it
//! was found.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::path::PathBuf;

use auditrail_testkit::server::ServerProcess;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_deleted_spool_segment_is_reported_and_the_next_event_delivered() {
    let port = free_port();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-gone\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 300\n"
        ),
    )
    .unwrap();
    let ten: String = (1..=10)
        .map(|i| {
            format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\"}}}}\n")
        })
        .collect();
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        &ten,
    );
    assert_eq!(out.status.code(), Some(3), "{:?}", common::text(&out));

    let spool = node.path().join("run/spool/central");
    let seg: PathBuf = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .expect("a spool segment");
    let id: u64 = seg.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    std::fs::remove_file(&seg).unwrap();

    let out = node.run(&["spool", "inspect", "--config", "node.toml", "--json"], "");
    assert_eq!(out.status.code(), Some(1), "{:?}", common::text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["lost"][0]["first"], id, "{report}");

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, &format!("127.0.0.1:{port}"));
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "login",
            "--user",
            "user11",
        ],
        "",
    );
    let (_, stderr) = common::text(&out);
    // The spooled events are lost: exit status 4 (see
    // `send_exit_status_says_spooled_events_were_lost`).
    assert_eq!(out.status.code(), Some(4), "{:?}", common::text(&out));
    assert!(
        stderr.contains("missing") && stderr.contains(&format!("{id:020}.seg")),
        "the loss is said, naming the segment: {stderr}"
    );
    auditrail_testkit::server::wait_until(std::time::Duration::from_secs(20), || {
        !server.stored().is_empty()
    });
    assert_eq!(common::stored_users(&server), vec!["user11".to_owned()]);

    let out = node.run(&["spool", "inspect", "--config", "node.toml"], "");
    assert_eq!(out.status.code(), Some(1), "{:?}", common::text(&out));
    let (stdout, _) = common::text(&out);
    assert!(
        stdout.contains(&format!("LOST: segment {id} gone")) && stdout.contains(", found "),
        "{stdout}"
    );
}
