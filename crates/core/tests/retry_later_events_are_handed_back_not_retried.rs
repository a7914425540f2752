//! `TargetError::PartlyTaken`: the events a target cannot take now (a cause an operator
//! can remove, e.g. a store folder it may not write) are handed back to the
//! acknowledged emit that waits for them, with the target's reason, and neither sent
//! again by the worker (which would hold up every later batch behind them) nor
//! dead-lettered; the rest of the batch counts as delivered, and the next batch is sent
//! at once. Such an event of a plain `emit`, which nobody waits for, is dead-lettered.

// Test setup: a failed setup should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{
    audit, topics, DeliveryOptions, Dispatcher, EventDraft, FailureKind, NodeId, TargetError,
};

fn event(seq: u64) -> auditrail_core::Event {
    let node = NodeId::new("node-7").unwrap();
    let mut draft = EventDraft::new(topics::GENERIC, "tick");
    draft.node = Some(node.clone());
    draft.seq = Some(seq);
    draft.complete(&node, || 0).unwrap()
}

// One thread, the dispatcher's workers on it: the three events of the acknowledged emit
// are all queued before its worker runs, so they make one batch, as the script expects
// (on a runtime of its own the worker took the first events as a batch of their own
// about once in five CI runs, the emitter still queueing the third).
#[tokio::test(flavor = "current_thread")]
async fn retry_later_events_go_back_to_their_waiting_emitter_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target = MemoryTarget::new();
    target.script([Scripted::RetryLater(vec![1]), Scripted::RetryLater(vec![0])]);
    let one_batch = DeliveryOptions {
        batch_max_events: 3,
        batch_max_wait_ms: 60_000,
        ..common::quick_retries()
    };
    let b = Dispatcher::builder(NodeId::new("server").unwrap())
        .dead_letter_dir(dir.path())
        .runtime(tokio::runtime::Handle::current());
    let d = common::with_memory(b, "t", &target, one_batch)
        .build()
        .unwrap();

    let sent = vec![event(1), event(2), event(3)];
    let ack = d.emit_events_acked(sent.clone()).await.unwrap();
    let [a, b, c] = ack.events() else {
        panic!("one answer per event: {ack:?}")
    };
    assert_eq!((a.outcome(0), c.outcome(0)), (Some(Ok(())), Some(Ok(()))));
    let Some(Err(f)) = b.outcome(0) else {
        panic!("the second event is handed back: {b:?}")
    };
    assert_eq!(
        f.kind,
        FailureKind::RetryLater {
            reason: "scripted refusal for now".into()
        }
    );
    assert_eq!(f.target, "t");
    // Sent once (not retried by the worker), the other two taken.
    assert_eq!(target.send_calls(), 1);
    let taken: Vec<_> = target.events().iter().map(|e| e.id).collect();
    assert_eq!(taken, [sent[0].id, sent[2].id]);

    // A plain emit has nobody to hand the event back to: dead-lettered, with the reason.
    let lone = d.emit(audit!(topics::GENERIC, "fire-and-forget")).unwrap();
    let flushed = d.flush().await.unwrap_err();
    assert_eq!(flushed.len(), 1, "{flushed:?}");
    assert!(
        flushed[0].1.to_string().contains("1 dead-lettered to "),
        "the flush says the event it flushed was dead-lettered: {flushed:?}"
    );
    let lines = common::dead_letters(dir.path(), "t");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["event"]["id"], lone.id.to_string());
    assert_eq!(lines[0]["error"], "scripted refusal for now");

    // The emitter sends the handed-back event again later (in a full batch): taken.
    let again = d
        .emit_events_acked(vec![sent[1].clone(), event(4), event(5)])
        .await
        .unwrap();
    assert!(again.is_delivered(), "{again:?}");

    let s = d.stats()[0].clone();
    assert_eq!(
        (s.delivered, s.handed_back, s.dead_lettered, s.pending()),
        (5, 1, 1, 0)
    );
    assert!(!TargetError::PartlyTaken {
        retry_later: vec![(0, "x".into())],
        rejected: Vec::new()
    }
    .is_retryable());
    d.shutdown(Duration::from_secs(10)).await;
}
