//! Whether a `200` answer is the event server's answer to this very request: its
//! `answerSig`.
//!
//! The node sends a fresh random nonce with each request (the
//! [`auditrail_core::answer::NONCE_HEADER`] header); the server signs, with the key it
//! signs receipts with, the nonce together with the answer's counts, `durable` and
//! `receipt` ([`auditrail_core::answer::signed_text`]) and adds
//! `"answerSig": {"key": "ed25519:<64 hex>", "sig": "<128 hex>"}` (docs/protocol.md).
//!
//! With `server_keys` set, a `200` is an acknowledgement only with an `answerSig` that
//! verifies for this request's nonce under one of those keys. That is what lets the
//! server acknowledge a batch without a receipt (no chained store, none of them took
//! the batch, duplicates older than a store remembers: a receipt-less `200` was refused
//! by a node with `server_keys` and the batch retried for ever), while a stand-in still
//! cannot: it has no listed key, and a genuine answer captured once answers another
//! nonce (a receipt alone is not bound to the request: played back with counts of the
//! right size, it passed). The receipt's text is covered too, so that a proxy cannot
//! swap the receipt of one answer into another, and so is the digest of the body the
//! server received: a stand-in that posts other events of the same number to the
//! server with the node's nonce (it gets both with each request) gets an answer that
//! does not verify for the node's own body.
//!
//! The node asks for the answer text that binds its credential too
//! ([`auditrail_core::answer::VERSION_HEADER`], `auditrail-answer-v3`): the digests of
//! the `Authorization` it sent and of its client certificate. Without it, a relay at
//! the node's url that posts the node's nonce and body on with a credential of its own
//! that may write those events got them stored under its own key id, and the server's
//! answer, signed for the relay's request, verified for the node's: the node took it
//! as its acknowledgement, and the recorded submitter was the relay. With
//! `server_keys`, an answer signed over the older `v2` text (a server before this, or a
//! relay that dropped the version header) is refused as [`AnswerSigProblem::Unbound`]
//! (retryable: the events are kept) unless `accept_unbound_answers` is set.
//!
//! It asks for `auditrail-answer-v4` ([`auditrail_core::answer::COUNTED_VERSION`]),
//! the `v3` text with the answer's `notDurable`: how many events of the batch are not
//! on the server's stable storage. Only a count the signature covers is taken (with
//! `server_keys`): one lowered on the way would make events pass for durable. A `v3`
//! answer (a server before the count) is taken as before, its count not: the whole
//! request then counts as its `durable` says.
//!
//! Without `server_keys`, an `answerSig` that is present must verify under the key it
//! names for this request, as a receipt must (receipt_check.rs): a signature that
//! does not is an answer to another request or one changed on its way. An answer
//! without one passes (servers before `answerSig`).

use auditrail_core::answer::{Credential, BOUND_VERSION, COUNTED_VERSION};
use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::client::Accepted;
use crate::server_key::{check_signature, listed, ServerKey, SigFault, PREFIX};

