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
//! it: the lines' `time` would. So retention's now is the earlier of the wall clock and
//! that timeline advanced since the start by [`Timeline`]'s rule: by the monotonic
//! clock ([`Instant`]), which clock steps do not move, and while it is behind the wall
//! clock (a downtime, or a clock stepped ahead) at most `catch_up_rate` times as fast
//! ([`CatchUpRate`]): a downtime delays deletions by its length at first, and is
//! caught up within `D / (rate - 1)` of uptime; a clock stepped ahead by `S` deletes
//! early by at most `(rate - 1)` × the uptime since the step was seen, never by more
//! than `S`. Clones share one timeline (a store's retention and the server's bound on
//! timestamps ahead read the same one).
//!
//! A store that has no checkpoint yet when it is opened (its first run) starts its
//! timeline at the wall clock of that open: the clock may step ahead during the run
//! (a `date -s` typo, a VM moved onto a host with a wrong clock) as well as before
//! it, and without a timeline the next pass deleted against the stepped clock, its
//! fresh partitions among them.
//!
//! The clock also keeps the store's latest plausible time ([`Timeline::latest`]): what
//! the bound on timestamps ahead counts from, never taken back by a wall clock set back
//! (the retention timeline's lines follow such a clock), resumed from the later of the
//! wall clock and the last line's `latest`.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auditrail_core::Timestamp;

use crate::error::StoreError;
use crate::timeline::{CatchUpRate, Timeline};

/// How far the wall clock may be ahead of the store's timeline before it is called
/// ahead (warned about; `auditrail store prune` says which now it used). Above a
/// clean restart's few seconds, below any retention (at least an hour).
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(300);

/// A store's timeline, read when the store is opened for retention, and advanced at
/// each reading.
#[derive(Debug, Clone)]
pub struct RetentionClock {
    /// The `time` of the checkpoint log's last line when read (`None`: no log yet).
    last_checkpoint: Option<Timestamp>,
    /// The timeline, the latest plausible time, and when they were last read on the
    /// monotonic clock: shared by the clones, so that every reader of the store's
    /// timeline advances the same one.
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    timeline: Timeline,
    latest: Timeline,
    read_at: Instant,
}

/// What the checkpoint log's last line says of the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LastLine {
    /// Its `timeline` (its `time` on a line written before the field existed).
    timeline: Timestamp,
    /// Its `latest` (its timeline on a line written before the field existed).
    latest: Timestamp,
}

/// One reading of a [`RetentionClock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// What retention deletes against: the earlier of `wall` and `store`.
    pub now: Timestamp,
    /// The wall clock.
    pub wall: Timestamp,
    /// The store's timeline: its last checkpoint's time (for a store that had none,
    /// the wall clock when it was opened), advanced since it was read (see the
    /// module's doc). `None` only for a reading made without a timeline.
    pub store: Option<Timestamp>,
    /// The store's latest plausible time ([`Timeline::latest`]): what the bound on
    /// timestamps ahead counts from when it is later than the wall clock. `None` only
    /// for a reading made without a timeline.
    pub latest: Option<Timestamp>,
}

impl ClockReading {
    /// Whether the wall clock is ahead of the store's timeline by more than
    /// [`CLOCK_TOLERANCE`] (a clock set ahead, or a downtime not caught up yet).
    pub fn wall_ahead(&self) -> bool {
        let tolerance = i64::try_from(CLOCK_TOLERANCE.as_millis()).unwrap_or(i64::MAX);
        self.store
            .is_some_and(|s| self.wall.unix_millis().saturating_sub(s.unix_millis()) > tolerance)
    }
}

impl RetentionClock {
    /// Reads the time of the last line of the checkpoint log of the store at `root`,
    /// before anything is written at this start. A torn or unreadable last line is
    /// skipped for the one before it (the checkpointer cuts it at open). The timeline
    /// catches up at `rate` while it is behind the wall clock.
    pub fn read(root: &Path, rate: CatchUpRate) -> Result<RetentionClock, StoreError> {
        Ok(RetentionClock::from_line(
            last_checkpoint_time(root)?,
            Timestamp::now(),
            rate,
        ))
    }

    /// A clock whose store's last checkpoint was at `last_checkpoint`, read now
    /// (without one, the timeline starts at the wall clock now).
    pub fn at(last_checkpoint: Option<Timestamp>, rate: CatchUpRate) -> RetentionClock {
        RetentionClock::opened(last_checkpoint, Timestamp::now(), rate)
    }

