//! Spool record framing: `[u32 length LE][u32 crc32 LE][payload]`, one event's JSON
//! wire form per record.
//!
//! Hand-written on purpose: the framing is eight bytes and a checksum, and the spool
//! needs to tell a torn tail (cut it) from corruption in the middle (skip the damaged
//! bytes, resynchronising on the next valid record, and keep them aside), which no
//! maintained queue crate exposes.

use auditrail_core::Event;

/// Bytes of a record header.
pub const HEADER: usize = 8;
/// Largest payload accepted when reading; a larger length field is corruption.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// Appends one record holding `event`'s wire form to `out`.
pub fn encode_event(event: &Event, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER]);
    event.write_json(out);
    finish(out, start);
}

/// Appends one record holding `payload` to `out`.
pub fn encode_payload(payload: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER]);
    out.extend_from_slice(payload);
    finish(out, start);
}

fn finish(out: &mut [u8], start: usize) {
    let payload = &out[start + HEADER..];
    let len = payload.len() as u32;
    let crc = crc32fast::hash(payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + HEADER].copy_from_slice(&crc.to_le_bytes());
}

/// The payload lengths of the records of `records` (pre-encoded, whole records), as
/// their headers say.
pub fn lengths(records: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let header = records.get(at..at + HEADER)?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        at = at.saturating_add(HEADER).saturating_add(len);
        Some(len)
    })
}

/// What is at some offset of a segment's bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole, valid record.
    Record {
        /// The record's payload bytes.
        payload: &'a [u8],
        /// The offset after the record.
        next: usize,
    },
    /// The bytes end inside the record (header or payload incomplete).
    Incomplete,
    /// A complete record whose checksum or length field is wrong.
    Bad {
        /// What is wrong.
        reason: String,
        /// Where the record ends as far as its length field can tell (the end of the
        /// bytes when the length field itself is out of bounds).
        end: usize,
    },
}

/// Decodes the record at `at` in `buf`.
pub fn decode(buf: &[u8], at: usize) -> Decoded<'_> {
    let Some(header) = buf.get(at..at + HEADER) else {
        return Decoded::Incomplete;
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_PAYLOAD {
        return Decoded::Bad {
            reason: format!("length field {len} over the {MAX_PAYLOAD} byte limit"),
            end: buf.len(),
        };
    }
    let Some(payload) = buf.get(at + HEADER..at + HEADER + len) else {
        return Decoded::Incomplete;
    };
    if crc32fast::hash(payload) != crc {
        return Decoded::Bad {
            reason: "checksum mismatch".into(),
            end: at + HEADER + len,
        };
    }
    Decoded::Record {
        payload,
        next: at + HEADER + len,
    }
}

/// The offset of the first valid record at or after `from`, if any: a whole record
/// whose checksum holds and whose payload looks like a JSON object (starts with `{`,
/// ends with `}`, as every event's wire form does). Used to resynchronise after
/// damaged bytes.
///
/// The JSON check keeps the search cheap (random bytes rarely pass it, so the
/// checksum is seldom computed) and makes a false match inside damaged bytes need a
/// 32-bit checksum collision on top of it.
pub fn resync(buf: &[u8], from: usize) -> Option<usize> {
    let last = buf.len().checked_sub(HEADER + 2)?;
    (from..=last).find(|&at| {
        let header = &buf[at..at + HEADER];
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let start = at + HEADER;
        (2..=MAX_PAYLOAD).contains(&len)
            && start + len <= buf.len()
            && buf[start] == b'{'
            && buf[start + len - 1] == b'}'
            && matches!(decode(buf, at), Decoded::Record { .. })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage_are_told_apart() {
        let mut buf = Vec::new();
        encode_payload(b"{\"a\":1}", &mut buf);
        encode_payload(b"{\"b\":2}", &mut buf);
        let Decoded::Record { payload, next } = decode(&buf, 0) else {
            panic!("first record")
        };
        assert_eq!(payload, b"{\"a\":1}");
        assert!(matches!(decode(&buf, next), Decoded::Record { .. }));
        assert_eq!(decode(&buf, buf.len()), Decoded::Incomplete);
        assert_eq!(decode(&buf[..buf.len() - 1], next), Decoded::Incomplete);
        let mut bad = buf.clone();
        bad[HEADER + 2] ^= 0xff;
        assert!(matches!(decode(&bad, 0), Decoded::Bad { .. }));
    }

    #[test]
    fn resync_finds_the_next_whole_record_after_damage() {
        let mut buf = Vec::new();
        encode_payload(b"{\"a\":1}", &mut buf);
        let second = buf.len();
        encode_payload(b"{\"b\":2}", &mut buf);
        let third = buf.len();
        encode_payload(b"{\"c\":3}", &mut buf);
        assert_eq!(resync(&buf, 0), Some(0));
        assert_eq!(resync(&buf, 1), Some(second));
        // The second record's length field is damaged: the search lands on the third.
        let mut bad = buf.clone();
        bad[second] ^= 0x40;
        assert_eq!(resync(&bad, second), Some(third));
        assert_eq!(resync(&bad[..third + 3], second), None);
        assert_eq!(resync(&[], 0), None);
    }
}
