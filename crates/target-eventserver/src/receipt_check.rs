//! Whether the receipt of a `200` answer is one the event server signed.
//!
//! The event server signs every receipt it gives (docs/tamper-evidence.md, "Receipts"):
//! an object, or an array of them with one per chained store, each
//! `{"storeId","firstSeq","lastSeq","chainHash","key","sig"}` where `sig` is the
//! Ed25519 signature by `key` of [`auditrail_core::receipt::signed_text`]. An answer
//! whose counts are right but whose receipt is no such thing (a signature that does not
//! verify under the receipt's own key, a range that ends before it starts, a string,
//! unsigned) is not the event server's answer: a stand-in, a proxy that rewrote the
//! body, a damaged reply. Taking it as an acknowledgement forgot the events from the
//! spool and kept the broken receipt as the node's proof, which `auditrail verify
//! --receipt` refused only later, when the events were gone from the node.
//!
//! With `server_keys` set (the server's public keys), a receipt must also be signed by
//! one of them: a stand-in at the url (an impostor, a misrouted proxy, a DNS mistake)
//! that signs receipts with its own key would otherwise make the node forget events
//! that are not where the answer says. An answer without a receipt is not judged here:
//! the server answers so for batches no chained store took, and what makes such an
//! answer the configured server's is its `answerSig` (answer_sig.rs). Without
//! `server_keys`, only the receipt's own consistency can be checked.
//!
//! The range cannot be compared with the batch's size: a store's filters may take only
//! some of the batch's events, other batches' records may lie inside the range, and an
//! all-duplicates batch is answered with the range of the stored originals.

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::server_key::{check_signature, listed, ServerKey, SigFault, PREFIX};

/// Why the receipt of a `200` answer is not one the event server (the configured one,
/// with `server_keys`) signed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ReceiptProblem {
    /// The answer's `receipt` is not JSON that can be read.
    #[error("its `receipt` cannot be read: {reason}")]
    Unreadable {
        /// The JSON parser's message.
        reason: String,
    },
    /// `receipt` starts as an array but is not an array of values.
    #[error("its `receipt` is not an array of receipts: {reason}")]
    NotAnArray {
        /// The JSON parser's message.
        reason: String,
    },
    /// One receipt is not right; `at` is its place in an array of receipts.
    #[error("its receipt{} {problem}", at.map(|i| format!(" [{i}]")).unwrap_or_default())]
    Receipt {
        /// Its index in the array; `None` for a single receipt.
        at: Option<usize>,
        /// What is wrong with it.
        #[source]
        problem: OneReceipt,
    },
}

/// What is wrong with one receipt.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum OneReceipt {
    /// Not an object of the receipt's fields.
    #[error(
        "is not a receipt (`storeId`, `firstSeq`, `lastSeq`, `chainHash`, `key`, `sig`): {reason}"
    )]
    NotAReceipt {
        /// The JSON parser's message.
        reason: String,
    },
    /// `storeId` is empty.
    #[error("names no store (`storeId` is empty)")]
    NoStore,
    /// The range is empty or starts at 0.
    #[error(
        "covers no records: `firstSeq` {first} .. `lastSeq` {last} (a store's records are \
         numbered from 1, and a range ends at or after its start)"
    )]
    NoRecords {
        /// `firstSeq`.
        first: u64,
        /// `lastSeq`.
        last: u64,
    },
    /// `chainHash` is not 64 hex digits.
    #[error("has a `chainHash` that is not 64 hex characters")]
    BadChainHash,
    /// No `key` or no `sig`.
    #[error("is unsigned (no `key` and `sig`): the event server signs every receipt")]
    Unsigned,
    /// `key` is not `ed25519:<64 hex>` of a key.
    #[error("names no Ed25519 key in `key` (expected `{PREFIX}<64 hex>`)")]
    BadKey,
    /// `sig` is not 128 hex digits.
    #[error("has a `sig` that is not 128 hex characters")]
    BadSig,
    /// The signature is not the named key's over the receipt's fields.
    #[error(
        "has a signature that does not verify under the key it names (its fields were \
         changed, or it was never signed by that key)"
    )]
    DoesNotVerify,
    /// Validly signed, by a key that is not one of `server_keys`.
    #[error(
        "is signed by key {key}, which is not one of `server_keys` ({trusted}): it is not \
         the configured event server's receipt (something else answers at the url, or \
         the server's key was rotated: add its new key to `server_keys`)"
    )]
    UntrustedKey {
        /// The key that signed it (`ed25519:<64 hex>`).
        key: String,
        /// `server_keys`, comma-separated.
        trusted: String,
    },
}

