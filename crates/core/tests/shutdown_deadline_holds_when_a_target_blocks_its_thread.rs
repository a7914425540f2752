//! A target whose async `send` blocks its thread (a synchronous call that hangs: here a
//! `std::sync::Mutex` the test holds) stops its worker's timers too. The shutdown
//! deadline holds anyway: the shutdown returns, names the target and the call it is
//! stuck in, and the events it held and those still queued are dead-lettered and
//! counted as not delivered (their acknowledged emit fails), never as delivered.

use crate::common;

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use auditrail_core::{
    async_trait, audit, topics, AckError, DeliveryOptions, Dispatcher, Event, FailureKind, Filter,
    Target, TargetError,
};

/// Takes the lock the test holds, blocking the worker's thread (the fault under test).
struct BlocksItsThread {
    lock: Arc<Mutex<()>>,
    entered: mpsc::Sender<usize>,
}

#[async_trait]
impl Target for BlocksItsThread {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let _ = self.entered.send(batch.len());
        let _held = self.lock.lock();
        Ok(())
    }
}

#[test]
fn shutdown_returns_and_reports_the_blocked_target_and_what_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let lock = Arc::new(Mutex::new(()));
    let guard = lock.lock().unwrap();
    let (entered, entered_rx) = mpsc::channel();
    let d = Dispatcher::builder(common::node())
        .dead_letter_dir(dir.path())
        .target(
            "blocker",
            "blocker",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(BlocksItsThread {
                lock: lock.clone(),
                entered,
            }),
        )
        .build()
        .unwrap();

    // An acknowledged emit whose event the blocked `send` holds.
    let (acked_tx, acked_rx) = mpsc::channel();
    let d2 = d.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = acked_tx.send(rt.block_on(d2.emit_acked(audit!(topics::GENERIC, "first"))));
    });
    let held = entered_rx
        .recv_timeout(common::PATIENCE)
        .expect("the target's send was called");
    assert_eq!(held, 1);
    for i in 0..2u64 {
        d.emit(audit!(topics::GENERIC, "queued", "i" => i)).unwrap();
    }

    let (report_tx, report_rx) = mpsc::channel();
    let d3 = d.clone();
    std::thread::spawn(move || {
        let _ = report_tx.send(d3.shutdown_blocking(Duration::from_millis(300)));
    });
    let report = report_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("shutdown_blocking returned although the target blocks its thread");

    assert!(!report.is_clean(), "{report:?}");
    let t = &report.targets[0];
    assert_eq!(t.stats.name, "blocker");
    let error = t.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("did not return from `send`")
            && error.contains("1 event(s) it held")
            && error.contains("all 3 dead-lettered to")
            && error.contains("blocker.jsonl"),
        "{error}"
    );
    assert_eq!(t.undelivered, 3, "{t:?}");
    assert_eq!(t.stats.delivered, 0, "{t:?}");
    assert_eq!(t.stats.dead_lettered, 3, "{t:?}");
    assert_eq!(t.stats.queue_depth, 0, "{t:?}");

    let dead = std::fs::read_to_string(dir.path().join("blocker.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 3, "{dead}");
    assert!(dead.contains("\"first\""), "{dead}");

    let acked = acked_rx
        .recv_timeout(common::PATIENCE)
        .expect("the acknowledged emit was answered");
    match acked {
        Err(AckError::NotDelivered { failures, .. }) => {
            assert!(
                matches!(failures[0].kind, FailureKind::DeadLettered { .. }),
                "{failures:?}"
            );
        }
        other => panic!("expected a dead-lettered event, got {other:?}"),
    }
    drop(guard);
}
