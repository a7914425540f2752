//! Whether the receipt of a `200` answer is one the event server signed.
//!
//! The event server signs every receipt it gives (docs/tamper-evidence.md, "Receipts"):
//! an object, or an array of them with one per chained store, each
//! `{"storeId","firstSeq","lastSeq","chainHash","key","sig"}` where `sig` is the
//! Ed25519 signature by `key` of
//! `"auditrail-receipt-v1\n<storeId>\n<firstSeq>\n<lastSeq>\n<chainHash>\n"`. An answer
//! whose counts are right but whose receipt is no such thing (a signature that does not
//! verify under the receipt's own key, a range that ends before it starts, a string,
//! unsigned) is not the event server's answer: a stand-in, a proxy that rewrote the
//! body, a damaged reply. Taking it as an acknowledgement forgot the events from the
//! spool and kept the broken receipt as the node's proof, which `auditrail verify
//! --receipt` refused only later, when the events were gone from the node.
//!
//! Only the receipt's own consistency can be checked here: the node is not configured
//! with the server's key, so a receipt validly signed by another key passes (`verify
//! --receipt --public-key` catches that). Nor can the range be compared with the batch's
//! size: a store's filters may take only some of the batch's events, other batches'
//! records may lie inside the range, and an all-duplicates batch is answered with the
//! range of the stored originals.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use serde_json::value::RawValue;

/// What the signature covers before the receipt's fields (the server's `Receipt`).
const DOMAIN: &str = "auditrail-receipt-v1\n";

/// How a public key is written in a receipt.
const KEY_PREFIX: &str = "ed25519:";

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

/// `Ok` when the answer `text` has no receipt (`null`, absent: a server without a
/// chained store) or only receipts signed by the key they name; otherwise why not.
pub(crate) fn check(text: &str) -> Result<(), String> {
    let answer: WithReceipt<'_> =
        serde_json::from_str(text).map_err(|e| format!("its `receipt` cannot be read: {e}"))?;
    let Some(raw) = answer.receipt else {
        return Ok(());
    };
    let raw = raw.get();
    if raw == "null" {
        return Ok(());
    }
    if raw.starts_with('[') {
        let receipts: Vec<&RawValue> = serde_json::from_str(raw)
            .map_err(|e| format!("its `receipt` is not an array of receipts: {e}"))?;
        for (i, one) in receipts.iter().enumerate() {
            check_one(one.get()).map_err(|why| format!("its receipt [{i}] {why}"))?;
        }
        return Ok(());
    }
    check_one(raw).map_err(|why| format!("its receipt {why}"))
}

/// Why one receipt (JSON text) is not one the server signed.
fn check_one(raw: &str) -> Result<(), String> {
    let r: Receipt = serde_json::from_str(raw).map_err(|e| {
        format!(
            "is not a receipt (`storeId`, `firstSeq`, `lastSeq`, `chainHash`, `key`, `sig`): {e}"
        )
    })?;
    if r.store_id.is_empty() {
        return Err("names no store (`storeId` is empty)".into());
    }
    if r.first_seq == 0 || r.first_seq > r.last_seq {
        return Err(format!(
            "covers no records: `firstSeq` {} .. `lastSeq` {} (a store's records are \
             numbered from 1, and a range ends at or after its start)",
            r.first_seq, r.last_seq
        ));
    }
    let mut hash = [0u8; 32];
    if hex::decode_to_slice(&r.chain_hash, &mut hash).is_err() {
        return Err("has a `chainHash` that is not 64 hex characters".into());
    }
    let (Some(key), Some(sig)) = (&r.key, &r.sig) else {
        return Err(
            "is unsigned (no `key` and `sig`): the event server signs every receipt".into(),
        );
    };
    let key = key
        .strip_prefix(KEY_PREFIX)
        .and_then(|hex_part| {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hex_part, &mut bytes).ok()?;
            VerifyingKey::from_bytes(&bytes).ok()
        })
        .ok_or_else(|| {
            format!("names no Ed25519 key in `key` (expected `{KEY_PREFIX}<64 hex>`)")
        })?;
    let mut sig_bytes = [0u8; 64];
    if hex::decode_to_slice(sig, &mut sig_bytes).is_err() {
        return Err("has a `sig` that is not 128 hex characters".into());
    }
    let message = format!(
        "{DOMAIN}{}\n{}\n{}\n{}\n",
        r.store_id, r.first_seq, r.last_seq, r.chain_hash
    );
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&sig_bytes))
        .map_err(|_| {
            "has a signature that does not verify under the key it names (its fields were \
             changed, or it was never signed by that key)"
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn signed(store: &str, first: u64, last: u64) -> serde_json::Value {
        let key = SigningKey::from_bytes(&[7; 32]);
        let hash = "ab".repeat(32);
        let sig = key.sign(format!("{DOMAIN}{store}\n{first}\n{last}\n{hash}\n").as_bytes());
        serde_json::json!({
            "storeId": store, "firstSeq": first, "lastSeq": last, "chainHash": hash,
            "key": format!("{KEY_PREFIX}{}", hex::encode(key.verifying_key().to_bytes())),
            "sig": hex::encode(sig.to_bytes()),
        })
    }

    fn answer(receipt: serde_json::Value) -> String {
        serde_json::json!({"accepted": 2, "duplicates": 0, "receipt": receipt}).to_string()
    }

    #[test]
    fn the_servers_shapes_pass() {
        assert_eq!(check(r#"{"accepted":2,"duplicates":0}"#), Ok(()));
        assert_eq!(check(&answer(serde_json::Value::Null)), Ok(()));
        assert_eq!(check(&answer(signed("s", 1, 2))), Ok(()));
        assert_eq!(check(&answer(serde_json::json!([]))), Ok(()));
        let two = serde_json::json!([signed("a", 3, 9), signed("b", 1, 1)]);
        assert_eq!(check(&answer(two)), Ok(()));
    }

    #[test]
    fn a_receipt_that_is_not_signed_by_its_key_is_refused_saying_why() {
        let mut edited = signed("s", 1, 2);
        edited["lastSeq"] = 3.into();
        let why = check(&answer(edited)).unwrap_err();
        assert!(why.contains("does not verify"), "{why}");

        let mut unsigned = signed("s", 1, 2);
        unsigned.as_object_mut().unwrap().remove("sig");
        assert!(check(&answer(unsigned)).unwrap_err().contains("unsigned"));

        let why = check(&answer(signed("s", 5, 4))).unwrap_err();
        assert!(why.contains("covers no records"), "{why}");

        let why = check(&answer("x".repeat(50).into())).unwrap_err();
        assert!(why.contains("is not a receipt"), "{why}");

        let two = serde_json::json!([signed("a", 3, 9), {"storeId": "b"}]);
        let why = check(&answer(two)).unwrap_err();
        assert!(why.starts_with("its receipt [1] "), "{why}");
    }
}
