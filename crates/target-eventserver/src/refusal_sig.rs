//! Whether a final refusal (a `4xx` but `408` and `429`, or any other status the node
//! takes as final: `client::is_final`) is the pinned event server's refusal of this
//! very request: its `answerSig` (docs/protocol.md, "Signed refusals").
//!
//! A node gives events up on a final refusal: it splits the batch down to the events
//! refused and moves them to the dead-letter file, out of delivery until an operator
//! sends them again. With `server_keys` set, a `200` counts only when the server signed
//! it for this request (answer_sig.rs); a refusal taken at face value let a stand-in at
//! the url that answers `403` to everything take every event out of delivery. So with
//! `server_keys` a refusal counts only when its `answerSig` verifies under one of them
//! over [`auditrail_core::answer::refusal_text`] built from this request: its nonce,
//! the refusal's status, error code and named event (`line`, which makes the node give
//! that event up alone), the node's own credential (digests of the `Authorization` it
//! sent and of its client certificate) and what the server saw of the body, checked
//! first against the body the node sent ([`auditrail_core::answer::BodySeen`] says why
//! each kind cannot stand for another request's body). Anything else is not a refusal
//! of this request by the configured server: retryable, the events stay spooled.
//!
//! Asked for (`Auditrail-Refusal-Version: 2`), the server signs the `v2` text
//! ([`auditrail_core::answer::listed_refusal_text`]), which also covers the refusal's
//! `events` list as written and `eventsMore`: the node gives up every listed event at
//! once ([`Covered::List`]). A refusal signed over the `v1` text (a server before it)
//! covers `line` alone: its list, if any, is not taken ([`Covered::Named`]).
//!
//! Without `server_keys`, refusals are taken as before (a node without the server's
//! key cannot tell whose signature it is).

use auditrail_core::answer::{
    authorization_digest, is_error_code, listed_refusal_text, refusal_text, BodySeen, Listed,
    Named, RefusedRequest, LISTED_REFUSAL_VERSION,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::server_key::{check_signature, listed, ServerKey, SigFault, PREFIX};

/// Why a final refusal does not count as the configured event server's refusal of this
/// request.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RefusalProblem {
    /// The body goes on past what the node reads of an answer.
    #[error(
        "its body is longer than {limit} bytes, the most the node reads of an answer, so \
         its `answerSig` cannot be checked"
    )]
    TooLong {
        /// The bound, in bytes.
        limit: usize,
    },
    /// Not JSON of a refusal's shape.
    #[error(
        "its body is not the event server's refusal (JSON with `error` and `answerSig`): {reason}"
    )]
    NotTheRefusal {
        /// The JSON parser's message.
        reason: String,
    },
    /// No `answerSig`.
    #[error(
        "it carries no `answerSig`: it is not signed by a pinned server key (with \
         `server_keys` set the node takes a refusal only when the configured event server \
         signed it for this request; the server signs every refusal of a request that \
         sends `Auditrail-Request-Nonce`): something other than the configured event \
         server answers at the url, the server is older than this node, or a proxy in \
         between drops the nonce header"
    )]
    Missing,
    /// `answerSig` is not `{"key", "sig", "seen"}`.
    #[error("its `answerSig` is not `{{\"key\": ..., \"sig\": ..., \"seen\": ...}}`: {reason}")]
    NotASignature {
        /// The JSON parser's message.
        reason: String,
    },
    /// `error` is not a code the server answers.
    #[error(
        "its `error` is not an event server's error code (lower-case letters, digits and \
         `_`), so it is no refusal the server signed"
    )]
    NotAnErrorCode,
    /// The server saw another body than the one this request sent.
    #[error(
        "its `answerSig` is signed for another request: the server refused a body it saw \
         as `{seen}`, and this request's body is `{sent}` (a relay in between sent the \
         server something other than this node's request)"
    )]
    OtherBody {
        /// `seen` as the answer writes it (at most 200 characters, escaped).
        seen: String,
        /// This request's body, as the server would have seen it.
        sent: String,
    },
    /// Signed for this request as received without the node's credential.
    #[error(
        "its `answerSig` is signed for another credential: the server refused this \
         request as it received it without this node's `Authorization` header or client \
         certificate (stripped on the way)"
    )]
    WithoutCredential,
    /// Not the named key's signature over this request's refusal.
    #[error(
        "its `answerSig` does not verify under the key it names for this request's nonce, \
         this status, error code and named event, and this node's credential: it is \
         signed for another request or credential (played back, or the request's \
         `Authorization` or client certificate changed on its way), or the answer was \
         changed on its way"
    )]
    DoesNotVerify,
    /// `answerSig.version` names a refusal text this node does not know.
    #[error(
        "its `answerSig` names refusal text version {version}, which this node does not \
         know (it checks `v1` and `v{LISTED_REFUSAL_VERSION}`)"
    )]
    UnknownVersion {
        /// The version named.
        version: u64,
    },
    /// `key` is not `ed25519:<64 hex>` of a key.
    #[error("its `answerSig` names no Ed25519 key in `key` (expected `{PREFIX}<64 hex>`)")]
    BadKey,
    /// `sig` is not 128 hex digits.
    #[error("its `answerSig` has a `sig` that is not 128 hex characters")]
    BadSig,
    /// Signed for this request by a key that is not one of `server_keys`.
    #[error(
        "its `answerSig` is signed by key {key}, which is not one of `server_keys` \
         ({trusted}): not signed by a pinned server key (something else answers at the \
         url, or the server's key was rotated: add its new key to `server_keys`)"
    )]
    UntrustedKey {
        /// The key that signed it (`ed25519:<64 hex>`).
        key: String,
        /// `server_keys`, comma-separated.
        trusted: String,
    },
}

