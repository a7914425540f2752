//! Which records of a Kafka source are vouched for: the signature headers a node's
//! `kafka` target adds (`signing_key`, [`auditrail_core::kafka_sig`]) checked against
//! the source's `signing_keys`, and each key's `topics` / `routing_keys`, as an HTTP
//! key's. A record that is not vouched for is refused (dead-lettered with the reason,
//! counted, logged) and the partition goes on; one that is has its key's id stored as
//! its events' `keyId`, as an HTTP key's id is.

use std::collections::HashMap;

use auditrail_core::kafka_sig::{signed_message, HEADER_KEY_ID, HEADER_SIG};
use auditrail_core::Event;

use super::config::SigningKeyConfig;
use super::partition::Incoming;

/// The signature headers of one record, as read (other headers are not kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SigHeaders {
    /// Every `auditrail-key-id` header's value (a header without a value: empty).
    pub key_id: Vec<Vec<u8>>,
    /// Every `auditrail-sig` header's value.
    pub sig: Vec<Vec<u8>>,
}

impl SigHeaders {
    /// Keeps `value` when `name` is one of the signature headers.
    pub(crate) fn take(&mut self, name: &str, value: Option<&[u8]>) {
        let value = value.unwrap_or_default().to_vec();
        match name {
            HEADER_KEY_ID => self.key_id.push(value),
            HEADER_SIG => self.sig.push(value),
            _ => {}
        }
    }
}

/// Why a record is not vouched for (the dead letter's `error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unverified {
    /// No signature headers, and the source does not accept unsigned records.
    #[error(
        "unsigned record: no `auditrail-key-id` / `auditrail-sig` headers, and the source \
         stores signed records only (sign at the producer: the kafka target's `signing_key` \
         and `key_id`; or set the source's `accept_unsigned = true`)"
    )]
    Unsigned,
    /// One of the two headers without the other, or one of them twice.
    #[error(
        "the record's signature headers are not one `auditrail-key-id` and one \
         `auditrail-sig` (found {key_ids} and {sigs})"
    )]
    Headers {
        /// How many key id headers.
        key_ids: usize,
        /// How many signature headers.
        sigs: usize,
    },
    /// The key id is no key the source trusts.
    #[error(
        "signed by key id {0:?}, which is not among the source's `signing_keys`: not a key \
         this server trusts"
    )]
    UnknownKey(String),
    /// The signature header is not 128 hex characters.
    #[error("the `auditrail-sig` header is not 128 hex characters (key id {0:?})")]
    NotHex(String),
    /// The signature is not the key's over this record.
    #[error(
        "the signature does not verify under key {0:?} for this record: its value, key or \
         key id was changed after signing, it was signed for another topic (a record \
         copied onto this one), or another key signed it"
    )]
    BadSignature(String),
    /// The key may not write the record's event.
    #[error("key {key_id:?} may not write {forbidden} (its `topics` / `routing_keys` / `nodes` in the source's `signing_keys`)")]
    Forbidden {
        /// The key.
        key_id: String,
        /// What it may not write.
        forbidden: crate::auth::Forbidden,
    },
}

/// The keys a source trusts, and whether it accepts unsigned records.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecordKeys {
    keys: HashMap<String, SigningKeyConfig>,
    accept_unsigned: bool,
}

impl RecordKeys {
    /// From the source's config (ids are unique: the config checks it).
    pub(crate) fn new(keys: &[SigningKeyConfig], accept_unsigned: bool) -> RecordKeys {
        RecordKeys {
            keys: keys.iter().map(|k| (k.id.clone(), k.clone())).collect(),
            accept_unsigned,
        }
    }

    /// The key that signed `record` of `topic` (`None`: unsigned, and the source
    /// accepts those). A record that carries a signature is checked even when unsigned
    /// ones are accepted: a bad signature is never taken for none.
    pub(crate) fn signer(
        &self,
        topic: &str,
        record: &Incoming,
    ) -> Result<Option<&SigningKeyConfig>, Unverified> {
        let h = &record.sig;
        match (h.key_id.as_slice(), h.sig.as_slice()) {
            ([], []) if self.accept_unsigned => Ok(None),
            ([], []) => Err(Unverified::Unsigned),
            ([id], [sig]) => {
                let id_text = String::from_utf8_lossy(id).into_owned();
                let key = self
                    .keys
                    .get(id_text.as_str())
                    .filter(|_| std::str::from_utf8(id).is_ok())
                    .ok_or_else(|| Unverified::UnknownKey(id_text.clone()))?;
                let mut bytes = [0u8; 64];
                hex::decode_to_slice(sig, &mut bytes)
                    .map_err(|_| Unverified::NotHex(id_text.clone()))?;
                let message = signed_message(
                    topic,
                    record.key.as_deref(),
                    &key.id,
                    record.payload.as_deref(),
                );
                if !key.public_key.verify(&message, &bytes) {
                    return Err(Unverified::BadSignature(id_text));
                }
                Ok(Some(key))
            }
            (ids, sigs) => Err(Unverified::Headers {
                key_ids: ids.len(),
                sigs: sigs.len(),
            }),
        }
    }
}

