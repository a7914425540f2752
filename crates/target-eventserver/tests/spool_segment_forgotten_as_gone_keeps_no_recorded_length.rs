//! A finished segment whose file is replaced by another file at its path while the
//! spool runs is forgotten and reported as gone (see `gone.rs`). Its recorded length
//! (`lengths`, see `lengths.rs`) goes at once: kept until the next roll, a crash before
//! it would leave the other file compared with that length at the next start, and a
//! shorter one reported as a second loss, a segment cut by hand, that never happened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use auditrail_target_eventserver::spool::{gone, record};
use spool_support::{id_of, open, records, segment_files};

#[test]
fn a_segment_replaced_while_running_loses_its_recorded_length_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    // One record per segment: every append finishes the one before.
    let (spool, _) = open(&dir, 1);
    let mut long = Vec::new();
    let pad = "x".repeat(200);
    record::encode_payload(
        format!("{{\"i\":0,\"pad\":\"{pad}\"}}").as_bytes(),
        &mut long,
    );
    spool.append(&long, 1).unwrap();
    spool.append(&records(1, 1), 1).unwrap();
    spool.append(&records(2, 1), 1).unwrap();
    let first = segment_files(&dir).remove(0);
    let first_id = id_of(&first);
    let recorded = |dir: &std::path::Path| {
        std::fs::read_to_string(dir.join("lengths"))
            .unwrap()
            .lines()
            .map(|l| l.split_whitespace().next().unwrap().parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    };
    assert!(recorded(&dir).contains(&first_id));

    // Another, shorter file put at its path.
    let other = dir.join("other");
    std::fs::write(&other, records(100, 1)).unwrap();
    std::fs::rename(&other, &first).unwrap();
    let got = spool.reader().read_batch(4, 1 << 20).unwrap();
    assert_eq!(got.payloads.len(), 2, "the records after it are read");

    assert!(
        !recorded(&dir).contains(&first_id),
        "the forgotten segment's length is still recorded: {:?}",
        std::fs::read_to_string(dir.join("lengths")).unwrap()
    );
    // A crash now: the next start finds the folder as it is. Played by a spool opened
    // on a copy of it (this one still holds the folder's lock).
    let after_crash = tmp.path().join("after-crash");
    std::fs::create_dir(&after_crash).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, after_crash.join(path.file_name().unwrap())).unwrap();
    }
    let (_next_start, _) = open(&after_crash, 1);
    let lost = gone::list(&after_crash).unwrap().lost;
    assert_eq!(lost.len(), 1, "reported twice: {lost:?}");
    assert_eq!(lost[0].reason, "another file is at its path");
}
