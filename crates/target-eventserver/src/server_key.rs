//! The event server's receipt public key, as a node is configured with it
//! (`server_keys`): `ed25519:<64 hex>`, the form the server writes in its receipts and in
//! `<data dir>/signing.pub`, and that `auditrail keys export` prints.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Deserializer};
use thiserror::Error;

/// How a public key is written (in receipts, `signing.pub`, `server_keys`).
pub(crate) const PREFIX: &str = "ed25519:";

/// How the server's secret key is written (`signing.key`): said when one is given
/// where a public key belongs, never shown.
const SECRET_PREFIX: &str = "ed25519-secret:";

/// An Ed25519 public key of the event server; displays and parses as `ed25519:<64 hex>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ServerKey(VerifyingKey);

/// Why a text is not a [`ServerKey`]. The text itself is not repeated: it may be the
/// server's secret key, pasted by mistake.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ServerKeyError {
    /// The server's secret key (`ed25519-secret:...`), which must never leave the server.
    #[error(
        "is the event server's SECRET key (`{SECRET_PREFIX}...`, its signing.key), not \
         its public key: remove it from this config (and treat that key as leaked: \
         `auditrail keys rotate` on the server); the public key is what `auditrail keys \
         export` prints on the server (`{PREFIX}<64 hex>`, its signing.pub)"
    )]
    Secret,
    /// No `ed25519:` before the key.
    #[error(
        "does not start with `{PREFIX}`: expected `{PREFIX}<64 hex>`, the event server's \
         public key as `auditrail keys export` prints it (its signing.pub)"
    )]
    NoPrefix,
    /// Not 64 hex digits after the prefix.
    #[error(
        "has {found} characters after `{PREFIX}` that are not 64 hex digits: expected \
         `{PREFIX}<64 hex>`, as `auditrail keys export` prints it"
    )]
    NotHex {
        /// Characters after the prefix.
        found: usize,
    },
    /// 32 bytes that are no Ed25519 public key (not a point of the curve).
    #[error("is 64 hex digits that are not an Ed25519 public key (a key cut or mistyped?)")]
    NotAKey,
    /// A point of the curve no Ed25519 key pair has: one of small order (all zeros
    /// among them), whose "signatures" prove nothing and which `verify_strict` refuses
    /// anyway, or one written otherwise than as keys are (a non-canonical encoding,
    /// which no signature the server makes verifies under). Every answer would be
    /// refused.
    #[error(
        "is 64 hex digits that are no usable Ed25519 public key (a point of small order, \
         such as all zeros, or one not written as a key is): no answer of the server \
         would verify under it. Expected the key `auditrail keys export` prints on the \
         server (its signing.pub)"
    )]
    Unusable,
}

impl ServerKey {
    /// The key, to verify signatures with.
    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    /// The key of these 32 bytes, if they are a usable one.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Result<ServerKey, ServerKeyError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| ServerKeyError::NotAKey)?;
        // `from_bytes` takes a small-order point, and a non-canonical encoding of a
        // point (it reduces y modulo p), as keys.
        if key.is_weak() || key.to_edwards().compress().to_bytes() != *bytes {
            return Err(ServerKeyError::Unusable);
        }
        Ok(ServerKey(key))
    }
}

/// What is wrong with a signature as the server writes it (`key`: `ed25519:<64 hex>`,
/// `sig`: 128 hex) over `message`, for a node that trusts `trusted` (any key when
/// empty). Receipts and answers are checked alike; each says it in its own words.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SigFault {
    /// `key` is not `ed25519:<64 hex>` of a key.
    BadKey,
    /// `sig` is not 128 hex digits.
    BadSig,
    /// Not the named key's signature over `message`.
    DoesNotVerify,
    /// Validly signed, by this key (`ed25519:<64 hex>`), which is not one of `trusted`.
    UntrustedKey(String),
}

/// `Ok` when `sig` is `key`'s signature over `message` and `key` is one of `trusted`
/// (or `trusted` is empty).
pub(crate) fn check_signature(
    key: &str,
    sig: &str,
    message: &[u8],
    trusted: &[ServerKey],
) -> Result<(), SigFault> {
    let key = ServerKey::from_str(key).map_err(|_| SigFault::BadKey)?;
    let mut sig_bytes = [0u8; 64];
    hex::decode_to_slice(sig, &mut sig_bytes).map_err(|_| SigFault::BadSig)?;
    key.verifying_key()
        .verify_strict(message, &Signature::from_bytes(&sig_bytes))
        .map_err(|_| SigFault::DoesNotVerify)?;
    // After the signature: one that names a trusted key but was not made by it is said
    // not to verify (forged), not to be another key's.
    if !trusted.is_empty() && !trusted.contains(&key) {
        return Err(SigFault::UntrustedKey(key.to_string()));
    }
    Ok(())
}

