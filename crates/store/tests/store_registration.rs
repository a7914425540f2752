//! The `store` destination is registered, and builds through the registry with its
//! path taken under the data dir (the build context's run_dir).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, EventDraft, Filter, NodeId, Registry};
use auditrail_store as store;

#[test]
fn the_registry_contains_store() {
    let registry = Registry::from_inventory().unwrap();
    assert!(registry.names().any(|n| n == "store"));
    let reg = registry.get("store").unwrap();
    assert!(reg.example_config.contains("type = \"store\""));
    // The example is a valid config once its tag is removed.
    let table: toml::Table = toml::from_str(reg.example_config).unwrap();
    let mut entry = table["destinations"].as_array().unwrap()[0]
        .as_table()
        .unwrap()
        .clone();
    entry.remove("type");
    let json = serde_json::to_value(entry).unwrap();
    (reg.parse)(json).unwrap();
    assert!((reg.parse)(serde_json::json!({"path": "s", "unknown": 1})).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relative_path_is_under_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let dispatcher = Dispatcher::builder(NodeId::new("server").unwrap())
        .run_dir(dir.path())
        .registered_target(
            "main-store",
            &store::REGISTRATION,
            serde_json::json!({"path": "events"}),
            Filter::all(),
            DeliveryOptions::default(),
        )
        .build()
        .unwrap();
    let root = dir.path().join("events");
    dispatcher
        .emit_acked(EventDraft::new("generic", "login"))
        .await
        .unwrap();
    assert!(dispatcher
        .shutdown(Duration::from_secs(10))
        .await
        .is_clean());
    assert_eq!(store_support::verify_chain(&root).seq, 1);
}

/// Whoever opens a store holds its handle (there is no process-wide lookup of open
/// stores): a store handed to a dispatcher as a built target is seen through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handle_of_a_store_given_to_a_dispatcher_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("events");
    let target = store::StoreTarget::open(
        &root,
        &store_support::config(serde_json::json!({})),
        "main-store",
    )
    .unwrap();
    let handle = target.handle();
    let dispatcher = Dispatcher::builder(NodeId::new("server").unwrap())
        .run_dir(dir.path())
        .target(
            "main-store",
            store::TYPE_NAME,
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(target),
        )
        .build()
        .unwrap();
    assert_eq!(handle.target_name(), "main-store");
    let e = dispatcher
        .emit_acked(EventDraft::new("generic", "login"))
        .await
        .unwrap();
    let mut stored = Vec::new();
    handle.scan_records(|_, r| stored.push(r.event.id)).unwrap();
    assert_eq!(stored, [e.id]);
    assert_eq!(handle.head().seq, 1);
    assert!(dispatcher
        .shutdown(Duration::from_secs(10))
        .await
        .is_clean());
    assert!(!handle.is_open());
    assert_eq!(store_support::verify_chain(&root).seq, 1);
}
