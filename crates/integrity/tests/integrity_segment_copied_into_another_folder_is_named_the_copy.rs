//! A segment copied into another partition folder by mistake (`cp 2026/12/01/0…1.jsonl
//! 2026/12/02/`): every record of it is there twice, byte for byte. Verify reports
//! `duplicate-record` for each, naming the copy; which of the two files the walk met
//! first varied record by record, so for some records the original, in its right
//! folder, was called "a copy of" the misplaced file (an operator removing what verify
//! names as copies would remove original records). Now the copy is the misplaced one
//! for every record, the file `misplaced-record` names too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::sync::Arc;

use auditrail_core::{Event, Topic};
use integrity_support::{build_configured, event};

/// Events 1..=5 on 1 December, 6..=10 on 2 December, one topic and no routing key.
fn by_day(n: u64) -> Arc<Event> {
    let mut e = (*event(n)).clone();
    e.topic = Topic::new("generic").unwrap();
    e.routing_key = None;
    let day = if n <= 5 { 1 } else { 2 };
    e.timestamp = format!("2026-12-0{day}T10:00:{n:02}.000Z").parse().unwrap();
    Arc::new(e)
}

#[test]
fn every_duplicate_record_names_the_misplaced_copy_not_the_original() {
    let fx = build_configured(serde_json::json!({"partitioning": "day"}), 10, by_day);
    let original = "generic/_none/2026/12/01/00000000000000000001.jsonl";
    let copy = "generic/_none/2026/12/02/00000000000000000001.jsonl";
    assert!(fx.store.join(original).is_file());
    assert!(!fx.store.join(copy).exists());
    std::fs::copy(fx.store.join(original), fx.store.join(copy)).unwrap();

    let report = fx.verify();
    let copies: Vec<_> = report
        .problems()
        .filter(|p| p.kind.name() == "duplicate-record")
        .collect();
    let seqs: Vec<_> = copies.iter().map(|p| p.first_seq.unwrap()).collect();
    let records = std::fs::read_to_string(fx.store.join(original))
        .unwrap()
        .lines()
        .count() as u64;
    assert_eq!(seqs, (1..=records).collect::<Vec<_>>(), "{report}");
    for p in &copies {
        assert_eq!(p.file.as_deref(), Some(copy), "the copy named: {report}");
        assert!(
            p.message
                .contains(&format!("a copy of the record at {original}:")),
            "{}",
            p.message
        );
    }
    let misplaced: Vec<_> = report
        .problems()
        .filter(|p| p.kind.name() == "misplaced-record")
        .map(|p| p.file.as_deref().unwrap())
        .collect();
    assert!(
        !misplaced.is_empty() && misplaced.iter().all(|f| *f == copy),
        "{report}"
    );
}
