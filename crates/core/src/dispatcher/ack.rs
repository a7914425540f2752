//! Acknowledgement tracking for [`Dispatcher::emit_acked`](super::Dispatcher::emit_acked).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::error::DeliveryFailure;

/// Shared by the copies of one event queued to several targets; the last target to
/// settle completes the emitter's future.
pub(crate) struct AckTracker {
    remaining: AtomicUsize,
    failures: Mutex<Vec<DeliveryFailure>>,
    done: Mutex<Option<oneshot::Sender<Vec<DeliveryFailure>>>>,
}

impl AckTracker {
    pub(crate) fn new(targets: usize) -> (AckTracker, oneshot::Receiver<Vec<DeliveryFailure>>) {
        let (tx, rx) = oneshot::channel();
        let tracker = AckTracker {
            remaining: AtomicUsize::new(targets),
            failures: Mutex::new(Vec::new()),
            done: Mutex::new(Some(tx)),
        };
        (tracker, rx)
    }

    /// Records one target's outcome.
    pub(crate) fn settle(&self, outcome: Result<(), DeliveryFailure>) {
        if let Err(failure) = outcome {
            if let Ok(mut f) = self.failures.lock() {
                f.push(failure);
            }
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let failures = self
                .failures
                .lock()
                .map(|mut f| std::mem::take(&mut *f))
                .unwrap_or_default();
            if let Some(tx) = self.done.lock().ok().and_then(|mut d| d.take()) {
                // The emitter may have stopped waiting; that is its choice.
                let _ = tx.send(failures);
            }
        }
    }
}