    /// [`RetentionClock::at`] with the wall clock of the read given (`opened_at`).
    pub fn opened(
        last_checkpoint: Option<Timestamp>,
        opened_at: Timestamp,
        rate: CatchUpRate,
    ) -> RetentionClock {
        let last = last_checkpoint.map(|t| LastLine {
            timeline: t,
            latest: t,
        });
        RetentionClock::from_line(last, opened_at, rate)
    }

    fn from_line(
        last: Option<LastLine>,
        opened_at: Timestamp,
        rate: CatchUpRate,
    ) -> RetentionClock {
        let wall = opened_at.unix_millis();
        let timeline = Timeline::resume(last.map(|l| l.timeline.unix_millis()), wall, rate);
        let latest = Timeline::latest(last.map(|l| l.latest.unix_millis()), wall, rate);
        RetentionClock {
            last_checkpoint: last.map(|l| l.timeline),
            state: Arc::new(Mutex::new(State {
                timeline,
                latest,
                read_at: Instant::now(),
            })),
        }
    }

    /// The time of the log's last line when it was read.
    pub fn last_checkpoint(&self) -> Option<Timestamp> {
        self.last_checkpoint
    }

    /// Retention's now.
    pub fn now(&self) -> ClockReading {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let read_at = Instant::now();
        let elapsed = read_at.saturating_duration_since(state.read_at);
        state.read_at = read_at;
        state.reading(Timestamp::now(), elapsed)
    }

    /// Retention's now when the wall clock says `wall` and `elapsed` went by on the
    /// monotonic clock since the previous reading (or the read of the log):
    /// `auditrail store prune` passes zero, as the server is stopped, so its timeline
    /// ends at its last line; tests pass any sequence.
    pub fn reading(&self, wall: Timestamp, elapsed: Duration) -> ClockReading {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.read_at = Instant::now();
        state.reading(wall, elapsed)
    }
}

impl State {
    /// Advances both timelines to `wall`, `elapsed` after their last reading.
    fn reading(&mut self, wall: Timestamp, elapsed: Duration) -> ClockReading {
        let at = self.timeline.advance(wall.unix_millis(), elapsed);
        let store = Timestamp::from_unix_millis(at).unwrap_or(wall);
        let latest = self.latest.advance(wall.unix_millis(), elapsed);
        let latest = Timestamp::from_unix_millis(latest)
            .unwrap_or(wall)
            .max(store);
        ClockReading {
            now: store.min(wall),
            wall,
            store: Some(store),
            latest: Some(latest),
        }
    }
}

/// The `time` of the checkpoint log's last complete line (read from the end of the
/// last piece that holds one: `checkpoint_pieces::last_line`).
fn last_checkpoint_time(root: &Path) -> Result<Option<LastLine>, StoreError> {
    let last =
        crate::checkpoint_pieces::last_line(root).map_err(|e| StoreError::io(&e.path, e.source))?;
    Ok(last.and_then(|l| last_time(&l.bytes, false)))
}

