//! An acknowledged batch of complete events answers, per event, which routes accepted
//! it and how each fared: durably taken, dead-lettered with the target's error, or
//! rejected alone with the target's reason. The events reach the targets as they were
//! given (id, seq, node and receive information kept).

// Test setup: a failed setup should stop the test loudly.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{
    topics, DeliveryOptions, Dispatcher, Event, EventDraft, FailureKind, Filter, NodeId, Received,
    Selection, TargetError, Timestamp,
};

fn received(key: &str) -> Arc<Received> {
    Arc::new(Received {
        orig_address: None,
        key_id: Some(key.to_owned()),
        server_timestamp: Timestamp::now(),
        kafka: None,
    })
}

/// A complete event of another node, as an event server holds it after ingest.
fn event(seq: u64, msg_type: &str, key: &str) -> Event {
    let node = NodeId::new("node-7").unwrap();
    let mut draft = EventDraft::new(topics::GENERIC, msg_type);
    draft.node = Some(node.clone());
    draft.seq = Some(seq);
    draft.received = Some(received(key));
    draft.complete(&node, || 0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_says_which_routes_took_it_and_why_the_others_did_not() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, picky, broken, k1_only) = (
        MemoryTarget::new(),
        MemoryTarget::new(),
        MemoryTarget::new(),
        MemoryTarget::new(),
    );
    picky.script([Scripted::Reject(vec![1])]);
    broken.script([Scripted::Permanent]);
    // The three events travel in one batch.
    let one_batch = DeliveryOptions {
        batch_max_events: 3,
        batch_max_wait_ms: 60_000,
        ..Default::default()
    };
    let b = Dispatcher::builder(NodeId::new("server").unwrap()).dead_letter_dir(dir.path());
    let b = common::with_memory(b, "ok", &ok, one_batch.clone());
    let b = common::with_memory(b, "picky", &picky, one_batch.clone());
    let b = common::with_memory(b, "broken", &broken, one_batch);
    let d = b
        .target(
            "k1-only",
            "memory",
            Filter {
                required_key: Some("k1".into()),
                ..Filter::all()
            },
            DeliveryOptions::default(),
            Box::new(k1_only.clone()),
        )
        .target(
            "failures",
            "memory",
            Filter {
                topics: Selection::Only(vec![topics::AUTHFAIL]),
                ..Filter::all()
            },
            DeliveryOptions::default(),
            Box::new(MemoryTarget::new()),
        )
        .build()
        .unwrap();

    let sent = vec![
        event(41, "a", "k1"),
        event(42, "b", "k2"),
        event(43, "c", "k1"),
    ];
    let ack = d.emit_events_acked(sent.clone()).await.unwrap();

    assert!(!ack.is_delivered());
    let [a, b, c] = ack.events() else {
        panic!("one answer per event: {ack:?}")
    };
    for (answer, event) in [a, b, c].into_iter().zip(&sent) {
        assert_eq!((answer.id, answer.seq), (event.id, event.seq));
    }
    // Routes 0..=2 take every event; route 3 only those received with key k1; route 4
    // (authfail only) none.
    assert_eq!(a.routes.iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(b.routes.iter().collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(c.routes.iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(a.outcome(4), None);

    // Durably taken.
    assert_eq!(a.outcome(0), Some(Ok(())));
    assert_eq!(a.outcome(3), Some(Ok(())));
    assert_eq!(a.taken().iter().collect::<Vec<_>>(), [0, 1, 3]);
    assert_eq!(b.taken().iter().collect::<Vec<_>>(), [0]);
    // The permanent failure: every event of the batch dead-lettered, with the error.
    for answer in [a, b, c] {
        let Some(Err(f)) = answer.outcome(2) else {
            panic!("route 2 failed: {answer:?}")
        };
        assert_eq!(f.target, "broken");
        assert!(
            matches!(&f.kind, FailureKind::DeadLettered { error: TargetError::Permanent { message } }
                if message.contains("scripted permanent failure")),
            "{f:?}"
        );
    }
    // The rejection: the second event alone, with the target's reason.
    let Some(Err(f)) = b.outcome(1) else {
        panic!("route 1 rejected event b: {b:?}")
    };
    assert_eq!(
        f.kind,
        FailureKind::Rejected {
            reason: "scripted rejection".into()
        }
    );
    assert_eq!(c.outcome(1), Some(Ok(())));
    assert_eq!(ack.failures().count(), 4);

    // As given: nothing renumbered, receive information kept.
    let taken = ok.events();
    assert_eq!(taken.len(), 3);
    for (t, e) in taken.iter().zip(&sent) {
        assert_eq!(**t, *e);
        assert_eq!(t.received, e.received);
    }
    let k1: Vec<u64> = k1_only.events().iter().map(|e| e.seq).collect();
    assert_eq!(k1, [41, 43]);
    assert_eq!(common::dead_letters(dir.path(), "broken").len(), 3);
    assert_eq!(common::dead_letters(dir.path(), "picky").len(), 1);
    d.shutdown(Duration::from_secs(10)).await;
}
