//! Durable mode: what `send` acknowledged is there after reopening, and the chain
//! resumes. Flush-policy mode: written at once, fsynced within its window, and the
//! store says it is not durable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::time::{Duration, Instant};

use serde_json::json;
use store_support::*;

#[test]
fn acknowledged_batches_are_readable_after_reopen_and_the_chain_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    assert!(t.handle().is_durable());
    t.send_blocking(&events(1, 100)).unwrap();
    let stats = t.handle().stats();
    // Group commit: one fsync per file per batch (here one file).
    assert_eq!((stats.batches, stats.fsyncs), (1, 1));
    let head = t.handle().head();
    drop(t); // no shutdown call: durability must not depend on it

    let t = open(&root, json!({}));
    assert_eq!(
        t.handle().head(),
        head,
        "chain resumes from the stored head"
    );
    assert_eq!(t.handle().recovery_report().records, 100);
    t.send_blocking(&events(101, 5)).unwrap();
    assert_eq!(verify_chain(&root).seq, 105);
    assert_eq!(stored_events(&root).len(), 105);
}

#[test]
fn flush_policy_writes_at_once_and_fsyncs_within_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(
        &root,
        json!({"flush": {"every_bytes": 1_000_000_000u64, "every_seconds": 1}}),
    );
    assert!(!t.handle().is_durable(), "a flush policy is not durable");
    t.send_blocking(&events(1, 10)).unwrap();
    // Handed to the OS at once: readable right after the ack.
    assert_eq!(stored_events(&root).len(), 10);
    // fsynced by the flusher within the window (polled, bounded deadline).
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.handle().stats().fsyncs == 0 {
        assert!(Instant::now() < deadline, "no fsync within the window");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn flush_policy_fsyncs_once_enough_bytes_were_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(
        &root,
        json!({"flush": {"every_bytes": 1000, "every_seconds": 3600}}),
    );
    t.send_blocking(&events(1, 1)).unwrap();
    assert_eq!(t.handle().stats().fsyncs, 0, "under every_bytes: not yet");
    t.send_blocking(&events(2, 10)).unwrap();
    assert!(t.handle().stats().fsyncs >= 1, "over every_bytes: fsynced");
}

#[test]
fn with_a_flush_policy_the_published_head_only_names_fsynced_records() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(
        &root,
        json!({"flush": {"every_bytes": 1_000_000_000u64, "every_seconds": 3600}}),
    );
    t.send_blocking(&events(1, 3)).unwrap();
    // Written but not fsynced: checkpoints must not vouch for it yet.
    assert_eq!(t.handle().head().seq, 0);
    assert!(t
        .handle()
        .chain_range(&[auditrail_store::StoreHandle::receipt_key(&events(1, 1)[0])])
        .is_some());
    t.flush_blocking().unwrap();
    assert_eq!(t.handle().head().seq, 3);
}
