//! An acknowledged emit resolves only once every target whose filter accepted the
//! event has taken it; targets that did not accept it are not waited for.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, Filter, Selection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_waits_for_the_paused_accepting_target_only() {
    let quick = MemoryTarget::new();
    let paused = MemoryTarget::new();
    let uninterested = MemoryTarget::new();
    paused.pause();
    uninterested.pause(); // paused too, but its filter refuses the event
    let b = Dispatcher::builder(common::node());
    let b = common::with_memory(b, "quick", &quick, Default::default());
    let b = common::with_memory(b, "paused", &paused, Default::default());
    let d = b
        .target(
            "uninterested",
            "memory",
            Filter {
                topics: Selection::Only(vec![topics::AUTHFAIL]),
                ..Filter::all()
            },
            DeliveryOptions::default(),
            Box::new(uninterested.clone()),
        )
        .build()
        .unwrap();

    let acked = {
        let d = d.clone();
        tokio::spawn(async move { d.emit_acked(audit!(topics::GENERIC, "login")).await })
    };
    common::wait_until_async("the quick target took the event", || {
        quick.events().len() == 1
    })
    .await;
    // Give the ack every chance to (wrongly) resolve before the paused target took it.
    tokio::task::yield_now().await;
    assert!(
        !acked.is_finished(),
        "resolved while an accepting target had not taken the event"
    );

    paused.resume();
    let emitted = tokio::time::timeout(common::PATIENCE, acked)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(emitted.targets, 2);
    assert_eq!(paused.events()[0].id, emitted.id);
    assert!(uninterested.events().is_empty());
    uninterested.resume();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}
