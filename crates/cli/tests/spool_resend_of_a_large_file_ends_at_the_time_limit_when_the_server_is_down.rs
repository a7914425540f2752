//! `auditrail spool resend --timeout 1` of a node's spool segment holding more events
//! than a run keeps in flight (12 000: 8 batches of 1000 await their answers at once),
//! while the event server is down, ends by itself: sending waits for room, none comes
//! within the time limit, and sending stops there. stderr says how many events of the
//! file were not sent and that they are still in it; the file is unchanged. The events
//! in flight are dead-lettered at the deadline, as `send` does, so the status is 4.
//! (It waited for room without a bound and never ended, deaf to SIGTERM too.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

const EVENTS: usize = 12_000;

#[test]
fn the_wait_for_room_ends_at_the_time_limit_and_names_what_was_not_sent() {
    let down = auditrail_testkit::port::down();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-resend\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"{}\"\nshutdown_drain_ms = 100\nretry_initial_backoff_ms = 50\n",
            down.url()
        ),
    )
    .unwrap();
    // Spooled while the server is down: one segment of the node's spool.
    let lines: String = (0..EVENTS)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"t\",\"i\":{i}}}}}\n"))
        .collect();
    let spooled = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        &lines,
    );
    assert_eq!(
        spooled.status.code(),
        Some(3),
        "{:?}",
        common::text(&spooled)
    );
    let segment = std::fs::read_dir(node.path().join("run/spool/central"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let before = std::fs::read(&segment).unwrap();

    let segment_arg = segment.to_string_lossy().into_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["spool", "resend", "--config", "node.toml", "--timeout", "1"])
        .arg(&segment_arg)
        .current_dir(node.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // A file: a warning per dead-lettered event fills a pipe nobody reads yet.
        .stderr(std::fs::File::create(node.path().join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    // A guard against the hang only, far beyond the time limit.
    let ended = wait_until(Duration::from_secs(120), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, _) = common::text(&out);
    let stderr = std::fs::read_to_string(node.path().join("stderr.log")).unwrap();
    let tail: String = stderr.lines().rev().take(6).collect::<Vec<_>>().join("\n");
    assert!(
        ended,
        "spool resend --timeout 1 was still running after 120 s\n{stdout}\n{tail}"
    );
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{tail}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let sent = summary["sent"].as_u64().unwrap() as usize;
    assert!(sent > 0 && sent < EVENTS, "{summary}");
    assert_eq!(summary["acknowledged"], 0, "{summary}");
    let left = EVENTS - sent;
    let expected = format!(
        "auditrail: error: sending stopped (the time limit of 1 s passed while the server \
         took none of the events in flight): {sent} events were sent (where they went: see \
         above); {left} of the {EVENTS} events read were not sent ({left} of {segment_arg}). \
         They are still in the files, which `spool resend` never changes: run it again"
    );
    assert!(stderr.contains(&expected), "{tail}");
    assert!(
        std::fs::read(&segment).unwrap() == before,
        "the segment changed"
    );
}
