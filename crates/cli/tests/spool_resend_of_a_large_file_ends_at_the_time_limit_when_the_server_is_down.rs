//! `auditrail spool resend --timeout 1` of a node's spool segment holding more events
//! than a run keeps in flight (12 000: 8 batches of 1000 await their answers at once),
//! while the event server is down, ends by itself: sending waits for room, none comes
//! within the time limit, and sending stops there. stderr says how many events of the
//! file were not sent and that they are still in it; the file is unchanged. The events
//! in flight are dead-lettered at the deadline, as `send` does, so the status is 4.
//! (It waited for room without a bound and never ended, deaf to SIGTERM too.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::spool_support::{
    ended_within_a_guard, resend_log, segment, spool_many, spooling_node, start_resend, tail,
};
use auditrail_testkit::port::Port;

const EVENTS: usize = 12_000;

#[test]
fn the_wait_for_room_ends_at_the_time_limit_and_names_what_was_not_sent() {
    let down = Port::new();
    let node = spooling_node("node-resend", &down);
    spool_many(&node, EVENTS);
    let (segment, _) = segment(&node);
    let before = std::fs::read(&segment).unwrap();

    let resend = start_resend(&node, &["--timeout", "1"], &segment);
    let (ended, out) = ended_within_a_guard(resend);
    let (stdout, _) = common::text(&out);
    let log = resend_log(&node);
    assert!(
        ended,
        "spool resend --timeout 1 was still running after 120 s\n{stdout}\n{}",
        tail(&log)
    );
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{}", tail(&log));
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let sent = summary["sent"].as_u64().unwrap() as usize;
    assert!(sent > 0 && sent < EVENTS, "{summary}");
    assert_eq!(summary["acknowledged"], 0, "{summary}");
    let left = EVENTS - sent;
    let expected = format!(
        "auditrail: error: sending stopped (the time limit of 1 s passed while the server \
         took none of the events in flight): {sent} events were sent (where they went: see \
         above); {left} of the {EVENTS} events read were not sent ({left} of {}). They are \
         still in the files, which `spool resend` never changes: run it again",
        segment.display()
    );
    assert!(log.contains(&expected), "{}", tail(&log));
    assert!(
        std::fs::read(&segment).unwrap() == before,
        "the segment changed"
    );
}
