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

/// Whether `tail` (the bytes from a record boundary to the end of a segment, holding no
/// whole valid record) can be a record the spool wrote, cut short by a crash during
/// its append: what a torn write leaves, and all it leaves (an append writes whole
/// records, so the torn one is the last). Its length field, as far as it is there,
/// gives a payload the spool writes (at least `{}`, at most [`MAX_PAYLOAD`]) longer
/// than the bytes that follow, and those start as an event's wire form does (`{`).
/// Anything else at the end (a whole line of text, a complete record whose checksum
/// fails, a length no record has) is bytes someone else wrote, never a torn write:
/// not to be cut. Fewer than 4 bytes cannot tell: a header cut short. Zero bytes at
/// the end are blocks a power loss left unwritten (the file's new length reached the
/// disk, its data did not): what comes before them is judged.
pub fn could_be_cut_short(tail: &[u8]) -> bool {
    if tail.is_empty() {
        return false;
    }
    let written = tail.len() - tail.iter().rev().take_while(|&&b| b == 0).count();
    let tail = &tail[..written];
    let Some(header) = tail.get(..4) else {
        return true;
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    (2..=MAX_PAYLOAD).contains(&len)
        && tail.len() < HEADER + len
        && tail.get(HEADER).is_none_or(|&b| b == b'{')
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
    fn a_record_cut_short_is_told_from_bytes_the_spool_never_writes() {
        let mut buf = Vec::new();
        encode_payload(b"{\"a\":1}", &mut buf);
        for end in 1..buf.len() {
            assert!(could_be_cut_short(&buf[..end]), "{end}");
        }
        assert!(!could_be_cut_short(&buf), "a whole record");
        assert!(!could_be_cut_short(b"a line of text\n"));
        assert!(!could_be_cut_short(b""));
        let mut bad = buf.clone();
        bad[HEADER + 1] ^= 0x20;
        assert!(
            !could_be_cut_short(&bad),
            "a whole record, its checksum failing"
        );
        bad = buf[..HEADER + 2].to_vec();
        bad[HEADER] = b'x';
        assert!(!could_be_cut_short(&bad), "no event's wire form");
        // Blocks a power loss left unwritten.
        assert!(could_be_cut_short(&[0; 12]));
        let mut zeroed = buf[..HEADER + 3].to_vec();
        zeroed.resize(buf.len() + 40, 0);
        assert!(could_be_cut_short(&zeroed));
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
