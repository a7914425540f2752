//! The bound on event timestamps ahead of the server's time (`max_timestamp_ahead_s`),
//! one rule for every way events come in: the HTTP ingest answers 400
//! `timestamp_ahead`, the Kafka source dead-letters the record. An event dated far
//! ahead would be filed in a partition that never closes, which no retention deletes
//! and which makes size retention evict every real partition instead (as Kafka's
//! `message.timestamp.after.max.ms`, KIP-937, and Loki's `creation_grace_period`).

use std::time::Duration;

use auditrail_core::Timestamp;
use auditrail_store::RetentionClock;

/// An event dated further ahead than the bound allows.
#[derive(Debug, Clone)]
pub(crate) struct TooFarAhead {
    /// The event's timestamp.
    pub timestamp: Timestamp,
    /// What the bound counted from ([`bound_now`]).
    pub now: Timestamp,
    /// The server's wall clock then: `now` unless the stores' latest time is later.
    pub clock: Timestamp,
    /// The bound.
    pub bound: Duration,
}

impl std::fmt::Display for TooFarAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (timestamp, now, secs) = (&self.timestamp, &self.now, self.bound.as_secs());
        if now.unix_millis() <= self.clock.unix_millis() {
            write!(
                f,
                "timestamp {timestamp} is more than {secs} s ahead of the server's clock \
                 ({now}; max_timestamp_ahead_s)"
            )
        } else {
            // Named as what it is: the operator's `date` shows the clock, and a bound
            // said to count from "the server's clock" at another time cannot be told
            // from a wrong bound.
            write!(
                f,
                "timestamp {timestamp} is more than {secs} s ahead of the stores' timeline \
                 ({now}: the latest time their checkpoint lines signed, plus the time since), \
                 which is later than the server's clock ({clock}): the bound \
                 (max_timestamp_ahead_s) counts from the later of the two, so that a clock \
                 set back refuses no event a correct clock would take",
                clock = self.clock
            )
        }
    }
}

impl std::error::Error for TooFarAhead {}

/// Refuses `timestamp` when it is more than `bound` (`None`: no bound) ahead of `now`,
/// the time given by [`bound_now`] from the wall clock `clock`.
pub(crate) fn check(
    timestamp: Timestamp,
    bound: Option<Duration>,
    now: Timestamp,
    clock: Timestamp,
) -> Result<(), TooFarAhead> {
    let Some(bound) = bound else {
        return Ok(());
    };
    let bound_ms = i64::try_from(bound.as_millis()).unwrap_or(i64::MAX);
    let limit = now.unix_millis().saturating_add(bound_ms);
    if timestamp.unix_millis() <= limit {
        return Ok(());
    }
    Err(TooFarAhead {
        timestamp,
        now,
        clock,
        bound,
    })
}

