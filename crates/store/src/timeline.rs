//! How a store's timeline advances: the one rule that the checkpointer (which signs
//! the timeline into each checkpoint line) and retention's clock
//! ([`crate::retention_clock`]) both follow.
//!
//! The timeline is the store's own evidence of the time: a wall clock stepped ahead
//! (a bad RTC before NTP synced, a VM restored with a wrong clock, a `date -s` typo)
//! must not make retention delete early. So it advances by the monotonic clock, which
//! steps do not move, and never past the wall clock. That alone never caught up after
//! a downtime: a week down kept every record a week longer, for good. So a timeline
//! found behind the wall clock catches up at a bounded rate, as NTP slews a clock
//! instead of stepping it (at most 500 ppm there, because its offsets are
//! milliseconds; here the gaps are downtimes of hours or days):
//!
//! - it advances by at most `rate` × the monotonic time elapsed
//!   ([`CatchUpRate`], `[retention] catch_up_rate`, default 2: a downtime `D` is caught
//!   up within `D` of uptime; 1 never catches up);
//! - the part beyond 1 × the elapsed time is at most how far behind the wall clock it
//!   was at the previous reading: only a gap already seen is caught up, so a step
//!   between two readings is not caught up on the time before it was seen;
//! - the catch-up never takes it past the wall clock (the monotonic time alone does:
//!   a wall clock set back is wrong, and the timeline is then the better witness of
//!   the time, which the bound on timestamps ahead counts from). The checkpointer
//!   keeps the lines' timeline at or behind the wall clock besides
//!   ([`Timeline::not_ahead_of`]): a store first opened with its clock ahead, before NTP
//!   synced, must not carry a timeline ahead for good; retention takes the earlier of
//!   the two anyway.
//!
//! Hence a wall clock stepped ahead by `S` makes retention delete early by at most
//! `(rate - 1)` × the uptime since the step was seen, and never by more than `S`.
//!
//! That timeline is the earliest plausible time: right for deleting, wrong for
//! refusing. The bound on timestamps ahead (`max_timestamp_ahead_s`) counts from the
//! latest plausible time instead ([`Timeline::latest`]): the same rule, but resumed at
//! a start from the later of the wall clock and the latest time the log signed (each
//! line's `latest`), and never taken back by a wall clock set back. The lines'
//! timeline follows such a clock back (see above), so a server restarted after a step
//! back, the clock still wrong, had nothing left that remembered the real time, and
//! refused every correctly dated event. Its failure is the benign one: a clock stepped
//! ahead, then fixed, leaves the latest time ahead by what it caught up of the step
//! (at most `(rate - 1)` × the uptime in between, never more than the step), and a
//! store first opened (or started) with its clock ahead by `S` keeps it `S` ahead: the
//! bound then accepts timestamps that much further ahead, never refuses more.

use std::time::Duration;

/// The largest [`CatchUpRate`]: a timeline this fast makes a step ahead felt within
/// 1% of its size in uptime, at which point the bound protects little.
pub const MAX_CATCH_UP_RATE: f64 = 100.0;

/// How fast a store's timeline behind the wall clock may advance, in multiples of the
/// monotonic clock (`[retention] catch_up_rate`). Kept in thousandths, so that it is
/// exact and comparable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
// From an `Option`: the config passes through JSON, where TOML's `nan` and `inf`
// become `null`, which a plain `f64` refused as "invalid type: null", a value nobody wrote.
#[serde(try_from = "Option<f64>", into = "f64")]
pub struct CatchUpRate {
    thousandths: u32,
}

/// Why a [`CatchUpRate`] is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatchUpRateError {
    /// Outside 1 to 100.
    #[error(
        "must be at least 1 (1: the timeline never catches up after a downtime) and at most \
         100 (the multiple of the monotonic clock at which a store's timeline \
         behind the wall clock advances), got {0}"
    )]
    OutOfRange(f64),
    /// `nan` or `inf` (which the config's JSON form holds as `null`).
    #[error("must be a number from 1 to 100, got nan or inf")]
    NotANumber,
}

impl CatchUpRate {
    /// Never faster than the monotonic clock: a timeline behind stays behind.
    pub const NONE: CatchUpRate = CatchUpRate { thousandths: 1000 };
    /// The default: twice the monotonic clock, so a downtime `D` is caught up within
    /// `D` of uptime.
    pub const DEFAULT: CatchUpRate = CatchUpRate { thousandths: 2000 };

