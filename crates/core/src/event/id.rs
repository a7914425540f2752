use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::{EventError, Timestamp};

/// Unique, time-ordered event id. auditrail generates UUIDv7 ids; any UUID is accepted
/// on the wire (so that producers with their own id scheme can send), in the
/// canonical hyphenated form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Uuid);

impl EventId {
    /// A fresh UUIDv7: millisecond timestamp prefix, monotonic within the process.
    pub fn new() -> EventId {
        EventId::at(&Timestamp::now())
    }

    /// A fresh UUIDv7 whose time prefix is `timestamp` (so that an event's id and
    /// timestamp come from one clock reading), still strictly increasing within the
    /// process even if the clock goes back.
    pub fn at(timestamp: &Timestamp) -> EventId {
        let millis = u64::try_from(timestamp.unix_millis()).unwrap_or(0);
        EventId(v7::next(millis))
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The id's 16 bytes, for compact indexes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Builds an id from 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> EventId {
        EventId(Uuid::from_bytes(bytes))
    }

    /// The id's text as auditrail writes it everywhere (stored records, wire forms):
    /// 36 bytes, hyphenated, lower case; the same bytes as `uuid`'s
    /// `hyphenated().encode_lower`.
    ///
    /// Written a byte (two digits) at a time from a table of digit pairs instead of through
    /// `uuid`'s encoder, which writes a digit at a time into a buffer and then copies it
    /// around the hyphens: the server writes an id per stored record and formats
    /// another per event for the live view's spelling check, about 115 instructions
    /// each that way and about half this way (docs/benchmarks.md, issue 17, stop 62).
    pub fn text(&self) -> [u8; 36] {
        // Where each of the 16 bytes' two digits go: a hyphen after the 4th, 6th, 8th
        // and 10th byte (8-4-4-4-12 digits).
        const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
        let mut out = [b'-'; 36];
        for (&byte, at) in self.0.as_bytes().iter().zip(AT) {
            out[at..at + 2].copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
        }
        out
    }
}

/// Each byte value's two lower-case hex digits ([`EventId::text`]).
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        pairs[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    pairs
};

impl Default for EventId {
    fn default() -> Self {
        EventId::new()
    }
}

impl From<Uuid> for EventId {
    fn from(u: Uuid) -> Self {
        EventId(u)
    }
}

impl FromStr for EventId {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Only the 36-character hyphenated form (not braced, URN or 32-digit forms), so
        // the stored text is the sent text up to case: hex digits are read in either case
        // and written lower case, as RFC 9562 section 4 says (docs/protocol.md).
        if s.len() != 36 {
            return Err(invalid(
                s,
                "must be a UUID in its 36-character hyphenated form",
            ));
        }
        Uuid::try_parse(s)
            .map(EventId)
            .map_err(|e| invalid(s, &e.to_string()))
    }
}

fn invalid(value: &str, reason: &str) -> EventError {
    EventError::InvalidField {
        field: "id",
        value: super::names::truncate_for_error(value),
        reason: reason.to_owned(),
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0.hyphenated())
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Uuid::encode_buffer();
        s.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::text_de::parse_str(d, str::parse::<EventId>)
    }
}

/// UUIDv7 generation for the emit hot path.
///
/// Written here rather than calling `Uuid::now_v7`: that takes a process-wide mutex
/// and, unless the `uuid` crate's `fast-rng` feature is on, a `getrandom` system call
/// per id, which dominated `emit`'s cost. This is RFC 9562's "fixed-length dedicated
/// counter" method (section 6.2, method 1): 48-bit Unix milliseconds, then a 16-bit
/// counter (12 bits in `rand_a`, 4 at the top of `rand_b`) that starts at a random
/// value each millisecond and carries into the millisecond when it overflows, then 58
/// random bits. The `uuid` crate still lays out and formats the bits.
mod v7 {
    use std::sync::atomic::{AtomicU64, Ordering};

    use uuid::Uuid;

    /// `millis << 16 | counter` of the last id handed out.
    static LAST: AtomicU64 = AtomicU64::new(0);

