//! The spool's `ack` file decides which segments are deleted (those wholly before it)
//! and which records are sent (those from it on). An `ack` file that names a place the
//! spool never reached (a segment past every segment created, an offset past the end of
//! its segment or in the middle of a record, text that is no position: restored next
//! to an older copy of the folder, copied from another spool, damaged) is not trusted:
//! no segment is deleted or skipped for it, everything from the oldest segment present
//! is sent again (the server stores each event once), and `auditrail spool inspect`
//! counts those events as still to send. An acknowledgement given to a running spool
//! past what it holds is ignored the same way. An ack file that can be right (a crash
//! came between making it durable and deleting the segments it passed) is still
//! followed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use spool_support::{deliver, id_of, open, records, segment_files};
use std::path::Path;

use auditrail_target_eventserver::spool::{inspect, Position};

fn payloads(from: usize, n: usize) -> Vec<String> {
    (from..from + n).map(|i| format!("{{\"i\":{i}}}")).collect()
}

/// A spool left by a run whose server was down: `n` events in segments of
/// `segment_bytes`, none acknowledged. Returns the segment ids.
fn spooled(dir: &Path, segment_bytes: u64, per_append: usize, appends: usize) -> Vec<u64> {
    let (spool, _) = open(dir, segment_bytes);
    for k in 0..appends {
        spool
            .append(&records(k * per_append, per_append), per_append as u64)
            .unwrap();
    }
    drop(spool);
    segment_files(dir).iter().map(|p| id_of(p)).collect()
}

/// `ack` says `text`: the inspection and the next start take every spooled event as
/// still to send, nothing is deleted before it is delivered, nothing is reported lost.
fn all_sent_again_after(dir: &Path, segment_bytes: u64, ids: &[u64], text: &str, n: usize) {
    std::fs::write(dir.join("ack"), text).unwrap();

    let report = inspect::inspect(dir).unwrap();
    assert_eq!(
        report.pending_events(),
        n as u64,
        "ack {text:?}: {report:?}"
    );
    assert_eq!(report.ack, Position::start_of(ids[0]), "ack {text:?}");
    assert!(!report.has_losses(), "ack {text:?}: {report:?}");

    let (spool, metrics) = open(dir, segment_bytes);
    let on_disk: Vec<u64> = segment_files(dir).iter().map(|p| id_of(p)).collect();
    assert_eq!(on_disk, ids, "ack {text:?}: no segment deleted at open");
    assert_eq!(spool.pending_events(), n as u64, "ack {text:?}");
    assert_eq!(spool.acked(), Position::start_of(ids[0]), "ack {text:?}");
    assert_eq!(deliver(&spool), payloads(0, n), "ack {text:?}");
    assert!(spool.is_drained());
    assert_eq!(metrics.snapshot().lost_segments, 0, "ack {text:?}");
}

#[test]
fn an_ack_naming_a_segment_past_every_segment_deletes_nothing() {
    // The tester's case: 20 events in one segment, `ack` replaced by "99 0".
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let ids = spooled(&dir, 1 << 20, 20, 1);
    assert_eq!(ids.len(), 1);
    all_sent_again_after(&dir, 1 << 20, &ids, "99 0\n", 20);
}

#[test]
fn an_ack_naming_a_segment_past_the_newest_of_several_deletes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    // Four events per segment of 60 bytes: three segments.
    let ids = spooled(&dir, 60, 4, 3);
    assert_eq!(ids.len(), 3, "{ids:?}");
    // One past the newest with an offset: that segment never held a record.
    let past = ids[2] + 1;
    all_sent_again_after(&dir, 60, &ids, &format!("{past} 15\n"), 12);
}

#[test]
fn an_ack_far_ahead_of_a_partly_delivered_spool_deletes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let ids = spooled(&dir, 60, 4, 3);
    all_sent_again_after(&dir, 60, &ids, &format!("{} 0\n", u64::MAX), 12);
}

#[test]
fn an_ack_offset_in_the_middle_of_a_record_or_past_its_segment_is_not_trusted() {
    // In the second segment: the first one must not be deleted for it either.
    for offset in [3, 100_000] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let ids = spooled(&dir, 60, 4, 3);
        all_sent_again_after(&dir, 60, &ids, &format!("{} {offset}\n", ids[1]), 12);
    }
}

#[test]
fn an_ack_file_that_holds_no_position_sends_everything_again() {
    for text in ["", "garbage\n", "1\n", "-1 0\n"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let ids = spooled(&dir, 60, 4, 3);
        all_sent_again_after(&dir, 60, &ids, text, 12);
    }
}

#[test]
fn an_acknowledgement_past_what_the_running_spool_holds_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let (spool, _) = open(&dir, 60);
    for k in 0..3 {
        spool.append(&records(k * 4, 4), 4).unwrap();
    }
    let ids: Vec<u64> = segment_files(&dir).iter().map(|p| id_of(p)).collect();
    let end = spool.end();
    for bogus in [
        Position::start_of(end.segment + 2),
        Position {
            segment: end.segment + 1,
            offset: 1,
        },
        Position {
            segment: end.segment,
            offset: end.offset + 1,
        },
        Position {
            segment: ids[0],
            offset: 100_000,
        },
    ] {
        spool.ack(bogus, 12);
        assert_eq!(spool.acked(), Position::start_of(ids[0]), "{bogus:?}");
        assert_eq!(spool.pending_events(), 12, "{bogus:?}");
        let on_disk: Vec<u64> = segment_files(&dir).iter().map(|p| id_of(p)).collect();
        assert_eq!(on_disk, ids, "{bogus:?}: no segment deleted");
    }
    assert_eq!(deliver(&spool), payloads(0, 12));
    assert!(spool.is_drained());
}

#[test]
fn an_ack_that_can_be_right_still_deletes_the_segments_it_passed() {
    // Everything was delivered and the ack made durable one past the newest segment;
    // a crash came before the segments were deleted. The next start deletes them and
    // sends nothing again.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let ids = spooled(&dir, 60, 4, 3);
    let past = ids[2] + 1;
    std::fs::write(dir.join("ack"), format!("{past} 0\n")).unwrap();
    assert_eq!(inspect::inspect(&dir).unwrap().pending_events(), 0);

    let (spool, metrics) = open(&dir, 60);
    assert!(segment_files(&dir).is_empty());
    assert_eq!(spool.pending_events(), 0);
    assert!(deliver(&spool).is_empty());
    assert_eq!(metrics.snapshot().lost_segments, 0);
    spool.append(&records(12, 1), 1).unwrap();
    assert!(spool.end().segment >= past, "{:?}", spool.end());
    assert_eq!(deliver(&spool), payloads(12, 1));
}
