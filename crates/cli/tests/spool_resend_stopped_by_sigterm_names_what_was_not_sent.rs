//! SIGTERM stops `auditrail spool resend` while it waits for room (the event server is
//! down, a file of 12 000 events, a long time limit): sending stops there, a second
//! SIGTERM ends the wait for the batches in flight, and the command ends with the
//! summary, a status that is not 0, and, on stderr, how many events of the file were
//! not sent and that they are still in it (the file is unchanged). It was deaf to
//! signals while it waited for room, for ever.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::spool_support::{
    ended_within_a_guard, resend_log, segment, spool_many, spooling_node, start_resend, tail,
};
use auditrail_testkit::port::Port;
use auditrail_testkit::server::wait_until;

use std::process::Command;
use std::time::Duration;

const EVENTS: usize = 12_000;

fn term(pid: u32) {
    let sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Fails the test, after killing `resend` (a process left running would outlive it).
fn give_up(mut resend: std::process::Child, node: &common::Node, why: &str) -> ! {
    let _ = resend.kill();
    let _ = resend.wait();
    panic!("{why}\n{}", tail(&resend_log(node)));
}

#[test]
fn two_sigterms_end_it_naming_the_events_not_sent() {
    let down = Port::new();
    let node = spooling_node("node-resend", &down);
    spool_many(&node, EVENTS);
    let (segment, _) = segment(&node);
    let before = std::fs::read(&segment).unwrap();

    let resend = start_resend(&node, &["--timeout", "600"], &segment);
    let pid = resend.id();
    // Sending has begun once the target retries a batch (the server refuses them all).
    let retried = wait_until(Duration::from_secs(120), || {
        resend_log(&node).contains("retryable error")
    });
    if !retried {
        give_up(resend, &node, "no batch was tried");
    }
    term(pid);
    let stopped = wait_until(Duration::from_secs(120), || {
        resend_log(&node).contains("SIGTERM: sending stops")
    });
    if !stopped {
        give_up(resend, &node, "the SIGTERM did not stop the sending");
    }
    // The batches in flight are waited for within --timeout: a second signal ends that.
    term(pid);
    let (ended, out) = ended_within_a_guard(resend);
    let (stdout, _) = common::text(&out);
    let log = resend_log(&node);
    assert!(
        ended,
        "still running after two SIGTERMs\n{stdout}\n{}",
        tail(&log)
    );
    // What was in flight is dead-lettered at the end of the wait.
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{}", tail(&log));
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let sent = summary["sent"].as_u64().unwrap() as usize;
    assert!(sent > 0 && sent < EVENTS, "{summary}");
    let left = EVENTS - sent;
    let expected = format!(
        "auditrail: error: sending stopped (SIGTERM): {sent} events were sent (where they \
         went: see above); {left} of the {EVENTS} events read were not sent ({left} of {}). \
         They are still in the files, which `spool resend` never changes: run it again",
        segment.display()
    );
    assert!(log.contains(&expected), "{}", tail(&log));
    assert!(
        std::fs::read(&segment).unwrap() == before,
        "the segment changed"
    );
}
