//! A node spools 10 events while its server is down (`send` exits 3, "spooled"); then
//! the spool's segment file is cut in place by hand (`truncate -s`: same path, same
//! file, fewer bytes). `auditrail spool inspect` already shows the cut as a loss (exit
//! status 1). The next run, with the server up, says on stderr that the segment was
//! cut and what after the cut is lost, delivers the intact events before the cut and
//! the new event; afterwards the inspection still lists the loss.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::spool_support;
use auditrail_testkit::port::Port;

use auditrail_testkit::server::ServerProcess;

#[test]
fn a_spool_segment_truncated_in_place_is_reported_and_the_rest_delivered() {
    let port = Port::new();
    let node = spool_support::spooling_node("node-cut", &port);
    spool_support::spool_ten(&node);

    let (seg, id) = spool_support::segment(&node);
    let len = std::fs::metadata(&seg).unwrap().len();
    let cut = len / 2;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(cut)
        .unwrap();

    let out = node.run(&["spool", "inspect", "--config", "node.toml", "--json"], "");
    assert_eq!(out.status.code(), Some(1), "{:?}", common::text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["lost"][0]["first"], id, "{report}");
    assert_eq!(report[0]["lost"][0]["cutTo"], cut, "{report}");
    let intact = report[0]["segments"][0]["records"].as_u64().unwrap();
    assert!((1..10).contains(&intact), "{report}");

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let out = spool_support::send_one(&node, "user11");
    let (_, stderr) = common::text(&out);
    assert!(
        stderr.contains("cut in place") && stderr.contains(&format!("{id:020}.seg")),
        "the loss is said, naming the segment: {stderr}"
    );
    let mut expected: Vec<String> = (1..=intact)
        .map(|i| format!("user{i}"))
        .chain(["user11".to_owned()])
        .collect();
    expected.sort();
    auditrail_testkit::server::wait_until(std::time::Duration::from_secs(20), || {
        server.stored().len() >= expected.len()
    });
    let mut stored = common::stored_users(&server);
    stored.sort();
    assert_eq!(stored, expected);

    let out = node.run(&["spool", "inspect", "--config", "node.toml"], "");
    assert_eq!(out.status.code(), Some(1), "{:?}", common::text(&out));
    let (stdout, _) = common::text(&out);
    assert!(
        stdout.contains(&format!("LOST: segment {id} cut in place to {cut} bytes"))
            && stdout.contains(", found "),
        "{stdout}"
    );
}
