//! A node spools 10 events while its server is down (`send` exits 3); then the
//! spool's segment file is deleted by hand. The next `send`, with the server up,
//! delivers its own event, but the spooled events are lost: its summary says so
//! (`lostSpoolSegments` in the JSON line, `spooled events LOST` on stderr) and it
//! exits 4 (some events were lost), not 0.

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
fn a_send_that_finds_spooled_events_lost_says_so_and_exits_4() {
    let port = free_port();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-lost\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 300\n"
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
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["lostSpoolSegments"], 0, "{summary}");

    let spool = node.path().join("run/spool/central");
    let seg: PathBuf = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .expect("a spool segment");
    std::fs::remove_file(&seg).unwrap();

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
    assert_eq!(out.status.code(), Some(4), "{:?}", common::text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            &summary["sent"],
            &summary["acknowledged"],
            &summary["lostSpoolSegments"]
        ),
        (&1.into(), &1.into(), &1.into()),
        "{summary}"
    );
    assert!(
        stderr.contains("spooled events LOST: 1 spool segment file(s)"),
        "{stderr}"
    );
    auditrail_testkit::server::wait_until(std::time::Duration::from_secs(20), || {
        !server.stored().is_empty()
    });
    assert_eq!(common::stored_users(&server), vec!["user11".to_owned()]);
}
