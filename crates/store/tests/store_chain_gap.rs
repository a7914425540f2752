//! The chain is store-wide: after a crash, records numbered beyond the first missing
//! one belong to a batch that was never acknowledged and are cut (kept aside); damage
//! that no crash explains is left in place for the verifier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use serde_json::json;
use store_support::*;

/// Two partitions written in one batch: odd events to one file, even ones to another.
fn interleaved(first: u64, count: u64) -> Vec<std::sync::Arc<auditrail_core::Event>> {
    (first..first + count)
        .map(|n| {
            let key = if n % 2 == 0 { "even" } else { "odd" };
            event("generic", Some(key), "2026-11-25T16:55:49.123Z", n)
        })
        .collect()
}

/// Removes the line with chain number `seq` from whichever file holds it (as if that
/// file's write never reached the disk while another file's did).
fn lose_record(root: &std::path::Path, seq: u64) {
    for seg in segments(root) {
        let data = std::fs::read(&seg).unwrap();
        let needle = format!(",\"chainSeq\":{seq},");
        let mut out = Vec::new();
        let mut found = false;
        for line in data.split_inclusive(|b| *b == b'\n') {
            if String::from_utf8_lossy(line).contains(&needle) {
                found = true;
            } else {
                out.extend_from_slice(line);
            }
        }
        if found {
            std::fs::write(&seg, out).unwrap();
            return;
        }
    }
    panic!("record {seq} not found");
}

#[test]
fn records_after_a_gap_are_cut_and_the_chain_resumes_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&interleaved(1, 10)).unwrap(); // acknowledged: 1..=10
    t.send_blocking(&interleaved(11, 6)).unwrap(); // "in flight" at the crash: 11..=16
    drop(t);
    // The crash lost record 13 (in the "odd" file) but 14..16 reached the disk.
    lose_record(&root, 13);

    let t = open(&root, json!({}));
    let report = t.handle().recovery_report();
    assert_eq!(report.first_gap, Some(13));
    assert_eq!(report.records_cut_after_gap, 3, "{report:?}");
    assert!(!report.gap_left_in_place);
    assert_eq!(t.handle().head().seq, 12);
    assert_eq!(verify_chain(&root).seq, 12);

    t.send_blocking(&interleaved(100, 4)).unwrap();
    assert_eq!(verify_chain(&root).seq, 16);
    // Nothing acknowledged was lost.
    let stored: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    for n in 1..=10 {
        assert!(stored.contains(&n), "acknowledged event {n} is missing");
    }
}

#[test]
fn a_gap_with_damage_elsewhere_is_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&interleaved(1, 20)).unwrap();
    drop(t);
    // A damaged line in the middle of a file: not a crash artefact.
    let seg = segments(&root).remove(0);
    let data = std::fs::read_to_string(&seg).unwrap();
    let mut lines: Vec<String> = data.lines().map(str::to_owned).collect();
    lines[2] = "garbage".into();
    std::fs::write(&seg, lines.join("\n") + "\n").unwrap();

    let t = open(&root, json!({}));
    let report = t.handle().recovery_report();
    assert!(report.gap_left_in_place, "{report:?}");
    assert_eq!(report.records_cut_after_gap, 0);
    assert_eq!(report.damaged_lines, 1);
    assert_eq!(
        t.handle().head().seq,
        20,
        "the chain resumes after the highest record"
    );
    assert_eq!(stored_events_lenient(&root), 19);
}

fn stored_events_lenient(root: &std::path::Path) -> usize {
    lines(root)
        .iter()
        .filter(|(_, l)| auditrail_store::chain::parse_line(l).is_ok())
        .count()
}