/// Why a `200` answer's `answerSig` does not make it the event server's answer (the
/// configured one, with `server_keys`) to this request.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum AnswerSigProblem {
    /// `server_keys` is set and the answer has no `answerSig`.
    #[error(
        "it carries no `answerSig` (the server's signature over its answer to this \
         request), and `server_keys` is set: the event server at the url is older than \
         this node (upgrade it: with `server_keys`, a node takes only signed answers), \
         a proxy in between drops the `Auditrail-Request-Nonce` header the node sends, \
         or something other than the configured event server answers there"
    )]
    Missing,
    /// `answerSig` is not `{"key": "...", "sig": "..."}`.
    #[error("its `answerSig` is not `{{\"key\": ..., \"sig\": ...}}`: {reason}")]
    NotASignature {
        /// The JSON parser's message.
        reason: String,
    },
    /// `key` is not `ed25519:<64 hex>` of a key.
    #[error("its `answerSig` names no Ed25519 key in `key` (expected `{PREFIX}<64 hex>`)")]
    BadKey,
    /// `sig` is not 128 hex digits.
    #[error("its `answerSig` has a `sig` that is not 128 hex characters")]
    BadSig,
    /// The signature is not the named key's over this request's nonce and this answer.
    #[error(
        "its `answerSig` does not verify under the key it names for this request and \
         this answer: it is the answer to another request (played back, one that \
         posted other events with this request's nonce, or one sent with another \
         credential than this node's `Authorization` or client certificate: a relay that \
         posts the events on with a key of its own has them stored under its key), or \
         its counts, `durable` or `receipt` were changed on its way (a proxy between the \
         node and the server must pass the request's body, its credential and the \
         answer's JSON on unchanged, whitespace included)"
    )]
    DoesNotVerify,
    /// `server_keys` is set and the answer is signed over the `v2` text, which does not
    /// bind the request's credential, without `accept_unbound_answers`.
    #[error(
        "its `answerSig` is the server's, but over the older `auditrail-answer-v2` text, \
         which does not bind the credential this node sent (its `Authorization` or client \
         certificate): a relay at the url that posts the events on with a credential of \
         its own would have them stored under its key, and this answer would read the \
         same. The event server is older than this node (the answer's credential binding \
         came with `auditrail-answer-v3`), or a proxy in between drops the \
         `Auditrail-Answer-Version` header the node sends. Nothing is taken as delivered; \
         the events are kept and sent again. Either upgrade the event server (servers \
         before their nodes), or set `accept_unbound_answers = true` on this target to \
         take such answers meanwhile"
    )]
    Unbound,
    /// `answerSig.version` names a text this node does not know.
    #[error(
        "its `answerSig` names version {version}, and this node asked for version \
         {asked} (`Auditrail-Answer-Version`, or {BOUND_VERSION} from a server before \
         it): it is no answer the event server signs for this request"
    )]
    UnknownVersion {
        /// The version the answer names.
        version: u64,
        /// The version the node asks for.
        asked: u32,
    },
    /// Validly signed for this request, by a key that is not one of `server_keys`.
    #[error(
        "its `answerSig` is signed by key {key}, which is not one of `server_keys` \
         ({trusted}): it is not the configured event server's answer (something else \
         answers at the url, or the server's key was rotated: add its new key to \
         `server_keys`)"
    )]
    UntrustedKey {
        /// The key that signed it (`ed25519:<64 hex>`).
        key: String,
        /// `server_keys`, comma-separated.
        trusted: String,
    },
}

/// The parts of the answer the signature covers that `Accepted` does not hold.
#[derive(Deserialize)]
struct Signed<'a> {
    /// As written in the body: the signed text holds its exact text.
    #[serde(borrow, default)]
    receipt: Option<&'a RawValue>,
    #[serde(default, rename = "answerSig")]
    answer_sig: Option<AnswerSig>,
}

#[derive(Deserialize)]
struct AnswerSig {
    key: String,
    sig: String,
    /// `3` for the text that binds the credential; absent for `v2`.
    #[serde(default)]
    version: Option<u64>,
}

/// The request as this node sent it: what the answer must be signed for.
pub(crate) struct AnsweredRequest<'a> {
    /// Its `Auditrail-Request-Nonce`.
    pub(crate) nonce: &'a str,
    /// `auditrail_core::answer::body_digest` of its events' NDJSON.
    pub(crate) body_digest: &'a str,
    /// The credential it sent (digests).
    pub(crate) credential: Credential<'a>,
    /// `accept_unbound_answers`: with `server_keys`, take an answer over the `v2` text.
    pub(crate) accept_unbound: bool,
}

/// What a checked answer's signature vouches for beyond its counts, `durable` and
/// receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Covered {
    /// Whether the answer's `notDurable` may be taken: signed over the `v4` text, or
    /// taken at face value as the whole answer is (no `server_keys`).
    pub(crate) not_durable: bool,
}

