//! `emit_batch` gives each event what `emit` of each in turn would: its filters, an id
//! above every earlier one, the next sequence number, its place in each target's
//! order, its counts; an event `emit` would refuse is refused alone, consumes no
//! sequence number, and the answer names it by its index in the batch.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{
    topics, DeliveryOptions, Dispatcher, EmitError, EventDraft, Filter, Selection,
};

/// More than the events completed before any is queued (256), so the batch is
/// queued in more than one chunk.
const EVENTS: u64 = 300;
const INVALID: [usize; 2] = [5, 270];

fn draft(i: u64) -> EventDraft {
    let topic = if i.is_multiple_of(3) {
        topics::AUTHFAIL
    } else {
        topics::GENERIC
    };
    let d = EventDraft::new(topic, "batched").field("i", i);
    if INVALID.contains(&(i as usize)) {
        d.field("amount", f64::NAN)
    } else {
        d
    }
}

#[test]
fn each_event_is_numbered_routed_and_refused_as_emit_would() {
    let everything = MemoryTarget::new();
    let authfail_only = MemoryTarget::new();
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
        .build()
        .unwrap();

    let before = d.emit(EventDraft::new(topics::GENERIC, "before")).unwrap();
    let err = d.emit_batch((0..EVENTS).map(draft)).unwrap_err();
    assert_eq!(err.results.len(), EVENTS as usize);
    let refused: Vec<usize> = err.refused().map(|(i, _)| i).collect();
    assert_eq!(refused, INVALID, "exactly the invalid drafts are refused");
    for (_, e) in err.refused() {
        assert!(matches!(e, EmitError::Invalid(_)), "{e}");
    }
    assert!(err.to_string().contains("event 5 of the batch"), "{err}");

    let taken: Vec<_> = err.taken().collect();
    assert_eq!(taken.len(), EVENTS as usize - INVALID.len());
    let mut last = before;
    for &(i, emitted) in &taken {
        assert_eq!(emitted.seq, last.seq + 1, "event {i}: seqs are consecutive");
        assert!(emitted.id > last.id, "event {i}: ids increase");
        let want = if i.is_multiple_of(3) { 2 } else { 1 };
        assert_eq!(emitted.targets, want, "event {i}: its filters ran");
        last = *emitted;
    }
    let after = d.emit(EventDraft::new(topics::GENERIC, "after")).unwrap();
    assert_eq!(after.seq, last.seq + 1, "the refused consumed no seq");

    // An all-valid batch is `Ok`, one answer per event, in order.
    let all_ok = d
        .emit_batch((0..4).map(|i| EventDraft::new(topics::GENERIC, "ok").field("i", i)))
        .unwrap();
    let seqs: Vec<u64> = all_ok.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (after.seq + 1..after.seq + 5).collect::<Vec<_>>());

    assert!(d.shutdown_blocking(Duration::from_secs(10)).is_clean());
    // Each target got what its filter accepts, in seq order, with the answered ids.
    let got: Vec<_> = everything
        .events()
        .iter()
        .filter(|e| e.msg_type() == "batched")
        .map(|e| (e.seq, e.id))
        .collect();
    let answered: Vec<_> = taken.iter().map(|(_, e)| (e.seq, e.id)).collect();
    assert_eq!(got, answered);
    let authfail: Vec<u64> = authfail_only.events().iter().map(|e| e.seq).collect();
    let want: Vec<u64> = taken
        .iter()
        .filter(|(i, _)| i.is_multiple_of(3))
        .map(|(_, e)| e.seq)
        .collect();
    assert_eq!(authfail, want);
    let stats = d.stats();
    let taken_authfail = want.len() as u64;
    assert_eq!(common::stats_of(&stats, "all").accepted, 2 + 298 + 4);
    assert_eq!(
        common::stats_of(&stats, "authfail").accepted,
        taken_authfail
    );
    assert_eq!(d.unrouted(), 0);
}
