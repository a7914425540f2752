//! Signed Kafka records: what a node's `kafka` target signs and an event server's Kafka
//! source checks (docs/targets/kafka.md, docs/scale-out.md "Signed records").
//!
//! A signed record carries two headers: [`HEADER_KEY_ID`] (the signing key's id, as
//! the server's `signing_keys` list it) and [`HEADER_SIG`] (128 lowercase hex: the
//! Ed25519 signature of [`signed_message`]). The message is domain-separated (a
//! signature made for another purpose of the project is never valid here) and every
//! part is length-prefixed, so that no two different records (topic, key, key id,
//! value) make the same message: moving bytes from the key into the value, or an
//! absent key into an empty one, changes it. The Kafka topic is part of it, so that a
//! record copied onto another topic does not verify there.
//!
//! This module only encodes; the crates that sign and verify bring the cryptography.

/// Header naming the key that signed the record.
pub const HEADER_KEY_ID: &str = "auditrail-key-id";
/// Header with the record's signature: 128 lowercase hex characters.
pub const HEADER_SIG: &str = "auditrail-sig";
/// The domain the message starts with (its version: a later encoding gets another).
pub const DOMAIN: &str = "auditrail-kafka-record-v1";

/// The longest key id a signing key may have (the HTTP keys' bound: 128 bytes).
pub const MAX_KEY_ID_BYTES: usize = 128;

/// Why a string cannot be a signing key's id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a signing key id is 1 to {MAX_KEY_ID_BYTES} bytes of printable characters, without control characters")]
pub struct BadKeyId;

/// Checks a signing key's id: 1 to [`MAX_KEY_ID_BYTES`] bytes, no control characters
/// (it is logged, and stored as the events' `keyId`, as an HTTP key's id is).
pub fn check_key_id(id: &str) -> Result<(), BadKeyId> {
    if id.is_empty() || id.len() > MAX_KEY_ID_BYTES || id.chars().any(char::is_control) {
        return Err(BadKeyId);
    }
    Ok(())
}

/// Appends one part: its length (8 bytes, big-endian), then its bytes.
fn part(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends a part that may be absent (a record without a key or a value): a byte
/// (`0` absent, `1` present), then the part when present. An absent key and an empty
/// one are different records to Kafka (the partitioner treats them differently), so
/// they sign differently.
fn optional_part(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            part(out, b);
        }
    }
}

/// The bytes a record's signature covers: [`DOMAIN`], the Kafka topic, the record key,
/// the key id and the value, each length-prefixed (the optional ones with a presence
/// byte first).
pub fn signed_message(
    topic: &str,
    key: Option<&[u8]>,
    key_id: &str,
    value: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        64 + topic.len() + key.map_or(0, <[u8]>::len) + key_id.len() + value.map_or(0, <[u8]>::len),
    );
    part(&mut out, DOMAIN.as_bytes());
    part(&mut out, topic.as_bytes());
    optional_part(&mut out, key);
    part(&mut out, key_id.as_bytes());
    optional_part(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact bytes, written out by hand: a change of the encoding is a new version
    /// (a new [`DOMAIN`]), never a silent one.
    #[test]
    fn the_message_is_the_domain_then_each_part_length_prefixed() {
        let m = signed_message("t", Some(b"k1"), "id", Some(b"{}"));
        let mut expected = Vec::new();
        expected.extend_from_slice(&25u64.to_be_bytes());
        expected.extend_from_slice(b"auditrail-kafka-record-v1");
        expected.extend_from_slice(&1u64.to_be_bytes());
        expected.extend_from_slice(b"t");
        expected.push(1);
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(b"k1");
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(b"id");
        expected.push(1);
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(b"{}");
        assert_eq!(m, expected);
        let none = signed_message("t", None, "id", None);
        // The domain (8 + 25 bytes), the topic (8 + 1), then the key's presence byte.
        assert_eq!(none[42], 0);
        assert_eq!(*none.last().unwrap(), 0);
    }

    /// Moving bytes between parts, an absent part for an empty one, or another topic:
    /// each makes another message.
    #[test]
    fn records_that_differ_in_any_part_sign_differently() {
        let base = signed_message("audit", Some(b"node-1"), "k", Some(b"{\"a\":1}"));
        let others = [
            signed_message("audit2", Some(b"node-1"), "k", Some(b"{\"a\":1}")),
            signed_message("audi", Some(b"tnode-1"), "k", Some(b"{\"a\":1}")),
            signed_message("audit", Some(b"node-"), "k", Some(b"1{\"a\":1}")),
            signed_message("audit", Some(b"node-1"), "k2", Some(b"{\"a\":1}")),
            signed_message("audit", Some(b"node-1"), "k", Some(b"{\"a\":2}")),
            signed_message("audit", None, "k", Some(b"{\"a\":1}")),
            signed_message("audit", Some(b""), "k", Some(b"{\"a\":1}")),
            signed_message("audit", Some(b"node-1"), "k", None),
            signed_message("audit", Some(b"node-1"), "k", Some(b"")),
        ];
        for (i, o) in others.iter().enumerate() {
            assert_ne!(&base, o, "case {i}");
        }
        assert_ne!(
            signed_message("a", None, "k", Some(b"")),
            signed_message("a", None, "k", None)
        );
    }

    #[test]
    fn key_ids_are_bounded_and_printable() {
        check_key_id("node-a.2026").unwrap();
        check_key_id(&"x".repeat(128)).unwrap();
        for bad in ["", "a\nb", "\u{7}", &"x".repeat(129)] {
            assert_eq!(check_key_id(bad), Err(BadKeyId), "{bad:?}");
        }
    }
}
