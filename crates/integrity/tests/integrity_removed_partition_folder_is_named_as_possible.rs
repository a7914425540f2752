//! A partition folder removed by hand, whose records sat between two lines of another
//! partition's file: verify used to state as fact that they were deleted from that other
//! file (the only file that could have held them), sending an investigator to the wrong
//! place. It names that file and, as the other possibility, the deleted segment file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::sync::Arc;

use auditrail_core::RoutingKey;
use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build_with, event, only_error};

#[test]
fn a_removed_partition_folder_is_named_as_the_other_possibility() {
    // chainSeq 1 and 3 in routing key "a", 2 in "b": one file each.
    let fx = build_with(3, |n| {
        let mut e = (*event(n)).clone();
        e.topic = event(1).topic.clone();
        e.timestamp = event(1).timestamp;
        e.routing_key = Some(RoutingKey::new(if n == 2 { "b" } else { "a" }).unwrap());
        Arc::new(e)
    });
    let (b_file, _) = fx.locate(2);
    let (a_file, _) = fx.locate(1);
    assert_ne!(b_file.parent(), a_file.parent());
    std::fs::remove_dir_all(b_file.parent().unwrap()).unwrap();

    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::MissingRecords);
    assert_eq!((p.first_seq, p.last_seq), (Some(2), Some(2)));
    assert!(
        p.message.contains("00000000000000000002.jsonl"),
        "the deleted segment file is not named as a possibility: {}",
        p.message
    );
    assert!(p.message.contains(&fx.rel(&a_file)), "{}", p.message);
}