/// The answer's `receipt`, as sent (absent, `null`, an object or an array).
#[derive(Deserialize)]
struct WithReceipt<'a> {
    #[serde(borrow, default)]
    receipt: Option<&'a RawValue>,
}

/// One receipt as the server writes it (keys it may add later are not looked at: the
/// signature covers these).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receipt {
    store_id: String,
    first_seq: u64,
    last_seq: u64,
    chain_hash: String,
    key: Option<String>,
    sig: Option<String>,
}

/// `Ok` when the answer `text` has only receipts signed by the key they name, and,
/// when `trusted` (`server_keys`) is not empty, by one of those keys; otherwise why
/// not. An answer without a receipt (`null`, absent, an empty array) passes: whether
/// it is the server's answer is for its `answerSig` to say.
pub(crate) fn check(text: &str, trusted: &[ServerKey]) -> Result<(), ReceiptProblem> {
    let answer: WithReceipt<'_> =
        serde_json::from_str(text).map_err(|e| ReceiptProblem::Unreadable {
            reason: e.to_string(),
        })?;
    // `null` reads as `None` too.
    let Some(raw) = answer.receipt else {
        return Ok(());
    };
    let raw = raw.get();
    if raw.starts_with('[') {
        let receipts: Vec<&RawValue> =
            serde_json::from_str(raw).map_err(|e| ReceiptProblem::NotAnArray {
                reason: e.to_string(),
            })?;
        for (i, one) in receipts.iter().enumerate() {
            check_one(one.get(), trusted).map_err(|problem| ReceiptProblem::Receipt {
                at: Some(i),
                problem,
            })?;
        }
        return Ok(());
    }
    check_one(raw, trusted).map_err(|problem| ReceiptProblem::Receipt { at: None, problem })
}

