//! Keys: who may send events (and which topics and routing keys), who may read stats.
//!
//! Secrets are kept only as SHA-256 hashes; a presented secret is hashed and compared
//! with every configured hash in constant time (`subtle`), so neither the position of
//! a mismatch nor which key matched leaks through timing.
//!
//! With mutual TLS a key can also be presented as a client certificate: rustls has
//! verified its chain to `[tls] client_ca` during the handshake, and the certificate's
//! subjectAltNames (DNS names and URIs, not the Common Name, as RFC 6125 and the
//! WebPKI do) select the key whose `client_cert_subject` is one of them.

use std::sync::Arc;

use auditrail_core::{Event, Selection};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::config::KeyConfig;

/// One configured key, ready for checks.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// The id recorded with stored events.
    pub id: String,
    /// `None`: the key authenticates by client certificate only.
    hash: Option<[u8; 32]>,
    client_cert_subject: Option<String>,
    topics: Selection<auditrail_core::Topic>,
    routing_keys: Selection<auditrail_core::RoutingKey>,
    nodes: Selection<auditrail_core::NodeId>,
}

/// A set of keys (event keys or stats keys).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyRing {
    keys: Vec<Key>,
}

/// Why a key may not write an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forbidden {
    /// `topic`, `routingKey` or `node`.
    pub field: &'static str,
    /// The value the key does not own.
    pub value: String,
    /// The routing key the key's list names that `value` reads like, and how they
    /// differ (`auditrail_core::lookalike::Hint`): a node sending `Svc-a` or another
    /// Unicode normalization form of the key it was given. Topics have none: they are
    /// `[a-z0-9._-]`.
    pub lookalike: Option<String>,
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.field, self.value)?;
        if let Some(hint) = &self.lookalike {
            let (list, what) = match self.field {
                "node" => ("nodes", "node ids"),
                _ => ("routing_keys", "routing keys"),
            };
            write!(
                f,
                "; the key's {list} list {hint}; {what} are compared code point for code \
                 point, as sent"
            )?;
        }
        Ok(())
    }
}

/// [`Forbidden::lookalike`] of `sent` among `listed`.
fn lookalike<'a>(sent: &str, listed: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    auditrail_core::lookalike::find(sent, listed)
        .map(|(listed, how)| auditrail_core::lookalike::Hint { sent, listed, how }.to_string())
}

/// Why a key entry of the config is refused; the message names the field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An empty, long or unprintable id.
    #[error("id: must be 1 to 128 printable characters")]
    Id,
    /// A certificate subject that is no name.
    #[error(
        "client_cert_subject: must be a DNS name or URI of 1 to 1024 characters \
         without spaces or control characters"
    )]
    Subject,
    /// `secret` and `secret_sha256` both.
    #[error("give either `secret` or `secret_sha256`, not both")]
    TwoSecrets,
    /// No way to present the key.
    #[error("missing `secret`, `secret_sha256` or `client_cert_subject`")]
    NoSecret,
    /// A secret under 8 characters.
    #[error("secret: must be at least 8 characters")]
    ShortSecret,
    /// A secret no `Authorization` header can carry.
    #[error(
        "secret: must not start or end with whitespace nor hold control characters: \
         an Authorization header cannot carry it"
    )]
    SecretNotInAHeader,
    /// A `secret_sha256` that is no SHA-256 in hex.
    #[error("secret_sha256: must be 64 hex characters")]
    Hash,
}

