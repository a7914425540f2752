use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::EventError;

/// A UTC instant with millisecond precision, written as RFC 3339 with milliseconds
/// and a `Z` suffix (`2026-11-25T16:55:49.123Z`). Any RFC 3339 offset is accepted on
/// input and converted to UTC; finer precision is truncated to milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp(Utc::now().trunc_subsecs(3))
    }

    /// From milliseconds since the Unix epoch.
    pub fn from_unix_millis(ms: i64) -> Option<Timestamp> {
        DateTime::from_timestamp_millis(ms).map(Timestamp)
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// The chrono value, for calendar arithmetic (partition folders and the like).
    pub fn as_datetime(&self) -> &DateTime<Utc> {
        &self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(d: DateTime<Utc>) -> Self {
        Timestamp(d.trunc_subsecs(3))
    }
}

impl FromStr for Timestamp {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| Timestamp(d.with_timezone(&Utc).trunc_subsecs(3)))
            .map_err(|e| EventError::InvalidField {
                field: "timestamp",
                value: super::names::truncate_for_error(s),
                reason: format!("not an RFC 3339 date-time ({e})"),
            })
    }
}

/// The first second humantime cannot write (year 10000).
const HUMANTIME_END: i64 = 253_402_300_800;

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every stored record writes two timestamps. chrono's `to_rfc3339_opts` builds a
        // `String` each time; humantime writes the same text (`…T16:55:49.123Z`) from a
        // stack buffer (`cargo bench -p auditrail-core --bench event_parse`, group
        // `timestamp`). humantime covers 1970 to 9999 and knows no leap second
        // (chrono keeps `23:59:60` as a second of 1000 ms or more): those go to chrono.
        let secs = self.0.timestamp();
        let nanos = self.0.timestamp_subsec_nanos();
        match u64::try_from(secs) {
            Ok(s) if secs < HUMANTIME_END && nanos < 1_000_000_000 => {
                let t = std::time::UNIX_EPOCH + std::time::Duration::new(s, nanos);
                fmt::Display::fmt(&humantime::format_rfc3339_millis(t), f)
            }
            _ => f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true)),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_converted_to_utc_with_milliseconds() {
        let t: Timestamp = "2026-11-25T18:55:49.123456+02:00".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-25T16:55:49.123Z");
    }

    #[test]
    fn every_instant_is_written_as_chrono_writes_it() {
        // Both sides of each boundary of the fast path, a leap second, and years that
        // RFC 3339 cannot spell but the milliseconds constructor accepts.
        let mut cases: Vec<Timestamp> = [
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:00.001Z",
            "2000-02-29T12:00:00.5Z",
            "2016-12-31T23:59:60.123Z",
            "2026-11-25T16:55:49.123Z",
            "2100-03-01T00:00:00.010Z",
            "9999-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00Z",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        cases.extend(
            [
                HUMANTIME_END * 1000,
                HUMANTIME_END * 1000 + 1,
                -62_167_219_200_001,
                i64::MIN / 4,
            ]
            .iter()
            .filter_map(|&ms| Timestamp::from_unix_millis(ms)),
        );
        // A spread of ordinary instants, one every ~37 days and 13 hours.
        cases.extend((0..2000).filter_map(|i| Timestamp::from_unix_millis(i * 3_243_647_123)));
        assert!(cases.len() > 2000);
        for t in cases {
            let chrono = t.0.to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(t.to_string(), chrono, "{t:?}");
        }
        let leap: Timestamp = "2016-12-31T23:59:60.123Z".parse().unwrap();
        assert_eq!(leap.to_string(), "2016-12-31T23:59:60.123Z");
    }

    #[test]
    fn now_has_millisecond_precision() {
        let t = Timestamp::now();
        assert_eq!(t.to_string().len(), "2026-11-25T16:55:49.123Z".len());
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }
}