/// Whether `key` may write `event` (its `topics`, `routing_keys` and `nodes`, the HTTP
/// keys' rule).
pub(crate) fn may_write(key: &SigningKeyConfig, event: &Event) -> Result<(), Unverified> {
    crate::auth::may_write(&key.topics, &key.routing_keys, &key.nodes, event).map_err(|forbidden| {
        Unverified::Forbidden {
            key_id: key.id.clone(),
            forbidden,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrail_core::Selection;
    use auditrail_integrity::Signer;

    fn key(id: &str, seed: u8) -> (Signer, SigningKeyConfig) {
        let signer = Signer::from_seed([seed; 32]);
        let config = SigningKeyConfig {
            id: id.into(),
            public_key: *signer.public_key(),
            topics: Selection::All,
            routing_keys: Selection::All,
            nodes: Selection::All,
        };
        (signer, config)
    }

    fn signed(signer: &Signer, topic: &str, id: &str, value: &[u8]) -> Incoming {
        let sig = signer.sign(&signed_message(topic, Some(b"n"), id, Some(value)));
        let mut h = SigHeaders::default();
        h.take(HEADER_KEY_ID, Some(id.as_bytes()));
        h.take(HEADER_SIG, Some(hex::encode(sig).as_bytes()));
        Incoming {
            offset: 0,
            key: Some(b"n".to_vec()),
            payload: Some(value.to_vec()),
            sig: h,
            too_large: None,
        }
    }

    #[test]
    fn each_way_a_record_fails_has_its_reason() {
        let (a, ka) = key("a", 1);
        let (b, _) = key("b", 2);
        let keys = RecordKeys::new(std::slice::from_ref(&ka), false);
        let good = signed(&a, "t", "a", b"{}");
        assert_eq!(keys.signer("t", &good).unwrap().unwrap().id, "a");
        // Another topic: a copy replayed there.
        assert_eq!(
            keys.signer("u", &good).unwrap_err(),
            Unverified::BadSignature("a".into())
        );
        let mut altered = good.clone();
        altered.payload = Some(b"{ }".to_vec());
        assert!(matches!(
            keys.signer("t", &altered),
            Err(Unverified::BadSignature(_))
        ));
        let mut rekeyed = good.clone();
        rekeyed.key = Some(b"m".to_vec());
        assert!(matches!(
            keys.signer("t", &rekeyed),
            Err(Unverified::BadSignature(_))
        ));
        // Signed by b, claiming to be a.
        let wrong = signed(&b, "t", "a", b"{}");
        assert!(matches!(
            keys.signer("t", &wrong),
            Err(Unverified::BadSignature(_))
        ));
        let unknown = signed(&b, "t", "b", b"{}");
        assert_eq!(
            keys.signer("t", &unknown).unwrap_err(),
            Unverified::UnknownKey("b".into())
        );
        let mut bare = good.clone();
        bare.sig = SigHeaders::default();
        assert_eq!(keys.signer("t", &bare).unwrap_err(), Unverified::Unsigned);
        let lenient = RecordKeys::new(std::slice::from_ref(&ka), true);
        assert_eq!(lenient.signer("t", &bare).unwrap().map(|k| &k.id), None);
        // Accepting unsigned records never passes a bad signature.
        assert!(matches!(
            lenient.signer("t", &altered),
            Err(Unverified::BadSignature(_))
        ));
        let mut half = good.clone();
        half.sig.sig.clear();
        assert_eq!(
            keys.signer("t", &half).unwrap_err(),
            Unverified::Headers {
                key_ids: 1,
                sigs: 0
            }
        );
        assert!(matches!(
            lenient.signer("t", &half),
            Err(Unverified::Headers { .. })
        ));
        let mut twice = good.clone();
        twice.sig.sig.push(twice.sig.sig[0].clone());
        assert!(matches!(
            keys.signer("t", &twice),
            Err(Unverified::Headers { .. })
        ));
        let mut not_hex = good;
        not_hex.sig.sig[0] = b"zz".to_vec();
        assert_eq!(
            keys.signer("t", &not_hex).unwrap_err(),
            Unverified::NotHex("a".into())
        );
    }
}
