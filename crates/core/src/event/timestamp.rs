use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::EventError;

/// A UTC instant with millisecond precision, written as RFC 3339 with milliseconds
/// and a `Z` suffix (`2026-11-25T16:55:49.123Z`). Any RFC 3339 offset is accepted on
/// input and converted to UTC; finer precision is truncated to milliseconds.
///
/// The instant is a count of milliseconds of Unix time, which has no leap seconds. A
/// leap second on input (RFC 3339 section 5.7 allows second `60`: `23:59:60Z`) is read
/// as second 59 of the same minute with its fraction kept (`23:59:60.250Z` is
/// `23:59:59.250Z`), the rule of Java's `DateTimeFormatter.ISO_INSTANT` ("replacing
/// the second-of-minute of 60 with 59", `DateTimeFormatter.parsedLeapSecond`). So the
/// instant stays in the minute, hour and day it was sent in, and every reader (the
/// text written, the unix milliseconds, the partition hour) sees one time: chrono's own
/// leap-second value (second 59 with 1_000_000_000 ns or more), whose text says
/// second 60 while its milliseconds say the next minute, never lives in a `Timestamp`:
/// `now` and `from_unix_millis` count Unix time and cannot make one, the digit-by-digit
/// reading takes seconds 00 to 59 only, and every other way (chrono's RFC 3339 parser,
/// `From<DateTime<Utc>>`) goes through `Timestamp::from_chrono`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        // Truncated before chrono sees it: `trunc_subsecs` subtracts a `Duration` through
        // chrono's checked calendar arithmetic, a tenth of the dispatcher's work per
        // emitted event (callgrind, `cargo bench -p auditrail-core --bench dispatch`).
        // A clock outside chrono's range (before 1970, or past the year 262143) reads
        // as the epoch, where `Utc::now` would panic.
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let nanos = since_epoch.subsec_millis() * 1_000_000;
        let now = i64::try_from(since_epoch.as_secs())
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, nanos));
        Timestamp(now.unwrap_or_default())
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
    /// them, byte for byte: what `Display` writes and a stored record holds); `None`
    /// for other years, which chrono writes with a sign.
    ///
    /// Written digit by digit because every stored record, file line and request body
    /// holds a timestamp, and chrono's formatter builds a `String` through its generic
    /// format machinery each time (about a tenth of writing an event).
    pub fn fixed_width(&self) -> Option<[u8; 24]> {
        // Read from the naive UTC value once: each field read of a `DateTime<Utc>`
        // (year, month, ..., 7 here) first adds the zero offset to make its local
        // time (about a third of this function's samples in the server's profile).
        let utc = self.0.naive_utc();
        let (date, time) = (utc.date(), utc.time());
        let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
        // `Timestamp` is truncated to milliseconds and holds no leap second.
        let (second, millis) = (time.second(), time.nanosecond() / 1_000_000);
        let mut t = *b"0000-00-00T00:00:00.000Z";
        // Two digits at a time from a table: a division per digit was 60 % of this
        // function's instructions (callgrind over the server, stop 59), and it runs for
        // every stored record and every event the live view shows.
        let mut two = |at: usize, value: u32| {
            let i = (value % 100) as usize * 2;
            t[at..at + 2].copy_from_slice(&DIGIT_PAIRS[i..i + 2]);
        };
        two(0, year / 100);
        two(2, year);
        two(5, date.month());
        two(8, date.day());
        two(11, time.hour());
        two(14, time.minute());
        two(17, second);
        two(21, millis);
        t[20] = b'0' + (millis / 100 % 10) as u8;
        Some(t)
    }
}

/// `00`, `01`, ... `99`: the two digits of `n` at `2 * n`.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut n = 0;
    while n < 100 {
        pairs[2 * n] = b'0' + (n / 10) as u8;
        pairs[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    pairs
};

impl From<DateTime<Utc>> for Timestamp {
    /// `d` truncated to milliseconds; a leap second becomes second 59 (see [`Timestamp`]).
    fn from(d: DateTime<Utc>) -> Self {
        Timestamp::from_chrono(d)
    }
}

impl Timestamp {
    /// The one way a chrono value becomes a `Timestamp`: truncated to milliseconds, and
    /// a leap second (chrono holds it as second 59 with 1_000_000_000 ns or more) read
    /// as second 59 with its fraction kept, the rule described on [`Timestamp`].
    fn from_chrono(d: DateTime<Utc>) -> Timestamp {
        let millis = d.nanosecond() % 1_000_000_000 / 1_000_000;
        // chrono refuses only 2_000_000_000 ns and more here (and local times a time
        // zone lacks, which UTC does not): never `None`; the epoch, as `now` falls back
        // to, rather than a panic.
        Timestamp(d.with_nanosecond(millis * 1_000_000).unwrap_or_default())
    }
}

impl Timestamp {
    /// The text `write_to` writes (`YYYY-MM-DDTHH:MM:SS.mmmZ`, seconds 00 to 59), read
    /// digit by digit; `None` for any other text, which chrono's RFC 3339 parser reads
    /// (and refuses with its reason; a leap second, second 60, goes that way too).
    /// Every event the server receives has a timestamp, nearly always in this form, and
    /// chrono's general parser cost about 3 % of parsing an event.
    pub(super) fn parse_fixed_width(s: &str) -> Option<Timestamp> {
        let b: &[u8; 24] = s.as_bytes().try_into().ok()?;
        let separators = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (23, b'Z'),
        ];
        if separators.iter().any(|&(at, c)| b[at] != c) {
            return None;
        }
        let number = |from: usize, to: usize| -> Option<u32> {
            b[from..to].iter().try_fold(0u32, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
            })
        };
        let date = chrono::NaiveDate::from_ymd_opt(
            i32::try_from(number(0, 4)?).ok()?,
            number(5, 7)?,
            number(8, 10)?,
        )?;
        let second = number(17, 19).filter(|s| *s < 60)?;
        let time =
            date.and_hms_milli_opt(number(11, 13)?, number(14, 16)?, second, number(20, 23)?)?;
        Some(Timestamp(time.and_utc()))
    }
}

