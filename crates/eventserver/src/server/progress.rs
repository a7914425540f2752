//! How far a server's start has got, for whoever waits on it (systemd, through
//! `auditrail serve`), and how that waiter stops it.
//!
//! A start walks and reads every segment of every store to open it (the recovery),
//! then reads every record once more (de-duplication and the per-node accounting are
//! rebuilt from them, see `dedup/rebuild.rs`): minutes on a store of many partitions or
//! a few hundred million records. A service manager that bounds the start
//! (`TimeoutStartSec=` of `packaging/auditrail.service`) would kill such a server in
//! the middle of its start, again at every restart, and collection would never resume.
//! The counts of each phase (folders walked, files, bytes and records read) let the
//! waiter tell a long start that progresses from a hung one, and say how far it is.
//!
//! A stop asked meanwhile (SIGTERM) ends the start between two files of its reads
//! (nothing is half done there: see `StoreTarget::open_watched`), before the stores'
//! tamper evidence is attached, the first step that writes.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use auditrail_store::{ReadCounts, ReadProgress};

/// Shared between the start ([`start_with_progress`](super::start_with_progress)),
/// which counts, and a waiter, which reads and may ask it to stop. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct StartProgress {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    read: ReadProgress,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// What the start does now (`None`: before its first long phase).
    phase: Option<String>,
    /// The counts when the phase began: the phase's own are the difference.
    since: ReadCounts,
    /// What each phase ended with, not yet taken by the waiter.
    ended: Vec<String>,
    /// The waiter was told to stop waiting.
    closed: bool,
}

/// What [`StartProgress::wait`] returns.
#[derive(Debug, PartialEq, Eq)]
pub enum StartNews {
    /// Phases ended meanwhile: what each did, in order (e.g. `starting: store "store"
    /// opened: 3001 folders walked, 3000 segment files (1234567 bytes) read`).
    Ended(Vec<String>),
    /// Nothing ended before the time given.
    Nothing,
    /// [`StartProgress::close`] was called (after the last `Ended`).
    Closed,
}

impl StartProgress {
    /// Counts at 0.
    pub fn new() -> StartProgress {
        StartProgress::default()
    }

    /// Records the start has read from its stores so far (every phase).
    pub fn records_read(&self) -> u64 {
        self.inner.read.counts().records
    }

    /// Everything the start has read so far (every phase): what a waiter compares
    /// to tell progress from a hang.
    pub fn counts(&self) -> ReadCounts {
        self.inner.read.counts()
    }

    /// What the start does now and how far it got, as a systemd `STATUS=`: `starting:
    /// opening store "store" (1 of 1): 1200 folders walked, 800 segment files
    /// (52428800 bytes) read`.
    pub fn status(&self) -> String {
        let state = self.state();
        let Some(phase) = &state.phase else {
            return "starting: opening the stores".to_owned();
        };
        let now = self.inner.read.counts();
        if now == state.since {
            return format!("starting: {phase}");
        }
        format!("starting: {phase}: {}", done_since(&now, &state.since))
    }

    /// The phase in progress, for a log line (`starting` before the first).
    pub fn phase(&self) -> String {
        self.state()
            .phase
            .clone()
            .unwrap_or_else(|| "starting".to_owned())
    }

    /// Waits up to `timeout` for a phase to end or for [`close`](Self::close).
    pub fn wait(&self, timeout: Duration) -> StartNews {
        let until = Instant::now() + timeout;
        let mut state = self.state();
        loop {
            if !state.ended.is_empty() {
                return StartNews::Ended(std::mem::take(&mut state.ended));
            }
            if state.closed {
                return StartNews::Closed;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return StartNews::Nothing;
            }
            state = match self.inner.changed.wait_timeout(state, left) {
                Ok((s, _)) => s,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Tells the waiter that the start ended (its `wait` returns `Closed` once it took
    /// every phase's end).
    pub fn close(&self) {
        self.state().closed = true;
        self.inner.changed.notify_all();
    }

    /// Asks the start to stop: it ends at its next safe point (between two files of a
    /// store's reads, or between two phases) with
    /// [`ServerError::Stopped`](super::ServerError::Stopped). A start already past its
    /// reads (attaching the stores' checkpoints, binding) goes on to its end.
    pub fn stop(&self) {
        self.inner.read.stop();
    }

    /// Whether [`stop`](Self::stop) was asked.
    pub fn stop_asked(&self) -> bool {
        self.inner.read.stop_asked()
    }

    /// The counter the stores' reads add to.
    pub(crate) fn read(&self) -> &ReadProgress {
        &self.inner.read
    }

    /// A phase begins (its counts start from here).
    pub(crate) fn begin(&self, phase: String) {
        let mut state = self.state();
        state.phase = Some(phase);
        state.since = self.inner.read.counts();
    }

    /// The phase in progress ended: what it did is handed to the waiter at once. The
    /// status goes on naming it until the next phase begins.
    pub(crate) fn end(&self, what: &str) {
        let mut state = self.state();
        let line = format!(
            "starting: {what}: {}",
            done_since(&self.inner.read.counts(), &state.since)
        );
        state.ended.push(line);
        drop(state);
        self.inner.changed.notify_all();
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What was read between `since` and `now`, for a status line.
fn done_since(now: &ReadCounts, since: &ReadCounts) -> String {
    let files = now.files - since.files;
    let bytes = now.bytes - since.bytes;
    let records = now.records - since.records;
    let folders = now.folders - since.folders;
    if records > 0 {
        format!("{records} stored records read ({files} segment files, {bytes} bytes)")
    } else {
        format!("{folders} folders walked, {files} segment files ({bytes} bytes) read")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_phase_says_what_it_read_and_its_end_is_handed_over() {
        let p = StartProgress::new();
        assert_eq!(p.status(), "starting: opening the stores");
        p.begin("rebuilding de-duplication".into());
        assert_eq!(p.status(), "starting: rebuilding de-duplication");
        p.read().record_read();
        assert_eq!(
            p.status(),
            "starting: rebuilding de-duplication: 1 stored records read (0 segment files, 0 bytes)"
        );
        p.end("de-duplication rebuilt");
        p.begin("checking the stores' checkpoints and listening".into());
        p.read().record_read();
        assert_eq!(
            p.status(),
            "starting: checking the stores' checkpoints and listening: 1 stored records read (0 segment files, 0 bytes)",
            "each phase counts from its beginning"
        );
        p.close();
        assert_eq!(
            p.wait(Duration::ZERO),
            StartNews::Ended(vec![
                "starting: de-duplication rebuilt: 1 stored records read (0 segment files, 0 bytes)"
                    .into()
            ])
        );
        assert_eq!(p.wait(Duration::ZERO), StartNews::Closed);
    }
}