/// The request as this node sent it: what a refusal of it must be signed for.
pub(crate) struct SentRequest<'a> {
    /// Its `Auditrail-Request-Nonce`.
    pub(crate) nonce: &'a str,
    /// Its `Authorization` value, if it sent one (all its bytes).
    pub(crate) authorization: Option<&'a [u8]>,
    /// SHA-256 of its client certificate's DER (64 hex), with mutual TLS.
    pub(crate) client_cert: Option<&'a str>,
    /// Its `Content-Type`.
    pub(crate) content_type: &'static str,
    /// Its `Content-Encoding` (`None`: not compressed).
    pub(crate) content_encoding: Option<&'static str>,
    /// `auditrail_core::answer::body_digest` of its events' NDJSON (before compression).
    pub(crate) body_digest: &'a str,
    /// Bytes of its events' NDJSON (before compression).
    pub(crate) plain_len: usize,
    /// The body as sent (compressed, when it is).
    pub(crate) sent: &'a [u8],
}

impl SentRequest<'_> {
    /// Whether the server's `seen` (as written in the answer) can be this request's
    /// body, as the server would see it when it reaches it unchanged.
    fn was_seen_as(&self, seen: &str) -> bool {
        if let Some(limit) = BodySeen::over_limit(seen) {
            // Over the limit as sent, or once decoded: the server refuses this body too.
            return self.sent.len() as u64 > limit || self.plain_len as u64 > limit;
        }
        if seen.starts_with("undecodable ") {
            return self.content_encoding.is_some_and(|encoding| {
                let own = BodySeen::Undecodable {
                    encoding,
                    digest: auditrail_core::answer::body_digest(self.sent),
                };
                seen == own.to_string()
            });
        }
        [
            BodySeen::Unread,
            BodySeen::Media {
                content_type: Some(self.content_type.to_owned()),
                content_encoding: self.content_encoding.map(str::to_owned),
            },
            self.events(),
        ]
        .iter()
        .any(|own| seen == own.to_string())
    }

    /// The body as the server sees it when it reads it whole.
    fn events(&self) -> BodySeen {
        BodySeen::Events {
            array: false,
            digest: self.body_digest.to_owned(),
        }
    }
}

/// The parts of a refusal the signature covers.
#[derive(Deserialize)]
struct Refusal<'a> {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default)]
    index: Option<u64>,
    /// The list as written (what the `v2` text covers, by its digest).
    #[serde(borrow, default)]
    events: Option<&'a RawValue>,
    #[serde(default, rename = "eventsMore")]
    events_more: Option<u64>,
    #[serde(default, rename = "answerSig")]
    answer_sig: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RefusalSig {
    key: String,
    sig: String,
    seen: String,
    /// Absent: the `v1` text.
    #[serde(default)]
    version: Option<u64>,
}

