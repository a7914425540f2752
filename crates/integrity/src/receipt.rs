//! Receipts: what the server answers for a stored batch, so the sender keeps proof.

use serde::{Deserialize, Serialize};

use super::keys::{PublicKey, Signer};
use auditrail_store::chain::ChainLink;

/// Proof that a batch was stored: the chain range it was stored under and the chain
/// hash of its last record. JSON (camelCase):
/// `{"storeId":"..","firstSeq":101,"lastSeq":200,"chainHash":"<64 hex>"}` plus, when
/// signed, `"key":"ed25519:<hex>","sig":"<128 hex>"`.
///
/// `firstSeq..=lastSeq` is the chain range the batch's records fall in (other batches'
/// records may be interleaved in it when the store group-commits several requests).
/// The signature, over `"auditrail-receipt-v1\n<storeId>\n<firstSeq>\n<lastSeq>\n<chainHash>\n"`,
/// makes the receipt evidence against the server itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receipt {
    /// The store (its `store-id`).
    pub store_id: String,
    /// Chain seq of the batch's first stored record.
    pub first_seq: u64,
    /// Chain seq of the batch's last stored record.
    pub last_seq: u64,
    /// Chain hash of the record `last_seq` (64 lowercase hex).
    pub chain_hash: String,
    /// The signing key, when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Ed25519 signature (128 hex), when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

impl Receipt {
    /// An unsigned receipt for records `first_seq..=last.seq`.
    pub fn new(store_id: &str, first_seq: u64, last: ChainLink) -> Receipt {
        Receipt {
            store_id: store_id.to_string(),
            first_seq,
            last_seq: last.seq,
            chain_hash: last.hash_hex(),
            key: None,
            sig: None,
        }
    }

    /// The same receipt signed by the server's key (about 20 µs).
    pub fn signed(mut self, signer: &Signer) -> Receipt {
        let sig = signer.sign(self.message().as_bytes());
        self.key = Some(signer.public_key().to_string());
        self.sig = Some(hex::encode(sig));
        self
    }

    /// `None` when unsigned; else whether the signature is `key`'s over this receipt.
    pub fn signature_valid(&self, key: &PublicKey) -> Option<bool> {
        let sig = self.sig.as_ref()?;
        let mut bytes = [0u8; 64];
        if hex::decode_to_slice(sig, &mut bytes).is_err() {
            return Some(false);
        }
        Some(key.verify(self.message().as_bytes(), &bytes))
    }

    /// The key the receipt names, if signed and well formed.
    pub fn named_key(&self) -> Option<PublicKey> {
        self.key.as_ref().and_then(|k| k.parse().ok())
    }

    /// What the signature covers; built by the one function a node checks it with.
    fn message(&self) -> String {
        auditrail_core::receipt::signed_text(
            &self.store_id,
            self.first_seq,
            self.last_seq,
            &self.chain_hash,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_receipt_round_trips_as_json_and_detects_edits() {
        let s = Signer::from_seed([4; 32]);
        let r = Receipt::new(
            "st",
            3,
            ChainLink {
                seq: 9,
                hash: [1; 32],
            },
        )
        .signed(&s);
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"firstSeq\":3") && json.contains("\"lastSeq\":9"));
        let back: Receipt = serde_json::from_str(&json).unwrap();
        assert_eq!(back.signature_valid(s.public_key()), Some(true));
        let mut edited = back.clone();
        edited.last_seq = 10;
        assert_eq!(edited.signature_valid(s.public_key()), Some(false));
        assert_eq!(
            Receipt::new("st", 1, ChainLink::GENESIS).signature_valid(s.public_key()),
            None
        );
    }
}
