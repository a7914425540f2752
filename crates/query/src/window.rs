//! Time windows: `--since` / `--until` as people write them.

use std::fmt;

use auditrail_core::Timestamp;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::error::QueryError;

/// A time range over the events' own timestamps: `[since, until)`; `None` ends are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Only events at or after this instant.
    pub since: Option<Timestamp>,
    /// Only events before this instant.
    pub until: Option<Timestamp>,
}

impl Window {
    /// Parses both ends (see [`parse_time`]), relative ones against `now`; errors name
    /// them `--since` and `--until`.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        now: Timestamp,
    ) -> Result<Window, QueryError> {
        Window::parse_named(("--since", since), ("--until", until), now)
    }

    /// [`Window::parse`] with the names the ends have where they were given (`since`,
    /// `until` on the server). A window whose start is not before its end holds no
    /// time: refused (swapped ends, `since=1d&until=7d`, would otherwise answer "no
    /// events" as if there were none).
    pub fn parse_named(
        (since_name, since): (&str, Option<&str>),
        (until_name, until): (&str, Option<&str>),
        now: Timestamp,
    ) -> Result<Window, QueryError> {
        let window = Window {
            since: since.map(|s| parse_time(since_name, s, now)).transpose()?,
            until: until.map(|u| parse_time(until_name, u, now)).transpose()?,
        };
        match (window.since, window.until, since, until) {
            (Some(from), Some(to), Some(since), Some(until)) if from >= to => {
                Err(QueryError::EmptyWindow {
                    since: format!("{since_name} {since:?} ({from})"),
                    until: format!("{until_name} {until:?} ({to})"),
                })
            }
            _ => Ok(window),
        }
    }

    /// The window as an SQL condition on `timestamp` (`TRUE` when open at both ends).
    /// Built from typed instants, never from user text.
    ///
    /// Each end is its millisecond value cast to the column's type, not a text
    /// (`timestamp >= '2300-01-01'`): DataFusion reads a text as a time through
    /// nanoseconds, which hold only the years 1677 to 2262, and a window's ends may be
    /// any stored time (years 0000 to 9999). The cast is folded into a constant when
    /// the statement is planned, so pruning by time folders still sees `timestamp >=
    /// <time>`.
    pub fn sql(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.since {
            parts.push(format!("timestamp >= {}", time_literal(s)));
        }
        if let Some(u) = self.until {
            parts.push(format!("timestamp < {}", time_literal(u)));
        }
        if parts.is_empty() {
            "TRUE".to_owned()
        } else {
            parts.join(" AND ")
        }
    }

    /// Whether `t` is inside.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// `t` as an SQL value of the `timestamp` column's type (ms, UTC), valid for any year.
pub(crate) fn time_literal(t: Timestamp) -> String {
    format!("arrow_cast({}, 'Timestamp(ms, \"UTC\")')", t.unix_millis())
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.since, self.until) {
            (None, None) => f.write_str("all time"),
            (Some(s), None) => write!(f, "since {s}"),
            (None, Some(u)) => write!(f, "until {u}"),
            (Some(s), Some(u)) => write!(f, "{s} to {u}"),
        }
    }
}

/// `0000-01-01T00:00:00Z` in Unix milliseconds: the earliest instant RFC 3339 writes.
pub(crate) const EARLIEST_MILLIS: i64 = -62_167_219_200_000;
/// `9999-12-31T23:59:59.999Z` in Unix milliseconds: the latest.
pub(crate) const LATEST_MILLIS: i64 = 253_402_300_799_999;