/// Why one receipt (JSON text) is not one the server (one of `trusted`, if any)
/// signed.
fn check_one(raw: &str, trusted: &[ServerKey]) -> Result<(), OneReceipt> {
    let r: Receipt = serde_json::from_str(raw).map_err(|e| OneReceipt::NotAReceipt {
        reason: e.to_string(),
    })?;
    if r.store_id.is_empty() {
        return Err(OneReceipt::NoStore);
    }
    if r.first_seq == 0 || r.first_seq > r.last_seq {
        return Err(OneReceipt::NoRecords {
            first: r.first_seq,
            last: r.last_seq,
        });
    }
    let mut hash = [0u8; 32];
    if hex::decode_to_slice(&r.chain_hash, &mut hash).is_err() {
        return Err(OneReceipt::BadChainHash);
    }
    let (Some(key), Some(sig)) = (&r.key, &r.sig) else {
        return Err(OneReceipt::Unsigned);
    };
    let message =
        auditrail_core::receipt::signed_text(&r.store_id, r.first_seq, r.last_seq, &r.chain_hash);
    check_signature(key, sig, message.as_bytes(), trusted).map_err(|f| match f {
        SigFault::BadKey => OneReceipt::BadKey,
        SigFault::BadSig => OneReceipt::BadSig,
        SigFault::DoesNotVerify => OneReceipt::DoesNotVerify,
        SigFault::UntrustedKey(key) => OneReceipt::UntrustedKey {
            key,
            trusted: listed(trusted),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn signing(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public(seed: u8) -> ServerKey {
        ServerKey::from_bytes(signing(seed).verifying_key().as_bytes()).unwrap()
    }

    fn signed_by(seed: u8, store: &str, first: u64, last: u64) -> serde_json::Value {
        let key = signing(seed);
        let hash = "ab".repeat(32);
        let sig =
            key.sign(auditrail_core::receipt::signed_text(store, first, last, &hash).as_bytes());
        serde_json::json!({
            "storeId": store, "firstSeq": first, "lastSeq": last, "chainHash": hash,
            "key": public(seed).to_string(),
            "sig": hex::encode(sig.to_bytes()),
        })
    }

    fn signed(store: &str, first: u64, last: u64) -> serde_json::Value {
        signed_by(7, store, first, last)
    }

    fn answer(receipt: serde_json::Value) -> String {
        serde_json::json!({"accepted": 2, "duplicates": 0, "receipt": receipt}).to_string()
    }

    #[test]
    fn the_servers_shapes_pass() {
        assert_eq!(check(r#"{"accepted":2,"duplicates":0}"#, &[]), Ok(()));
        assert_eq!(check(&answer(serde_json::Value::Null), &[]), Ok(()));
        assert_eq!(check(&answer(signed("s", 1, 2)), &[]), Ok(()));
        assert_eq!(check(&answer(serde_json::json!([])), &[]), Ok(()));
        let two = serde_json::json!([signed("a", 3, 9), signed("b", 1, 1)]);
        assert_eq!(check(&answer(two), &[]), Ok(()));
    }

    #[test]
    fn a_receipt_that_is_not_signed_by_its_key_is_refused_saying_why() {
        let mut edited = signed("s", 1, 2);
        edited["lastSeq"] = 3.into();
        let why = check(&answer(edited), &[]).unwrap_err().to_string();
        assert!(why.contains("does not verify"), "{why}");

        let mut unsigned = signed("s", 1, 2);
        unsigned.as_object_mut().unwrap().remove("sig");
        let why = check(&answer(unsigned), &[]).unwrap_err().to_string();
        assert!(why.contains("unsigned"), "{why}");

        let why = check(&answer(signed("s", 5, 4)), &[])
            .unwrap_err()
            .to_string();
        assert!(why.contains("covers no records"), "{why}");

        let why = check(&answer("x".repeat(50).into()), &[])
            .unwrap_err()
            .to_string();
        assert!(why.contains("is not a receipt"), "{why}");

        let two = serde_json::json!([signed("a", 3, 9), {"storeId": "b"}]);
        let why = check(&answer(two), &[]).unwrap_err().to_string();
        assert!(why.starts_with("its receipt [1] "), "{why}");
    }

    #[test]
    fn with_server_keys_only_their_receipts_pass() {
        let keys = [public(1), public(7)];
        assert_eq!(check(&answer(signed_by(7, "s", 1, 2)), &keys), Ok(()));
        assert_eq!(check(&answer(signed_by(1, "s", 1, 2)), &keys), Ok(()));

        let why = check(&answer(signed_by(9, "s", 1, 2)), &keys).unwrap_err();
        assert_eq!(
            why,
            ReceiptProblem::Receipt {
                at: None,
                problem: OneReceipt::UntrustedKey {
                    key: public(9).to_string(),
                    trusted: format!("{}, {}", public(1), public(7)),
                },
            }
        );
        let text = why.to_string();
        assert!(
            text.contains(&format!("signed by key {}", public(9)))
                && text.contains("not one of `server_keys`"),
            "{text}"
        );
        let mixed = serde_json::json!([signed_by(7, "a", 1, 2), signed_by(9, "b", 1, 2)]);
        let why = check(&answer(mixed), &keys).unwrap_err().to_string();
        assert!(why.starts_with("its receipt [1] is signed by key"), "{why}");

        // No receipt is no receipt to refuse: answer_sig.rs says whose answer it is.
        for text in [
            r#"{"accepted":2,"duplicates":0}"#.to_owned(),
            answer(serde_json::Value::Null),
            answer(serde_json::json!([])),
        ] {
            assert_eq!(check(&text, &keys), Ok(()), "{text}");
        }
    }
}
