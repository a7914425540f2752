//! Each target gets exactly the events its filter accepts; an event without a routing
//! key never matches an explicit routing-key list (but does match "all").

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{
    topics, DeliveryOptions, Dispatcher, EventDraft, Filter, RoutingKey, Selection,
};

fn msg_types(t: &MemoryTarget) -> Vec<String> {
    let mut v: Vec<String> = t.events().iter().map(|e| e.msg_type().to_owned()).collect();
    v.sort();
    v
}

#[test]
fn each_target_gets_what_its_filter_accepts() {
    let everything = MemoryTarget::new();
    let authfail_only = MemoryTarget::new();
    let svc_a_only = MemoryTarget::new();
    let key = |k: &str| RoutingKey::new(k).unwrap();
    let d = Dispatcher::builder(common::node())
        .target(
            "all",
            "memory",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(everything.clone()),
        )
        .target(
            "authfail",
            "memory",
            Filter {
                topics: Selection::Only(vec![topics::AUTHFAIL]),
                ..Filter::all()
            },
            DeliveryOptions::default(),
            Box::new(authfail_only.clone()),
        )
        .target(
            "svc-a",
            "memory",
            Filter {
                routing_keys: Selection::Only(vec![key("svc-a")]),
                ..Filter::all()
            },
            DeliveryOptions::default(),
            Box::new(svc_a_only.clone()),
        )
        .build()
        .unwrap();

    d.emit(EventDraft::new(topics::AUTHFAIL, "a-authfail-nokey"))
        .unwrap();
    d.emit(EventDraft::new(topics::GENERIC, "b-generic-svc-a").routing_key("svc-a"))
        .unwrap();
    d.emit(EventDraft::new(topics::GENERIC, "c-generic-svc-b").routing_key("svc-b"))
        .unwrap();
    // No routing key: must not reach the target with an explicit key list.
    let nokey = d
        .emit(EventDraft::new(topics::GENERIC, "d-generic-nokey"))
        .unwrap();
    assert_eq!(nokey.targets, 1, "only the catch-all target accepts it");

    assert!(d.shutdown_blocking(Duration::from_secs(10)).is_clean());
    assert_eq!(
        msg_types(&everything),
        [
            "a-authfail-nokey",
            "b-generic-svc-a",
            "c-generic-svc-b",
            "d-generic-nokey"
        ]
    );
    assert_eq!(msg_types(&authfail_only), ["a-authfail-nokey"]);
    assert_eq!(msg_types(&svc_a_only), ["b-generic-svc-a"]);
}

#[test]
fn an_event_no_filter_accepts_is_counted_as_unrouted() {
    let t = MemoryTarget::new();
    let d = Dispatcher::builder(common::node())
        .target(
            "authfail",
            "memory",
            Filter {
                topics: Selection::Only(vec![topics::AUTHFAIL]),
                ..Filter::all()
            },
            DeliveryOptions::default(),
            Box::new(t.clone()),
        )
        .build()
        .unwrap();
    let e = d
        .emit(EventDraft::new(topics::GENERIC, "nobody-wants-it"))
        .unwrap();
    assert_eq!(e.targets, 0);
    assert_eq!(d.unrouted(), 1);
    d.shutdown_blocking(Duration::from_secs(10));
    assert!(t.events().is_empty());
}
