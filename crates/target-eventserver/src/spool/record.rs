//! Spool record framing: `[u32 length LE][u32 crc32 LE][payload]`, one event's JSON
//! wire form per record.
//!
//! Hand-written on purpose: the framing is eight bytes and a checksum, and the spool
//! needs to tell a torn tail (cut it) from corruption in the middle (set the segment
//! aside), which no maintained queue crate exposes.

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

/// What is at some offset of a segment's bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole, valid record; `next` is the offset after it.
    Record { payload: &'a [u8], next: usize },
    /// The bytes end inside the record (header or payload incomplete).
    Incomplete,
    /// A complete record whose checksum or length field is wrong.
    Bad { reason: String, end: usize },
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
}
