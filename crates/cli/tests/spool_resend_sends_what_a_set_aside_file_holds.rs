//! `auditrail spool resend` reads the intact records of a set-aside file (here a whole
//! segment set aside by an older version, with one damaged record) and sends them
//! straight to the server of the node's `eventserver` target. The damaged record is
//! named and not sent, and so the exit status is 1, not 0 (the file was not re-sent
//! whole: it must not be deleted as done); sending the file again stores nothing
//! twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use auditrail_testkit::port::Port;

use std::path::PathBuf;
use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};

#[test]
fn the_intact_events_of_a_set_aside_segment_are_stored_once() {
    let port = Port::new();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-resend\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 100\n"
        ),
    )
    .unwrap();
    let ten: String = (1..=10)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\"}}}}\n"))
        .collect();
    node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        &ten,
    );

    // What an older version left: the whole segment renamed *.seg.corrupt, record 3 bad.
    let spool = node.path().join("run/spool/central");
    let seg: PathBuf = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let (mut off, mut i) = (0usize, 0);
    while off < bytes.len() {
        let n = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
        i += 1;
        if i == 3 {
            bytes[off + 8 + 10] ^= 0x01;
        }
        off += 8 + n;
    }
    let aside = spool.join(format!(
        "{}.corrupt",
        seg.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&aside, &bytes).unwrap();
    std::fs::remove_file(&seg).unwrap();
    std::fs::write(spool.join("ack"), "999 0\n").unwrap(); // nothing left to send by itself

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let aside_arg = aside.to_string_lossy().into_owned();
    for round in 0..2 {
        let out = node.run(
            &["spool", "resend", "--config", "node.toml", &aside_arg],
            "",
        );
        let (stdout, stderr) = common::text(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "round {round}: {stdout}\n{stderr}"
        );
        assert!(stdout.contains("\"sent\":9"), "{stdout}");
        assert!(stdout.contains("\"acknowledged\":9"), "{stdout}");
        assert!(stderr.contains("damaged bytes at offset"), "{stderr}");
        assert!(
            stderr.contains("hold no intact spool record and were not sent"),
            "{stderr}"
        );
        assert!(wait_until(Duration::from_secs(10), || server
            .stored()
            .len()
            >= 9));
    }
    let users = common::stored_users(&server);
    let mut expected: Vec<String> = [1, 2, 4, 5, 6, 7, 8, 9, 10]
        .iter()
        .map(|i| format!("user{i}"))
        .collect();
    expected.sort();
    assert_eq!(users, expected, "each intact event stored once");
}