/// `Ok` when the answer `text` (whose counts are `counts`) to `request` carries an
/// `answerSig` that verifies under one of `trusted` over the text that binds the
/// request's credential (`v3`, or `v4` with its `notDurable`; or the `v2` text, with
/// `accept_unbound`), or, when `trusted` is empty, carries none or one that verifies
/// under the key it names (any text); otherwise why not. `Ok` says whether the answer's
/// `notDurable` is vouched for.
pub(crate) fn check(
    text: &str,
    request: &AnsweredRequest<'_>,
    counts: &Accepted,
    trusted: &[ServerKey],
) -> Result<Covered, AnswerSigProblem> {
    // Without `server_keys` the answer is taken at face value (any key may sign it).
    let face_value = trusted.is_empty();
    let answer: Signed<'_> =
        serde_json::from_str(text).map_err(|e| AnswerSigProblem::NotASignature {
            reason: e.to_string(),
        })?;
    let Some(sig) = answer.answer_sig else {
        return if face_value {
            Ok(Covered { not_durable: true })
        } else {
            Err(AnswerSigProblem::Missing)
        };
    };
    let (credential, counted) = match sig.version {
        None => (None, false),
        Some(v) if v == u64::from(BOUND_VERSION) => (Some(request.credential), false),
        Some(v) if v == u64::from(COUNTED_VERSION) => (Some(request.credential), true),
        Some(version) => {
            return Err(AnswerSigProblem::UnknownVersion {
                version,
                asked: COUNTED_VERSION,
            })
        }
    };
    let answered = auditrail_core::answer::AnsweredRequest {
        nonce: request.nonce,
        body_digest: request.body_digest,
        credential,
    };
    // An answer without `durable` is read as durable: a signature over `false` then
    // fails, so `durable: false` cannot be taken out on the way.
    let durable = counts.durable != Some(false);
    let receipt = answer.receipt.map(RawValue::get);
    let message = if counted {
        // An answer without `notDurable` is read as 0: a signature over another count
        // then fails, so the count cannot be taken out (or lowered) on the way.
        auditrail_core::answer::counted_text(
            &answered,
            counts.accepted,
            counts.duplicates,
            durable,
            counts.not_durable.unwrap_or(0),
            receipt,
        )
    } else {
        auditrail_core::answer::signed_text(
            &answered,
            counts.accepted,
            counts.duplicates,
            durable,
            receipt,
        )
    };
    check_signature(&sig.key, &sig.sig, message.as_bytes(), trusted).map_err(|f| match f {
        SigFault::BadKey => AnswerSigProblem::BadKey,
        SigFault::BadSig => AnswerSigProblem::BadSig,
        SigFault::DoesNotVerify => AnswerSigProblem::DoesNotVerify,
        SigFault::UntrustedKey(key) => AnswerSigProblem::UntrustedKey {
            key,
            trusted: listed(trusted),
        },
    })?;
    // Checked after the signature: an unbound answer the pinned server did sign for
    // this request is said apart from one it did not sign at all.
    if credential.is_none() && !trusted.is_empty() && !request.accept_unbound {
        return Err(AnswerSigProblem::Unbound);
    }
    Ok(Covered {
        not_durable: counted || face_value,
    })
}

