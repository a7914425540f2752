//! A node spools 10 events while its server is down (`send` exits 3, "spooled"); then
//! the spool's segment file is deleted by hand. `auditrail spool inspect` already
//! shows the segment as lost (exit status 1). The next run, with the server up,
//! delivers the new event and says on stderr that a spooled segment is missing and
//! its events are lost (exit status 4); afterwards the inspection still lists the loss, with when it
//! was found.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::spool_support;
use auditrail_testkit::port::Port;

use auditrail_testkit::server::ServerProcess;

#[test]
fn a_deleted_spool_segment_is_reported_and_the_next_event_delivered() {
    let port = Port::new();
    let node = spool_support::spooling_node("node-gone", &port);
    spool_support::spool_ten(&node);

    let (seg, id) = spool_support::segment(&node);
    std::fs::remove_file(&seg).unwrap();

    let out = node.run(&["spool", "inspect", "--config", "node.toml", "--json"], "");
    assert_eq!(out.status.code(), Some(1), "{:?}", common::text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["lost"][0]["first"], id, "{report}");

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let out = spool_support::send_one(&node, "user11");
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
