//! A partition folder moved under another topic and time (someone who can write the
//! data folder, or a partition restored to the wrong place): every record keeps its
//! bytes, chain and order, so the chain checks pass, while queries, which read only
//! the folders of the topic and time they ask for, no longer see the moved events.
//! Verify reports each moved record as `misplaced-record`, naming its file and line,
//! the folder it is in and the folder it belongs in (tester's reproduction
//! `verify-misses-record-moved-to-other-partition.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::path::Path;
use std::sync::Arc;

use auditrail_core::{Event, Topic};
use auditrail_integrity::verify::{Report, Severity, VerifyOptions};
use auditrail_store::Layout;
use integrity_support::{build_with, event, Fixture};

/// The reproduction's four events: failed logins on 28 and 29 November, logins around.
fn login(n: u64) -> Arc<Event> {
    let (topic, ts) = [
        ("generic", "2026-11-28T09:00:00.000Z"),
        ("authfail", "2026-11-28T09:05:00.000Z"),
        ("authfail", "2026-11-29T22:00:00.000Z"),
        ("generic", "2026-11-30T08:00:00.000Z"),
    ][(n - 1) as usize];
    let mut e = (*event(n)).clone();
    e.topic = Topic::new(topic).unwrap();
    e.timestamp = ts.parse().unwrap();
    e.routing_key = None;
    Arc::new(e)
}

fn moved_store() -> (Fixture, String) {
    let fx = build_with(4, login);
    let from = fx.store.join("authfail/_none/2026/11/29/22");
    assert!(from.is_dir());
    let to = fx.store.join("generic/_none/2019/01/01/00");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::rename(&from, &to).unwrap();
    std::fs::remove_dir(from.parent().unwrap()).unwrap();
    let file = "generic/_none/2019/01/01/00/00000000000000000003.jsonl".to_string();
    assert!(fx.store.join(&file).is_file());
    (fx, file)
}

fn assert_only_the_moved_record(report: &Report, file: &str) {
    let errors: Vec<_> = report
        .problems()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{report}");
    let p = errors[0];
    assert_eq!(p.kind.name(), "misplaced-record", "{report}");
    assert_eq!(p.file.as_deref(), Some(file));
    assert_eq!(p.line, Some(1));
    assert_eq!((p.first_seq, p.last_seq), (Some(3), Some(3)));
    for part in [
        "in folder generic/_none/2019/01/01/00/",
        "belongs in authfail/_none/2026/11/29/22/",
        "\"authfail\"",
    ] {
        assert!(p.message.contains(part), "{part:?} not in: {}", p.message);
    }
    assert!(!report.ok);
    assert!(
        report.to_string().contains("[misplaced-record]"),
        "{report}"
    );
}

#[test]
fn a_moved_partition_folder_is_reported_record_by_record() {
    let (fx, file) = moved_store();
    assert_only_the_moved_record(&fx.verify(), &file);
}

#[test]
fn a_moved_partition_folder_is_reported_under_the_configured_layout() {
    let (fx, file) = moved_store();
    let report = fx.verify_with(VerifyOptions {
        public_key: Some(fx.public_key),
        layouts: [(fx.store.clone(), Layout::default())].into(),
        ..VerifyOptions::default()
    });
    assert_only_the_moved_record(&report, &file);
}

#[test]
fn a_partition_folder_moved_to_another_depth_is_reported_too() {
    // `generic/_none/2019/01/01` has the shape of a day-partitioned store: no layout
    // has every folder's shape any more, and the records are judged by the one most
    // folders have.
    let fx = build_with(4, login);
    let from = fx.store.join("authfail/_none/2026/11/29/22");
    let to = fx.store.join("generic/_none/2019/01/01");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::rename(&from, &to).unwrap();
    let report = fx.verify();
    let p = integrity_support::only_error(&report);
    assert_eq!(p.kind.name(), "misplaced-record");
    assert_eq!(
        p.file.as_deref(),
        Some("generic/_none/2019/01/01/00000000000000000003.jsonl")
    );
    assert!(
        p.message
            .contains("belongs in authfail/_none/2026/11/29/22/"),
        "{}",
        p.message
    );
    assert!(Path::new(&fx.store)
        .join("generic/_none/2019/01/01")
        .is_dir());
}