/// What of a refusal its valid signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Covered {
    /// The `v1` text: the event it names (`line`), not a list.
    Named,
    /// The `v2` text: the named event and the `events` list too.
    List,
}

/// `Ok` when the refusal `text` (status `status`) of `request` carries an `answerSig`
/// signed by one of `trusted` (not empty: `server_keys`) for this request, saying what
/// the signature covers; otherwise why it does not count.
pub(crate) fn check(
    status: u16,
    text: &str,
    request: &SentRequest<'_>,
    trusted: &[ServerKey],
) -> Result<Covered, RefusalProblem> {
    let refusal: Refusal<'_> =
        serde_json::from_str(text).map_err(|e| RefusalProblem::NotTheRefusal {
            reason: e.to_string(),
        })?;

    let sig = match refusal.answer_sig {
        None | Some(serde_json::Value::Null) => return Err(RefusalProblem::Missing),
        Some(v) => {
            serde_json::from_value::<RefusalSig>(v).map_err(|e| RefusalProblem::NotASignature {
                reason: e.to_string(),
            })?
        }
    };
    let covered = covered_by(sig.version)?;
    if !request.was_seen_as(&sig.seen) {
        return Err(RefusalProblem::OtherBody {
            seen: crate::client::body_start(&sig.seen)
                .trim_matches('"')
                .to_owned(),
            sent: request.events().to_string(),
        });
    }
    let error = refusal.error.unwrap_or_default();
    if !is_error_code(&error) {
        return Err(RefusalProblem::NotAnErrorCode);
    }
    let named = match (refusal.line, refusal.index) {
        (Some(l), _) => Some(Named::Line(l)),
        (None, Some(i)) => Some(Named::Index(i)),
        (None, None) => None,
    };
    let list = Listed {
        events: refusal.events.map(RawValue::get),
        more: refusal.events_more.unwrap_or(0),
    };
    let text_for = |authorization: &str, client_cert: Option<&str>| {
        let request = RefusedRequest {
            nonce: request.nonce,
            authorization,
            client_cert,
        };
        match covered {
            Covered::Named => refusal_text(status, &error, named, &request, &sig.seen),
            Covered::List => listed_refusal_text(status, &error, named, &request, &list, &sig.seen),
        }
    };
    let own = authorization_digest(request.authorization);
    let signed = text_for(&own, request.client_cert);
    match check_signature(&sig.key, &sig.sig, signed.as_bytes(), trusted) {
        Ok(()) => Ok(covered),
        Err(SigFault::BadKey) => Err(RefusalProblem::BadKey),
        Err(SigFault::BadSig) => Err(RefusalProblem::BadSig),
        Err(SigFault::UntrustedKey(key)) => Err(RefusalProblem::UntrustedKey {
            key,
            trusted: listed(trusted),
        }),
        Err(SigFault::DoesNotVerify) => {
            // Said apart when the server refused this very request as received without
            // the node's credential: a relay that strips it to get a genuine `401`.
            let stripped = text_for("-", None);
            let with = request.authorization.is_some() || request.client_cert.is_some();
            if with && check_signature(&sig.key, &sig.sig, stripped.as_bytes(), trusted).is_ok() {
                Err(RefusalProblem::WithoutCredential)
            } else {
                Err(RefusalProblem::DoesNotVerify)
            }
        }
    }
}

