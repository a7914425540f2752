//! The store-wide hash chain: the chain fields that close every record line, binding the
//! exact bytes of every stored record in order.
//!
//! # Record line format (version 1)
//!
//! ```text
//! <body>,"chainSeq":<N>,"chainHash":"<64 lowercase hex>"}\n
//! ```
//!
//! `<N>` is written in decimal without leading zeros, from 1 to 2^64-1, and the hash in
//! lower-case hex: a line whose chain fields are spelt any other way (`03`, upper-case
//! hex) is not a sealed line, to every reader ([`parse_line`]): its bytes are not the
//! ones the server wrote.
//!
//! `<body>` is the record's JSON object *without its closing brace*, exactly as
//! written, for example
//! `{"clientEvent":{...},"origAddress":"10.0.0.7","serverTimestamp":"...","keyId":"k1"`.
//! The line as a whole is therefore an ordinary JSON object.
//!
//! `chainHash = SHA-256("auditrail-chain-v1" || prev_hash || N as u64 big-endian || body)`,
//! where `prev_hash` is the 32 raw bytes of the previous record's hash (32 zero bytes
//! before the first record) and `N` starts at 1 and grows by one per record across the
//! whole store (all partition files). So changing, removing, inserting or reordering any
//! record breaks the chain at that point, and a signed checkpoint of `(N, chainHash)`
//! vouches for every record up to `N`.

use sha2::{Digest, Sha256};

/// Domain separation, so that a chain hash can never be confused with another SHA-256.
const DOMAIN: &[u8] = b"auditrail-chain-v1";
const SEQ_KEY: &[u8] = b",\"chainSeq\":";
const HASH_KEY: &[u8] = b",\"chainHash\":\"";

/// One link of the chain: a record's chain sequence number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainLink {
    /// Store-wide record number, from 1.
    pub seq: u64,
    /// SHA-256 over the previous hash, `seq` and the record body.
    pub hash: [u8; 32],
}

impl ChainLink {
    /// The state before the first record: `seq` 0 and an all-zero hash.
    pub const GENESIS: ChainLink = ChainLink {
        seq: 0,
        hash: [0; 32],
    };

    /// The hash as 64 lowercase hex characters.
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// The head of the chain, owned by the store's single writer.
#[derive(Debug, Clone)]
pub struct Chain {
    last: ChainLink,
}

impl Chain {
    /// A new, empty chain.
    pub fn genesis() -> Chain {
        Chain {
            last: ChainLink::GENESIS,
        }
    }

    /// Continues after `last` (found when the store is reopened).
    pub fn resume(last: ChainLink) -> Chain {
        Chain { last }
    }

    /// The last link written.
    pub fn last(&self) -> ChainLink {
        self.last
    }

    /// Appends one sealed record line to `out`: `body`, the chain fields, `}` and a newline.
    /// `body` must be a JSON object without its closing brace.
    pub fn seal(&mut self, body: &[u8], out: &mut Vec<u8>) -> ChainLink {
        let link = next_link(&self.last, body);
        out.reserve(body.len() + 110);
        out.extend_from_slice(body);
        self.close(link, out)
    }

    /// Seals the body already at the end of `out`, from `body_start` on: the same line
    /// as [`Chain::seal`] of `&out[body_start..]` into what `out` held before it, without
    /// copying the body (the store's writer formats each record straight into the
    /// file's buffer).
    pub fn seal_in_place(&mut self, out: &mut Vec<u8>, body_start: usize) -> ChainLink {
        let link = next_link(&self.last, &out[body_start..]);
        out.reserve(110);
        self.close(link, out)
    }

    /// Appends the chain fields of `link`, `}` and a newline; `link` becomes the last.
    fn close(&mut self, link: ChainLink, out: &mut Vec<u8>) -> ChainLink {
        out.extend_from_slice(SEQ_KEY);
        out.extend_from_slice(itoa::Buffer::new().format(link.seq).as_bytes());
        out.extend_from_slice(HASH_KEY);
        let mut hex_buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the hash length.
        let _ = const_hex::encode_to_slice(link.hash, &mut hex_buf);
        out.extend_from_slice(&hex_buf);
        out.extend_from_slice(b"\"}\n");
        self.last = link;
        link
    }
}

/// The link that follows `prev` for a record with this body.
pub fn next_link(prev: &ChainLink, body: &[u8]) -> ChainLink {
    let seq = prev.seq + 1;
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev.hash);
    h.update(seq.to_be_bytes());
    h.update(body);
    ChainLink {
        seq,
        hash: h.finalize().into(),
    }
}