    /// The rate `rate` (a multiple of the monotonic clock, to the thousandth).
    pub fn new(rate: f64) -> Result<CatchUpRate, CatchUpRateError> {
        if !rate.is_finite() {
            return Err(CatchUpRateError::NotANumber);
        }
        if !(1.0..=MAX_CATCH_UP_RATE).contains(&rate) {
            return Err(CatchUpRateError::OutOfRange(rate));
        }
        // In range, so the product fits (at most 100 000).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let thousandths = (rate * 1000.0).round() as u32;
        Ok(CatchUpRate { thousandths })
    }

    /// The rate, as a multiple of the monotonic clock.
    pub fn get(self) -> f64 {
        f64::from(self.thousandths) / 1000.0
    }

    /// What a timeline behind may gain beyond `elapsed_ms` itself in that time.
    fn extra(self, elapsed_ms: i64) -> i64 {
        let beyond = i128::from(self.thousandths.saturating_sub(1000));
        i64::try_from(i128::from(elapsed_ms) * beyond / 1000).unwrap_or(i64::MAX)
    }
}

impl Default for CatchUpRate {
    fn default() -> CatchUpRate {
        CatchUpRate::DEFAULT
    }
}

impl TryFrom<Option<f64>> for CatchUpRate {
    type Error = CatchUpRateError;
    fn try_from(rate: Option<f64>) -> Result<CatchUpRate, CatchUpRateError> {
        CatchUpRate::new(rate.ok_or(CatchUpRateError::NotANumber)?)
    }
}

impl From<CatchUpRate> for f64 {
    fn from(rate: CatchUpRate) -> f64 {
        rate.get()
    }
}

impl std::fmt::Display for CatchUpRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// A store's timeline, in unix milliseconds, advanced reading by reading (see the
/// module's doc). Pure: the caller reads the wall and monotonic clocks, so tests give
/// any sequence of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    /// The timeline at the last reading.
    at: i64,
    /// How far it was behind the wall clock then (never negative): what the next
    /// reading may catch up.
    behind: i64,
    rate: CatchUpRate,
}

impl Timeline {
    /// Resumes from `last` (the checkpoint log's last line's timeline; `None`: a store
    /// without one starts at the wall clock) when the wall clock says `wall`: as far
    /// behind it as the log's end is (a downtime, or a clock stepped ahead while the
    /// server was stopped), which it then catches up; ahead of it when the clock is
    /// behind the log's end.
    pub fn resume(last: Option<i64>, wall: i64, rate: CatchUpRate) -> Timeline {
        let at = last.unwrap_or(wall);
        Timeline {
            at,
            // Never negative: a log ahead (a clock behind) must not slow the timeline.
            behind: wall.saturating_sub(at).max(0),
            rate,
        }
    }

    /// The latest plausible time (see the module's doc), resumed from `last` (the
    /// log's last line's `latest`; its `timeline` or `time` for a line written before
    /// it; `None`: a store without a log) when the wall clock says `wall`: the later of
    /// the two, as a start has no better witness. Advance it with
    /// [`Timeline::advance`], and never take it back ([`Timeline::not_ahead_of`]).
    pub fn latest(last: Option<i64>, wall: i64, rate: CatchUpRate) -> Timeline {
        Timeline::resume(Some(last.map_or(wall, |l| l.max(wall))), wall, rate)
    }

    /// The timeline at the last reading (unix ms).
    pub fn at(&self) -> i64 {
        self.at
    }

    /// How far behind the wall clock it was at the last reading (ms).
    pub fn behind(&self) -> i64 {
        self.behind
    }

    /// Its catch-up rate.
    pub fn rate(&self) -> CatchUpRate {
        self.rate
    }

    /// The timeline now, `elapsed` after the last reading on the monotonic clock, the
    /// wall clock saying `wall`: the elapsed time, plus what it catches up of the gap
    /// seen at the last reading, no further than `wall`.
    pub fn advance(&mut self, wall: i64, elapsed: Duration) -> i64 {
        let elapsed = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        let base = self.at.saturating_add(elapsed);
        let extra = self.rate.extra(elapsed).min(self.behind);
        self.at = base.saturating_add(extra).min(wall).max(base);
        self.behind = wall.saturating_sub(self.at).max(0);
        self.at
    }

