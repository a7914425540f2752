//! The event server's signed answer to one request: the nonce a node sends with each
//! `POST /v1/events` and the text the server's `answerSig` covers.
//!
//! A receipt proves where a store put a batch, but not every `200` carries one (no
//! chained store, none of them took the batch, duplicates older than a store
//! remembers), and a receipt alone is not bound to the request it answers: a genuine
//! answer captured once could be played back to acknowledge another batch. So a node
//! sends a fresh random nonce with each request, and the server signs its answer's
//! counts and receipt together with that nonce and the digest of the batch it received
//! (docs/protocol.md, "`answerSig`"). The server signs this text and a node checks it:
//! both build it here.
//!
//! The digest binds the answer to the events: without it, a stand-in at the node's url
//! (which gets the node's key and nonce with each request) could post other events of
//! the same number to the server with the node's nonce, and hand the server's
//! genuinely signed answer back as the acknowledgement of the node's events, which no
//! server has.

/// The request header that carries the nonce (HTTP field names are case-insensitive;
/// written in lower case, as HTTP/2 sends them).
pub const NONCE_HEADER: &str = "auditrail-request-nonce";

/// Hex digits of a nonce: 16 random bytes, 128 bits, never repeated by chance.
pub const NONCE_HEX_LEN: usize = 32;

/// What the signature covers before the answer's fields: a signature made by the same
/// key for another purpose (a receipt, a checkpoint) is never an answer's.
pub const DOMAIN: &str = "auditrail-answer-v2\n";

/// Whether `text` is a nonce as the server takes it: exactly [`NONCE_HEX_LEN`] hex
/// digits (either case). Nothing else may enter the signed text: a nonce with a line
/// break could pass itself off as the fields after it.
pub fn is_nonce(text: &str) -> bool {
    text.len() == NONCE_HEX_LEN && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The SHA-256 of a request's body (its events' NDJSON, as posted before any
/// `Content-Encoding`, as the server reads it after decoding), 64 lower-case hex
/// digits: what [`signed_text`] takes as `body_digest`.
pub fn body_digest(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

/// The signed text of the answer to the request whose nonce is `nonce` and whose body
/// has the digest `body_digest` ([`body_digest`]):
/// `"auditrail-answer-v2\n<nonce>\n<body digest>\n<accepted>\n<duplicates>\n<durable>\n<receipt>"`,
/// where `durable` is `true` or `false` and `receipt` is the answer's `receipt` value
/// exactly as written in the answer's body (its JSON text: an object, or an array), or
/// nothing when the answer has no `receipt` or it is `null`. The receipt's text comes
/// last, so that whatever it holds cannot be read as another field.
pub fn signed_text(
    nonce: &str,
    body_digest: &str,
    accepted: u64,
    duplicates: u64,
    durable: bool,
    receipt: Option<&str>,
) -> String {
    let receipt = receipt.unwrap_or_default();
    format!("{DOMAIN}{nonce}\n{body_digest}\n{accepted}\n{duplicates}\n{durable}\n{receipt}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_text_is_the_documented_one() {
        let nonce = "0123456789abcdef0123456789abcdef";
        let d = body_digest(b"");
        assert_eq!(
            d,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signed_text(nonce, &d, 998, 2, true, Some(r#"{"storeId":"s"}"#)),
            format!("auditrail-answer-v2\n0123456789abcdef0123456789abcdef\n{d}\n998\n2\ntrue\n{{\"storeId\":\"s\"}}")
        );
        assert_eq!(
            signed_text(nonce, &d, 0, 3, false, None),
            format!("auditrail-answer-v2\n0123456789abcdef0123456789abcdef\n{d}\n0\n3\nfalse\n")
        );
        assert_eq!(
            signed_text(nonce, &d, 0, 3, false, Some("[]")),
            format!("auditrail-answer-v2\n0123456789abcdef0123456789abcdef\n{d}\n0\n3\nfalse\n[]")
        );
    }

    #[test]
    fn every_field_changes_the_text() {
        let n = "0123456789abcdef0123456789abcdef";
        let d = body_digest(b"{}\n");
        let base = signed_text(n, &d, 5, 1, true, Some("{}"));
        for other in [
            signed_text(
                "1123456789abcdef0123456789abcdef",
                &d,
                5,
                1,
                true,
                Some("{}"),
            ),
            signed_text(n, &body_digest(b"{} \n"), 5, 1, true, Some("{}")),
            signed_text(n, &d, 6, 1, true, Some("{}")),
            signed_text(n, &d, 5, 0, true, Some("{}")),
            signed_text(n, &d, 5, 1, false, Some("{}")),
            signed_text(n, &d, 5, 1, true, Some("[{}]")),
            signed_text(n, &d, 5, 1, true, None),
        ] {
            assert_ne!(base, other);
        }
        // Not a receipt's text, whatever the fields.
        assert!(!base.starts_with(crate::receipt::DOMAIN));
    }

    #[test]
    fn only_hex_of_the_nonces_length_is_a_nonce() {
        assert!(is_nonce("0123456789abcdef0123456789ABCDEF"));
        assert!(!is_nonce("0123456789abcdef0123456789abcde"));
        assert!(!is_nonce("0123456789abcdef0123456789abcdef0"));
        assert!(!is_nonce("0123456789abcdef0123456789abcde\n"));
        assert!(!is_nonce("0123456789abcdef0123456789abcdeg"));
        assert!(!is_nonce(""));
        // 32 bytes, but not 32 ASCII hex digits.
        assert!(!is_nonce("0123456789abcdef0123456789abcdé"));
    }
}