/// What a refusal signed over the text `answerSig.version` names covers: `v1` (no
/// `version`) the named event, [`LISTED_REFUSAL_VERSION`] the list too; any other is
/// not a text this node checks.
fn covered_by(version: Option<u64>) -> Result<Covered, RefusalProblem> {
    match version {
        None => Ok(Covered::Named),
        Some(v) if v == u64::from(LISTED_REFUSAL_VERSION) => Ok(Covered::List),
        Some(version) => Err(RefusalProblem::UnknownVersion { version }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    const NONCE: &str = "00112233445566778899aabbccddeeff";
    const BODY: &[u8] = b"{\"a\":1}\n";
    const AUTH: &[u8] = b"Bearer s3cret";

    use crate::server_key::test_key as public;

    fn digest() -> String {
        auditrail_core::answer::body_digest(BODY)
    }

    fn sent(d: &str) -> SentRequest<'_> {
        SentRequest {
            nonce: NONCE,
            authorization: Some(AUTH),
            client_cert: None,
            content_type: "application/x-ndjson",
            content_encoding: None,
            body_digest: d,
            plain_len: BODY.len(),
            sent: BODY,
        }
    }

    /// The refusal a server with key `seed` signs, for `authorization` and `seen`.
    fn refusal(
        seed: u8,
        status: u16,
        line: Option<u64>,
        auth: Option<&[u8]>,
        seen: &str,
    ) -> String {
        let text = refusal_text(
            status,
            "forbidden",
            line.map(Named::Line),
            &RefusedRequest {
                nonce: NONCE,
                authorization: &authorization_digest(auth),
                client_cert: None,
            },
            seen,
        );
        let sig = SigningKey::from_bytes(&[seed; 32]).sign(text.as_bytes());
        let line = line.map_or(String::new(), |l| format!(r#","line":{l}"#));
        format!(
            r#"{{"error":"forbidden","message":"no"{line},"answerSig":{{"key":"{}","sig":"{}","seen":{}}}}}"#,
            public(seed),
            hex::encode(sig.to_bytes()),
            serde_json::to_string(seen).unwrap()
        )
    }

    fn events_seen(d: &str) -> String {
        format!("events lines sha256:{d}")
    }

    #[test]
    fn the_servers_refusal_of_this_request_counts() {
        let d = digest();
        let keys = [public(1), public(7)];
        for seen in [events_seen(&d), "unread".into(), "over 3".into()] {
            let text = refusal(7, 403, Some(1), Some(AUTH), &seen);
            assert_eq!(
                check(403, &text, &sent(&d), &keys),
                Ok(Covered::Named),
                "{text}"
            );
        }
    }

    #[test]
    fn a_refusal_signed_for_anything_else_does_not_count() {
        let d = digest();
        let keys = [public(7)];
        let good = refusal(7, 403, Some(1), Some(AUTH), &events_seen(&d));
        let c = |text: &str| check(403, text, &sent(&d), &keys);
        // Unsigned, or by another key.
        assert_eq!(
            c(r#"{"error":"forbidden","message":"no"}"#),
            Err(RefusalProblem::Missing)
        );
        assert!(matches!(
            c(&refusal(9, 403, Some(1), Some(AUTH), &events_seen(&d))),
            Err(RefusalProblem::UntrustedKey { .. })
        ));
        // Another status, another named event, another code.
        assert_eq!(
            check(400, &good, &sent(&d), &keys),
            Err(RefusalProblem::DoesNotVerify)
        );
        assert_eq!(
            c(&good.replace(r#""line":1"#, r#""line":2"#)),
            Err(RefusalProblem::DoesNotVerify)
        );
        assert_eq!(
            c(&good.replace(r#""error":"forbidden""#, r#""error":"unrouted""#)),
            Err(RefusalProblem::DoesNotVerify)
        );
        assert_eq!(
            c(&good.replace(r#""error":"forbidden""#, r#""error":"x\ny""#)),
            Err(RefusalProblem::NotAnErrorCode)
        );
        // Another nonce.
        let mut other = sent(&d);
        other.nonce = "ffeeddccbbaa99887766554433221100";
        assert_eq!(
            check(403, &good, &other, &keys),
            Err(RefusalProblem::DoesNotVerify)
        );
        // Another body, framing, or a body over a limit this one is not over.
        let other_body = auditrail_core::answer::body_digest(b"{\"a\":2}\n");
        for seen in [
            events_seen(&other_body),
            format!("events array sha256:{d}"),
            format!("over {}", BODY.len()),
            "cut 3".into(),
            format!("undecodable gzip sha256:{d}"),
            r#"media "application/json" null"#.into(),
        ] {
            let text = refusal(7, 403, Some(1), Some(AUTH), &seen);
            assert!(
                matches!(c(&text), Err(RefusalProblem::OtherBody { .. })),
                "{seen}: {:?}",
                c(&text)
            );
        }
        // The server's refusal of this request without its Authorization.
        let stripped = refusal(7, 401, None, None, "unread");
        assert_eq!(
            check(401, &stripped, &sent(&d), &keys),
            Err(RefusalProblem::WithoutCredential)
        );
        // ... or with another one.
        let swapped = refusal(7, 401, None, Some(b"Bearer other"), "unread");
        assert_eq!(
            check(401, &swapped, &sent(&d), &keys),
            Err(RefusalProblem::DoesNotVerify)
        );
        // Not JSON.
        assert!(matches!(
            c("<h1>403</h1>"),
            Err(RefusalProblem::NotTheRefusal { .. })
        ));
        assert!(matches!(
            c(r#"{"error":"forbidden","answerSig":"x"}"#),
            Err(RefusalProblem::NotASignature { .. })
        ));
    }

    /// A `v2` refusal listing `events` (as written), signed by key `seed`.
    fn listed_refusal(seed: u8, events: &str, seen: &str) -> String {
        let text = listed_refusal_text(
            400,
            "timestamp_past_retention",
            Some(Named::Line(1)),
            &RefusedRequest {
                nonce: NONCE,
                authorization: &authorization_digest(Some(AUTH)),
                client_cert: None,
            },
            &Listed {
                events: Some(events),
                more: 0,
            },
            seen,
        );
        let sig = SigningKey::from_bytes(&[seed; 32]).sign(text.as_bytes());
        format!(
            r#"{{"error":"timestamp_past_retention","line":1,"events":{events},"answerSig":{{"key":"{}","sig":"{}","seen":{},"version":2}}}}"#,
            public(seed),
            hex::encode(sig.to_bytes()),
            serde_json::to_string(seen).unwrap()
        )
    }

    #[test]
    fn a_listed_refusal_counts_with_its_list_only_as_signed() {
        let d = digest();
        let keys = [public(7)];
        let list = r#"[{"line":1,"error":"timestamp_past_retention"},{"line":3,"error":"timestamp_past_retention"}]"#;
        let good = listed_refusal(7, list, &events_seen(&d));
        let c = |text: &str| check(400, text, &sent(&d), &keys);
        assert_eq!(c(&good), Ok(Covered::List));
        // An entry moved to another event, one added, or the version taken away.
        for changed in [
            good.replace(r#""line":3"#, r#""line":2"#),
            good.replace(
                r#"}]"#,
                r#"},{"line":2,"error":"timestamp_past_retention"}]"#,
            ),
            good.replace(r#","version":2"#, ""),
            good.replace(r#""events":["#, r#""eventsMore":1,"events":["#),
        ] {
            assert_eq!(c(&changed), Err(RefusalProblem::DoesNotVerify), "{changed}");
        }
        assert_eq!(
            c(&good.replace(r#""version":2"#, r#""version":9"#)),
            Err(RefusalProblem::UnknownVersion { version: 9 })
        );
        // A `v1` refusal covers its named event only, whatever list sits beside it.
        let v1 = refusal(7, 403, Some(1), Some(AUTH), &events_seen(&d)).replace(
            r#""message":"no""#,
            r#""message":"no","events":[{"line":2}]"#,
        );
        assert_eq!(check(403, &v1, &sent(&d), &keys), Ok(Covered::Named));
    }

    #[test]
    fn a_compressed_body_is_checked_as_sent_and_as_decoded() {
        let d = digest();
        let zipped = b"\x1f\x8b-not-really-gzip";
        let mut req = sent(&d);
        req.content_encoding = Some("gzip");
        req.sent = zipped;
        let keys = [public(7)];
        let raw = auditrail_core::answer::body_digest(zipped);
        for (seen, ok) in [
            (format!("undecodable gzip sha256:{raw}"), true),
            (format!("undecodable zstd sha256:{raw}"), false),
            (format!("undecodable gzip sha256:{d}"), false),
            (r#"media "application/x-ndjson" "gzip""#.to_owned(), true),
            (r#"media "application/x-ndjson" null"#.to_owned(), false),
            (format!("over {}", zipped.len() - 1), true),
            (format!("over {}", BODY.len().max(zipped.len())), false),
        ] {
            let text = refusal(7, 400, None, Some(AUTH), &seen);
            assert_eq!(check(400, &text, &req, &keys).is_ok(), ok, "{seen}");
        }
    }
}
