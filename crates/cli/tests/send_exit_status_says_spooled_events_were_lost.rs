//! A node spools 10 events while its server is down (`send` exits 3); then the
//! spool's segment file is deleted by hand. The next `send`, with the server up,
//! delivers its own event, but the spooled events are lost: its summary says so
//! (`lostSpoolSegments` in the JSON line, `spooled events LOST` on stderr) and it
//! exits 4 (some events were lost), not 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::spool_support;
use auditrail_testkit::port::Port;

use auditrail_testkit::server::ServerProcess;

#[test]
fn a_send_that_finds_spooled_events_lost_says_so_and_exits_4() {
    let port = Port::new();
    let node = spool_support::spooling_node("node-lost", &port);
    let out = spool_support::spool_ten(&node);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["lostSpoolSegments"], 0, "{summary}");

    let (seg, _) = spool_support::segment(&node);
    std::fs::remove_file(&seg).unwrap();

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let out = spool_support::send_one(&node, "user11");
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