/// Checks one key entry of the config; the message names the field.
pub(crate) fn check_key(k: &KeyConfig) -> Result<(), KeyError> {
    if k.id.is_empty() || k.id.len() > 128 || k.id.chars().any(|c| c.is_control()) {
        return Err(KeyError::Id);
    }
    if let Some(subject) = &k.client_cert_subject {
        let odd = |c: char| c.is_control() || c.is_whitespace();
        if subject.is_empty() || subject.len() > 1024 || subject.chars().any(odd) {
            return Err(KeyError::Subject);
        }
    }
    match (&k.secret, &k.secret_sha256) {
        (Some(_), Some(_)) => Err(KeyError::TwoSecrets),
        (None, None) if k.client_cert_subject.is_some() => Ok(()),
        (None, None) => Err(KeyError::NoSecret),
        (Some(s), None) if s.len() < 8 => Err(KeyError::ShortSecret),
        // A header value never starts or ends with whitespace (RFC 9110 section 5.5: it
        // is not part of the value) and holds no control character but a tab: such a
        // secret could never be presented, and every request with it would be
        // answered `401 unknown key` while the server started without a word.
        (Some(s), None)
            if s.starts_with(char::is_whitespace)
                || s.ends_with(char::is_whitespace)
                || s.chars().any(|c| c.is_control() && c != '\t') =>
        {
            Err(KeyError::SecretNotInAHeader)
        }
        (None, Some(h)) if parse_hash(h).is_none() => Err(KeyError::Hash),
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

/// The SHA-256 of a checked key's secret (from `secret` or `secret_sha256`); `None` for
/// a key that authenticates by client certificate only. Compared at config load to
/// find two keys with one secret; never shown.
pub(crate) fn secret_hash(k: &KeyConfig) -> Option<[u8; 32]> {
    match (&k.secret, &k.secret_sha256) {
        (Some(s), None) => Some(hash_secret(s)),
        (None, Some(h)) => parse_hash(h),
        _ => None,
    }
}

/// Whether a certificate's subjectAltName `a` and a `client_cert_subject` `b` are one
/// name. A DNS name (no `:` in it) is compared without ASCII case (RFC 5280 §7.2,
/// RFC 4343: `NODE-A.Example.ORG` is `node-a.example.org`); a URI by its own rules
/// (RFC 3986 §6.2.2.1): its scheme and authority (the host) without case, the rest
/// (a SPIFFE id's path) exactly.
pub(crate) fn same_subject(a: &str, b: &str) -> bool {
    let (a_any_case, a_exact) = subject_parts(a);
    let (b_any_case, b_exact) = subject_parts(b);
    a_any_case.eq_ignore_ascii_case(b_any_case) && a_exact == b_exact
}

/// A subject split into the part compared without case and the part compared exactly
/// ([`same_subject`]).
fn subject_parts(s: &str) -> (&str, &str) {
    let Some(colon) = s.find(':') else {
        return (s, "");
    };
    let end = match s[colon + 1..].strip_prefix("//") {
        // `scheme://authority`, up to the path, query or fragment.
        Some(rest) => colon + 3 + rest.find(['/', '?', '#']).unwrap_or(rest.len()),
        None => colon + 1,
    };
    s.split_at(end)
}

impl KeyRing {
    /// Builds the ring from checked config entries (entries that fail
    /// the key checks are skipped; `ServerConfig::check` refuses them first).
    pub(crate) fn new(keys: &[KeyConfig]) -> KeyRing {
        let keys = keys
            .iter()
            .filter_map(|k| {
                let hash = match (&k.secret, &k.secret_sha256) {
                    (None, None) if k.client_cert_subject.is_some() => None,
                    _ => Some(secret_hash(k)?),
                };
                Some(Key {
                    id: k.id.clone(),
                    hash,
                    client_cert_subject: k.client_cert_subject.clone(),
                    topics: k.topics.clone(),
                    routing_keys: k.routing_keys.clone(),
                    nodes: k.nodes.clone(),
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
        // Which keys have a secret at all is configuration, not a secret.
        for key in &self.keys {
            let Some(hash) = &key.hash else { continue };
            let equal: Choice = hash.ct_eq(&presented);
            if bool::from(equal) && found.is_none() {
                found = Some(key);
            }
        }
        found
    }

    /// The key whose `client_cert_subject` is one of a verified certificate's names.
    pub(crate) fn for_certificate(&self, cert: &ClientCert) -> Option<&Key> {
        self.keys.iter().find(|k| {
            k.client_cert_subject
                .as_ref()
                .is_some_and(|s| cert.names.iter().any(|n| same_subject(n, s)))
        })
    }

    /// The key a request presents, as a bearer secret or a client certificate.
    ///
    /// A certificate that names no key is only transport security (a client of the CA
    /// may still present a bearer key). A bearer secret and a certificate that name two
    /// different keys are refused rather than one of them chosen: the identity of a
    /// request must not depend on a precedence rule nobody reads.
    pub(crate) fn identify(&self, credentials: &Credentials) -> Result<&Key, Unauthorized> {
        let by_cert = credentials
            .cert
            .as_ref()
            .and_then(|c| self.for_certificate(c));
        let by_secret = match credentials.bearer.as_deref() {
            None => None,
            Some(secret) => Some(self.authenticate(secret).ok_or(Unauthorized::UnknownKey)?),
        };
        match (by_secret, by_cert) {
            (Some(s), Some(c)) if s.id != c.id => Err(Unauthorized::Conflict {
                secret: s.id.clone(),
                cert: c.id.clone(),
            }),
            (Some(k), _) | (None, Some(k)) => Ok(k),
            (None, None) => Err(match &credentials.cert {
                Some(cert) if cert.names.is_empty() => {
                    Unauthorized::CertificateWithoutNames(cert.holds.to_string())
                }
                Some(cert) => Unauthorized::UnmappedCertificate(cert.names.join(", ")),
                None => Unauthorized::Missing,
            }),
        }
    }
}

/// What a request presents to say who it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    /// The secret of `Authorization: Bearer <secret>`.
    pub(crate) bearer: Option<String>,
    /// The connection's verified client certificate.
    pub(crate) cert: Option<ClientCert>,
}

/// The subjectAltNames (DNS names and URIs) of a connection's client certificate,
/// verified by rustls against `[tls] client_ca`; given to each of its requests.
#[derive(Debug, Clone)]
pub(crate) struct ClientCert {
    /// The DNS names and URIs: what selects a key. May be empty.
    pub(crate) names: Arc<[String]>,
    /// What the certificate holds as names of every kind (`the Common Name "x" and the
    /// subjectAltNames IP:10.0.0.7`): said when it has no DNS name nor URI, so that
    /// its refusal does not read as a missing certificate.
    pub(crate) holds: Arc<str>,
    /// SHA-256 of the certificate's DER, 64 lower-case hex: what a signed refusal of its
    /// requests binds of it (http/signed_answer.rs).
    pub(crate) sha256: Arc<str>,
}

/// Why a request is not authenticated; the text is the answer's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unauthorized {
    #[error("missing `Authorization: Bearer <key>` (or a client certificate)")]
    Missing,
    #[error("unknown key")]
    UnknownKey,
    #[error(
        "the client certificate has no DNS or URI subjectAltName, which is what selects a \
         key (it has {0}; the Common Name is not read), and no `Authorization: Bearer \
         <key>` was sent"
    )]
    CertificateWithoutNames(String),
    #[error(
        "the client certificate ({0}) matches no key's client_cert_subject, and no \
         `Authorization: Bearer <key>` was sent"
    )]
    UnmappedCertificate(String),
    #[error(
        "the bearer key ({secret}) and the client certificate ({cert}) are different keys; \
         send one of them"
    )]
    Conflict { secret: String, cert: String },
}