/// `server_keys` as messages list them: comma-separated.
pub(crate) fn listed(keys: &[ServerKey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for ServerKey {
    type Err = ServerKeyError;

    /// `ed25519:<64 hex>` (either case of hex; blanks around it are not taken).
    fn from_str(text: &str) -> Result<ServerKey, ServerKeyError> {
        if text.starts_with(SECRET_PREFIX) {
            return Err(ServerKeyError::Secret);
        }
        let hex_part = text.strip_prefix(PREFIX).ok_or(ServerKeyError::NoPrefix)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| ServerKeyError::NotHex {
            found: hex_part.chars().count(),
        })?;
        ServerKey::from_bytes(&bytes)
    }
}

impl fmt::Display for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", hex::encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<'de> Deserialize<'de> for ServerKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `server_keys` as a config gives it: a list of keys. One key written as a string (the
/// usual slip when there is one key) is refused with the list to write, rather than
/// serde's "expected a sequence"; the string is not repeated (it may be a secret key).
pub(crate) fn deserialize_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ServerKey>, D::Error> {
    struct List;
    impl<'de> serde::de::Visitor<'de> for List {
        type Value = Vec<ServerKey>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of keys, `[\"{PREFIX}<64 hex>\", ...]`")
        }

        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "is one key written as a string: write it as a list, even of one key \
                 (`server_keys = [\"{PREFIX}<64 hex>\"]`)"
            )))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut keys = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
            while let Some(key) = seq.next_element()? {
                keys.push(key);
            }
            Ok(keys)
        }
    }
    deserializer.deserialize_any(List)
}

/// The public key of the Ed25519 key whose seed is 32 bytes of `seed`: the keys the
/// unit tests of answers and refusals sign with.
#[cfg(test)]
pub(crate) fn test_key(seed: u8) -> ServerKey {
    ServerKey::from_bytes(
        ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
            .verifying_key()
            .as_bytes(),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032's first test key.
    const KEY: &str = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn a_key_reads_back_as_written() {
        let key: ServerKey = KEY.parse().unwrap();
        assert_eq!(key.to_string(), KEY);
        assert_eq!(
            KEY.to_uppercase().replacen("ED25519", "ed25519", 1).parse(),
            Ok(key)
        );
    }

    #[test]
    fn what_is_no_public_key_is_refused_saying_why_and_never_shown() {
        let secret = format!("ed25519-secret:{}", "5e".repeat(32));
        let why = secret.parse::<ServerKey>().unwrap_err();
        assert_eq!(why, ServerKeyError::Secret);
        assert!(!why.to_string().contains("5e5e"), "{why}");
        assert_eq!("d75a98".parse::<ServerKey>(), Err(ServerKeyError::NoPrefix));
        assert_eq!(
            " ed25519:00".parse::<ServerKey>(),
            Err(ServerKeyError::NoPrefix)
        );
        assert_eq!(
            "ed25519:zz".parse::<ServerKey>(),
            Err(ServerKeyError::NotHex { found: 2 })
        );
        assert_eq!(
            format!("{KEY}0").parse::<ServerKey>(),
            Err(ServerKeyError::NotHex { found: 65 })
        );
    }

    /// Points of the curve that no key pair has are refused when read, not trusted
    /// and then found to verify no answer: all zeros (order 4), the identity (order
    /// 1), and y = p + 3, a non-canonical encoding of a point that is otherwise fine.
    #[test]
    fn a_small_order_or_non_canonical_point_is_refused() {
        let identity = format!("01{}", "00".repeat(31));
        let non_canonical = format!("f0{}7f", "ff".repeat(30));
        for hex in ["00".repeat(32), identity, non_canonical] {
            assert_eq!(
                format!("ed25519:{hex}").parse::<ServerKey>(),
                Err(ServerKeyError::Unusable),
                "{hex}"
            );
        }
    }
}
