//! On the current-thread runtime that runs the dispatcher's workers, `emit_batch`
//! meets a queue that fills mid-batch as `emit` would, event by event: the events
//! that found room are taken, each one after is refused with `WouldBlock`, and the
//! answer says exactly which (no sequence number consumed by a refused one).

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, EmitError};

#[tokio::test] // current-thread runtime
async fn the_events_past_the_queues_room_are_named_not_taken() {
    let target = MemoryTarget::new();
    let options = DeliveryOptions {
        queue_capacity: 4,
        batch_max_events: 1,
        ..Default::default()
    };
    let d = common::with_memory(Dispatcher::builder(common::node()), "t", &target, options)
        .runtime(tokio::runtime::Handle::current())
        .build()
        .unwrap();

    // The worker does not run until this thread yields: the queue takes four.
    let err = d
        .emit_batch((0..10u64).map(|i| audit!(topics::GENERIC, "batched", "i" => i)))
        .unwrap_err();
    assert_eq!(err.results.len(), 10);
    let taken: Vec<usize> = err.taken().map(|(i, _)| i).collect();
    assert_eq!(taken, [0, 1, 2, 3]);
    let refused: Vec<usize> = err.refused().map(|(i, _)| i).collect();
    assert_eq!(refused, [4, 5, 6, 7, 8, 9]);
    for (_, e) in err.refused() {
        assert_eq!(*e, EmitError::WouldBlock { target: "t".into() });
    }
    assert_eq!(d.stats()[0].accepted, 4, "the refused were not queued");
    assert!(err.to_string().contains("6 of the batch's 10"), "{err}");

    let last = err.taken().last().map(|(_, e)| *e).unwrap();
    let next = d
        .emit_async(audit!(topics::GENERIC, "after"))
        .await
        .unwrap();
    assert_eq!(next.seq, last.seq + 1, "the refused consumed no seq");

    let report = d.shutdown(Duration::from_secs(10)).await;
    assert!(report.is_clean(), "{report:?}");
    let delivered: Vec<_> = target.events().iter().map(|e| (e.seq, e.id)).collect();
    let mut answered: Vec<_> = err.taken().map(|(_, e)| (e.seq, e.id)).collect();
    answered.push((next.seq, next.id));
    assert_eq!(delivered, answered);
}