/// An instant as people write it, in UTC unless an offset is given:
/// - a date, `2026-11-29` (midnight UTC);
/// - a date and time, `2026-11-29T10:00:00Z` (RFC 3339, any offset) or
///   `2026-11-29 10:00` (UTC);
/// - a duration before `now`: `24h`, `7d`, `90m`, `1h30m`, `2weeks` (humantime's units).
///
/// Whatever the form, the instant is in the years 0000 to 9999 (those RFC 3339 writes,
/// as the ingest accepts): the server hands a window to its query worker as RFC 3339
/// text, and an instant outside (`-0001-01-01`, `0000-01-01T00:00:00+01:00`, `1000000d`)
/// has none, so it is refused here, naming the flag, instead of failing there.
pub fn parse_time(flag: &str, value: &str, now: Timestamp) -> Result<Timestamp, QueryError> {
    let refused = |reason: &str| QueryError::TimeBound {
        flag: flag.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let t = instant(value.trim(), now).ok_or_else(|| {
        refused(
            "expected a date (2026-11-29), a date-time (2026-11-29T10:00:00Z, UTC unless an \
             offset is given) or a duration before now (24h, 7d, 90m)",
        )
    })?;
    match t {
        Some(t) if (EARLIEST_MILLIS..=LATEST_MILLIS).contains(&t.unix_millis()) => Ok(t),
        _ => Err(refused(
            "outside the years 0000 to 9999; times go from 0000-01-01T00:00:00Z to \
             9999-12-31T23:59:59.999Z",
        )),
    }
}

/// `t`, the millisecond of RFC 3339 text `v`, moved to the next millisecond when `v`
/// is finer (`10:00:11.0001Z`). Events' times are whole milliseconds, so either end of
/// `[since, until)` then compares exactly: `t >= s` is `t >= ⌈s⌉` and `t < u` is
/// `t < ⌈u⌉`; cut down to its millisecond instead, `--until 10:00:11.0001Z` left out an
/// event at `10:00:11.000Z`, and `--since 10:00:11.0009Z` took it in.
fn rounded_up(v: &str, t: Timestamp) -> Timestamp {
    match DateTime::parse_from_rfc3339(v) {
        Ok(d) if d.timestamp_subsec_nanos() % 1_000_000 != 0 => {
            Timestamp::from_unix_millis(t.unix_millis() + 1).unwrap_or(t)
        }
        _ => t,
    }
}

/// The instant `v` writes: `None` when it is no instant as people write them,
/// `Some(None)` when it is one that no [`Timestamp`] holds (a duration back past the
/// first instant of Unix milliseconds).
fn instant(v: &str, now: Timestamp) -> Option<Option<Timestamp>> {
    if let Ok(t) = v.parse::<Timestamp>() {
        return Some(Some(rounded_up(v, t)));
    }
    // RFC 3339 that `Timestamp` does not take: an offset that takes it outside the
    // years 0000 to 9999, refused by the caller as such.
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(Some(rounded_up(v, t.with_timezone(&Utc).into())));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Some(
            d.and_hms_opt(0, 0, 0)
                .map(|t| Utc.from_utc_datetime(&t).into()),
        );
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return Some(Some(Utc.from_utc_datetime(&t).into()));
        }
    }
    if v.starts_with(|c: char| c.is_ascii_digit()) {
        if let Ok(d) = humantime::parse_duration(v) {
            let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
            return Some(
                now.unix_millis()
                    .checked_sub(ms)
                    .and_then(Timestamp::from_unix_millis),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_finer_than_a_millisecond_keeps_exactly_the_events_it_should() {
        let now = Timestamp::from_unix_millis(0).unwrap();
        let event: Timestamp = "2026-11-29T10:00:11.000Z".parse().unwrap();
        let w =
            |since: Option<&str>, until: Option<&str>| Window::parse(since, until, now).unwrap();
        assert!(w(None, Some("2026-11-29T10:00:11.0001Z")).contains(event));
        assert!(!w(Some("2026-11-29T10:00:11.0009Z"), None).contains(event));
        assert!(!w(Some("2026-11-29T10:00:11.000000001Z"), None).contains(event));
        assert!(w(Some("2026-11-29T10:00:11.000000Z"), None).contains(event));
        assert!(!w(None, Some("2026-11-29T10:00:11.000Z")).contains(event));
        assert!(w(None, Some("2026-11-29T12:00:11.0001+02:00")).contains(event));
        // Before 1970 too (a millisecond is rounded toward the future, not toward 0).
        let old: Timestamp = "1969-12-31T23:59:59.999Z".parse().unwrap();
        assert!(w(None, Some("1969-12-31T23:59:59.9991Z")).contains(old));
        assert!(!w(Some("1969-12-31T23:59:59.9991Z"), None).contains(old));
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// `since=1000000d` reached the year -711: the CLI read it, the server's query
    /// worker (handed the window as RFC 3339 text) failed with a 500.
    #[test]
    fn a_duration_reaching_before_the_year_0000_is_refused_naming_the_flag() {
        let now = t("2026-11-30T09:00:00Z");
        let e = parse_time("since", "1000000d", now)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("since") && e.contains("years 0000 to 9999"),
            "{e}"
        );
        assert!(parse_time("until", "100000000weeks", now).is_err());
        // Back to the year 0000 is still a time.
        let far = parse_time("since", "739950d", now).unwrap();
        assert_eq!(far.to_string().get(..2), Some("00"), "{far}");
    }

    /// `-0001-01-01` (a date), `-0001-12-31 23:00` (a date-time without offset) and
    /// `0000-01-01T00:00:00+01:00` (an offset) reached before the year 0000: the
    /// server's worker could not read them back (500) and the CLI answered nothing.
    #[test]
    fn an_instant_outside_the_years_0000_to_9999_is_refused_in_every_form() {
        let now = t("2026-11-30T09:00:00Z");
        for bad in [
            "-0001-01-01",
            "-0001-12-31 23:00",
            "0000-01-01T00:00:00+01:00",
            "+10000-01-01",
        ] {
            let e = parse_time("until", bad, now).unwrap_err().to_string();
            assert!(e.contains("outside the years 0000 to 9999"), "{bad}: {e}");
        }
        for edge in [
            "0000-01-01",
            "9999-12-31T23:59:59.999Z",
            "0000-01-01T01:00:00+01:00",
        ] {
            assert!(parse_time("since", edge, now).is_ok(), "{edge}");
        }
    }

    #[test]
    fn a_window_whose_start_is_not_before_its_end_is_refused_naming_both() {
        let now = t("2026-11-30T09:00:00Z");
        let e = Window::parse(Some("1d"), Some("7d"), now)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--since \"1d\" (2026-11-29T09:00:00.000Z) is not before --until \"7d\""),
            "{e}"
        );
        assert!(Window::parse(Some("2026-11-29"), Some("2026-11-29"), now).is_err());
        assert!(Window::parse(Some("7d"), Some("1d"), now).is_ok());
    }

    #[test]
    fn dates_datetimes_and_durations() {
        let now = t("2026-11-30T09:00:00Z");
        let p = |s| parse_time("--since", s, now).unwrap();
        assert_eq!(p("2026-11-29"), t("2026-11-29T00:00:00Z"));
        assert_eq!(p("2026-11-29T10:00:00+02:00"), t("2026-11-29T08:00:00Z"));
        assert_eq!(p("2026-11-29 10:30"), t("2026-11-29T10:30:00Z"));
        assert_eq!(p("24h"), t("2026-11-29T09:00:00Z"));
        assert_eq!(p("7d"), t("2026-11-23T09:00:00Z"));
        assert_eq!(p("1h30m"), t("2026-11-30T07:30:00Z"));
        for bad in ["yesterday", "", "-5h", "2026-13-01", "h24"] {
            let e = parse_time("--since", bad, now).unwrap_err().to_string();
            assert!(e.starts_with("--since"), "{e}");
        }
    }

    #[test]
    fn window_sql_is_half_open() {
        let w = Window {
            since: Some(t("2026-11-29T00:00:00Z")),
            until: Some(t("2026-11-30T00:00:00Z")),
        };
        assert_eq!(
            w.sql(),
            "timestamp >= arrow_cast(1795910400000, 'Timestamp(ms, \"UTC\")') \
             AND timestamp < arrow_cast(1795996800000, 'Timestamp(ms, \"UTC\")')"
        );
        assert_eq!(Window::default().sql(), "TRUE");
    }
}