    pub(super) fn next(now_millis: u64) -> Uuid {
        let now_millis = now_millis & ((1 << 48) - 1);
        let mut last = LAST.load(Ordering::Relaxed);
        let state = loop {
            let next = if now_millis > last >> 16 {
                // A new millisecond: a random counter start (top bit clear, so that
                // at least 32768 ids fit before borrowing the next millisecond).
                (now_millis << 16) | (fastrand::u64(..) & 0x7fff)
            } else {
                // Same (or an earlier, if the clock went back) millisecond: count on.
                last.wrapping_add(1)
            };
            match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break next,
                Err(seen) => last = seen,
            }
        };
        let (millis, counter) = (state >> 16, state & 0xffff);
        let high = (millis << 16) | 0x7000 | (counter >> 4);
        let low = (0b10 << 62) | ((counter & 0xf) << 58) | (fastrand::u64(..) >> 6);
        Uuid::from_u64_pair(high, low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uuid_text(id: &EventId) -> String {
        let mut buf = Uuid::encode_buffer();
        id.as_uuid().hyphenated().encode_lower(&mut buf).to_owned()
    }

    #[test]
    fn text_is_uuids_lower_case_hyphenated_text_for_every_byte_at_every_place() {
        for place in 0..16 {
            for value in 0..=255u8 {
                let mut bytes = [0x5a; 16];
                bytes[place] = value;
                let id = EventId::from_bytes(bytes);
                assert_eq!(
                    std::str::from_utf8(&id.text()).unwrap(),
                    uuid_text(&id),
                    "byte {value:#04x} at {place}"
                );
            }
        }
    }

    #[test]
    fn text_is_uuids_text_for_generated_and_random_ids() {
        let mut ids: Vec<EventId> = (0..1000).map(|_| EventId::new()).collect();
        ids.extend((0..4000).map(|_| EventId::from(Uuid::from_u128(fastrand::u128(..)))));
        ids.push(EventId::from(Uuid::nil()));
        ids.push(EventId::from(Uuid::max()));
        for id in ids {
            let text = id.text();
            assert_eq!(std::str::from_utf8(&text).unwrap(), uuid_text(&id));
            assert_eq!(
                std::str::from_utf8(&text)
                    .unwrap()
                    .parse::<EventId>()
                    .unwrap(),
                id
            );
        }
    }

    #[test]
    fn generated_ids_are_unique_and_time_ordered() {
        let ids: Vec<EventId> = (0..10_000).map(|_| EventId::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn generated_ids_are_version_7_with_the_timestamp_prefix() {
        let ts: Timestamp = "2026-11-25T16:55:49.123Z".parse().unwrap();
        let id = EventId::at(&ts);
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert_eq!(id.as_uuid().get_variant(), uuid::Variant::RFC4122);
        let (secs, nanos) = id.as_uuid().get_timestamp().unwrap().to_unix();
        assert!(secs * 1000 + u64::from(nanos) / 1_000_000 >= ts.unix_millis() as u64);
    }

    #[test]
    fn ids_stay_ordered_across_threads_and_a_clock_going_back() {
        let late: Timestamp = "2030-01-01T00:00:00.000Z".parse().unwrap();
        let early: Timestamp = "2020-01-01T00:00:00.000Z".parse().unwrap();
        let a = EventId::at(&late);
        let b = EventId::at(&early);
        assert!(
            b > a,
            "an earlier clock reading must not go back in id order"
        );
        let per_thread: Vec<Vec<EventId>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..20_000).map(|_| EventId::new()).collect::<Vec<_>>()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all = std::collections::HashSet::new();
        for ids in &per_thread {
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
            all.extend(ids.iter().copied());
        }
        assert_eq!(all.len(), 80_000);
    }

    #[test]
    fn text_form_round_trips() {
        let id = EventId::new();
        assert_eq!(id.to_string().parse::<EventId>().unwrap(), id);
        assert!("0193".parse::<EventId>().is_err());
    }
}
