//! How long the writer has been inside the write or fsync it is doing: a write that
//! never returns (a hung disk or network file system) holds every later batch, and a
//! watchdog (`auditrail serve` under systemd) reads this to stop vouching for the
//! process. Two atomics, no lock: read at any time from any thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// When the writer entered its current operation (nanoseconds after `epoch`, 0: idle).
#[derive(Debug)]
pub(crate) struct Busy {
    epoch: Instant,
    since_ns: AtomicU64,
}

impl Default for Busy {
    fn default() -> Self {
        Busy {
            epoch: Instant::now(),
            since_ns: AtomicU64::new(0),
        }
    }
}

impl Busy {
    /// Marks the writer busy until the guard is dropped. The writer is one at a time
    /// (its mutex), so guards never overlap.
    pub(crate) fn enter(&self) -> BusyGuard<'_> {
        let ns = (self.epoch.elapsed().as_nanos() as u64).max(1);
        self.since_ns.store(ns, Ordering::Release);
        BusyGuard(self)
    }

    /// How long the current operation has lasted; `None` when idle.
    pub(crate) fn busy_for(&self) -> Option<Duration> {
        let since = self.since_ns.load(Ordering::Acquire);
        (since != 0).then(|| {
            Instant::now().saturating_duration_since(self.epoch + Duration::from_nanos(since))
        })
    }
}

/// Clears [`Busy`] when dropped.
#[derive(Debug)]
pub(crate) struct BusyGuard<'a>(&'a Busy);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.since_ns.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_only_while_the_guard_lives() {
        let busy = Busy::default();
        assert_eq!(busy.busy_for(), None);
        let guard = busy.enter();
        std::thread::sleep(Duration::from_millis(5));
        assert!(busy
            .busy_for()
            .is_some_and(|d| d >= Duration::from_millis(5)));
        drop(guard);
        assert_eq!(busy.busy_for(), None);
    }
}
