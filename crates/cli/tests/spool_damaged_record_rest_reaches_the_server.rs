//! A node spools 10 events while its server is down; one bit of record 5 rots on disk.
//! At the next run, with the server up, the 9 intact events (4 before the damage, 5
//! after) and the new one reach the server; the damaged record is kept in a side file
//! that `auditrail spool inspect` lists with its offset (and exit status 1).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use auditrail_testkit::port::Port;

use std::path::PathBuf;

use auditrail_testkit::server::ServerProcess;

#[test]
fn the_intact_records_around_a_damaged_one_are_delivered() {
    let port = Port::new();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-corrupt\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 300\n"
        ),
    )
    .unwrap();
    let ten: String = (1..=10)
        .map(|i| {
            format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\"}}}}\n")
        })
        .collect();
    // Server down: all ten stay spooled, and `send` says so (status 3).
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
    let mut bytes = std::fs::read(&seg).unwrap();
    let (mut off, mut i, mut damaged_at) = (0usize, 0, 0);
    while off < bytes.len() {
        let n = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
        i += 1;
        if i == 5 {
            bytes[off + 8 + 20] ^= 0x20; // one bit in record 5's payload
            damaged_at = off;
        }
        off += 8 + n;
    }
    std::fs::write(&seg, &bytes).unwrap();

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
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
    assert!(out.status.success(), "{:?}", common::text(&out));

    let stored = || server.stored().len();
    auditrail_testkit::server::wait_until(std::time::Duration::from_secs(20), || stored() >= 10);
    let users = common::stored_users(&server);
    let mut expected: Vec<String> = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
        .iter()
        .map(|i| format!("user{i}"))
        .collect();
    expected.sort();
    assert_eq!(users, expected);

    // The damaged bytes are kept aside, and inspection names them.
    let out = node.run(&["spool", "inspect", "--config", "node.toml", "--json"], "");
    assert_eq!(out.status.code(), Some(1), "{:?}", common::text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let set_aside = &report[0]["set_aside"];
    assert_eq!(set_aside.as_array().unwrap().len(), 1, "{report}");
    assert_eq!(set_aside[0]["offset"], damaged_at);
    assert_eq!(report[0]["pendingEvents"], 0, "{report}");
}
