//! An acknowledged emit said only that every accepting target took the event: a file
//! target with `fsync = false` answers `Ok` with the event in the page cache, and a
//! caller that forgets the event once acknowledged could not tell it from one on disk
//! (a power loss loses it). Now the answer says whether every target that took it is
//! durable on `Ok` (`Dispatcher::emit_acked_report`, `EventAck::is_durable`) and names
//! those that are not (`Dispatcher::route_durability`, the target's
//! `TargetConfig::durability`). Real file targets, real files.

use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, Filter, NodeId};
use serde_json::json;

use crate::common;

fn dispatcher(dir: &std::path::Path, lazy_fsync: bool) -> Dispatcher {
    let target = |name: &str, fsync: bool| {
        (
            name.to_owned(),
            json!({ "dir": dir.join(name), "fsync": fsync }),
        )
    };
    let mut b = Dispatcher::builder(NodeId::new("node-durable").unwrap());
    for (name, config) in [target("synced", true), target("lazy", lazy_fsync)] {
        b = b.registered_target(
            name,
            &auditrail_target_file::REGISTRATION,
            config,
            Filter::all(),
            DeliveryOptions::default(),
        );
    }
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acked_emit_says_a_target_without_fsync_is_not_durable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dispatcher(dir.path(), false);
    let report = d.emit_acked_report(common::sample(1)).await.unwrap();
    assert_eq!(report.emitted.targets, 2);
    assert!(!report.is_durable(), "{report:?}");
    let lazy: Vec<usize> = report.not_durable().iter().collect();
    assert_eq!(lazy, [1], "{report:?}");
    let why = d.route_durability(1).unwrap().why_not().unwrap();
    assert!(why.contains("fsync = false"), "{why}");
    assert!(d.route_durability(0).unwrap().is_durable());

    let node = NodeId::new("node-durable").unwrap();
    let mut draft = common::sample(2);
    draft.node = Some(node.clone());
    draft.seq = Some(1000);
    let event = draft.complete(&node, || 0).unwrap();
    let batch = d.emit_events_acked([event]).await.unwrap();
    assert!(batch.is_delivered() && !batch.is_durable(), "{batch:?}");
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let dir = tempfile::tempdir().unwrap();
    let d = dispatcher(dir.path(), true);
    let report = d.emit_acked_report(common::sample(3)).await.unwrap();
    assert!(report.is_durable(), "{report:?}");
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}