impl Timestamp {
    /// `Ok` when the instant's year, in UTC, is 0000 to 9999. RFC 3339 writes four-digit
    /// years only (section 5.6, `date-fullyear = 4DIGIT`), so an offset can name an
    /// instant outside them (`9999-12-31T23:30:00-01:00`) that no RFC 3339 text in UTC
    /// can hold: written as chrono writes it (`+10000-...`), no reader of the stored
    /// text reads it back, and the store cannot name its time partition.
    pub(crate) fn check_writable(&self, text: impl FnOnce() -> String) -> Result<(), EventError> {
        let year = self.0.year();
        if (0..=9999).contains(&year) {
            return Ok(());
        }
        Err(EventError::InvalidField {
            field: "timestamp",
            value: super::names::truncate_for_error(&text()),
            reason: format!(
                "the instant is in the year {year} in UTC: an event's timestamp must fall in \
                 the years 0000 to 9999 (UTC), the years RFC 3339 writes"
            ),
        })
    }
}

impl FromStr for Timestamp {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(t) = Timestamp::parse_fixed_width(s) {
            return Ok(t);
        }
        let t = DateTime::parse_from_rfc3339(s)
            .map(|d| Timestamp::from_chrono(d.with_timezone(&Utc)))
            .map_err(|e| EventError::InvalidField {
                field: "timestamp",
                value: super::names::truncate_for_error(s),
                reason: format!("not an RFC 3339 date-time ({e})"),
            })?;
        t.check_writable(|| s.to_owned())?;
        Ok(t)
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
    use chrono::SubsecRound;

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

