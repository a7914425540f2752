//! Upper bounds of the duration settings of the configs (a node's and the event
//! server's), and deadlines that cannot overflow the clock.
//!
//! A duration setting ends up as a deadline (`Instant::now() + timeout`) or a timer
//! period, and `Instant + Duration` panics when the sum is beyond what the clock can
//! represent: `shutdown_timeout_s = 9223372036854775807` was accepted at start and
//! made the stop panic ("overflow when adding duration to instant") instead of
//! shutting down. So each duration setting has an upper bound that says what the
//! setting is for (a stop that may take longer than a day is a stop that never ends),
//! checked when the config is read so that the file is refused at start naming the
//! key; and the deadlines are computed with [`deadline_after`], which cannot panic,
//! for programs that pass any [`Duration`] through the library API.

use std::fmt;
use std::time::{Duration, Instant};

/// Farthest a deadline is set: beyond any process's life (tokio's own "far future"
/// is 30 years too), and far from the clock's limit, so that a timer that adds a
/// little to a deadline (tokio rounds deadlines up to the next millisecond) cannot
/// overflow either.
pub const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 86_400);

/// `from + after`, or [`FAR_FUTURE`] from `from` when `after` is longer (or, on a
/// clock that cannot represent even that, the latest instant it can). Never panics,
/// unlike `from + after`.
pub fn deadline_after(from: Instant, after: Duration) -> Instant {
    let mut after = after.min(FAR_FUTURE);
    loop {
        if let Some(deadline) = from.checked_add(after) {
            return deadline;
        }
        // Ends: `from + 0` is `from`.
        after /= 2;
    }
}

/// The unit of a duration setting (its key's suffix: `_s`, `_ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole seconds.
    Seconds,
    /// Whole milliseconds.
    Millis,
}

/// The upper bound of one duration setting, and why it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationBound {
    /// The setting's key, as the config file spells it.
    pub key: &'static str,
    /// The unit of the setting's number.
    pub unit: Unit,
    /// The largest value accepted, in `unit`.
    pub max: u64,
    /// Why a longer value makes no sense (ends the error message).
    pub why: &'static str,
}

impl DurationBound {
    /// `Ok` when `value` is at most the bound; else [`TooLong`], whose message leaves the
    /// key out (callers put it in front as their config's messages do).
    pub fn check(&self, value: u64) -> Result<(), TooLong> {
        if value <= self.max {
            return Ok(());
        }
        Err(TooLong {
            value,
            bound: *self,
        })
    }

    /// [`DurationBound::check`] for a value already made a [`Duration`].
    pub fn check_duration(&self, value: Duration) -> Result<(), TooLong> {
        if value <= self.duration() {
            return Ok(());
        }
        let in_unit = match self.unit {
            Unit::Seconds => u128::from(value.as_secs()),
            Unit::Millis => value.as_millis(),
        };
        self.check(u64::try_from(in_unit).unwrap_or(u64::MAX))
    }

    /// The bound as a duration.
    pub fn duration(&self) -> Duration {
        match self.unit {
            Unit::Seconds => Duration::from_secs(self.max),
            Unit::Millis => Duration::from_millis(self.max),
        }
    }
}

/// A duration setting beyond its bound. The message leaves the key out
/// ([`DurationBound::key`] names it): callers put it in front as their config's
/// messages do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value} is too long: at most {} ({}), because {}",
    bound.max,
    Human(bound.duration()),
    bound.why
)]
pub struct TooLong {
    /// The value given, in the bound's unit.
    pub value: u64,
    /// The bound it is beyond.
    pub bound: DurationBound,
}

/// A bound for a reader: `1 day`, `30 days`, `1 hour`, else seconds or milliseconds.
struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        let (secs, ms) = (self.0.as_secs(), self.0.subsec_millis());
        if ms != 0 {
            return write!(f, "{} ms", self.0.as_millis());
        }
        for (unit, name) in [(86_400, "day"), (3_600, "hour"), (60, "minute")] {
            if secs >= unit && secs % unit == 0 {
                let n = secs / unit;
                return write!(f, "{n} {name}{}", plural(n));
            }
        }
        write!(f, "{secs} second{}", plural(secs))
    }
}

