//! `tail -f x | auditrail send --stdin`: lines written to a pipe that stays open are
//! emitted as they arrive (batched by count and by time), not held until the input
//! ends or thousands of lines have come. SIGTERM then stops the reading; everything
//! read is delivered, the summary printed, and the exit status is 0 since nothing is
//! missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn lines_on_an_open_pipe_are_delivered_before_it_closes() {
    let node = common::Node::with_file_target("");
    let mut send = common::StreamingSend::start(&node, &[]);
    send.write_logins(10);
    // The pipe stays open: the ten events must still reach the file.
    assert!(
        wait_until(Duration::from_secs(30), || node.audit_lines().len() == 10),
        "streamed events were held back: {} in the file",
        node.audit_lines().len()
    );

    let log = send.log.clone();
    let out = send.stop("-TERM");
    let (stdout, _) = common::text(&out);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 10, "{summary}");
    assert_eq!(summary["acknowledged"], 10, "{summary}");
    assert_eq!(node.audit_lines().len(), 10);
}
