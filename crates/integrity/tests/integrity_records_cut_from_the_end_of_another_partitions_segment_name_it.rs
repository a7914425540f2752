//! One partition folder put back from an older copy loses the records appended to its
//! segment since; the records of the partitions interleave in the chain, so the record
//! after the gap is in another partition's file. verify used to name only that other
//! file ("deleted from ... between line 2 and 3"), as a certainty, and never the file
//! the records were cut from. It names the cut file among the places.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::sync::Arc;

use auditrail_core::RoutingKey;
use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build_with, edit_lines, event, only_error};

#[test]
fn records_cut_from_the_end_of_one_partitions_segment_name_that_segment() {
    // chainSeq 1, 2, 5, 6 in routing key "a"; 3, 4, 7, 8 in "b": one file each.
    let fx = build_with(8, |n| {
        let mut e = (*event(n)).clone();
        e.topic = event(1).topic.clone();
        e.timestamp = event(1).timestamp;
        let key = if (n - 1) / 2 % 2 == 0 { "a" } else { "b" };
        e.routing_key = Some(RoutingKey::new(key).unwrap());
        Arc::new(e)
    });
    let (a_file, _) = fx.locate(5);
    let (b_file, _) = fx.locate(7);
    assert_eq!(fx.locate(1).0, a_file);
    assert_eq!(fx.locate(3).0, b_file);
    assert_ne!(a_file.parent(), b_file.parent());
    // Folder "a" as an older copy had it: records 5 and 6 were appended since.
    edit_lines(&a_file, |lines| lines.truncate(2));

    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::MissingRecords);
    assert_eq!((p.first_seq, p.last_seq), (Some(5), Some(6)));
    assert!(
        p.message.contains(&fx.rel(&a_file)),
        "the segment the records were cut from is not named: {}",
        p.message
    );
    assert!(
        !p.message.contains(": deleted from"),
        "one place is stated as a certainty though two files could have held the records: {}",
        p.message
    );
    assert!(
        p.candidates.contains(&format!("{}:3", fx.rel(&a_file))),
        "{:?}",
        p.candidates
    );
}
