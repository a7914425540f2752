//! Every topic and routing key the core accepts, generated (long, non-ASCII, upper
//! case, spaces, leading `.` or `-`, bidirectional overrides and other format
//! characters), is stored in a folder whose name fits every file system and holds
//! nothing unsafe or misleading; the store's walker lists every record, each folder
//! decodes to a partition that holds its events, and each record keeps the exact names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::collections::HashSet;
use std::path::Component;

use auditrail_core::{RoutingKey, Topic};
use auditrail_store::{Layout, StoreFiles, FOLDER_NAME_MAX_BYTES};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use store_support::*;

/// Characters that make names hard: ASCII specials, letters with and without case,
/// whitespace, bidi overrides and isolates, zero-width and other format characters,
/// combining marks, emoji, and the replacement character.
fn hard_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => prop::sample::select(vec!['.', '-', '_', '~', ' ', '*', '?', '$', ':', '"', '\'', '`', '%']),
        1 => prop::sample::select(vec![
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{00AD}', '\u{0301}',
            '\u{00A0}', '\u{3000}', '\u{FFFD}', '\u{1F600}', 'é', 'ß', 'İ', 'Ω', '中',
        ]),
        1 => any::<char>(),
    ]
}

fn routing_key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(hard_char(), 1..=24).prop_map(|c| c.into_iter().collect()),
        // Long: up to the limit of 256 characters, up to 4 bytes each.
        proptest::collection::vec(hard_char(), 200..=256).prop_map(|c| c.into_iter().collect()),
        Just("é".repeat(128)),
        Just("k".repeat(256)),
        Just(".hidden".to_owned()),
        Just("...".to_owned()),
    ]
    .prop_filter("a valid routing key", |k| RoutingKey::new(k).is_ok())
}

fn topic() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("generic".to_owned()),
        "[a-z0-9._-]{1,64}".prop_filter("a valid topic", |t| Topic::new(t).is_ok()),
        Just(".hidden".to_owned()),
        Just("-rf".to_owned()),
    ]
}

#[test]
fn every_accepted_name_is_stored_in_a_safe_folder_and_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let mut runner = TestRunner::new(Config {
        cases: 256,
        ..Config::default()
    });
    let sent = std::cell::RefCell::new(Vec::new());
    runner
        .run(
            &proptest::collection::vec((topic(), routing_key()), 1..8),
            |names| {
                let mut sent = sent.borrow_mut();
                let batch: Vec<_> = names
                    .iter()
                    .enumerate()
                    .map(|(i, (topic, key))| {
                        let n = (sent.len() + i + 1) as u64;
                        event(topic, Some(key), "2026-11-25T16:55:49.123Z", n)
                    })
                    .collect();
                t.send_blocking(&batch).unwrap();
                sent.extend(batch);
                Ok(())
            },
        )
        .unwrap();
    drop(t);
    let sent = sent.into_inner();

    let files = StoreFiles::walk(&root).unwrap();
    let layout = Layout::default();
    let mut seen = HashSet::new();
    for part in files.partitions(&layout) {
        for c in part.dir.components() {
            let Component::Normal(name) = c else {
                panic!("{}: not a plain folder", part.dir.display())
            };
            let name = name.to_str().unwrap();
            assert!(
                name.is_ascii()
                    && name.len() <= FOLDER_NAME_MAX_BYTES
                    && !name.starts_with(['.', '-'])
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-~".contains(&b))
                    && !name.bytes().any(|b| b.is_ascii_uppercase()),
                "unsafe folder name {name:?}"
            );
        }
        let values = part.partition.as_ref().expect("every folder decodes");
        for segment in &part.segments {
            auditrail_store::SegmentReader::open(&segment.path)
                .unwrap()
                .for_each_line(|line| {
                    let e = line.record().unwrap().event().unwrap();
                    assert!(values.topic.as_ref().unwrap().may_hold(&e.topic));
                    assert!(values
                        .routing_key
                        .as_ref()
                        .unwrap()
                        .may_hold(e.routing_key.as_ref()));
                    seen.insert(e.id);
                })
                .unwrap();
        }
    }
    assert_eq!(seen.len(), sent.len(), "the walker lists every record");
    let stored: std::collections::HashMap<_, _> = stored_events(&root)
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    for e in &sent {
        let back = &stored[&e.id];
        assert_eq!(back.topic, e.topic);
        assert_eq!(
            back.routing_key, e.routing_key,
            "the exact key is in the record"
        );
    }
    assert_eq!(verify_chain(&root).seq, sent.len() as u64);
}
