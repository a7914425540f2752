//! Records land in `<topic>/<routing-key>/YYYY/mm/dd/HH/` (UTC, event time) with the
//! documented envelope, and every line is a valid chain link.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::path::Path;

use serde_json::json;
use store_support::*;

fn rel_dirs(root: &Path) -> Vec<String> {
    let mut d: Vec<String> = segments(root)
        .iter()
        .map(|p| {
            p.parent()
                .unwrap()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    d.sort();
    d.dedup();
    d
}

#[test]
fn hourly_partitions_under_topic_and_routing_key_in_utc() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let batch = vec![
        // 18:55 at +02:00 is 16:55 UTC.
        event("generic", Some("svc-a"), "2026-11-25T18:55:49.123+02:00", 1),
        event("generic", None, "2026-11-25T16:10:00.000Z", 2),
        event("authfail", Some("svc-b"), "2026-12-31T23:59:59.999Z", 3),
    ];
    t.send_blocking(&batch).unwrap();
    assert_eq!(
        rel_dirs(&root),
        [
            "authfail/svc-b/2026/12/31/23",
            "generic/_none/2026/11/25/16",
            "generic/svc-a/2026/11/25/16"
        ]
    );
    assert_eq!(verify_chain(&root).seq, 3);
}

#[test]
fn day_and_month_partitioning_and_switched_off_levels() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("day");
    open(
        &day,
        json!({"partitioning": "day", "folder_by_topic": false}),
    )
    .send_blocking(&[event("generic", Some("k"), "2026-11-25T16:55:49.123Z", 1)])
    .unwrap();
    assert_eq!(rel_dirs(&day), ["k/2026/11/25"]);

    let month = dir.path().join("month");
    open(
        &month,
        json!({"partitioning": "month", "folder_by_routing_key": false}),
    )
    .send_blocking(&[event("generic", Some("k"), "2026-11-25T16:55:49.123Z", 1)])
    .unwrap();
    assert_eq!(rel_dirs(&month), ["generic/2026/11"]);
}

#[test]
fn record_envelope_carries_event_sender_key_and_chain_fields() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let e = event("generic", Some("svc-a"), "2026-11-25T16:55:49.123Z", 1);
    let with = received(&e, "10.0.0.7", "key-1");
    let plain = event("generic", Some("svc-a"), "2026-11-25T16:55:49.123Z", 2);
    t.send_blocking(&[with, plain.clone()]).unwrap();

    let lines = lines(&root);
    assert_eq!(lines.len(), 2);
    let first: serde_json::Value = serde_json::from_slice(&lines[0].1).unwrap();
    assert_eq!(first.as_object().unwrap().len(), 6);
    // The keys appear in the documented order in the raw line.
    let raw = String::from_utf8(lines[0].1.clone()).unwrap();
    assert!(raw.starts_with("{\"clientEvent\":{"), "{raw}");
    let at = |k: &str| raw.rfind(&format!("\"{k}\":")).unwrap();
    assert!(at("origAddress") < at("serverTimestamp"));
    assert!(at("serverTimestamp") < at("keyId"));
    assert!(at("keyId") < at("chainSeq") && at("chainSeq") < at("chainHash"));
    assert_eq!(
        first["clientEvent"],
        serde_json::from_str::<serde_json::Value>(&e.to_json()).unwrap()
    );
    assert_eq!(first["origAddress"], "10.0.0.7");
    assert_eq!(first["keyId"], "key-1");
    assert_eq!(first["serverTimestamp"], "2026-11-25T17:00:00.000Z");
    assert_eq!(first["chainSeq"], 1);

    // Without receive information: nulls, and the time the store took it.
    let second: serde_json::Value = serde_json::from_slice(&lines[1].1).unwrap();
    assert!(second["origAddress"].is_null() && second["keyId"].is_null());
    assert!(second["serverTimestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(stored_events(&root)[1], *plain);
    verify_chain(&root);
}
