//! The one walker over a segment's bytes: records, damaged stretches and a bad tail,
//! in file order. Used when the spool opens (repair), by its reader when it meets
//! damage, by `auditrail spool` (inspection) and to read records back out of a file
//! that was set aside.

use super::record::{self, Decoded};

/// One stretch of a segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A whole record whose checksum holds.
    Record {
        /// Offset of its header in the file.
        offset: u64,
        /// The event's JSON wire form.
        payload: &'a [u8],
    },
    /// Bytes that hold no valid record, followed by a valid record: damage in the
    /// middle (a flipped bit, a bad block), skipped by resynchronising on the record
    /// after it.
    Damaged {
        /// Offset of the first damaged byte.
        offset: u64,
        /// Bytes up to the next valid record.
        len: u64,
        /// What was wrong with the first record there.
        reason: String,
    },
    /// Bytes at the end that hold no valid record and are followed by none: a torn
    /// write when this is the segment being appended to and they are a record cut
    /// short (`cut_short`), damage otherwise (bytes someone else wrote there among
    /// them).
    Tail {
        /// Offset of the first such byte.
        offset: u64,
        /// Bytes up to the end of the file.
        len: u64,
        /// What was wrong with the first record there.
        reason: String,
        /// They can be a record the spool wrote, cut short by a crash during its
        /// append ([`record::could_be_cut_short`]); when not, no crash of the spool
        /// left them (the reason says why, [`record::why_not_cut_short`]), and they
        /// are never cut as a torn write.
        cut_short: bool,
    },
}

impl Piece<'_> {
    /// Offset of its first byte.
    pub fn offset(&self) -> u64 {
        match self {
            Piece::Record { offset, .. }
            | Piece::Damaged { offset, .. }
            | Piece::Tail { offset, .. } => *offset,
        }
    }
}

/// The pieces of `buf` (a whole segment, or its bytes from a record boundary to its
/// end: where a tail ends tells whether a crash can have cut it), with offsets
/// counted from `base`.
pub fn pieces(buf: &[u8], base: u64) -> Pieces<'_> {
    Pieces { buf, at: 0, base }
}

/// Iterator returned by [`pieces`].
#[derive(Debug)]
pub struct Pieces<'a> {
    buf: &'a [u8],
    at: usize,
    base: u64,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let buf = self.buf;
        let at = self.at;
        if at >= buf.len() {
            return None;
        }
        let offset = self.base + at as u64;
        let reason = match record::decode(buf, at) {
            Decoded::Record { payload, next } => {
                self.at = next;
                return Some(Piece::Record { offset, payload });
            }
            Decoded::Incomplete => "incomplete record".to_owned(),
            Decoded::Bad { reason, .. } => reason,
        };
        match record::resync(buf, at + 1) {
            Some(next) => {
                self.at = next;
                Some(Piece::Damaged {
                    offset,
                    len: (next - at) as u64,
                    reason,
                })
            }
            None => {
                self.at = buf.len();
                let (reason, cut_short) =
                    tail_reason(reason, &buf[at..], self.base + buf.len() as u64);
                Some(Piece::Tail {
                    offset,
                    len: (buf.len() - at) as u64,
                    reason,
                    cut_short,
                })
            }
        }
    }
}

/// What is said of a bad tail (`tail`: the bytes from a record boundary to the
/// file's end at `end`, whose first record is wrong for `reason`), and whether it can
/// be a record cut short by a crash ([`record::why_not_cut_short`]).
pub(super) fn tail_reason(reason: String, tail: &[u8], end: u64) -> (String, bool) {
    match record::why_not_cut_short(tail, end) {
        None => (reason, true),
        Some(why) => (
            format!(
                "{reason}; {why}; no record cut short by a crash: bytes the spool did not write"
            ),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> (Vec<u8>, Vec<usize>) {
        let mut buf = Vec::new();
        let mut starts = Vec::new();
        for p in [&b"{\"a\":1}"[..], b"{\"b\":2}", b"{\"c\":3}"] {
            starts.push(buf.len());
            record::encode_payload(p, &mut buf);
        }
        (buf, starts)
    }

    #[test]
    fn a_damaged_middle_record_is_one_damaged_piece_between_records() {
        let (mut buf, starts) = three();
        buf[starts[1] + record::HEADER + 2] ^= 0x20;
        let got: Vec<Piece<'_>> = pieces(&buf, 100).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(matches!(got[0], Piece::Record { offset: 100, .. }));
        match &got[1] {
            Piece::Damaged {
                offset,
                len,
                reason,
            } => {
                assert_eq!(*offset, 100 + starts[1] as u64);
                assert_eq!(*len, (starts[2] - starts[1]) as u64);
                assert!(reason.contains("checksum"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(got[2], Piece::Record { payload, .. } if payload == b"{\"c\":3}"));
    }

    #[test]
    fn a_bad_end_is_a_tail() {
        let (buf, starts) = three();
        let cut = &buf[..buf.len() - 2];
        let got: Vec<Piece<'_>> = pieces(cut, 0).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[2],
            Piece::Tail {
                offset: starts[2] as u64,
                len: (cut.len() - starts[2]) as u64,
                reason: "incomplete record".into(),
                cut_short: true,
            }
        );
    }
}
