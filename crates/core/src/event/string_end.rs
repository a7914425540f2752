//! Where a JSON string's plain run of bytes ends: the first `"`, `\` or control character
//! (below U+0020). Every string of an event the one-pass reader and the strict message
//! check read goes through [`to_string_special`], so its per-call cost is paid about a
//! dozen times per event.
//!
//! Most of those strings are short (keys, names, ids, a few dozen bytes of value): their
//! first bytes are read eight at a time as a `u64`, the three kinds of byte found in one
//! pass by word arithmetic (below). A `memchr2` search for the quote and backslash
//! followed by a second pass for control characters (what this replaced) cost about
//! twice as many instructions on such strings: each search's set-up is paid per string.
//! Past [`WORD_SCAN`] bytes the search is cheaper per byte, and takes over.

/// Bytes read a word at a time before a long string's rest is searched. Strings of
/// events nearly always end within it (the benchmark's longest is ~90 bytes); past it,
/// `memchr2`'s vector search costs less per byte than words of eight.
const WORD_SCAN: usize = 128;

/// `0x01` in every byte of a word.
const ONES: u64 = u64::from_le_bytes([0x01; 8]);
/// `0x80` in every byte of a word.
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// How many bytes of `bytes` come before the first `"`, `\\` or control character (all
/// of them when there is none).
///
/// Inlined, its rare ends kept out of line ([`after_pairs`]): a call of its own, with
/// the registers those ends need saved and restored, was a third of its cost on a short
/// string.
#[inline]
pub(super) fn to_string_special(bytes: &[u8]) -> usize {
    let mut at = 0;
    // Two words per step: one test of both before the loop goes on.
    while at < WORD_SCAN {
        let Some(pair) = bytes.get(at..at + 16) else {
            break;
        };
        let (a, b) = pair.split_at(8);
        let (a, b) = (special_bytes(word(a)), special_bytes(word(b)));
        if a | b != 0 {
            return at + if a != 0 { first(a) } else { 8 + first(b) };
        }
        at += 16;
    }
    at + after_pairs(&bytes[at..], at >= WORD_SCAN)
}

/// [`to_string_special`] of `rest`, the bytes after its steps of two words: the rest of
/// a long string (`long`: [`WORD_SCAN`] bytes were read), searched; else fewer than 16
/// bytes, read a word and then a byte at a time.
#[inline(never)]
fn after_pairs(rest: &[u8], long: bool) -> usize {
    if long {
        return searched(rest);
    }
    let mut at = 0;
    let mut words = rest.chunks_exact(8);
    for w in &mut words {
        let found = special_bytes(word(w));
        if found != 0 {
            return at + first(found);
        }
        at += 8;
    }
    match words.remainder().iter().position(|&b| is_special(b)) {
        Some(p) => at + p,
        None => rest.len(),
    }
}

/// Whether `b` ends a string's plain run.
fn is_special(b: u8) -> bool {
    matches!(b, b'"' | b'\\' | 0..=0x1f)
}

/// Eight bytes as a word, the first in the lowest byte (on every platform).
fn word(eight: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(eight);
    u64::from_le_bytes(w)
}

/// The high bit of each byte of `w` that [`is_special`], and possibly of bytes after
/// the first such byte, none before it: `x - 0x01` borrows into a byte's high bit (under
/// `!x`, whose high bit says the byte was below 0x80) only where that byte is zero, or
/// where a byte before it borrowed; likewise `w - 0x20` where the byte is below 0x20.
/// So the lowest set bit marks the first special byte exactly.
fn special_bytes(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    (zero_quote | zero_backslash | control) & HIGHS
}

/// The index of the byte whose high bit is `found`'s lowest set bit.
fn first(found: u64) -> usize {
    (found.trailing_zeros() / 8) as usize
}

/// [`to_string_special`] by search: `memchr2` finds the quote or backslash many bytes
/// at a time, and the bytes before it are checked for a control character by their
/// minimum, taken without an early exit so that the compiler computes it with SIMD
/// instructions too.
fn searched(bytes: &[u8]) -> usize {
    let end = memchr::memchr2(b'"', b'\\', bytes).unwrap_or(bytes.len());
    let span = &bytes[..end];
    if span.iter().fold(u8::MAX, |min, &b| min.min(b)) < 0x20 {
        return span.iter().position(|&b| b < 0x20).unwrap_or(end);
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The answer by definition: one byte at a time.
    fn reference(bytes: &[u8]) -> usize {
        bytes
            .iter()
            .position(|&b| is_special(b))
            .unwrap_or(bytes.len())
    }

    /// Bytes on either side of every boundary the word arithmetic has: the three kinds
    /// of special byte, their neighbours, the control range's edge, DEL, and bytes with
    /// the high bit set (UTF-8 continuation and lead bytes).
    const EDGES: [u8; 16] = [
        0x00, 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x21, b'"', 0x23, 0x5b, b'\\', 0x5d, 0x7f, 0x80, 0xa2,
        0xff,
    ];

    /// Every length up to past [`WORD_SCAN`], with one edge byte at every position over
    /// plain bytes, and with a special byte after it: the same answer as one byte at a
    /// time, and as the search alone (the function this replaced).
    #[test]
    fn one_edge_byte_at_every_position_of_every_length() {
        for len in 0..=WORD_SCAN + 40 {
            for at in 0..len {
                for edge in EDGES {
                    for after in [b'a', b'"', 0x01] {
                        let mut bytes = vec![b'a'; len];
                        bytes[at] = edge;
                        if at + 1 < len {
                            bytes[at + 1..]
                                .iter_mut()
                                .step_by(3)
                                .for_each(|b| *b = after);
                        }
                        let want = reference(&bytes);
                        assert_eq!(to_string_special(&bytes), want, "{bytes:?}");
                        assert_eq!(searched(&bytes), want, "{bytes:?}");
                    }
                }
            }
            assert_eq!(to_string_special(&vec![b'a'; len]), len);
        }
    }

    /// Each byte value alone, and after plain bytes, at each place of a word.
    #[test]
    fn every_byte_value_at_each_place_of_a_word() {
        for b in 0..=u8::MAX {
            for at in 0..24 {
                let mut bytes = vec![b'x'; 24];
                bytes[at] = b;
                let want = if is_special(b) { at } else { 24 };
                assert_eq!(to_string_special(&bytes), want, "{b:#x} at {at}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Any bytes, mostly plain with edge bytes mixed in, any length: the same answer
        /// as one byte at a time.
        #[test]
        fn agrees_with_one_byte_at_a_time(
            bytes in proptest::collection::vec(
                prop_oneof![
                    20 => 0x20u8..=0xff,
                    1 => proptest::sample::select(EDGES.to_vec()),
                ],
                0..400,
            ),
        ) {
            prop_assert_eq!(to_string_special(&bytes), reference(&bytes));
            prop_assert_eq!(searched(&bytes), reference(&bytes));
        }
    }
}