    /// The digit-by-digit reading gives chrono's value for every text it takes, and
    /// leaves every other text (chrono refuses or reads it) to chrono, whose leap
    /// second (second 60) is then read as second 59
    /// (`leap_second_is_one_time_for_every_reader`); any other value of chrono's is
    /// only truncated to milliseconds.
    #[test]
    fn fixed_width_text_reads_as_chrono_reads_it() {
        let chrono = |s: &str| {
            DateTime::parse_from_rfc3339(s).ok().map(|d| {
                let utc = d.with_timezone(&Utc);
                let t = Timestamp::from_chrono(utc);
                if utc.nanosecond() < 1_000_000_000 {
                    assert_eq!(t.0, utc.trunc_subsecs(3), "{s}");
                }
                t
            })
        };
        let mut texts: Vec<String> = Vec::new();
        for (y, mo, d) in [
            (0, 1, 1),
            (1970, 1, 1),
            (2000, 2, 29),
            (2100, 2, 29),
            (2024, 2, 29),
            (2026, 11, 31),
            (2026, 13, 1),
            (2026, 0, 10),
            (2026, 12, 0),
            (9999, 12, 31),
        ] {
            for (h, mi, sec, ms) in [
                (0, 0, 0, 0),
                (23, 59, 59, 999),
                (24, 0, 0, 0),
                (12, 60, 0, 0),
                (23, 59, 60, 250),
                (16, 55, 49, 123),
            ] {
                texts.push(format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{ms:03}Z"
                ));
            }
        }
        let good = "2026-11-25T16:55:49.123Z";
        for i in 0..good.len() {
            for c in ["x", " ", "0", "9", "-", ":", "+", "é"] {
                texts.push(format!("{}{c}{}", &good[..i], &good[i + 1..]));
            }
        }
        texts.extend(
            [
                "2026-11-25t16:55:49.123z",
                "2026-11-25 16:55:49.123Z",
                "2026-11-25T16:55:49.1234",
                "+2026-11-25T16:55:49.12Z",
                "",
            ]
            .map(String::from),
        );
        let mut fast = 0;
        for text in &texts {
            let read = Timestamp::parse_fixed_width(text);
            if let Some(t) = read {
                fast += 1;
                assert_eq!(Some(t), chrono(text), "{text}");
            }
            assert_eq!(text.parse::<Timestamp>().ok(), chrono(text), "{text}");
        }
        assert!(
            fast > 30,
            "{fast} of {} texts read digit by digit",
            texts.len()
        );
    }

    /// A leap second (`23:59:60`, RFC 3339 section 5.7) is one time for every reader:
    /// second 59 of its minute with the fraction kept (Java's `ISO_INSTANT` rule). The
    /// text written, the unix milliseconds and the calendar fields the store's partition
    /// hour is made of all say the same instant, in the hour and day it was sent in;
    /// chrono's own leap-second value (text `:60`, milliseconds of the next day) never
    /// gets into a `Timestamp`, whichever way it is made.
    #[test]
    fn leap_second_is_one_time_for_every_reader() {
        // 2026-11-23T23:59:59.000Z in Unix milliseconds.
        const LAST_SECOND_OF_THE_DAY: i64 = 1_795_478_399_000;
        for (sent, fraction_ms) in [
            ("2026-11-23T23:59:60Z", 0),
            ("2026-11-23T23:59:60.5Z", 500),
            ("2026-11-23T23:59:60.000Z", 0),
            ("2026-11-23T23:59:60.999999Z", 999),
            ("2026-11-23T15:59:60.5-08:00", 500),
            ("2026-11-24T05:29:60.5+05:30", 500),
        ] {
            let utc = format!("2026-11-23T23:59:59.{fraction_ms:03}Z");
            let t: Timestamp = sent.parse().unwrap();
            let mut written = Vec::new();
            t.write_to(&mut written);
            assert_eq!(String::from_utf8(written).unwrap(), utc, "{sent}");
            assert_eq!(t.to_string(), utc, "{sent}");
            assert_eq!(
                t.unix_millis(),
                LAST_SECOND_OF_THE_DAY + fraction_ms,
                "{sent}"
            );
            let d = t.as_datetime();
            let day = (d.year(), d.month(), d.day());
            assert_eq!(day, (2026, 11, 23), "{sent}");
            let time = (d.hour(), d.minute(), d.second());
            assert_eq!(time, (23, 59, 59), "{sent}");
            assert!(d.nanosecond() < 1_000_000_000, "{sent}: {}", d.nanosecond());
            assert_eq!(d.timestamp_millis(), t.unix_millis(), "{sent}");
            // Read back from its text and from its milliseconds: the same value.
            assert_eq!(utc.parse::<Timestamp>().unwrap(), t, "{sent}");
            let from_millis = Timestamp::from_unix_millis(t.unix_millis());
            assert_eq!(from_millis, Some(t), "{sent}");
        }
        // chrono's leap-second value made by hand (second 59, 1.5e9 ns) and
        // converted: the same rule.
        let leap = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
            .unwrap()
            .and_utc();
        assert_eq!(leap.nanosecond(), 1_500_000_000, "chrono's leap second");
        let t = Timestamp::from(leap);
        assert_eq!(t.to_string(), "2026-11-23T23:59:59.500Z");
        assert_eq!(t.unix_millis(), LAST_SECOND_OF_THE_DAY + 500);
        assert_eq!(t.as_datetime().nanosecond(), 500_000_000);
    }

    #[test]
    fn now_has_millisecond_precision() {
        let t = Timestamp::now();
        assert_eq!(t.to_string().len(), "2026-11-25T16:55:49.123Z".len());
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }

    /// An offset that moves the instant out of the years 0000 to 9999 (UTC) is
    /// refused with the reason; the edges themselves are read.
    #[test]
    fn instants_outside_the_four_digit_years_are_refused() {
        for bad in [
            "9999-12-31T23:30:00.000-01:00",
            "9999-12-31T23:59:59.999-00:01",
            "0000-01-01T00:30:00.000+01:00",
            "0000-01-01T00:00:00Z".replace('Z', "+00:01").as_str(),
        ] {
            let e = bad.parse::<Timestamp>().unwrap_err().to_string();
            assert!(e.contains("years 0000 to 9999"), "{bad}: {e}");
            assert!(e.contains("timestamp"), "{bad}: {e}");
        }
        for (good, utc) in [
            ("9999-12-31T23:30:00.000+01:00", "9999-12-31T22:30:00.000Z"),
            ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
            ("0000-01-01T00:30:00.000-01:00", "0000-01-01T01:30:00.000Z"),
            ("0000-01-01T00:00:00+00:00", "0000-01-01T00:00:00.000Z"),
        ] {
            assert_eq!(good.parse::<Timestamp>().unwrap().to_string(), utc);
        }
    }

    #[test]
    fn now_is_the_wall_clock_truncated_to_milliseconds() {
        let before = Utc::now().trunc_subsecs(3);
        let t = Timestamp::now();
        let after = Utc::now();
        assert!(before <= t.0 && t.0 <= after, "{before} <= {t} <= {after}");
        assert_eq!(t.0.timestamp_subsec_nanos() % 1_000_000, 0, "{t:?}");
    }
}
