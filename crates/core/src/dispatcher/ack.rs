//! Acknowledgement tracking for acknowledged emits: one tracker per emit call (one
//! event, or a whole batch), settled once per (event, route) pair it was queued for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::error::DeliveryFailure;

/// One failed (event, route) pair of an acknowledged emit.
#[derive(Debug)]
pub(crate) struct Failed {
    /// Position of the event in the emit call.
    pub event: usize,
    /// Index of the route (target) that failed.
    pub route: usize,
    pub failure: DeliveryFailure,
}

pub(crate) type AckWait = oneshot::Receiver<Vec<Failed>>;

/// Shared by every copy of the events of one acknowledged emit; the last (event,
/// route) pair to settle completes the emitter's future. If every copy is dropped
/// before that (a worker vanished with its queue), the emitter's receiver sees the
/// sender gone: the emit was abandoned.
pub(crate) struct AckTracker {
    remaining: AtomicUsize,
    failures: Mutex<Vec<Failed>>,
    done: Mutex<Option<oneshot::Sender<Vec<Failed>>>>,
}

impl AckTracker {
    /// A tracker expecting `pairs` settlements.
    pub(crate) fn new(pairs: usize) -> (Arc<AckTracker>, AckWait) {
        let (tx, rx) = oneshot::channel();
        let tracker = AckTracker {
            remaining: AtomicUsize::new(pairs),
            failures: Mutex::new(Vec::new()),
            done: Mutex::new(Some(tx)),
        };
        (Arc::new(tracker), rx)
    }

    fn settle(&self, event: usize, route: usize, outcome: Result<(), DeliveryFailure>) {
        if let Err(failure) = outcome {
            if let Ok(mut f) = self.failures.lock() {
                f.push(Failed {
                    event,
                    route,
                    failure,
                });
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

/// What a queued copy of an event carries to acknowledge it: the emit's tracker and
/// the event's position in the emit call.
#[derive(Clone)]
pub(crate) struct AckSlot {
    pub tracker: Arc<AckTracker>,
    pub event: usize,
    /// More events of the same acknowledged emit follow this one on the route's
    /// queue: the worker waits for them (up to its batch wait) rather than send the
    /// caller's batch split in two because it looked while the emitter was queueing.
    pub more_follow: bool,
}

impl AckSlot {
    /// Records route `route`'s outcome for this event.
    pub(crate) fn settle(&self, route: usize, outcome: Result<(), DeliveryFailure>) {
        self.tracker.settle(self.event, route, outcome);
    }

    /// Whether the emitter still waits for the answer (it has not dropped its future):
    /// only then can an event be handed back to it to send again later.
    pub(crate) fn awaited(&self) -> bool {
        self.tracker
            .done
            .lock()
            .ok()
            .is_some_and(|d| d.as_ref().is_some_and(|tx| !tx.is_closed()))
    }
}