/// What the bound counts from: the later of the wall clock `wall` and a store's latest
/// plausible time (`ClockReading::latest`: the later of the wall clock at this start and
/// the latest time its checkpoint lines signed, plus the time since, never taken back
/// by a clock set back). A server whose clock is behind (a dead RTC, a VM snapshot,
/// before NTP synced, a clock stepped back while it runs, and a restart after that)
/// would otherwise refuse every node's events for good (nodes set a 400's events
/// aside; the Kafka source dead-letters them). Not retention's timeline, which follows
/// a clock set back (it must never be later than the true time: it deletes); the
/// latest time must never be earlier (it refuses).
pub(crate) fn bound_now(wall: Timestamp, timeline: Option<&RetentionClock>) -> Timestamp {
    timeline
        .and_then(|t| t.now().latest)
        .filter(|store| store.unix_millis() > wall.unix_millis())
        .unwrap_or(wall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_on_timestamps_ahead_counts_from_the_stores_timeline_when_the_clock_is_behind() {
        let wall = Timestamp::now();
        let ms = |t: Timestamp| t.unix_millis();
        // A server started with its clock two days behind its stores' last checkpoint.
        let ahead = Timestamp::from_unix_millis(ms(wall) + 2 * 86_400_000).unwrap();
        let timeline = RetentionClock::at(Some(ahead), auditrail_store::CatchUpRate::DEFAULT);
        assert!(ms(bound_now(wall, Some(&timeline))) >= ms(ahead));
        // A timeline behind the wall clock (a downtime) changes nothing; nor does none.
        let behind = Timestamp::from_unix_millis(ms(wall) - 86_400_000).unwrap();
        let timeline = RetentionClock::at(Some(behind), auditrail_store::CatchUpRate::DEFAULT);
        // Read with the clock a minute on: the store's latest time (the wall clock at
        // its start plus the time since, a millisecond past `wall` when one ticked in
        // between: CI failed an equality with `wall`) is not later, so the clock counts.
        let later = Timestamp::from_unix_millis(ms(Timestamp::now()) + 60_000).unwrap();
        assert_eq!(ms(bound_now(later, Some(&timeline))), ms(later));
        assert_eq!(ms(bound_now(wall, None)), ms(wall));
    }

    /// Retention's timeline follows a clock set back at a restart; the bound must not:
    /// it counted from that timeline, and refused every correctly dated event.
    #[test]
    fn the_bound_counts_from_the_latest_time_the_store_signed_not_retentions_timeline() {
        let dir = tempfile::tempdir().unwrap();
        let ms = |t: Timestamp| t.unix_millis();
        let wall = Timestamp::now();
        let ago = |d: i64| Timestamp::from_unix_millis(ms(wall) - d * 86_400_000).unwrap();
        // The last line, signed with the clock two days behind (a step back while the
        // server ran): its timeline followed the clock, its latest time did not.
        std::fs::write(
            dir.path().join("checkpoints.jsonl"),
            format!(
                "{{\"checkpoint\":1,\"time\":\"{a}\",\"timeline\":\"{a}\",\"latest\":\"{wall}\"}}\n",
                a = ago(2)
            ),
        )
        .unwrap();
        let timeline =
            RetentionClock::read(dir.path(), auditrail_store::CatchUpRate::DEFAULT).unwrap();
        // Restarted with the clock still two days behind.
        let from = bound_now(ago(2), Some(&timeline));
        assert!(
            ms(from) >= ms(wall),
            "{from} counted from a timeline behind {wall}"
        );
    }

    #[test]
    fn an_event_further_ahead_than_the_bound_is_refused_naming_the_bound() {
        let now = Timestamp::now();
        let at = |s: i64| Timestamp::from_unix_millis(now.unix_millis() + s * 1000).unwrap();
        let hour = Some(Duration::from_secs(3600));
        assert!(check(at(3600), hour, now, now).is_ok());
        let e = check(at(3601), hour, now, now).unwrap_err().to_string();
        assert!(
            e.contains("3600 s ahead of the server's clock") && e.contains("max_timestamp_ahead_s"),
            "{e}"
        );
        assert!(check(at(10 * 365 * 86_400), None, now, now).is_ok());
    }

    /// Counted from the stores' timeline (the clock is behind it), the refusal names the
    /// timeline and the clock apart: it called the timeline's time "the server's clock",
    /// which the operator's `date` contradicted.
    #[test]
    fn a_bound_counted_from_the_stores_timeline_is_said_so_with_the_clock() {
        let clock = Timestamp::now();
        let at = |s: i64| Timestamp::from_unix_millis(clock.unix_millis() + s * 1000).unwrap();
        let timeline = at(10 * 86_400);
        let e = check(
            at(12 * 86_400),
            Some(Duration::from_secs(86_400)),
            timeline,
            clock,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(&format!("ahead of the stores' timeline ({timeline}"))
                && e.contains(&format!("server's clock ({clock})"))
                && !e.contains("ahead of the server's clock"),
            "{e}"
        );
    }
}
