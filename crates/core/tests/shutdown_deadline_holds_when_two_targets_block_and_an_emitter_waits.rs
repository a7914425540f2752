//! Two targets block their threads in `send` while an emitter waits on a full queue.
//! The shutdown watchdog must not wait on one stuck worker's queue while the emitter
//! waits on the other's: the shutdown returns, names both targets, and every event
//! emitted is accounted for (delivered, dead-lettered or lost; here all dead-lettered),
//! none stranded in a queue.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use auditrail_core::{
    async_trait, audit, topics, DeliveryOptions, Dispatcher, Event, Filter, Target, TargetError,
};

/// Takes the lock the test holds, blocking the worker's thread (the fault under test).
struct BlocksItsThread {
    lock: Arc<Mutex<()>>,
    entered: mpsc::Sender<()>,
}

#[async_trait]
impl Target for BlocksItsThread {
    async fn send(&mut self, _batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let _ = self.entered.send(());
        let _held = self.lock.lock();
        Ok(())
    }
}

const CAPACITY: usize = 2;

#[test]
fn shutdown_returns_and_accounts_every_event_of_both_blocked_targets() {
    let dir = tempfile::tempdir().unwrap();
    let lock = Arc::new(Mutex::new(()));
    let guard = lock.lock().unwrap();
    let (entered, entered_rx) = mpsc::channel();
    let options = DeliveryOptions {
        queue_capacity: CAPACITY,
        batch_max_events: 1,
        ..Default::default()
    };
    let mut builder = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    for name in ["first", "second"] {
        builder = builder.target(
            name,
            "blocker",
            Filter::all(),
            options.clone(),
            Box::new(BlocksItsThread {
                lock: lock.clone(),
                entered: entered.clone(),
            }),
        );
    }
    let d = builder.build().unwrap();

    // Emits until the shutdown refuses; waits on a full queue meanwhile.
    let emitted = Arc::new(AtomicU64::new(0));
    let (emitter, emitted2) = (d.clone(), emitted.clone());
    let emitting = std::thread::spawn(move || {
        for i in 0u64.. {
            if emitter
                .emit(audit!(topics::GENERIC, "tick", "i" => i))
                .is_err()
            {
                break;
            }
            emitted2.fetch_add(1, Ordering::SeqCst);
        }
    });
    for _ in 0..2 {
        entered_rx
            .recv_timeout(common::PATIENCE)
            .expect("both targets' send was called");
    }
    // Both queues full (the depth counts the event `send` holds too), and an emit
    // accepted but unfinished: the emitter waits on a full queue.
    let blocked = || {
        let stats = d.stats();
        stats.iter().all(|t| t.queue_depth >= CAPACITY as u64)
            && stats
                .iter()
                .any(|t| t.accepted > emitted.load(Ordering::SeqCst))
    };
    common::wait_until("the emitter waits on a full queue", blocked);

    let (report_tx, report_rx) = mpsc::channel();
    let d3 = d.clone();
    std::thread::spawn(move || {
        let _ = report_tx.send(d3.shutdown_blocking(Duration::from_millis(300)));
    });
    let report = report_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("shutdown_blocking returned although two targets block their threads");
    emitting.join().unwrap();
    let emitted = emitted.load(Ordering::SeqCst);

    assert_eq!(report.targets.len(), 2);
    for t in &report.targets {
        let error = t.error.as_deref().unwrap_or_default();
        assert!(error.contains("did not return from `send`"), "{t:?}");
        let s = &t.stats;
        assert_eq!(s.accepted, emitted, "{t:?}");
        assert_eq!(
            s.delivered + s.dead_lettered + s.lost + s.dropped_queue_full + s.handed_back,
            emitted,
            "every event is accounted for: {t:?}"
        );
        assert_eq!(s.delivered, 0, "the target never returned: {t:?}");
        assert_eq!(s.queue_depth, 0, "{t:?}");
        assert_eq!(t.undelivered, s.dead_lettered, "{t:?}");
        let dead = std::fs::read_to_string(dir.path().join(format!("{}.jsonl", s.name))).unwrap();
        assert_eq!(dead.lines().count() as u64, s.dead_lettered, "{dead}");
    }
    drop(guard);
}