/// A fresh nonce for one request: [`auditrail_core::answer::NONCE_HEX_LEN`] hex digits
/// of the operating system's random source. Unpredictable, not only unique: a nonce
/// known in advance would let anyone who can reach the server get its signed answer
/// for it, to play back later.
pub(crate) fn new_nonce() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; auditrail_core::answer::NONCE_HEX_LEN / 2];
    getrandom::getrandom(&mut bytes)?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn digest() -> String {
        auditrail_core::answer::body_digest(b"{}\n")
    }

    use crate::server_key::test_key as public;

    /// The digest of the node's `Authorization: Bearer s`.
    fn own_auth() -> String {
        auditrail_core::answer::authorization_digest([b"Bearer s".as_slice()])
    }

    /// The answer a server with key `seed` gives to `nonce` sent with `credential`
    /// (`None`: the `v2` text), with `receipt` as written.
    fn signed_for(
        seed: u8,
        nonce: &str,
        credential: Option<Credential<'_>>,
        durable: bool,
        receipt: Option<&str>,
    ) -> String {
        let d = digest();
        let request = auditrail_core::answer::AnsweredRequest {
            nonce,
            body_digest: &d,
            credential,
        };
        let text = auditrail_core::answer::signed_text(&request, 3, 1, durable, receipt);
        let sig = SigningKey::from_bytes(&[seed; 32]).sign(text.as_bytes());
        let receipt = receipt.map_or(String::new(), |r| format!(r#","receipt":{r}"#));
        let version =
            credential.map_or(String::new(), |_| format!(r#","version":{BOUND_VERSION}"#));
        format!(
            r#"{{"accepted":3,"duplicates":1,"durable":{durable}{receipt},"answerSig":{{"key":"{}","sig":"{}"{version}}}}}"#,
            public(seed),
            hex::encode(sig.to_bytes())
        )
    }

    /// The answer a server with key `seed` gives to `nonce` sent with the node's
    /// credential, bound to it, with `receipt` as written.
    fn answer(seed: u8, nonce: &str, durable: bool, receipt: Option<&str>) -> String {
        let auth = own_auth();
        let own = Credential {
            authorization: &auth,
            client_cert: None,
        };
        signed_for(seed, nonce, Some(own), durable, receipt)
    }

    fn counts(text: &str) -> Accepted {
        serde_json::from_str(text).unwrap()
    }

    fn checked_so(
        text: &str,
        nonce: &str,
        trusted: &[ServerKey],
        accept_unbound: bool,
    ) -> Result<(), AnswerSigProblem> {
        let d = digest();
        let auth = own_auth();
        let request = AnsweredRequest {
            nonce,
            body_digest: &d,
            credential: Credential {
                authorization: &auth,
                client_cert: None,
            },
            accept_unbound,
        };
        check(text, &request, &counts(text), trusted).map(|_| ())
    }

    fn checked(text: &str, nonce: &str, trusted: &[ServerKey]) -> Result<(), AnswerSigProblem> {
        checked_so(text, nonce, trusted, false)
    }

    #[test]
    fn the_servers_answer_to_this_request_passes_with_or_without_a_receipt() {
        let keys = [public(1), public(7)];
        for receipt in [None, Some("[]"), Some(r#"{"storeId":"s","firstSeq":1}"#)] {
            for durable in [true, false] {
                let text = answer(7, NONCE, durable, receipt);
                assert_eq!(checked(&text, NONCE, &keys), Ok(()), "{text}");
                assert_eq!(checked(&text, NONCE, &[]), Ok(()), "{text}");
            }
        }
        // `null` is no receipt, as an absent one.
        let text = answer(7, NONCE, true, None)
            .replace(r#""durable":true"#, r#""durable":true,"receipt":null"#);
        assert_eq!(checked(&text, NONCE, &keys), Ok(()), "{text}");
    }

    #[test]
    fn an_answer_to_another_request_or_changed_on_its_way_does_not_verify() {
        let keys = [public(7)];
        let text = answer(7, NONCE, true, Some(r#"{"a":1}"#));
        // Played back to another request.
        let other = "ffeeddccbbaa99887766554433221100";
        assert_eq!(
            checked(&text, other, &keys),
            Err(AnswerSigProblem::DoesNotVerify)
        );
        assert_eq!(
            checked(&text, other, &[]),
            Err(AnswerSigProblem::DoesNotVerify)
        );
        // The answer to other events posted with this nonce.
        let other_body = auditrail_core::answer::body_digest(b"{} \n");
        let auth = own_auth();
        let other_events = AnsweredRequest {
            nonce: NONCE,
            body_digest: &other_body,
            credential: Credential {
                authorization: &auth,
                client_cert: None,
            },
            accept_unbound: false,
        };
        assert_eq!(
            check(&text, &other_events, &counts(&text), &keys),
            Err(AnswerSigProblem::DoesNotVerify)
        );
        // The answer to this request sent on with another credential (a relay's own key
        // or certificate), or none.
        let relays = auditrail_core::answer::authorization_digest([b"Bearer r".as_slice()]);
        let cert = digest();
        for credential in [
            Credential {
                authorization: &relays,
                client_cert: None,
            },
            Credential {
                authorization: "-",
                client_cert: Some(&cert),
            },
            Credential {
                authorization: &auth,
                client_cert: Some(&cert),
            },
            Credential {
                authorization: "-",
                client_cert: None,
            },
        ] {
            let relayed = signed_for(7, NONCE, Some(credential), true, Some(r#"{"a":1}"#));
            for trusted in [&keys[..], &[]] {
                assert_eq!(
                    checked(&relayed, NONCE, trusted),
                    Err(AnswerSigProblem::DoesNotVerify),
                    "{credential:?}"
                );
            }
        }
        // Each covered field changed.
        for changed in [
            text.replace(
                r#""accepted":3,"duplicates":1"#,
                r#""accepted":4,"duplicates":0"#,
            ),
            text.replace(r#""durable":true"#, r#""durable":false"#),
            text.replace(r#","receipt":{"a":1}"#, r#","receipt":{"a":2}"#),
            text.replace(r#","receipt":{"a":1}"#, ""),
            text.replace(r#""receipt":{"a":1}"#, r#""receipt":{"a": 1}"#),
        ] {
            assert_ne!(changed, text);
            assert_eq!(
                checked(&changed, NONCE, &keys),
                Err(AnswerSigProblem::DoesNotVerify),
                "{changed}"
            );
        }
        // `durable: false` taken out.
        let not_durable = answer(7, NONCE, false, None);
        let stripped = not_durable.replace(r#""durable":false,"#, "");
        assert_eq!(
            checked(&stripped, NONCE, &keys),
            Err(AnswerSigProblem::DoesNotVerify)
        );
    }

    #[test]
    fn with_server_keys_only_their_signature_passes_and_one_is_needed() {
        let keys = [public(1), public(7)];
        let text = answer(9, NONCE, true, None);
        assert_eq!(checked(&text, NONCE, &[]), Ok(()));
        let why = checked(&text, NONCE, &keys).unwrap_err();
        assert_eq!(
            why,
            AnswerSigProblem::UntrustedKey {
                key: public(9).to_string(),
                trusted: format!("{}, {}", public(1), public(7)),
            }
        );
        assert!(
            why.to_string()
                .contains(&format!("signed by key {}, which is not one of", public(9))),
            "{why}"
        );

        let unsigned = r#"{"accepted":3,"duplicates":1,"durable":true}"#;
        assert_eq!(checked(unsigned, NONCE, &[]), Ok(()));
        let why = checked(unsigned, NONCE, &keys).unwrap_err();
        assert_eq!(why, AnswerSigProblem::Missing);
        assert!(why.to_string().contains("older than this node"), "{why}");
        let null = r#"{"accepted":3,"duplicates":1,"answerSig":null}"#;
        assert_eq!(checked(null, NONCE, &keys), Err(AnswerSigProblem::Missing));
    }

    #[test]
    fn an_unbound_answer_passes_only_unpinned_or_when_allowed() {
        let keys = [public(7)];
        let v2 = signed_for(7, NONCE, None, true, Some("[]"));
        assert!(!v2.contains("version"), "{v2}");
        let why = checked(&v2, NONCE, &keys).unwrap_err();
        assert_eq!(why, AnswerSigProblem::Unbound);
        for says in [
            "does not bind the credential this node sent",
            "upgrade the event server",
            "set `accept_unbound_answers = true`",
            "`Auditrail-Answer-Version` header",
        ] {
            assert!(why.to_string().contains(says), "{says}: {why}");
        }
        assert_eq!(checked_so(&v2, NONCE, &keys, true), Ok(()));
        // Unpinned, as before: an answer without the server's key cannot be told apart.
        assert_eq!(checked(&v2, NONCE, &[]), Ok(()));
        // Still the v2 signature for this request: another nonce does not verify, allowed
        // or not, and another key is named as such.
        let other = "ffeeddccbbaa99887766554433221100";
        assert_eq!(
            checked_so(&v2, other, &keys, true),
            Err(AnswerSigProblem::DoesNotVerify)
        );
        assert_eq!(
            checked(&v2, other, &keys),
            Err(AnswerSigProblem::DoesNotVerify)
        );
        assert!(matches!(
            checked(&v2, NONCE, &[public(1)]),
            Err(AnswerSigProblem::UntrustedKey { .. })
        ));
        // A bound answer whose `version` was taken out reads as v2 and does not verify;
        // one whose version was changed names it.
        let v3 = answer(7, NONCE, true, None);
        let stripped = v3.replace(&format!(r#","version":{BOUND_VERSION}"#), "");
        assert_ne!(stripped, v3);
        assert_eq!(
            checked_so(&stripped, NONCE, &keys, true),
            Err(AnswerSigProblem::DoesNotVerify)
        );
        let later = v3.replace(r#""version":3"#, r#""version":5"#);
        assert_eq!(
            checked(&later, NONCE, &keys),
            Err(AnswerSigProblem::UnknownVersion {
                version: 5,
                asked: COUNTED_VERSION
            })
        );
        // Read as the v4 text, the v3 signature does not verify.
        let as_v4 = v3.replace(r#""version":3"#, r#""version":4"#);
        assert_eq!(
            checked(&as_v4, NONCE, &keys),
            Err(AnswerSigProblem::DoesNotVerify)
        );
    }

    /// The `v4` answer a server with key `seed` gives to `nonce` sent with the node's
    /// credential: not durable, `not_durable` of its 4 events.
    fn counted(seed: u8, nonce: &str, not_durable: u64) -> String {
        let d = digest();
        let auth = own_auth();
        let request = auditrail_core::answer::AnsweredRequest {
            nonce,
            body_digest: &d,
            credential: Some(Credential {
                authorization: &auth,
                client_cert: None,
            }),
        };
        let text = auditrail_core::answer::counted_text(&request, 3, 1, false, not_durable, None);
        let sig = SigningKey::from_bytes(&[seed; 32]).sign(text.as_bytes());
        format!(
            r#"{{"accepted":3,"duplicates":1,"durable":false,"notDurable":{not_durable},"answerSig":{{"key":"{}","sig":"{}","version":{COUNTED_VERSION}}}}}"#,
            public(seed),
            hex::encode(sig.to_bytes())
        )
    }

    fn covered(text: &str, trusted: &[ServerKey]) -> Result<Covered, AnswerSigProblem> {
        let d = digest();
        let auth = own_auth();
        let request = AnsweredRequest {
            nonce: NONCE,
            body_digest: &d,
            credential: Credential {
                authorization: &auth,
                client_cert: None,
            },
            accept_unbound: false,
        };
        check(text, &request, &counts(text), trusted)
    }

    #[test]
    fn the_not_durable_count_is_taken_only_where_the_signature_covers_it() {
        let keys = [public(7)];
        let text = counted(7, NONCE, 2);
        let vouched = Ok(Covered { not_durable: true });
        assert_eq!(covered(&text, &keys), vouched);
        assert_eq!(covered(&text, &[]), vouched);
        // Lowered, or taken out, on the way: not the server's answer.
        for changed in [
            text.replace(r#""notDurable":2"#, r#""notDurable":0"#),
            text.replace(r#""notDurable":2,"#, ""),
        ] {
            assert_ne!(changed, text);
            assert_eq!(
                covered(&changed, &keys),
                Err(AnswerSigProblem::DoesNotVerify),
                "{changed}"
            );
        }
        // A v3 answer (a server before the count) is taken, its count is not.
        let v3 = answer(7, NONCE, false, None)
            .replace(r#""durable":false"#, r#""durable":false,"notDurable":1"#);
        assert_eq!(covered(&v3, &keys), Ok(Covered { not_durable: false }));
        // Unpinned, the whole answer is taken at face value.
        assert_eq!(covered(&v3, &[]), vouched);
    }

    #[test]
    fn a_signature_that_does_not_verify_says_what_a_proxy_must_leave_alone() {
        let text = answer(7, NONCE, true, Some(r#"{"a":1}"#));
        let reformatted = text.replace(r#""receipt":{"a":1}"#, r#""receipt":{"a": 1}"#);
        let why = checked(&reformatted, NONCE, &[public(7)]).unwrap_err();
        assert_eq!(why, AnswerSigProblem::DoesNotVerify);
        assert!(
            why.to_string().contains(
                "a proxy between the node and the server must pass the request's body, its \
                 credential and the answer's JSON on unchanged"
            ),
            "{why}"
        );
    }

    #[test]
    fn a_signature_that_is_no_signature_is_named() {
        let text = answer(7, NONCE, true, None);
        let key = public(7).to_string();
        for (changed, problem) in [
            (text.replace(&key, "ed25519:00"), AnswerSigProblem::BadKey),
            (
                text.replace(r#""sig":""#, r#""sig":"zz"#),
                AnswerSigProblem::BadSig,
            ),
        ] {
            assert_eq!(checked(&changed, NONCE, &[]), Err(problem), "{changed}");
        }
        let why = checked(
            r#"{"accepted":3,"duplicates":1,"answerSig":"x"}"#,
            NONCE,
            &[],
        )
        .unwrap_err();
        assert!(
            matches!(why, AnswerSigProblem::NotASignature { .. }),
            "{why:?}"
        );
    }

    #[test]
    fn nonces_are_fresh_hex() {
        let a = new_nonce().unwrap();
        assert!(auditrail_core::answer::is_nonce(&a), "{a}");
        assert_ne!(a, new_nonce().unwrap());
    }
}