fn last_time(text: &[u8], skip_first: bool) -> Option<LastLine> {
    #[derive(serde::Deserialize)]
    struct Line {
        time: String,
        /// The store's timeline (lines written since it exists): preferred to `time`,
        /// the wall clock when the line was written, which a clock stepped ahead moves.
        #[serde(default)]
        timeline: Option<String>,
        /// The latest plausible time (lines written since it exists): what the bound
        /// on timestamps ahead resumes from; never taken back by a clock set back.
        #[serde(default)]
        latest: Option<String>,
    }
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let from = usize::from(skip_first);
    lines.get(from..)?.iter().rev().find_map(|line| {
        let line: Line = serde_json::from_slice(line).ok()?;
        let timeline = line
            .timeline
            .unwrap_or(line.time)
            .parse::<Timestamp>()
            .ok()?;
        // A `latest` that does not parse is no witness: the timeline stands in.
        let latest = line
            .latest
            .and_then(|l| l.parse::<Timestamp>().ok())
            .map_or(timeline, |l| l.max(timeline));
        Some(LastLine { timeline, latest })
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
        // Opened with the wall clock at the log's end (no downtime), then stepped.
        let last = t("2026-12-04T10:00:00Z");
        let clock = RetentionClock::opened(Some(last), last, CatchUpRate::DEFAULT);
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
        let clock = RetentionClock::read(empty.path(), CatchUpRate::DEFAULT).unwrap();
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
        let clock = RetentionClock::at(Some(t("2026-12-04T10:00:00Z")), CatchUpRate::DEFAULT);
        let r = clock.reading(t("2026-12-04T09:00:00Z"), Duration::from_secs(60));
        assert_eq!(r.now, t("2026-12-04T09:00:00Z"));
        assert!(!r.wall_ahead());
    }

    #[test]
    fn a_store_without_checkpoints_starts_its_timeline_at_the_open() {
        let clock = RetentionClock::opened(None, t("2026-12-04T09:00:00Z"), CatchUpRate::DEFAULT);
        let r = clock.reading(t("2026-12-04T09:00:00Z"), Duration::ZERO);
        assert_eq!(r.now, t("2026-12-04T09:00:00Z"));
        assert!(!r.wall_ahead());
        // The wall clock steps a year ahead an hour after the open: not trusted.
        let r = clock.reading(t("2027-12-04T10:00:00Z"), Duration::from_secs(3600));
        assert_eq!(r.now, t("2026-12-04T10:00:00Z"));
        assert!(r.wall_ahead());
    }

    #[test]
    fn a_downtime_is_caught_up_at_the_rate_and_clones_share_the_timeline() {
        // Down a day: the log ends a day before the open.
        let clock = RetentionClock::opened(
            Some(t("2026-12-03T09:00:00Z")),
            t("2026-12-04T09:00:00Z"),
            CatchUpRate::DEFAULT,
        );
        let shared = clock.clone();
        let r = clock.reading(t("2026-12-04T10:00:00Z"), Duration::from_secs(3600));
        assert_eq!(r.now, t("2026-12-03T11:00:00Z"));
        assert!(r.wall_ahead());
        let r = shared.reading(t("2026-12-04T11:00:00Z"), Duration::from_secs(3600));
        assert_eq!(r.now, t("2026-12-03T13:00:00Z"));
        // At rate 1 (before catch-up existed) it stays a day behind.
        let clock = RetentionClock::opened(
            Some(t("2026-12-03T09:00:00Z")),
            t("2026-12-04T09:00:00Z"),
            CatchUpRate::NONE,
        );
        let r = clock.reading(t("2026-12-04T10:00:00Z"), Duration::from_secs(3600));
        assert_eq!(r.now, t("2026-12-03T10:00:00Z"));
    }

    #[test]
    fn the_latest_time_of_the_last_line_bounds_a_clock_set_back_and_is_not_taken_back() {
        let dir = tempfile::tempdir().unwrap();
        // A line signed while the clock was two days behind: its timeline followed the
        // clock, its `latest` did not.
        std::fs::write(
            dir.path().join(CHECKPOINT_LOG),
            "{\"checkpoint\":1,\"time\":\"2026-12-02T10:00:00.000Z\",\"timeline\":\"2026-12-02T10:00:00.000Z\",\"latest\":\"2026-12-04T10:00:00.000Z\"}\n",
        )
        .unwrap();
        let last = last_checkpoint_time(dir.path()).unwrap().unwrap();
        assert_eq!(last.latest, t("2026-12-04T10:00:00Z"));
        // Restarted, the clock still behind.
        let clock =
            RetentionClock::from_line(Some(last), t("2026-12-02T10:01:00Z"), CatchUpRate::DEFAULT);
        let r = clock.reading(t("2026-12-02T10:02:00Z"), Duration::from_secs(60));
        assert_eq!(r.latest, Some(t("2026-12-04T10:01:00Z")));
        // Retention still deletes against the earlier clock.
        assert_eq!(r.now, t("2026-12-02T10:02:00Z"));
        // Set back another day while running: not followed.
        let r = clock.reading(t("2026-12-01T10:03:00Z"), Duration::from_secs(60));
        assert_eq!(r.latest, Some(t("2026-12-04T10:02:00Z")));
    }

    #[test]
    fn a_fresh_stores_latest_time_is_not_taken_back_by_a_clock_set_back() {
        let clock = RetentionClock::opened(None, t("2026-12-04T09:00:00Z"), CatchUpRate::DEFAULT);
        let r = clock.reading(t("2026-12-02T09:01:00Z"), Duration::from_secs(60));
        assert_eq!(r.latest, Some(t("2026-12-04T09:01:00Z")));
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
        let clock = RetentionClock::read(dir.path(), CatchUpRate::DEFAULT).unwrap();
        assert_eq!(clock.last_checkpoint(), Some(t("2026-12-02T00:00:00Z")));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            RetentionClock::read(empty.path(), CatchUpRate::DEFAULT)
                .unwrap()
                .last_checkpoint(),
            None
        );
    }
}
