//! A target blocks its thread in `send`, and the shutdown watchdog takes its worker
//! over at the deadline. A flush must then end with an error naming the target, not
//! wait forever: both a flush the worker had already taken (its answer was owed while
//! `send` ran) and a flush called after the shutdown. The owed flush also says that
//! the event `send` held was dead-lettered: the watchdog settles it before answering
//! (it answered first, so the answer named the event or not by which thread ran first;
//! CI once failed on that).

// The helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

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

/// Runs `d.flush()` on its own thread; its result arrives on the returned channel.
fn flush_on_a_thread(d: &Dispatcher) -> mpsc::Receiver<Result<(), Vec<(String, TargetError)>>> {
    let (tx, rx) = mpsc::channel();
    let d = d.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = tx.send(rt.block_on(d.flush()));
    });
    rx
}

/// The flush's errors, each checked to name the target.
fn failed_for_the_target(flushed: Result<(), Vec<(String, TargetError)>>) -> Vec<String> {
    let errors = flushed.expect_err("the flush fails: the target was given up");
    assert!(
        errors.iter().all(|(name, _)| name == "blocker"),
        "{errors:?}"
    );
    errors.iter().map(|(_, e)| e.to_string()).collect()
}

#[test]
fn flush_owed_during_send_and_flush_after_shutdown_both_fail() {
    let dir = tempfile::tempdir().unwrap();
    let lock = Arc::new(Mutex::new(()));
    let guard = lock.lock().unwrap();
    let (entered, entered_rx) = mpsc::channel();
    let options = DeliveryOptions {
        // The batch waits for the flush: the worker takes the flush before `send`.
        batch_max_wait_ms: 60_000,
        ..Default::default()
    };
    let d = Dispatcher::builder(common::node())
        .dead_letter_dir(dir.path())
        .target(
            "blocker",
            "blocker",
            Filter::all(),
            options,
            Box::new(BlocksItsThread {
                lock: lock.clone(),
                entered,
            }),
        )
        .build()
        .unwrap();

    d.emit(audit!(topics::GENERIC, "held")).unwrap();
    let owed = flush_on_a_thread(&d);
    entered_rx
        .recv_timeout(common::PATIENCE)
        .expect("the flush made the worker send the batch");

    let report = d.shutdown_blocking(Duration::from_millis(300));
    let error = report.targets[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("did not return from `send`"), "{report:?}");

    let owed = owed
        .recv_timeout(Duration::from_secs(60))
        .expect("the flush owed while `send` blocked was answered");
    // It says the target was given up, and that the event it held was dead-lettered:
    // settled before the answer (not at times before, at times after it).
    let owed = failed_for_the_target(owed);
    assert_eq!(owed.len(), 2, "{owed:?}");
    assert!(owed[0].contains("the target was given up"), "{owed:?}");
    assert!(
        owed[1].contains("1 event(s) not delivered since the previous flush: 1 dead-lettered"),
        "{owed:?}"
    );

    let after = flush_on_a_thread(&d)
        .recv_timeout(Duration::from_secs(60))
        .expect("a flush after the shutdown was answered");
    let after = failed_for_the_target(after);
    assert_eq!(after.len(), 1, "{after:?}");
    drop(guard);
}
