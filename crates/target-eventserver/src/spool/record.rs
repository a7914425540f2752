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
/// Smallest payload of a record the spool writes: every record holds an event's JSON
/// wire form, an object, `{}` at the least. A shorter length field is no record: eight
/// zero bytes (a hole, room another program allocated) have a length field 0 and the
/// checksum of nothing (0), and used to read as a record holding nothing.
pub const MIN_PAYLOAD: usize = 2;
/// The unit in which a crash stops a write: the kernel copies a write into a file a
/// page at a time and grows the file's length as it goes, so a write cut short (the
/// process killed, the machine losing power) leaves the file ending at a page
/// boundary, or at the write's end. Every Linux page size is a multiple of it.
const PAGE: u64 = 4096;

/// Appends one record holding `event`'s wire form to `out`.
pub fn encode_event(event: &Event, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER]);
    event.write_json(out);
    finish(out, start);
}

/// Appends one record holding `payload` to `out`: an event's wire form, at least
/// [`MIN_PAYLOAD`] bytes (a shorter one reads back as damage, never as a record).
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
    if len < MIN_PAYLOAD {
        return Decoded::Bad {
            reason: format!(
                "length field {len}, shorter than any record the spool writes ({MIN_PAYLOAD} bytes)"
            ),
            end: (at + HEADER + len).min(buf.len()),
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
/// whole valid record; `end`: the offset in the file where they end) can be a record
/// the spool wrote, cut short by a crash during its append: what a torn write leaves,
/// and all it leaves (an append writes whole records, so the torn one is the last).
/// That is [`why_not_cut_short`] finding nothing against it.
pub fn could_be_cut_short(tail: &[u8], end: u64) -> bool {
    why_not_cut_short(tail, end).is_none()
}

/// Why `tail` (as [`could_be_cut_short`] takes it) is no record cut short by a crash,
/// or `None` when it can be one. A torn write leaves the first bytes of a record, then
/// possibly zero bytes (blocks a power loss left unwritten: the file's new length
/// reached the disk, its data did not), so:
/// - some byte must not be zero: zero bytes alone hold nothing of a record (a hole:
///   room another program allocated, or a file's length a crash left without its
///   data), nothing shows the spool wrote there, and they are kept;
/// - its length field, as far as it is there, gives a payload the spool writes (at
///   least [`MIN_PAYLOAD`], at most [`MAX_PAYLOAD`]) longer than the bytes that follow;
/// - the payload bytes there are an event's wire form begun: `{` first, then JSON
///   text on one line, which holds no byte below 0x20 (no control byte, no newline, no
///   zero byte before the end): such a byte is someone else's, even after a real
///   record cut short, and the whole tail is kept (where a record cut short ends
///   and their bytes begin cannot be told);
/// - fewer than 4 bytes (part of a length field) cannot tell by what they hold (any
///   of them can begin a length a record has), but by where they end: a crash stops a
///   write at a page boundary (4096 bytes) or at its end, and a write's end is a record's
///   end, so a tail this short that ends elsewhere is someone else's.
pub fn why_not_cut_short(tail: &[u8], end: u64) -> Option<String> {
    if tail.is_empty() {
        return Some("no bytes".to_owned());
    }
    let start = end.saturating_sub(tail.len() as u64);
    let written = tail.len() - tail.iter().rev().take_while(|&&b| b == 0).count();
    if written == 0 {
        return Some(format!(
            "{} zero bytes: no byte of a record (a hole: room another program allocated, \
             or a file's length a crash left without its data)",
            tail.len()
        ));
    }
    if tail.len() < 4 && !end.is_multiple_of(PAGE) {
        return Some(format!(
            "{} byte(s), fewer than a length field, ending at offset {end}: a crash stops a \
             write at a multiple of {PAGE} bytes or at the end of a record",
            tail.len()
        ));
    }
    let tail = &tail[..written];
    // Fewer than 4 bytes of a length field before zero bytes: any can begin one.
    let header = tail.get(..4)?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&len) {
        return Some(format!(
            "length field {len}: no record the spool writes has it"
        ));
    }
    if tail.len() >= HEADER + len {
        return Some(format!(
            "the whole record of its length field ({len} bytes) is there"
        ));
    }
    let payload = tail.get(HEADER..).unwrap_or_default();
    if let Some(&first) = payload.first().filter(|&&b| b != b'{') {
        return Some(format!(
            "its payload begins with byte 0x{first:02x}, an event's wire form with `{{`"
        ));
    }
    if let Some(i) = payload.iter().position(|&b| b < 0x20) {
        let at = start + (HEADER + i) as u64;
        return Some(format!(
            "byte 0x{:02x} at offset {at} is in no event's wire form (JSON text on one \
             line: no byte below 0x20): someone else wrote it, and maybe bytes before it",
            payload[i]
        ));
    }
    None
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
    let last = buf.len().checked_sub(HEADER + MIN_PAYLOAD)?;
    (from..=last).find(|&at| {
        let header = &buf[at..at + HEADER];
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let start = at + HEADER;
        (MIN_PAYLOAD..=MAX_PAYLOAD).contains(&len)
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
        // Tails as if they started at a page boundary plus 100: where a record starts
        // is anywhere, where a write stops is a page boundary or a record's end.
        let from = PAGE + 100;
        let cut = |tail: &[u8]| could_be_cut_short(tail, from + tail.len() as u64);
        let mut buf = Vec::new();
        encode_payload(b"{\"a\":1}", &mut buf);
        for end in 4..buf.len() {
            assert!(cut(&buf[..end]), "{end}");
        }
        // Part of a length field: cut short only where a crash stops a write.
        for end in 1..4 {
            assert!(could_be_cut_short(&buf[..end], 2 * PAGE), "{end}");
            assert!(!cut(&buf[..end]), "{end}");
        }
        assert!(!cut(b"\n"), "a newline where no write stops");
        assert!(!cut(&buf), "a whole record");
        assert!(!cut(b"a line of text\n"));
        assert!(!cut(b""));
        let mut bad = buf.clone();
        bad[HEADER + 1] ^= 0x20;
        assert!(!cut(&bad), "a whole record, its checksum failing");
        bad = buf[..HEADER + 2].to_vec();
        bad[HEADER] = b'x';
        assert!(!cut(&bad), "no event's wire form");
        // A length field no record has: `{}` is the shortest payload.
        let mut short = Vec::new();
        encode_payload(b"{}", &mut short);
        assert!(cut(&short[..HEADER + 1]));
        short[0] = 1;
        assert!(!cut(&short[..HEADER + 1]), "length 1");
        // A record cut short, then bytes someone else appended: a line, or bytes after
        // a zero byte (no event's wire form holds one before its end).
        let mut long = Vec::new();
        encode_payload(b"{\"a\":\"a longer text than the note\"}", &mut long);
        let mut glued = long[..HEADER + 3].to_vec();
        assert!(cut(&glued));
        glued.extend_from_slice(b"note\n");
        let why = why_not_cut_short(&glued, from + glued.len() as u64).unwrap();
        assert!(
            why.contains(&format!("offset {}", from + HEADER as u64 + 7)),
            "{why}"
        );
        let mut glued = long[..HEADER + 3].to_vec();
        glued.extend_from_slice(&[0, 0, b'x']);
        assert!(!cut(&glued));
        // Blocks a power loss left unwritten, after the start of a record; but zero
        // bytes alone hold nothing of a record.
        let mut zeroed = buf[..HEADER + 3].to_vec();
        zeroed.resize(buf.len() + 40, 0);
        assert!(cut(&zeroed));
        assert!(!cut(&[0; 12]));
        assert!(!cut(&[0; 8]));
        assert!(!could_be_cut_short(&[0; 3], 2 * PAGE));
    }

    #[test]
    fn eight_zero_bytes_are_no_record() {
        assert!(matches!(decode(&[0; 8], 0), Decoded::Bad { end: 8, .. }));
        let mut buf = vec![0; 8];
        encode_payload(b"{}", &mut buf);
        assert!(matches!(decode(&buf, 0), Decoded::Bad { .. }));
        assert_eq!(resync(&buf, 1), Some(8));
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
