//! The chain has exactly one writer: a second open of the same store fails clearly,
//! and succeeds once the first writer is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use auditrail_store::{StoreError, StoreTarget};
use serde_json::json;
use store_support::*;

#[test]
fn a_second_writer_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let first = open(&root, json!({}));
    let err = StoreTarget::open(&root, &config(json!({})), "again")
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("one writer"));
    drop(first);
    open(&root, json!({})).send_blocking(&events(1, 1)).unwrap();
}
