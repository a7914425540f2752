//! The "now" that retention deletes against: the wall clock, but never later than the
//! store's own timeline.
//!
//! A retention pass is destructive and irreversible, and each deletion is signed, so a
//! wrong "now" is a silent, permanent loss. The wall clock can be far ahead at start
//! (a bad RTC before NTP synced, a VM restored with a wrong clock, a `date -s` typo).
//! The store has its own evidence of the time: the `timeline` of the last line of its
//! checkpoint log, written before this start (its `time` on lines written before the
//! field existed). The checkpointer carries that timeline from line to line by the
//! monotonic clock, never ahead of the wall clock, and resumes it from the last line
//! at a start without jumping to a wall clock far ahead (`crates/integrity/src/
//! checkpointer.rs`), so a clock stepped ahead while lines were written does not move
//! it: the lines' `time` would. So retention's now is
//! `min(wall clock, that timeline + time elapsed since the start)`, the elapsed time
//! taken from the monotonic clock ([`Instant`]), which clock steps do not move. A
//! downtime therefore delays deletions by its length (the safe direction); a clock
//! ahead deletes nothing early.
//!
//! A store that has no checkpoint yet when it is opened (its first run) starts its
//! timeline at the wall clock of that open: the clock may step ahead during the run
//! (a `date -s` typo, a VM moved onto a host with a wrong clock) as well as before
//! it, and without a timeline the next pass deleted against the stepped clock, its
//! fresh partitions among them.

use std::path::Path;
use std::time::{Duration, Instant};

use auditrail_core::Timestamp;

use crate::error::StoreError;

/// How far the wall clock may be ahead of the store's timeline before it is called
/// ahead (warned about; `auditrail store prune` says which now it used). Above a
/// clean restart's few seconds, below any retention (at least an hour).
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(300);

/// A store's timeline, read when the store is opened for retention.
#[derive(Debug, Clone, Copy)]
pub struct RetentionClock {
    /// The `time` of the checkpoint log's last line when read (`None`: no log yet).
    last_checkpoint: Option<Timestamp>,
    /// The wall clock when it was read: where the timeline starts without a checkpoint.
    opened_at: Timestamp,
    /// When it was read.
    read_at: Instant,
}

/// One reading of a [`RetentionClock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// What retention deletes against: the earlier of `wall` and `store`.
    pub now: Timestamp,
    /// The wall clock.
    pub wall: Timestamp,
    /// The store's timeline: its last checkpoint's time (for a store that had none,
    /// the wall clock when it was opened) plus the time elapsed since it was read.
    /// `None` only for a reading made without a timeline.
    pub store: Option<Timestamp>,
}

impl ClockReading {
    /// Whether the wall clock is ahead of the store's timeline by more than
    /// [`CLOCK_TOLERANCE`] (a clock set ahead, or a downtime).
    pub fn wall_ahead(&self) -> bool {
        let tolerance = i64::try_from(CLOCK_TOLERANCE.as_millis()).unwrap_or(i64::MAX);
        self.store
            .is_some_and(|s| self.wall.unix_millis().saturating_sub(s.unix_millis()) > tolerance)
    }
}

impl RetentionClock {
    /// Reads the time of the last line of the checkpoint log of the store at `root`,
    /// before anything is written at this start. A torn or unreadable last line is
    /// skipped for the one before it (the checkpointer cuts it at open).
    pub fn read(root: &Path) -> Result<RetentionClock, StoreError> {
        Ok(RetentionClock::at(last_checkpoint_time(root)?))
    }

    /// A clock whose store's last checkpoint was at `last_checkpoint`, read now
    /// (without one, the timeline starts at the wall clock now).
    pub fn at(last_checkpoint: Option<Timestamp>) -> RetentionClock {
        RetentionClock::opened(last_checkpoint, Timestamp::now())
    }

    /// [`RetentionClock::at`] with the wall clock of the read given (`opened_at`).
    pub fn opened(last_checkpoint: Option<Timestamp>, opened_at: Timestamp) -> RetentionClock {
        RetentionClock {
            last_checkpoint,
            opened_at,
            read_at: Instant::now(),
        }
    }

    /// The time of the log's last line when it was read.
    pub fn last_checkpoint(&self) -> Option<Timestamp> {
        self.last_checkpoint
    }

    /// Retention's now.
    pub fn now(&self) -> ClockReading {
        self.reading(Timestamp::now(), self.read_at.elapsed())
    }