    /// Takes the timeline back to `wall` when it is ahead of it (the checkpointer's
    /// lines: see the module's doc); returns it.
    pub fn not_ahead_of(&mut self, wall: i64) -> i64 {
        if self.at > wall {
            self.at = wall;
            self.behind = 0;
        }
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;

    fn rate(r: f64) -> CatchUpRate {
        CatchUpRate::new(r).unwrap()
    }

    /// Runs a server for `hours` of uptime, reading every ten minutes (a retention
    /// pass) with the wall clock true (`wall0` plus the uptime); returns the timeline.
    fn run(t: &mut Timeline, wall0: i64, hours: i64) -> i64 {
        let mut wall = wall0;
        for _ in 0..hours * 6 {
            wall += 10 * MIN;
            t.advance(wall, Duration::from_secs(600));
        }
        t.at()
    }

    #[test]
    fn a_downtime_is_caught_up_at_the_bounded_rate() {
        // Down for a day: the log's last line is a day before the wall clock.
        let wall0 = 1_000 * DAY;
        let mut t = Timeline::resume(Some(wall0 - DAY), wall0, rate(2.0));
        assert_eq!(t.behind(), DAY);
        // Six hours later: six hours gained beyond the six elapsed, no more.
        assert_eq!(run(&mut t, wall0, 6), wall0 + 6 * HOUR - DAY + 6 * HOUR);
        // A day of uptime after the start: caught up, and then it goes with the clock.
        assert_eq!(run(&mut t, wall0 + 6 * HOUR, 18), wall0 + DAY);
        assert_eq!(t.behind(), 0);
        assert_eq!(run(&mut t, wall0 + DAY, 1), wall0 + DAY + HOUR);
    }

    #[test]
    fn a_faster_rate_catches_up_faster_and_never_past_the_wall_clock() {
        let wall0 = 1_000 * DAY;
        let mut t = Timeline::resume(Some(wall0 - DAY), wall0, rate(5.0));
        // Four times the elapsed time gained per reading: 6 h of uptime gain a day.
        assert_eq!(run(&mut t, wall0, 6), wall0 + 6 * HOUR);
        assert_eq!(t.behind(), 0);
    }

    #[test]
    fn rate_one_never_catches_up() {
        let wall0 = 1_000 * DAY;
        let mut t = Timeline::resume(Some(wall0 - DAY), wall0, CatchUpRate::NONE);
        assert_eq!(run(&mut t, wall0, 48), wall0 + 48 * HOUR - DAY);
        assert_eq!(t.behind(), DAY);
    }

    #[test]
    fn a_clock_stepped_ahead_moves_the_timeline_by_the_bounded_rate_only() {
        let wall0 = 1_000 * DAY;
        let mut t = Timeline::resume(Some(wall0), wall0, rate(2.0));
        let year = 365 * DAY;
        // The wall clock steps a year ahead 5 minutes after a reading; the next
        // reading, 10 minutes after the last, is the first to see it: nothing is
        // caught up on the time before it was seen.
        let at = t.advance(wall0 + year + 10 * MIN, Duration::from_secs(600));
        assert_eq!(at, wall0 + 10 * MIN);
        assert_eq!(t.behind(), year);
        // An hour of uptime later: an hour ahead of the true time, not a year.
        let mut wall = wall0 + year + 10 * MIN;
        for _ in 0..6 {
            wall += 10 * MIN;
            t.advance(wall, Duration::from_secs(600));
        }
        assert_eq!(t.at(), wall0 + 70 * MIN + HOUR);
    }

    #[test]
    fn a_clock_set_back_does_not_move_the_timeline_but_the_lines_follow_it() {
        let wall0 = 1_000 * DAY;
        let mut kept = Timeline::resume(Some(wall0), wall0, rate(2.0));
        let mut lines = kept;
        // Set back a day: the timeline goes on by the monotonic clock...
        let back = wall0 - DAY + MIN;
        assert_eq!(kept.advance(back, Duration::from_secs(60)), wall0 + MIN);
        // ...while the checkpointer's lines are never ahead of the wall clock.
        lines.advance(back, Duration::from_secs(60));
        assert_eq!(lines.not_ahead_of(back), back);
        // Set right again: the lines' timeline catches up from the reading that saw it.
        assert_eq!(
            kept.advance(wall0 + 2 * MIN, Duration::from_secs(60)),
            wall0 + 2 * MIN
        );
        lines.advance(wall0 + 2 * MIN, Duration::from_secs(60));
        assert_eq!(lines.not_ahead_of(wall0 + 2 * MIN), back + MIN);
        assert_eq!(lines.behind(), DAY);
        lines.advance(wall0 + 3 * MIN, Duration::from_secs(60));
        assert_eq!(lines.not_ahead_of(wall0 + 3 * MIN), back + 3 * MIN);
    }

    #[test]
    fn a_store_without_a_log_starts_at_the_wall_clock_and_a_log_ahead_is_kept() {
        let t = Timeline::resume(None, 5_000, CatchUpRate::DEFAULT);
        assert_eq!((t.at(), t.behind()), (5_000, 0));
        // The clock behind the log's end: the log is the witness of the time.
        let mut t = Timeline::resume(Some(9_000), 5_000, CatchUpRate::DEFAULT);
        assert_eq!((t.at(), t.behind()), (9_000, 0));
        assert_eq!(t.not_ahead_of(5_000), 5_000);
    }

    #[test]
    fn the_latest_time_is_not_taken_back_by_a_clock_set_back_and_resumes_from_the_later() {
        let wall0 = 1_000 * DAY;
        let mut lines = Timeline::resume(Some(wall0), wall0, rate(2.0));
        let mut latest = Timeline::latest(Some(wall0), wall0, rate(2.0));
        // Set back two days while running: the lines follow it, the latest time not.
        let back = wall0 - 2 * DAY + MIN;
        lines.advance(back, Duration::from_secs(60));
        assert_eq!(lines.not_ahead_of(back), back);
        assert_eq!(latest.advance(back, Duration::from_secs(60)), wall0 + MIN);
        let mut wall = back;
        for _ in 0..6 {
            wall += 10 * MIN;
            lines.advance(wall, Duration::from_secs(600));
            lines.not_ahead_of(wall);
            latest.advance(wall, Duration::from_secs(600));
            assert!(latest.at() >= lines.at());
        }
        assert_eq!(latest.at(), wall0 + MIN + HOUR);
        // A restart, the clock still behind: the latest time the log signed is kept...
        let restarted = Timeline::latest(Some(latest.at()), wall, rate(2.0));
        assert_eq!(
            (restarted.at(), restarted.behind()),
            (wall0 + MIN + HOUR, 0)
        );
        // ...and a wall clock later than it (a downtime) is taken at once.
        let after_downtime = Timeline::latest(Some(wall0), wall0 + DAY, rate(2.0));
        assert_eq!(after_downtime.at(), wall0 + DAY);
        assert_eq!(Timeline::latest(None, wall0, rate(2.0)).at(), wall0);
    }

    #[test]
    fn a_clock_stepped_ahead_then_fixed_leaves_the_latest_time_ahead_by_what_it_caught_up() {
        let wall0 = 1_000 * DAY;
        let mut latest = Timeline::latest(Some(wall0), wall0, rate(2.0));
        // Stepped a year ahead, seen by one reading, fixed an hour of uptime later.
        latest.advance(wall0 + 365 * DAY + 10 * MIN, Duration::from_secs(600));
        let mut wall = wall0 + 365 * DAY + 10 * MIN;
        for _ in 0..6 {
            wall += 10 * MIN;
            latest.advance(wall, Duration::from_secs(600));
        }
        // An hour ahead of the true time (wider acceptance), not a year.
        assert_eq!(latest.at(), wall0 + 70 * MIN + HOUR);
        assert_eq!(
            latest.advance(wall0 + 80 * MIN, Duration::from_secs(600)),
            wall0 + 80 * MIN + HOUR
        );
    }

    #[test]
    fn rates_are_bounded_and_kept_to_the_thousandth() {
        assert_eq!(rate(2.0), CatchUpRate::DEFAULT);
        assert_eq!(rate(1.0), CatchUpRate::NONE);
        assert_eq!(rate(1.5).get(), 1.5);
        assert_eq!(rate(100.0).get(), 100.0);
        for bad in [0.0, 0.999, -2.0, 100.001, f64::NAN, f64::INFINITY] {
            assert!(CatchUpRate::new(bad).is_err(), "{bad}");
        }
        assert!(CatchUpRate::new(0.5)
            .unwrap_err()
            .to_string()
            .starts_with("must be at least 1 (1: the timeline never catches up"));
    }
}
