//! Keys: who may send events (and which topics and routing keys), who may read stats.
//!
//! Secrets are kept only as SHA-256 hashes; a presented secret is hashed and compared
//! with every configured hash in constant time (`subtle`), so neither the position of
//! a mismatch nor which key matched leaks through timing.

use auditrail_core::{Event, Selection};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::config::KeyConfig;

/// One configured key, ready for checks.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// The id recorded with stored events.
    pub id: String,
    hash: [u8; 32],
    topics: Selection<auditrail_core::Topic>,
    routing_keys: Selection<auditrail_core::RoutingKey>,
}

/// A set of keys (event keys or stats keys).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyRing {
    keys: Vec<Key>,
}

/// Why a key may not write an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forbidden {
    /// `topic` or `routingKey`.
    pub field: &'static str,
    /// The value the key does not own.
    pub value: String,
}

/// Checks one key entry of the config; the message names the field.
pub(crate) fn check_key(k: &KeyConfig) -> Result<(), String> {
    if k.id.is_empty() || k.id.len() > 128 || k.id.chars().any(|c| c.is_control()) {
        return Err("id: must be 1 to 128 printable characters".into());
    }
    match (&k.secret, &k.secret_sha256) {
        (Some(_), Some(_)) => Err("give either `secret` or `secret_sha256`, not both".into()),
        (None, None) => Err("missing `secret` or `secret_sha256`".into()),
        (Some(s), None) if s.len() < 8 => Err("secret: must be at least 8 characters".into()),
        (None, Some(h)) if parse_hash(h).is_none() => {
            Err("secret_sha256: must be 64 hex characters".into())
        }
        _ => Ok(()),
    }
}

fn parse_hash(h: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(h.trim()).ok()?;
    bytes.try_into().ok()
}

/// SHA-256 of a secret, as configured in `secret_sha256`.
pub(crate) fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl KeyRing {
    /// Builds the ring from checked config entries (entries that fail
    /// the key checks are skipped; `ServerConfig::check` refuses them first).
    pub(crate) fn new(keys: &[KeyConfig]) -> KeyRing {
        let keys = keys
            .iter()
            .filter_map(|k| {
                let hash = match (&k.secret, &k.secret_sha256) {
                    (Some(s), None) => hash_secret(s),
                    (None, Some(h)) => parse_hash(h)?,
                    _ => return None,
                };
                Some(Key {
                    id: k.id.clone(),
                    hash,
                    topics: k.topics.clone(),
                    routing_keys: k.routing_keys.clone(),
                })
            })
            .collect();
        KeyRing { keys }
    }

    /// No keys configured.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key whose secret this is. Every key is compared (constant time each).
    pub(crate) fn authenticate(&self, secret: &str) -> Option<&Key> {
        let presented = hash_secret(secret);
        let mut found: Option<&Key> = None;
        for key in &self.keys {
            let equal: Choice = key.hash.ct_eq(&presented);
            if bool::from(equal) && found.is_none() {
                found = Some(key);
            }
        }
        found
    }
}

impl Key {
    /// Whether this key may write the event (topic and routing key ownership).
    pub(crate) fn may_write(&self, event: &Event) -> Result<(), Forbidden> {
        if let Selection::Only(list) = &self.topics {
            if !list.contains(&event.topic) {
                return Err(Forbidden {
                    field: "topic",
                    value: event.topic.to_string(),
                });
            }
        }
        if let Selection::Only(list) = &self.routing_keys {
            let owned = event
                .routing_key
                .as_ref()
                .is_some_and(|rk| list.contains(rk));
            if !owned {
                return Err(Forbidden {
                    field: "routingKey",
                    value: event
                        .routing_key
                        .as_ref()
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "(none)".into()),
                });
            }
        }
        Ok(())
    }
}

/// The secret of an `Authorization: Bearer <secret>` header value.
pub(crate) fn bearer(header: &str) -> Option<&str> {
    let (scheme, rest) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, secret: &str, routing: Option<&str>) -> KeyConfig {
        KeyConfig {
            id: id.into(),
            secret: Some(secret.into()),
            secret_sha256: None,
            topics: Selection::All,
            routing_keys: routing.map_or(Selection::All, |r| {
                Selection::Only(vec![auditrail_core::RoutingKey::new(r).unwrap()])
            }),
        }
    }

    fn event(routing: Option<&str>) -> Event {
        let mut v = serde_json::json!({"id":"01936f6e-1b2c-7d3e-8f40-123456789abc",
            "timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n","seq":1,
            "message":{"msgType":"x"}});
        if let Some(r) = routing {
            v["routingKey"] = r.into();
        }
        Event::from_json(&v.to_string()).unwrap()
    }

    #[test]
    fn secrets_and_hashes_authenticate_the_right_key() {
        let mut hashed = key("b", "x", None);
        hashed.secret = None;
        hashed.secret_sha256 = Some(hex::encode(hash_secret("second-secret")));
        let ring = KeyRing::new(&[key("a", "first-secret", None), hashed]);
        assert_eq!(ring.authenticate("first-secret").unwrap().id, "a");
        assert_eq!(ring.authenticate("second-secret").unwrap().id, "b");
        assert!(ring.authenticate("first-secre").is_none());
    }

    #[test]
    fn routing_key_ownership_is_enforced() {
        let ring = KeyRing::new(&[key("a", "first-secret", Some("svc-a"))]);
        let k = ring.authenticate("first-secret").unwrap();
        assert!(k.may_write(&event(Some("svc-a"))).is_ok());
        assert_eq!(
            k.may_write(&event(Some("svc-b"))).unwrap_err().field,
            "routingKey"
        );
        assert!(k.may_write(&event(None)).is_err());
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
