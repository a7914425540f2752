//! A target whose `shutdown` blocks its thread past the deadline, after every event it
//! was given was delivered: the shutdown report says what is true, that it held no
//! undelivered event and nothing was dead-lettered (it said "not delivered
//! (dead-lettered)" of 0 events while the dead-letter folder stayed empty).

use crate::common;

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use auditrail_core::{
    async_trait, audit, topics, DeliveryOptions, Dispatcher, Event, Filter, Target, TargetError,
};

/// Takes every batch; its `shutdown` takes the lock the test holds, blocking its thread.
struct BlocksInShutdown {
    lock: Arc<Mutex<()>>,
}

#[async_trait]
impl Target for BlocksInShutdown {
    async fn send(&mut self, _batch: &[Arc<Event>]) -> Result<(), TargetError> {
        Ok(())
    }

    async fn shutdown(&mut self) -> Result<(), TargetError> {
        let _held = self.lock.lock();
        Ok(())
    }
}

#[test]
fn a_target_blocked_in_shutdown_with_nothing_undelivered_is_not_said_to_be_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let lock = Arc::new(Mutex::new(()));
    let guard = lock.lock().unwrap();
    let d = Dispatcher::builder(common::node())
        .dead_letter_dir(dir.path())
        .target(
            "stuck",
            "stuck",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(BlocksInShutdown { lock: lock.clone() }),
        )
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for i in 0..3u64 {
        rt.block_on(d.emit_acked(audit!(topics::GENERIC, "e", "i" => i)))
            .unwrap();
    }

    let (report_tx, report_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = report_tx.send(d.shutdown_blocking(Duration::from_millis(300)));
    });
    let report = report_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("shutdown_blocking returned although the target blocks its thread");

    let t = &report.targets[0];
    assert_eq!(
        (t.stats.delivered, t.stats.dead_lettered, t.undelivered),
        (3, 0, 0),
        "{t:?}"
    );
    let error = t.error.as_deref().unwrap_or_default();
    assert!(error.contains("did not return from `shutdown`"), "{error}");
    assert!(
        error.contains("held no undelivered event")
            && error.contains("nothing was dead-lettered")
            && error.contains("3 event(s) delivered"),
        "the report says what is true: {error}"
    );
    assert!(!error.contains("(dead-lettered)"), "{error}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was dead-lettered"
    );
    drop(guard);
}