/// A record line taken apart (without its trailing newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedLine<'a> {
    /// The hashed body.
    pub body: &'a [u8],
    /// The link the line claims.
    pub link: ChainLink,
}

/// Why a line is not a sealed record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a sealed record line: {0}")]
pub struct LineError(pub &'static str);

/// The chain fields found by searching the line for their keys from the end: the
/// definition of the format, and the answer (and error) for every line
/// [`parse_line`] does not read at the fixed place.
fn search_line(line: &[u8]) -> Result<SealedLine<'_>, LineError> {
    let hash_at = rfind(line, HASH_KEY).ok_or(LineError("no chainHash"))?;
    let tail = &line[hash_at + HASH_KEY.len()..];
    if tail.len() != 64 + 2 || &tail[64..] != b"\"}" {
        return Err(LineError(
            "chainHash must be 64 hex characters closing the object",
        ));
    }
    let mut hash = [0u8; 32];
    decode_hash(&tail[..64], &mut hash).map_err(|_| LineError("chainHash is not hex"))?;
    if has_upper_case(&tail[..64]) {
        return Err(LineError("chainHash is not in lower case"));
    }
    let before_hash = &line[..hash_at];
    let seq_at = rfind(before_hash, SEQ_KEY).ok_or(LineError("no chainSeq"))?;
    let digits = &before_hash[seq_at + SEQ_KEY.len()..];
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(LineError("chainSeq is not a number"));
    }
    if digits.len() > 1 && digits[0] == b'0' {
        // Not JSON, and not what the writer writes: the same number spelt otherwise
        // would keep the body's hash while queries refuse the line.
        return Err(LineError("chainSeq has a leading zero"));
    }
    let seq: u64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(LineError("chainSeq is above 2^64-1"))?;
    if seq == 0 {
        // The state before the first record, never a record's: every reader takes a
        // record's number minus one as the number before it.
        return Err(LineError("chainSeq is 0 (chain numbers start at 1)"));
    }
    Ok(SealedLine {
        body: &line[..seq_at],
        link: ChainLink { seq, hash },
    })
}

/// Whether `line` correctly follows `prev`.
pub fn verify_link(prev: &ChainLink, line: &SealedLine<'_>) -> bool {
    line.link.seq == prev.seq + 1 && next_link(prev, line.body) == line.link
}

/// Splits a line (without `\n`) into body and claimed link. Checks only the format
/// (the chain fields exactly as [`Chain::seal`] writes them: see the module docs);
/// whether the hash is right is [`verify_link`]'s job.
///
/// Reads the chain fields at their fixed place from the end of the line (the hash is
/// always the last 66 bytes, and the digits of `chainSeq` run back from it to the
/// `chainSeq` key) instead of searching for them: every reader of a store (recovery,
/// the server's rebuild at start, verify, query) goes through here once per record,
/// and the search was the largest part of a rebuild. Lines it does not read that way
/// are handed to the search, so the result is the same for every input (tested on
/// every one-byte change of sample lines).
pub fn parse_line(line: &[u8]) -> Result<SealedLine<'_>, LineError> {
    let n = line.len();
    let tail = HASH_KEY.len() + 64 + 2;
    if n < tail + SEQ_KEY.len() + 1
        || &line[n - 2..] != b"\"}"
        || &line[n - tail..n - 66] != HASH_KEY
    {
        return search_line(line);
    }
    let hash_at = n - tail;
    let mut digits_at = hash_at;
    while digits_at > 0 && line[digits_at - 1].is_ascii_digit() && hash_at - digits_at <= 20 {
        digits_at -= 1;
    }
    let digits = &line[digits_at..hash_at];
    if digits.is_empty()
        || digits.len() > 20
        || (digits.len() > 1 && digits[0] == b'0')
        || digits_at < SEQ_KEY.len()
        || &line[digits_at - SEQ_KEY.len()..digits_at] != SEQ_KEY
    {
        return search_line(line);
    }
    let mut hash = [0u8; 32];
    if decode_hash(&line[n - 66..n - 2], &mut hash).is_err() || has_upper_case(&line[n - 66..n - 2])
    {
        return search_line(line);
    }
    let mut seq: u64 = 0;
    for &d in digits {
        seq = match seq
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
        {
            Some(v) => v,
            // Above 2^64-1: the search says so. (This called `parse_line` again, which
            // took the same way back here without end: a stack overflow that aborted
            // the server at every start, `verify`, queries and `prove`.)
            None => return search_line(line),
        };
    }
    if seq == 0 {
        return search_line(line);
    }
    Ok(SealedLine {
        body: &line[..digits_at - SEQ_KEY.len()],
        link: ChainLink { seq, hash },
    })
}