impl Key {
    /// Whether this key may write the event (topic, routing key and node ownership).
    pub(crate) fn may_write(&self, event: &Event) -> Result<(), Forbidden> {
        may_write(&self.topics, &self.routing_keys, &self.nodes, event)
    }
}

/// Whether a key with these `topics`, `routing_keys` and `nodes` may write the event:
/// the rule of HTTP keys and of a Kafka source's `signing_keys`.
pub(crate) fn may_write(
    topics: &Selection<auditrail_core::Topic>,
    routing_keys: &Selection<auditrail_core::RoutingKey>,
    nodes: &Selection<auditrail_core::NodeId>,
    event: &Event,
) -> Result<(), Forbidden> {
    // The node first: a key writing under another node's id is the graver fault (it
    // could fill that node's gaps, or announce its missing numbers abandoned).
    if let Selection::Only(list) = nodes {
        if !list.contains(&event.node) {
            return Err(Forbidden {
                field: "node",
                value: event.node.to_string(),
                lookalike: lookalike(
                    event.node.as_str(),
                    list.iter().map(auditrail_core::NodeId::as_str),
                ),
            });
        }
    }
    if let Selection::Only(list) = topics {
        if !list.contains(&event.topic) {
            return Err(Forbidden {
                field: "topic",
                value: event.topic.to_string(),
                // Topics are `[a-z0-9._-]`: none reads like another.
                lookalike: None,
            });
        }
    }
    if let Selection::Only(list) = routing_keys {
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
                lookalike: event.routing_key.as_ref().and_then(|rk| {
                    lookalike(
                        rk.as_str(),
                        list.iter().map(auditrail_core::RoutingKey::as_str),
                    )
                }),
            });
        }
    }
    Ok(())
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
            nodes: Selection::All,
            client_cert_subject: None,
        }
    }

    fn cert_key(id: &str, subject: &str) -> KeyConfig {
        KeyConfig {
            secret: None,
            client_cert_subject: Some(subject.into()),
            ..key(id, "unused-secret", None)
        }
    }

    fn presenting(bearer: Option<&str>, names: &[&str]) -> Credentials {
        Credentials {
            bearer: bearer.map(str::to_owned),
            cert: (!names.is_empty()).then(|| ClientCert {
                names: names.iter().map(|n| n.to_string()).collect(),
                holds: "".into(),
                sha256: "".into(),
            }),
        }
    }

    #[test]
    fn certificates_and_secrets_identify_keys_and_never_disagree() {
        let ring = KeyRing::new(&[
            key("a", "first-secret", None),
            cert_key("b", "node-b.example.org"),
        ]);
        let id = |b, n: &[&str]| ring.identify(&presenting(b, n)).map(|k| k.id.clone());
        assert_eq!(id(Some("first-secret"), &[]).unwrap(), "a");
        assert_eq!(id(None, &["x.example", "node-b.example.org"]).unwrap(), "b");
        // A certificate that maps to no key leaves the bearer key in charge.
        assert_eq!(id(Some("first-secret"), &["x.example"]).unwrap(), "a");
        assert_eq!(
            id(None, &["x.example"]).unwrap_err(),
            Unauthorized::UnmappedCertificate("x.example".into())
        );
        assert!(matches!(
            id(Some("first-secret"), &["node-b.example.org"]).unwrap_err(),
            Unauthorized::Conflict { .. }
        ));
        assert_eq!(
            id(Some("nope-nope"), &[]).unwrap_err(),
            Unauthorized::UnknownKey
        );
        assert_eq!(id(None, &[]).unwrap_err(), Unauthorized::Missing);
        // A certificate-only key has no secret that could match anything.
        assert!(ring.authenticate("").is_none());
    }

    #[test]
    fn a_secret_no_header_can_carry_is_refused() {
        for secret in [
            " padded-secret",
            "padded-secret ",
            "line\nbreak-secret",
            "nul\0-secret-x",
        ] {
            let err = check_key(&key("a", secret, None)).unwrap_err().to_string();
            assert!(err.starts_with("secret: "), "{secret:?}: {err}");
        }
        for secret in ["pässwort-geheim", "inner space ok", "tab\tinside-ok"] {
            assert!(check_key(&key("a", secret, None)).is_ok(), "{secret:?}");
        }
    }

    #[test]
    fn a_key_needs_a_secret_or_a_subject_and_subjects_are_names() {
        assert!(check_key(&cert_key("b", "node-b.example.org")).is_ok());
        assert!(check_key(&cert_key("b", "spiffe://example.org/node/b")).is_ok());
        assert!(check_key(&cert_key("b", "node b")).is_err());
        assert!(check_key(&cert_key("b", "")).is_err());
        let none = KeyConfig {
            client_cert_subject: None,
            ..cert_key("b", "x")
        };
        assert!(check_key(&none)
            .unwrap_err()
            .to_string()
            .contains("client_cert_subject"));
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
