use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, Timelike, Utc};
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

    /// Appends the RFC 3339 text (what `Display` writes) to `out`.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        match self.fixed_width() {
            Some(text) => out.extend_from_slice(&text),
            // Writing into a Vec cannot fail.
            None => {
                let _ = std::io::Write::write_fmt(out, format_args!("{self}"));
            }
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0 to 9999 (chrono's RFC 3339 text for
    /// them, byte for byte); `None` for other years, which chrono writes with a sign.
    ///
    /// Written digit by digit because every stored record, file line and request body
    /// holds a timestamp, and chrono's formatter builds a `String` through its generic
    /// format machinery each time (about a tenth of writing an event).
    fn fixed_width(&self) -> Option<[u8; 24]> {
        let year = u32::try_from(self.0.year()).ok().filter(|y| *y <= 9999)?;
        // `Timestamp` is truncated to milliseconds; a leap second shows as 60.
        let nanos = self.0.nanosecond();
        let (second, millis) = if nanos >= 1_000_000_000 {
            (self.0.second() + 1, (nanos - 1_000_000_000) / 1_000_000)
        } else {
            (self.0.second(), nanos / 1_000_000)
        };
        let mut t = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                t[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, self.0.month());
        put(8, 2, self.0.day());
        put(11, 2, self.0.hour());
        put(14, 2, self.0.minute());
        put(17, 2, second);
        put(20, 3, millis);
        Some(t)
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

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fixed_width() {
            // Only ASCII digits and separators were written.
            Some(text) => f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?),
            None => f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true)),
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
        super::text_de::parse_str(d, str::parse::<Timestamp>)
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

    /// The digit-by-digit text is chrono's RFC 3339 text, for every kind of date.
    #[test]
    fn text_is_chronos_rfc3339_with_milliseconds() {
        let chrono_text = |t: &Timestamp| t.0.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut samples: Vec<Timestamp> = [
            "0000-01-01T00:00:00Z",
            "0001-02-03T04:05:06.007Z",
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:00:00.5Z",
            "2016-12-31T23:59:60.250Z",
            "2026-11-25T16:55:49.123Z",
            "9999-12-31T23:59:59.999Z",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        // Years outside 0..=9999 (reachable through `from_unix_millis`): chrono's text.
        samples.push(Timestamp::from_unix_millis(253_402_300_800_000).unwrap());
        samples.push(Timestamp::from_unix_millis(-62_167_219_200_001).unwrap());
        // A spread of instants over four centuries, milliseconds included.
        let mut ms: i64 = -2_208_988_800_000;
        while ms < 10_413_792_000_000 {
            samples.push(Timestamp::from_unix_millis(ms).unwrap());
            ms += 86_399_999_937;
        }
        for t in &samples {
            let mut written = Vec::new();
            t.write_to(&mut written);
            assert_eq!(String::from_utf8(written).unwrap(), chrono_text(t));
            assert_eq!(t.to_string(), chrono_text(t));
        }
        assert!(samples[8].to_string().starts_with('+'), "{}", samples[8]);
        assert!(samples[9].to_string().starts_with('-'), "{}", samples[9]);
    }

    #[test]
    fn now_has_millisecond_precision() {
        let t = Timestamp::now();
        assert_eq!(t.to_string().len(), "2026-11-25T16:55:49.123Z".len());
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }
}
