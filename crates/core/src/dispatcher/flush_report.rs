//! What a flush says about the events it could not deliver: since the previous flush
//! (or the dispatcher's start), each target's events that were dead-lettered, lost, or
//! dropped on a full queue. Counted per target and handed out once, so that a flush's
//! answer does not depend on whether a worker settled a failed event just before or
//! just after the flush began.

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;

use super::stats::TargetCounters;
use crate::target::TargetError;

/// The counts of one target already answered by a flush.
#[derive(Debug, Default)]
pub(super) struct Reported(Mutex<Counts>);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    dead_lettered: u64,
    lost: u64,
    dropped: u64,
}

impl Counts {
    fn of(counters: &TargetCounters) -> Counts {
        Counts {
            dead_lettered: counters.dead_lettered.load(Relaxed),
            lost: counters.lost.load(Relaxed),
            dropped: counters.dropped_queue_full.load(Relaxed),
        }
    }
}

impl Reported {
    /// The target's events not delivered since the last call, as the error a flush
    /// answers for the target (`None`: every one was delivered). Call it once the
    /// target's worker answered the flush: every event queued before the flush is
    /// settled by then.
    pub(super) fn take(
        &self,
        counters: &TargetCounters,
        dead_letter_file: &Path,
    ) -> Option<TargetError> {
        let now = Counts::of(counters);
        let before = {
            let mut reported = self.0.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *reported, now)
        };
        let dead_lettered = now.dead_lettered.saturating_sub(before.dead_lettered);
        let lost = now.lost.saturating_sub(before.lost);
        let dropped = now.dropped.saturating_sub(before.dropped);
        if dead_lettered + lost + dropped == 0 {
            return None;
        }
        let mut parts = Vec::new();
        if dead_lettered > 0 {
            parts.push(format!(
                "{dead_lettered} dead-lettered to {}",
                dead_letter_file.display()
            ));
        }
        if lost > 0 {
            parts.push(format!("{lost} lost (logged as EVENT LOST)"));
        }
        if dropped > 0 {
            parts.push(format!(
                "{dropped} dropped on a full queue (on_full = \"drop\")"
            ));
        }
        Some(TargetError::permanent(format!(
            "{} event(s) not delivered since the previous flush: {}",
            dead_lettered + lost + dropped,
            parts.join(", ")
        )))
    }
}