    /// Retention's now when the wall clock says `wall` and `elapsed` went by on the
    /// monotonic clock since the log was read (`auditrail store prune` passes zero:
    /// the server is stopped, so its timeline ends at its last line).
    pub fn reading(&self, wall: Timestamp, elapsed: Duration) -> ClockReading {
        let elapsed = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        let start = self.last_checkpoint.unwrap_or(self.opened_at);
        let store = Some(
            Timestamp::from_unix_millis(start.unix_millis().saturating_add(elapsed))
                .unwrap_or(wall),
        );
        let now = match store {
            Some(s) if s < wall => s,
            _ => wall,
        };
        ClockReading { now, wall, store }
    }
}

/// The `time` of the checkpoint log's last complete line (read from the end of the
/// last piece that holds one: `checkpoint_pieces::last_line`).
fn last_checkpoint_time(root: &Path) -> Result<Option<Timestamp>, StoreError> {
    let last =
        crate::checkpoint_pieces::last_line(root).map_err(|e| StoreError::io(&e.path, e.source))?;
    Ok(last.and_then(|l| last_time(&l.bytes, false)))
}

fn last_time(text: &[u8], skip_first: bool) -> Option<Timestamp> {
    #[derive(serde::Deserialize)]
    struct Line {
        time: String,
        /// The store's timeline (lines written since it exists): preferred to `time`,
        /// the wall clock when the line was written, which a clock stepped ahead moves.
        #[serde(default)]
        timeline: Option<String>,
    }
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let from = usize::from(skip_first);
    lines.get(from..)?.iter().rev().find_map(|line| {
        let line: Line = serde_json::from_slice(line).ok()?;
        line.timeline.unwrap_or(line.time).parse::<Timestamp>().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::root::CHECKPOINT_LOG;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_wall_clock_ahead_of_the_stores_timeline_is_not_trusted() {
        let clock = RetentionClock::at(Some(t("2026-12-04T10:00:00Z")));
        let r = clock.reading(t("2028-12-04T10:00:00Z"), Duration::from_secs(3600));
        assert_eq!(r.now, t("2026-12-04T11:00:00Z"));
        assert!(r.wall_ahead());
    }

    #[test]
    fn a_fresh_store_does_not_trust_a_clock_stepped_ahead_after_it_was_opened() {
        // A store without a checkpoint log (its first run), opened now; an hour later
        // the wall clock says a year later (stepped during the run).
        let empty = tempfile::tempdir().unwrap();
        let opened = Timestamp::now();
        let clock = RetentionClock::read(empty.path()).unwrap();
        let year_later =
            Timestamp::from_unix_millis(opened.unix_millis() + 365 * 86_400_000 + 3_600_000)
                .unwrap();
        let r = clock.reading(year_later, Duration::from_secs(3600));
        let hour_later = opened.unix_millis() + 3_600_000;
        // Retention's now is about an hour after the open (the read took a moment),
        // not the stepped clock: deleting against it would delete fresh partitions.
        assert!(
            (hour_later..hour_later + 60_000).contains(&r.now.unix_millis()),
            "now {} (opened {opened})",
            r.now
        );
        assert!(r.wall_ahead());
    }

    #[test]
    fn a_wall_clock_behind_the_stores_timeline_is_used() {
        let clock = RetentionClock::at(Some(t("2026-12-04T10:00:00Z")));
        let r = clock.reading(t("2026-12-04T09:00:00Z"), Duration::from_secs(60));
        assert_eq!(r.now, t("2026-12-04T09:00:00Z"));
        assert!(!r.wall_ahead());
    }

    #[test]
    fn a_store_without_checkpoints_starts_its_timeline_at_the_open() {
        let clock = RetentionClock::opened(None, t("2026-12-04T09:00:00Z"));
        let r = clock.reading(t("2026-12-04T09:00:00Z"), Duration::ZERO);
        assert_eq!(r.now, t("2026-12-04T09:00:00Z"));
        assert!(!r.wall_ahead());
        // The wall clock steps a year ahead an hour after the open: not trusted.
        let r = clock.reading(t("2027-12-04T10:00:00Z"), Duration::from_secs(3600));
        assert_eq!(r.now, t("2026-12-04T10:00:00Z"));
        assert!(r.wall_ahead());
    }

    #[test]
    fn the_time_of_the_logs_last_whole_line_is_read_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(CHECKPOINT_LOG);
        std::fs::write(
            &log,
            "{\"checkpoint\":1,\"time\":\"2026-12-01T00:00:00.000Z\"}\n{\"checkpoint\":2,\"time\":\"2026-12-02T00:00:00.000Z\"}\n{\"checkpoint\":3,\"ti",
        )
        .unwrap();
        let clock = RetentionClock::read(dir.path()).unwrap();
        assert_eq!(clock.last_checkpoint(), Some(t("2026-12-02T00:00:00Z")));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            RetentionClock::read(empty.path())
                .unwrap()
                .last_checkpoint(),
            None
        );
    }
}
