//! A `StatsReader` (what a metrics endpoint or the periodic log holds) does not keep
//! the dispatcher alive: dropping the last `Dispatcher` still shuts it down (queues
//! drained, targets shut down), and the reader then answers with the final counters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{
    audit, topics, DeliveryOptions, Dispatcher, DispatcherBuilder, Filter, Selection,
};

/// Adds a target that takes `authfail` events only.
fn with_authfail_only(b: DispatcherBuilder) -> DispatcherBuilder {
    let filter = Filter {
        topics: Selection::Only(vec![topics::AUTHFAIL]),
        ..Filter::all()
    };
    b.target(
        "authfail-only",
        "memory",
        filter,
        DeliveryOptions::default(),
        Box::new(MemoryTarget::new()),
    )
}

#[test]
fn dropping_the_dispatcher_shuts_it_down_and_the_reader_keeps_the_final_counters() {
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryTarget::new();
    let d = Dispatcher::builder(common::node())
        .dead_letter_dir(dir.path())
        .target(
            "mem",
            "memory",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(memory.clone()),
        );
    let d = with_authfail_only(d).build().unwrap();
    let reader = d.stats_reader();
    assert_eq!(reader.node(), d.node());

    // Held by the worker: at the drop, the queue still has events.
    memory.pause();
    for _ in 0..5 {
        d.emit(audit!(topics::GENERIC, "login")).unwrap();
    }
    common::wait_until("the reader sees the queued events", || {
        reader.targets()[0].queue_depth == 5
    });
    memory.resume();
    drop(d);

    // The drop waited for the graceful shutdown: delivered and shut down.
    assert_eq!(memory.events().len(), 5);
    assert_eq!(
        memory.flushes_and_shutdowns().1,
        1,
        "the target was shut down"
    );
    let now = reader.snapshot();
    assert_eq!(now.node.as_str(), "test-node");
    assert_eq!(now.unrouted, 0);
    let names: Vec<&str> = now.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["mem", "authfail-only"], "configuration order");
    let mem = &now.targets[0];
    assert_eq!((mem.accepted, mem.delivered, mem.queue_depth), (5, 5, 0));
    assert_eq!(mem.oldest_undelivered_age, None);
    assert_eq!(now.targets[1].accepted, 0);
}

#[test]
fn events_no_filter_accepts_are_counted_as_unrouted() {
    let d = with_authfail_only(Dispatcher::builder(common::node()))
        .build()
        .unwrap();
    let reader = d.stats_reader();
    d.emit(audit!(topics::GENERIC, "nobody-takes-it")).unwrap();
    d.emit(audit!(topics::GENERIC, "nobody-takes-it")).unwrap();
    assert_eq!(reader.unrouted(), 2);
    assert_eq!(reader.snapshot().unrouted, d.unrouted());
}