/// A node's `shutdown_timeout_s` and the event server's: how long a stop may take.
pub const SHUTDOWN_TIMEOUT_S: DurationBound = DurationBound {
    key: "shutdown_timeout_s",
    unit: Unit::Seconds,
    max: 86_400,
    why: "a stop that may take longer than a day is one that never ends: service managers \
          kill the process long before (systemd's default stop timeout is 90 s)",
};

/// `[metrics] log_interval_s`: how often a node logs its targets' counters.
pub const LOG_INTERVAL_S: DurationBound = DurationBound {
    key: "metrics.log_interval_s",
    unit: Unit::Seconds,
    max: 86_400,
    why: "counters logged less often than once a day tell nothing in time (0 turns the \
          log off)",
};

/// `batch_max_wait_ms` of a target or destination.
pub const BATCH_MAX_WAIT_MS: DurationBound = DurationBound {
    key: "batch_max_wait_ms",
    unit: Unit::Millis,
    max: 3_600_000,
    why: "events wait that long in a partial batch before their first send, out of the \
          destination's sight (0, the default, sends at once)",
};

/// `retry_initial_backoff_ms` and `retry_max_backoff_ms` of a target or destination.
pub const RETRY_BACKOFF_MS: [DurationBound; 2] = [
    DurationBound {
        key: "retry_initial_backoff_ms",
        unit: Unit::Millis,
        max: 86_400_000,
        why: "a first retry more than a day later is no retry (to give up, set \
              retry_max_elapsed_s)",
    },
    DurationBound {
        key: "retry_max_backoff_ms",
        unit: Unit::Millis,
        max: 86_400_000,
        why: "a retry more than a day after the previous one leaves a recovered \
              destination unused for a day (to give up, set retry_max_elapsed_s)",
    },
];

/// `retry_max_elapsed_s` of a target or destination.
pub const RETRY_MAX_ELAPSED_S: DurationBound = DurationBound {
    key: "retry_max_elapsed_s",
    unit: Unit::Seconds,
    max: 30 * 86_400,
    why: "retrying for longer is retrying without limit: leave the key out for that (the \
          default)",
};

/// `send_timeout_ms` of a target or destination.
pub const SEND_TIMEOUT_MS: DurationBound = DurationBound {
    key: "send_timeout_ms",
    unit: Unit::Millis,
    max: 86_400_000,
    why: "a send still running after a day is hung, and the timeout is there to turn a \
          hung send into retries (leave the key out for no timeout)",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_beyond_the_clock_is_the_far_future_instead_of_a_panic() {
        let now = Instant::now();
        assert_eq!(
            deadline_after(now, Duration::from_secs(30)),
            now + Duration::from_secs(30)
        );
        assert_eq!(deadline_after(now, Duration::ZERO), now);
        // `now + Duration::MAX` and `now + from_secs(i64::MAX)` panic.
        for huge in [Duration::MAX, Duration::from_secs(i64::MAX as u64)] {
            assert_eq!(deadline_after(now, huge), now + FAR_FUTURE);
        }
        // A timer may still add a little to the far deadline.
        assert!(deadline_after(now, Duration::MAX)
            .checked_add(Duration::from_secs(3600))
            .is_some());
    }

    #[test]
    fn a_bound_names_its_limit_in_words_and_says_why() {
        assert_eq!(SHUTDOWN_TIMEOUT_S.check(86_400), Ok(()));
        let e = SHUTDOWN_TIMEOUT_S
            .check(9_223_372_036_854_775_807)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("9223372036854775807 is too long: at most 86400 (1 day), because "),
            "{e}"
        );
        assert_eq!(Human(Duration::from_secs(3_600)).to_string(), "1 hour");
        assert_eq!(Human(RETRY_MAX_ELAPSED_S.duration()).to_string(), "30 days");
        assert_eq!(Human(Duration::from_millis(1500)).to_string(), "1500 ms");
        assert_eq!(Human(Duration::from_secs(90)).to_string(), "90 seconds");
    }
}