/// The 64 hex digits of a `chainHash` into its 32 bytes. `const_hex` (SIMD) rather than
/// `hex`, whose per-digit decoding was a quarter of a server's start on a large store
/// (every reader decodes every record's hash). `const_hex` also takes a `0x` prefix and
/// either case, as `hex` takes either case: 64 digits with a prefix are 31 bytes, an
/// error here as before; upper case is refused by the callers ([`has_upper_case`]).
fn decode_hash(digits: &[u8], hash: &mut [u8; 32]) -> Result<(), const_hex::FromHexError> {
    const_hex::decode_to_slice(digits, hash)
}

/// Whether hex digits hold an upper-case letter: the writer writes lower case, and
/// [`decode_hash`] takes either (a fold without an early exit, which the compiler
/// vectorises: every reader checks every record's hash).
fn has_upper_case(digits: &[u8]) -> bool {
    digits
        .iter()
        .fold(false, |any, b| any | b.is_ascii_uppercase())
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(chain: &mut Chain, body: &str) -> Vec<u8> {
        let mut out = Vec::new();
        chain.seal(body.as_bytes(), &mut out);
        out
    }

    /// Sealing a body already in the buffer writes the same bytes and link as sealing
    /// it from elsewhere (the writer does the former, every other writer the latter).
    #[test]
    fn sealing_in_place_is_sealing() {
        let mut a = Chain::genesis();
        let mut b = Chain::genesis();
        let mut copied = b"earlier line\n".to_vec();
        let mut in_place = copied.clone();
        for body in [
            r#"{"clientEvent":{"x":1},"keyId":null"#,
            r#"{"y":"\u00e9"#,
            "{",
        ] {
            let la = a.seal(body.as_bytes(), &mut copied);
            let at = in_place.len();
            in_place.extend_from_slice(body.as_bytes());
            let lb = b.seal_in_place(&mut in_place, at);
            assert_eq!(la, lb);
            assert_eq!(copied, in_place);
        }
        assert_eq!(a.last(), b.last());
    }

    #[test]
    fn sealed_lines_are_json_and_verify_in_order() {
        let mut chain = Chain::genesis();
        let a = sealed(&mut chain, r#"{"clientEvent":{"x":1},"keyId":null"#);
        let b = sealed(
            &mut chain,
            r#"{"clientEvent":{"x":2},"keyId":"k"}"#.trim_end_matches('}'),
        );
        for line in [&a, &b] {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert!(v["chainHash"].as_str().unwrap().len() == 64);
        }
        let pa = parse_line(&a[..a.len() - 1]).unwrap();
        let pb = parse_line(&b[..b.len() - 1]).unwrap();
        assert!(verify_link(&ChainLink::GENESIS, &pa));
        assert!(verify_link(&pa.link, &pb));
        assert!(
            !verify_link(&ChainLink::GENESIS, &pb),
            "out of order must fail"
        );
        assert_eq!(chain.last(), pb.link);
    }

    #[test]
    fn parse_line_agrees_with_the_search_on_every_mutation() {
        let mut chain = Chain::genesis();
        let mut lines = Vec::new();
        let bodies = [
            r#"{"clientEvent":{"msg":"hello"}"#,
            r#"{"a":"\",\"chainSeq\":5"#,
            r#"{"a":1,"chainSeq":5,"chainHash":"x""#,
        ];
        for body in bodies {
            let l = sealed(&mut chain, body);
            lines.push(l[..l.len() - 1].to_vec());
        }
        lines.push(b"{\"x\":1,\"chainSeq\":99999999999999999999,\"chainHash\":\"00\"}".to_vec());
        let mut cases = Vec::new();
        for line in &lines {
            cases.push(line.clone());
            for i in 0..line.len() {
                for b in [b'0', b'9', b'a', b'g', b':', b'"', b',', b'}', line[i] ^ 1] {
                    let mut m = line.clone();
                    m[i] = b;
                    cases.push(m);
                }
                cases.push(line[..i].to_vec());
                let mut m = line.clone();
                m.remove(i);
                cases.push(m);
            }
        }
        for c in &cases {
            assert_eq!(
                parse_line(c),
                search_line(c),
                "{}",
                String::from_utf8_lossy(c)
            );
        }
    }

    /// 20 digits at or above 2^64 are read at the fixed place (key, digits and hash
    /// all in the written form) until the number overflows: an error, not a crash.
    #[test]
    fn a_chain_number_beyond_2_pow_64_is_an_error_not_a_crash() {
        let hash = "ab".repeat(32);
        for digits in [
            "18446744073709551616",
            "99999999999999999999",
            "20000000000000000000",
        ] {
            let line = format!(r#"{{"x":1,"chainSeq":{digits},"chainHash":"{hash}"}}"#);
            assert_eq!(
                parse_line(line.as_bytes()),
                Err(LineError("chainSeq is above 2^64-1")),
                "{digits}"
            );
        }
        let max = format!(r#"{{"x":1,"chainSeq":18446744073709551615,"chainHash":"{hash}"}}"#);
        assert_eq!(parse_line(max.as_bytes()).unwrap().link.seq, u64::MAX);
    }

    /// Chain numbers start at 1: 0 is the state before the first record, which no
    /// line holds (and from which every reader would take one to find the record
    /// before it).
    #[test]
    fn a_record_numbered_zero_is_not_a_sealed_line() {
        let hash = hex::encode([1u8; 32]);
        let line = format!(r#"{{"x":1,"chainSeq":0,"chainHash":"{hash}"}}"#);
        let zero = Err(LineError("chainSeq is 0 (chain numbers start at 1)"));
        assert_eq!(parse_line(line.as_bytes()), zero);
        assert_eq!(search_line(line.as_bytes()), zero);
    }

    /// The chain fields in another spelling than the writer's are not a sealed line,
    /// although they name the same number and hash.
    #[test]
    fn chain_fields_spelt_otherwise_than_written_are_not_a_sealed_line() {
        let mut chain = Chain::resume(ChainLink {
            seq: 2,
            hash: [3; 32],
        });
        let written = sealed(&mut chain, r#"{"clientEvent":{"msg":"hello"}"#);
        let written = std::str::from_utf8(&written[..written.len() - 1]).unwrap();
        let link = parse_line(written.as_bytes()).unwrap().link;
        let hex = link.hash_hex();
        assert!(hex.bytes().any(|b| b.is_ascii_alphabetic()), "{hex}");
        let upper_one = {
            let at = hex.rfind(|c: char| c.is_ascii_alphabetic()).unwrap();
            format!("{}{}", &hex[..at], hex[at..].to_ascii_uppercase())
        };
        for (spelling, error) in [
            (
                written.replace(":3,", ":03,"),
                "chainSeq has a leading zero",
            ),
            (
                written.replace(":3,", ":0003,"),
                "chainSeq has a leading zero",
            ),
            (
                written.replace(&hex, &hex.to_ascii_uppercase()),
                "chainHash is not in lower case",
            ),
            (
                written.replace(&hex, &upper_one),
                "chainHash is not in lower case",
            ),
        ] {
            assert_eq!(
                parse_line(spelling.as_bytes()),
                Err(LineError(error)),
                "{spelling}"
            );
            assert_eq!(search_line(spelling.as_bytes()), Err(LineError(error)));
        }
    }

    #[test]
    fn a_hash_with_a_0x_prefix_is_not_a_hash() {
        let digits = "ab".repeat(31);
        let line = format!(r#"{{"x":1,"chainSeq":1,"chainHash":"0x{digits}"}}"#);
        assert_eq!(line.len() - line.rfind("0x").unwrap(), 66);
        assert!(parse_line(line.as_bytes()).is_err());
        assert!(search_line(line.as_bytes()).is_err());
    }

    #[test]
    fn any_changed_byte_breaks_the_link() {
        let mut chain = Chain::genesis();
        let line = sealed(&mut chain, r#"{"clientEvent":{"msg":"hello"}"#);
        for i in 0..line.len() - 1 {
            let mut bad = line.clone();
            bad[i] ^= 0x01;
            let ok = parse_line(&bad[..bad.len() - 1])
                .map(|p| verify_link(&ChainLink::GENESIS, &p))
                .unwrap_or(false);
            assert!(!ok, "flipping byte {i} went unnoticed");
        }
    }
}
