//! The `200` answer to `POST /v1/events`, and its `answerSig` when the request carries
//! a nonce (docs/protocol.md, "`answerSig`").
//!
//! A node that pins this server's key (`server_keys`) takes a `200` as delivery only
//! when it can tell that this server answered this request. A receipt cannot say so
//! for every answer: a batch no chained store took has none (no chained store, the
//! stores' filters, duplicates older than a store remembers), and a receipt is not
//! bound to the request it answers. So the node sends a fresh nonce with each request
//! and the server signs it together with the digest of the body it received and the
//! answer's counts, `durable` and `receipt` (`auditrail_core::answer::signed_text`),
//! with the key it signs receipts with: one signature per request, whatever the
//! batch's size. The body's digest makes the answer one for these events: a stand-in
//! at the node's url that posts other events of the same number with the node's nonce
//! gets an answer that does not verify for the node's batch.
//! A request without a nonce (a node before this, `curl`) gets the answer as before.
//!
//! A request that asks for `Auditrail-Answer-Version: 4` (a node that counts what is
//! not durable) gets the `auditrail-answer-v4` text: the `v3` text with the answer's
//! `notDurable`, how many events of the batch are not on stable storage (a server whose
//! destinations are durable for some topics only says which part of a batch is not).
//!
//! A request that asks for it (`Auditrail-Answer-Version: 3`, [`asks_bound`]) gets the
//! `auditrail-answer-v3` text, which binds its credential too (the digests of its
//! `Authorization` lines and of its client certificate, as a refusal's does): a relay
//! at a node's url that posts the node's events on with a credential of its own that
//! may write them gets them stored under its own key id, and the answer it passes back
//! is signed for its credential, which does not verify for the node's. A request that
//! does not ask (a node before it) gets the `v2` text as before, so that servers can be
//! upgraded before their nodes; the answer says which it signed
//! (`answerSig.version: 3`, absent for `v2`).
//!
//! Final refusals (every `4xx` but `408` and `429`) of a request that sent a nonce are
//! signed too, by [`sign_refusal`] where the endpoint's errors become answers: a node
//! with `server_keys` gives events up (dead-letters them) only on a refusal the server
//! made of its own request, never on a stand-in's `403`. The signature covers the
//! status, the error code, the event the refusal names, the request's credential
//! (digests of its `Authorization` lines and of its client certificate) and what of
//! its body the server saw (`auditrail_core::answer::BodySeen`, set where the body was
//! read or refused; its doc says why each kind cannot be turned into a refusal of
//! another request): `auditrail_core::answer::refusal_text`. The refusals decided
//! before the endpoint (a header sent twice, a browser's cross-site or rebinding
//! marks, no `Host`) are not signed: a node never sends such a request itself, so
//! such an answer is of a request changed on its way, and a pinned node keeps the
//! events and sends them again.

use auditrail_core::answer::{
    is_nonce, AnsweredRequest, Credential, Listed, RefusedRequest, BOUND_VERSION, COUNTED_VERSION,
    LISTED_REFUSAL_VERSION, NONCE_HEADER, NONCE_HEX_LEN, REFUSAL_VERSION_HEADER, VERSION_HEADER,
};
use auditrail_integrity::Signer;
use axum::http::StatusCode;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::value::RawValue;

use super::error::{ApiError, Signing};
use crate::auth::Credentials;

/// What a client writes when its events are not yet fsynced.
const NOT_DURABLE: &str = "at least one destination that took the events (or holds the stored \
                           originals of duplicates) answers before they are on disk (a store's \
                           flush policy, a file destination with fsync = false, a forwarding \
                           destination with spool_fsync = \"never\", Kafka with acks below all): \
                           they are written but not yet fsynced, and a power loss may lose them";

/// The request's nonce, which the answer signs: `None` without the header. A header
/// that is not one nonce ([`NONCE_HEX_LEN`] hex digits, sent once) is `400
/// invalid_nonce`: only such text may enter the signed answer.
fn request_nonce(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(NONCE_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let sent = 1 + values.count();
    if sent > 1 {
        return Err(ApiError::bad_request(
            "invalid_nonce",
            format!(
                "the Auditrail-Request-Nonce header is sent {sent} times: a request has one \
                 nonce, which the answer signs"
            ),
        ));
    }
    match value.to_str() {
        Ok(nonce) if is_nonce(nonce) => Ok(Some(nonce.to_owned())),
        _ => Err(ApiError::bad_request(
            "invalid_nonce",
            format!(
                "the Auditrail-Request-Nonce header has {} bytes that are not {NONCE_HEX_LEN} \
                 hex digits: it must be {NONCE_HEX_LEN} hex digits (16 random bytes, new for \
                 each request), which the answer signs",
                value.len()
            ),
        )),
    }
}

/// The answer text the request asks for: `Auditrail-Answer-Version: <n>` with `n` at
/// least [`COUNTED_VERSION`] gets the `v4` text (its credential and the answer's
/// `notDurable` covered), at least [`BOUND_VERSION`] the `v3` text (its credential
/// covered); a later node's version gets the newest text this server signs (the answer
/// names it). No header, or an older version: the `v2` text (`None`). A header sent
/// twice, or that is not a decimal version, is `400 invalid_answer_version`.
pub(super) fn asks_bound(headers: &HeaderMap) -> Result<Option<u32>, ApiError> {
    let header = VersionHeader {
        name: VERSION_HEADER,
        error: "invalid_answer_version",
        what: "answer",
        at_least: BOUND_VERSION,
        gives: "the answer binds the request's credential",
    };
    Ok(match header.version(headers)? {
        Some(v) if v >= COUNTED_VERSION => Some(COUNTED_VERSION),
        Some(v) if v >= BOUND_VERSION => Some(BOUND_VERSION),
        _ => None,
    })
}

/// Whether the request asks for refusals signed over the text that covers their list of
/// events at fault ([`LISTED_REFUSAL_VERSION`], `Auditrail-Refusal-Version: 2` or
/// later). No header, or an older version: the `v1` text, which covers `line`/`index`
/// alone (what nodes before it check). A header sent twice, or that is not a decimal
/// version, is `400 invalid_refusal_version`.
pub(super) fn asks_listed(headers: &HeaderMap) -> Result<bool, ApiError> {
    VersionHeader {
        name: REFUSAL_VERSION_HEADER,
        error: "invalid_refusal_version",
        what: "refusal",
        at_least: LISTED_REFUSAL_VERSION,
        gives: "the refusal's signature covers its list of events",
    }
    .asks(headers)
}

/// A request header naming the version of a signed text the client checks.
struct VersionHeader {
    name: &'static str,
    /// The `400`'s code when it is sent twice or is no decimal number.
    error: &'static str,
    /// What is signed: `answer`, `refusal`.
    what: &'static str,
    /// The version that gives the newer text.
    at_least: u32,
    /// What that version gives, for the error's message.
    gives: &'static str,
}

impl VersionHeader {
    /// Whether `headers` ask for [`Self::at_least`] or later: `false` without the
    /// header; `400` when it is sent twice or is no decimal number.
    fn asks(&self, headers: &HeaderMap) -> Result<bool, ApiError> {
        Ok(self.version(headers)?.is_some_and(|v| v >= self.at_least))
    }

    /// The version `headers` ask for: `None` without the header (one past `u32` is
    /// `u32::MAX`); `400` when it is sent twice or is no decimal number.
    fn version(&self, headers: &HeaderMap) -> Result<Option<u32>, ApiError> {
        let mut values = headers.get_all(self.name).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        let sent = 1 + values.count();
        let (name, what, at_least) = (self.name, self.what, self.at_least);
        if sent > 1 {
            return Err(ApiError::bad_request(
                self.error,
                format!(
                    "the {name} header is sent {sent} times: a request asks for one version \
                     of the signed {what}"
                ),
            ));
        }
        let digits = value
            .to_str()
            .ok()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
        match digits {
            // Any number of digits is a version: one past `u32` is later than any
            // text there is (the docs say `3` "or more"), not a malformed header.
            Some(v) => Ok(Some(v.parse::<u32>().unwrap_or(u32::MAX))),
            None => {
                // The value's length, not the value: said of a header whatever it holds.
                let len = value.len();
                let bytes = if len == 1 { "byte" } else { "bytes" };
                Err(ApiError::bad_request(
                    self.error,
                    format!(
                        "the {name} header ({len} {bytes}) is not a decimal version: it names \
                         the version of the signed {what} the client checks ({at_least}: {})",
                        self.gives
                    ),
                ))
            }
        }
    }
}

/// The request's credential as the server received it: the digests a signed answer
/// (`v3`) or refusal binds (`auditrail_core::answer::Credential`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReceivedCredential {
    /// `auditrail_core::answer::authorization_digest` of its `Authorization` lines.
    authorization: String,
    /// SHA-256 of the connection's client certificate (DER), with mutual TLS.
    client_cert: Option<std::sync::Arc<str>>,
}

impl ReceivedCredential {
    /// The credential of the request with `headers`, on a connection with
    /// `credentials`.
    pub(super) fn of(headers: &HeaderMap, credentials: &Credentials) -> ReceivedCredential {
        ReceivedCredential {
            authorization: auditrail_core::answer::authorization_digest(
                headers
                    .get_all(header::AUTHORIZATION)
                    .iter()
                    .map(|v| v.as_bytes()),
            ),
            client_cert: credentials.cert.as_ref().map(|c| c.sha256.clone()),
        }
    }

    fn as_signed(&self) -> Credential<'_> {
        Credential {
            authorization: &self.authorization,
            client_cert: self.client_cert.as_deref(),
        }
    }
}

/// The body of the answer, in this order (the receipt's text is written as signed).
#[derive(Serialize)]
struct Body<'a> {
    accepted: usize,
    duplicates: usize,
    durable: bool,
    /// How many events of the batch are not on stable storage; left out when none
    /// (`durable: true`).
    #[serde(rename = "notDurable", skip_serializing_if = "Option::is_none")]
    not_durable: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
    #[serde(rename = "answerSig", skip_serializing_if = "Option::is_none")]
    answer_sig: Option<AnswerSig>,
}

#[derive(Serialize)]
struct AnswerSig {
    /// `ed25519:<64 hex>`: the key receipts and checkpoints are signed with.
    key: String,
    /// Ed25519 signature, 128 hex.
    sig: String,
    /// [`BOUND_VERSION`] when the text signed binds the request's credential,
    /// [`COUNTED_VERSION`] when it covers `notDurable` too; absent for the `v2` text
    /// (what servers before it answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
}

/// The `answerSig` of a refusal: the key and signature, and what of the request's body
/// the server saw (written as signed, `auditrail_core::answer::BodySeen`), which the
/// client checks against its own request before it checks the signature.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RefusalSig {
    /// `ed25519:<64 hex>`.
    key: String,
    /// Ed25519 signature, 128 hex.
    sig: String,
    /// The `BodySeen` text.
    seen: String,
    /// [`LISTED_REFUSAL_VERSION`] when the text signed covers the refusal's `events`
    /// list; absent for the `v1` text (what servers before it answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
}

/// `refused`, signed for the request (`headers`, `credentials`) when it is a final
/// refusal (`auditrail_core::answer::is_final_refusal`) of a request that sent a valid
/// nonce, and says what of the body was seen (every final refusal of the ingest does;
/// one that does not is left unsigned, and a pinned node retries it). Anything else is
/// answered as it is.
pub(super) fn sign_refusal(
    mut refused: ApiError,
    headers: &HeaderMap,
    credentials: &Credentials,
    signer: &Signer,
) -> ApiError {
    if !auditrail_core::answer::is_final_refusal(refused.status().as_u16()) {
        return refused;
    }
    let Ok(Some(nonce)) = request_nonce(headers) else {
        return refused;
    };
    let Some(seen) = refused.body_seen() else {
        tracing::debug!(
            error = refused.error,
            "a refusal that does not say what of the body was seen is not signed"
        );
        return refused;
    };
    let seen = seen.to_string();
    let credential = ReceivedCredential::of(headers, credentials);
    let signed = credential.as_signed();
    let request = RefusedRequest {
        nonce: &nonce,
        authorization: signed.authorization,
        client_cert: signed.client_cert,
    };
    // A request that asks for it (a node that reads the list) gets the text that
    // covers the list of events at fault; the header was checked before the body, so a
    // value that is not a version here is of a refusal decided before that check.
    let listed = asks_listed(headers).unwrap_or(false);
    let text = if listed {
        let events = refused.events_text();
        auditrail_core::answer::listed_refusal_text(
            refused.status().as_u16(),
            refused.error,
            refused.named(),
            &request,
            &Listed {
                events: events.as_deref(),
                more: u64::from(refused.events_more),
            },
            &seen,
        )
    } else {
        auditrail_core::answer::refusal_text(
            refused.status().as_u16(),
            refused.error,
            refused.named(),
            &request,
            &seen,
        )
    };
    refused.signing = Some(Box::new(Signing::Signed(RefusalSig {
        key: signer.public_key().to_string(),
        sig: hex::encode(signer.sign(text.as_bytes())),
        seen,
        version: listed.then_some(LISTED_REFUSAL_VERSION),
    })));
    refused
}

/// What the batch's answer says.
pub(super) struct Outcome {
    pub(super) accepted: usize,
    pub(super) duplicates: usize,
    /// How many events of the batch are not on stable storage in every destination
    /// that took them or holds their originals (`durable` when 0).
    pub(super) not_durable: usize,
    /// The `"receipt"` value (`None`: no chained store, the key is left out).
    pub(super) receipt: Option<serde_json::Value>,
}

/// What a request that sent a nonce asks its answer to be signed for, known from its
/// head: the nonce and, when it asks for the `v3` text, its credential.
pub(super) struct Asked {
    /// The request's `Auditrail-Request-Nonce`.
    pub(super) nonce: String,
    /// Its credential, when it asked for the text that binds it.
    pub(super) credential: Option<ReceivedCredential>,
    /// Whether it asked for the text that covers `notDurable` too ([`COUNTED_VERSION`]).
    pub(super) counted: bool,
}

/// What the request with `headers` (on a connection with `credentials`) asks its answer
/// to be signed for: `None` without a nonce (an answer without `answerSig`).
pub(super) fn asked(
    headers: &HeaderMap,
    credentials: &Credentials,
) -> Result<Option<Asked>, ApiError> {
    let nonce = request_nonce(headers)?;
    let bound = asks_bound(headers)?;
    // Checked here, from the head, so that a refusal is never signed over a text the
    // request did not clearly ask for.
    asks_listed(headers)?;
    Ok(nonce.map(|nonce| Asked {
        nonce,
        credential: bound.map(|_| ReceivedCredential::of(headers, credentials)),
        counted: bound == Some(COUNTED_VERSION),
    }))
}

/// What the answer to a request that sent a nonce signs besides the answer itself.
pub(super) struct SignedFor {
    /// The request's `Auditrail-Request-Nonce`.
    pub(super) nonce: String,
    /// [`auditrail_core::answer::body_digest`] of the request's decoded body.
    pub(super) body_digest: String,
    /// The request's credential, when it asked for the text that binds it
    /// ([`asks_bound`]); `None`: the `v2` text.
    pub(super) credential: Option<ReceivedCredential>,
    /// Whether it asked for the text that covers `notDurable` too (`v4`; with a
    /// credential).
    pub(super) counted: bool,
}

/// The `200` answer of `outcome`; signed by `signer` for the request, if it sent a
/// nonce (about 20 µs).
pub(super) fn answer(
    outcome: Outcome,
    signed_for: Option<&SignedFor>,
    signer: &Signer,
) -> Result<Response, ApiError> {
    // The receipt's text, made once: what the body holds and what the signature covers
    // are the same bytes.
    let receipt = outcome
        .receipt
        .map(|r| serde_json::value::to_raw_value(&r))
        .transpose()
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the receipt could not be written: {e}"),
            )
        })?;
    let receipt = receipt.as_deref();
    let durable = outcome.not_durable == 0;
    let answer_sig = signed_for.map(|request| {
        let answered = AnsweredRequest {
            nonce: &request.nonce,
            body_digest: &request.body_digest,
            credential: request
                .credential
                .as_ref()
                .map(ReceivedCredential::as_signed),
        };
        // `null` is no receipt, as an absent one (a node reads both as none).
        let receipt = receipt.map(RawValue::get).filter(|r| *r != "null");
        let counted = request.counted && request.credential.is_some();
        let text = if counted {
            auditrail_core::answer::counted_text(
                &answered,
                outcome.accepted as u64,
                outcome.duplicates as u64,
                durable,
                outcome.not_durable as u64,
                receipt,
            )
        } else {
            auditrail_core::answer::signed_text(
                &answered,
                outcome.accepted as u64,
                outcome.duplicates as u64,
                durable,
                receipt,
            )
        };
        let version = match (&request.credential, counted) {
            (None, _) => None,
            (Some(_), false) => Some(BOUND_VERSION),
            (Some(_), true) => Some(COUNTED_VERSION),
        };
        AnswerSig {
            key: signer.public_key().to_string(),
            sig: hex::encode(signer.sign(text.as_bytes())),
            version,
        }
    });
    Ok(Json(Body {
        accepted: outcome.accepted,
        duplicates: outcome.duplicates,
        durable,
        not_durable: (!durable).then_some(outcome.not_durable),
        receipt,
        note: (!durable).then_some(NOT_DURABLE),
        answer_sig,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn request() -> SignedFor {
        SignedFor {
            nonce: NONCE.to_owned(),
            body_digest: auditrail_core::answer::body_digest(b"{}\n"),
            credential: None,
            counted: false,
        }
    }

    /// The `v2` text of the answer to [`request`], with these fields.
    fn unbound(digest: &str, accepted: u64, duplicates: u64, receipt: Option<&str>) -> String {
        let r = AnsweredRequest {
            nonce: NONCE,
            body_digest: digest,
            credential: None,
        };
        auditrail_core::answer::signed_text(&r, accepted, duplicates, true, receipt)
    }

    async fn body(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn outcome(receipt: Option<serde_json::Value>) -> Outcome {
        Outcome {
            accepted: 2,
            duplicates: 1,
            not_durable: 0,
            receipt,
        }
    }

    #[tokio::test]
    async fn the_signature_covers_this_nonce_the_counts_and_the_receipt_as_written() {
        let signer = Signer::from_seed([3; 32]);
        let receipt = serde_json::json!({"storeId": "s", "firstSeq": 1, "lastSeq": 3});
        let written = serde_json::to_string(&receipt).unwrap();
        for (receipt, text) in [
            (Some(receipt), Some(written.as_str())),
            (Some(serde_json::Value::Null), None),
            (Some(serde_json::json!([])), Some("[]")),
            (None, None),
        ] {
            let b = body(answer(outcome(receipt), Some(&request()), &signer).unwrap()).await;
            let digest = request().body_digest;
            assert_eq!(b["answerSig"]["key"], signer.public_key().to_string());
            let mut sig = [0u8; 64];
            hex::decode_to_slice(b["answerSig"]["sig"].as_str().unwrap(), &mut sig).unwrap();
            assert!(b["answerSig"].get("version").is_none(), "{b}");
            let signed = unbound(&digest, 2, 1, text);
            assert!(signer.public_key().verify(signed.as_bytes(), &sig), "{b}");
            let other = unbound(&digest, 3, 0, text);
            assert!(!signer.public_key().verify(other.as_bytes(), &sig), "{b}");
            let other_body = auditrail_core::answer::body_digest(b"{} \n");
            let other = unbound(&other_body, 2, 1, text);
            assert!(!signer.public_key().verify(other.as_bytes(), &sig), "{b}");
        }
    }

    #[tokio::test]
    async fn asked_for_v3_the_signature_binds_the_requests_credential() {
        let signer = Signer::from_seed([3; 32]);
        let mut h = HeaderMap::new();
        h.insert(NONCE_HEADER, HeaderValue::from_static(NONCE));
        h.insert(VERSION_HEADER, HeaderValue::from_static("3"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s"));
        let asked = asked(&h, &Credentials::default()).unwrap().unwrap();
        let digest = auditrail_core::answer::body_digest(b"{}\n");
        let signed_for = SignedFor {
            nonce: asked.nonce,
            body_digest: digest.clone(),
            credential: asked.credential,
            counted: asked.counted,
        };
        let b = body(answer(outcome(None), Some(&signed_for), &signer).unwrap()).await;
        assert_eq!(b["answerSig"]["version"], 3, "{b}");
        let mut sig = [0u8; 64];
        hex::decode_to_slice(b["answerSig"]["sig"].as_str().unwrap(), &mut sig).unwrap();
        let text = |authorization: &str, client_cert: Option<&str>| {
            auditrail_core::answer::signed_text(
                &AnsweredRequest {
                    nonce: NONCE,
                    body_digest: &digest,
                    credential: Some(Credential {
                        authorization,
                        client_cert,
                    }),
                },
                2,
                1,
                true,
                None,
            )
        };
        let own = auditrail_core::answer::authorization_digest([b"Bearer s".as_slice()]);
        let relays = auditrail_core::answer::authorization_digest([b"Bearer r".as_slice()]);
        let verifies = |t: String| signer.public_key().verify(t.as_bytes(), &sig);
        assert!(verifies(text(&own, None)), "{b}");
        assert!(!verifies(text(&relays, None)), "{b}");
        assert!(!verifies(text("-", None)), "{b}");
        assert!(!verifies(text(&own, Some(&digest))), "{b}");
        assert!(!verifies(unbound(&digest, 2, 1, None)), "{b}");
    }

    #[tokio::test]
    async fn asked_for_v4_the_signature_covers_the_not_durable_count() {
        let signer = Signer::from_seed([3; 32]);
        let mut h = HeaderMap::new();
        h.insert(NONCE_HEADER, HeaderValue::from_static(NONCE));
        h.insert(VERSION_HEADER, HeaderValue::from_static("4"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s"));
        let asked = asked(&h, &Credentials::default()).unwrap().unwrap();
        assert!(asked.counted);
        let digest = auditrail_core::answer::body_digest(b"{}\n");
        let signed_for = SignedFor {
            nonce: asked.nonce,
            body_digest: digest.clone(),
            credential: asked.credential,
            counted: asked.counted,
        };
        let mut partly = outcome(None);
        partly.not_durable = 2;
        let b = body(answer(partly, Some(&signed_for), &signer).unwrap()).await;
        assert_eq!(b["answerSig"]["version"], 4, "{b}");
        assert_eq!(
            (&b["durable"], &b["notDurable"]),
            (&false.into(), &2.into())
        );
        let mut sig = [0u8; 64];
        hex::decode_to_slice(b["answerSig"]["sig"].as_str().unwrap(), &mut sig).unwrap();
        let own = auditrail_core::answer::authorization_digest([b"Bearer s".as_slice()]);
        let r = AnsweredRequest {
            nonce: NONCE,
            body_digest: &digest,
            credential: Some(Credential {
                authorization: &own,
                client_cert: None,
            }),
        };
        let verifies = |t: String| signer.public_key().verify(t.as_bytes(), &sig);
        assert!(verifies(auditrail_core::answer::counted_text(
            &r, 2, 1, false, 2, None
        )));
        // Another count, or the v3 text of the same answer, does not verify.
        assert!(!verifies(auditrail_core::answer::counted_text(
            &r, 2, 1, false, 0, None
        )));
        assert!(!verifies(auditrail_core::answer::counted_text(
            &r, 2, 1, false, 3, None
        )));
        assert!(!verifies(auditrail_core::answer::signed_text(
            &r, 2, 1, false, None
        )));
    }

    #[test]
    fn the_refusal_version_header_takes_any_decimal_version() {
        let mut h = HeaderMap::new();
        assert!(!asks_listed(&h).unwrap());
        for (value, listed) in [
            ("2", true),
            ("1", false),
            // It was refused as "not a decimal version", which it is.
            ("99999999999999999999999", true),
        ] {
            h.insert(REFUSAL_VERSION_HEADER, HeaderValue::from_static(value));
            assert_eq!(asks_listed(&h).unwrap(), listed, "{value}");
        }
        h.insert(REFUSAL_VERSION_HEADER, HeaderValue::from_static("v2"));
        let e = asks_listed(&h).unwrap_err();
        assert_eq!(e.error, "invalid_refusal_version");
        assert!(
            e.message.contains("(2 bytes) is not a decimal version"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_answer_version_header_asks_for_v3_or_is_refused() {
        let mut h = HeaderMap::new();
        assert_eq!(asks_bound(&h).unwrap(), None);
        for (value, bound) in [
            ("3", Some(3)),
            ("4", Some(4)),
            ("5", Some(4)),
            ("2", None),
            ("0", None),
            // Decimal, past u32: a later version, not a malformed header.
            ("99999999999", Some(4)),
            ("000", None),
        ] {
            h.insert(VERSION_HEADER, HeaderValue::from_static(value));
            assert_eq!(asks_bound(&h).unwrap(), bound, "{value}");
        }
        h.append(VERSION_HEADER, HeaderValue::from_static("3"));
        let e = asks_bound(&h).unwrap_err();
        assert_eq!(
            (e.status(), e.error),
            (StatusCode::BAD_REQUEST, "invalid_answer_version")
        );
        assert!(e.message.contains("sent 2 times"), "{}", e.message);
        for bad in ["", "v3", "+3", " 3", "3.0", "-1"] {
            let mut h = HeaderMap::new();
            h.insert(VERSION_HEADER, HeaderValue::from_str(bad).unwrap());
            let e = asks_bound(&h).unwrap_err();
            assert_eq!(e.error, "invalid_answer_version", "{bad}");
            assert!(e.message.contains("not a decimal version"), "{}", e.message);
        }
        // One byte is said as one.
        let mut h = HeaderMap::new();
        h.insert(VERSION_HEADER, HeaderValue::from_static("x"));
        let e = asks_bound(&h).unwrap_err();
        assert!(e.message.contains("(1 byte)"), "{}", e.message);
        // Without a nonce nothing is signed, whatever the version asked for.
        let mut h = HeaderMap::new();
        h.insert(VERSION_HEADER, HeaderValue::from_static("3"));
        assert!(asked(&h, &Credentials::default()).unwrap().is_none());
    }

    #[tokio::test]
    async fn without_a_nonce_the_answer_is_as_before() {
        let signer = Signer::from_seed([3; 32]);
        let b = body(answer(outcome(None), None, &signer).unwrap()).await;
        assert_eq!(
            b,
            serde_json::json!({"accepted": 2, "duplicates": 1, "durable": true})
        );
        let mut not_durable = outcome(Some(serde_json::Value::Null));
        not_durable.not_durable = 3;
        let b = body(answer(not_durable, None, &signer).unwrap()).await;
        assert_eq!(
            b,
            serde_json::json!({"accepted": 2, "duplicates": 1, "durable": false,
                               "notDurable": 3, "receipt": null, "note": NOT_DURABLE})
        );
    }

    #[test]
    fn a_nonce_header_is_one_nonce_or_refused() {
        let mut h = HeaderMap::new();
        assert_eq!(request_nonce(&h).unwrap(), None);
        h.insert(NONCE_HEADER, HeaderValue::from_static(NONCE));
        assert_eq!(request_nonce(&h).unwrap().as_deref(), Some(NONCE));
        h.append(NONCE_HEADER, HeaderValue::from_static(NONCE));
        let e = request_nonce(&h).unwrap_err();
        assert_eq!(
            (e.status(), e.error),
            (StatusCode::BAD_REQUEST, "invalid_nonce")
        );
        assert!(e.message.contains("sent 2 times"), "{}", e.message);
        for bad in [
            "abc",
            "00112233445566778899aabbccddeef\n",
            "00112233445566778899aabbccddeefg",
        ] {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(bad) {
                h.insert(NONCE_HEADER, v);
                let e = request_nonce(&h).unwrap_err();
                assert_eq!(e.error, "invalid_nonce", "{bad}");
                assert!(e.message.contains("32 hex digits"), "{}", e.message);
            }
        }
    }

    #[tokio::test]
    async fn a_final_refusal_of_a_request_with_a_nonce_is_signed_for_it() {
        use auditrail_core::answer::{BodySeen, Named};
        let signer = Signer::from_seed([3; 32]);
        let mut h = HeaderMap::new();
        h.insert(NONCE_HEADER, HeaderValue::from_static(NONCE));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s"));
        let seen = BodySeen::Events {
            array: false,
            digest: auditrail_core::answer::body_digest(b"{}\n"),
        };
        let refused = ApiError::new(StatusCode::FORBIDDEN, "forbidden", "no")
            .at(&super::super::error::Position::Line(1))
            .seen(seen.clone());
        let r = sign_refusal(refused, &h, &Credentials::default(), &signer).into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let b = body(r).await;
        assert_eq!(b["answerSig"]["seen"], seen.to_string());
        let mut sig = [0u8; 64];
        hex::decode_to_slice(b["answerSig"]["sig"].as_str().unwrap(), &mut sig).unwrap();
        let auth = auditrail_core::answer::authorization_digest([b"Bearer s".as_slice()]);
        let text = |auth: &str| {
            auditrail_core::answer::refusal_text(
                403,
                "forbidden",
                Some(Named::Line(1)),
                &RefusedRequest {
                    nonce: NONCE,
                    authorization: auth,
                    client_cert: None,
                },
                &seen.to_string(),
            )
        };
        assert!(
            signer.public_key().verify(text(&auth).as_bytes(), &sig),
            "{b}"
        );
        assert!(
            !signer.public_key().verify(text("-").as_bytes(), &sig),
            "{b}"
        );

        // Not signed: a retryable status, no nonce, nothing said of the body.
        let busy = ApiError::unavailable("x", "y", std::time::Duration::from_secs(1))
            .seen(BodySeen::Unread);
        let b =
            body(sign_refusal(busy, &h, &Credentials::default(), &signer).into_response()).await;
        assert!(b.get("answerSig").is_none(), "{b}");
        let no_nonce = ApiError::unauthorized("no").seen(BodySeen::Unread);
        let b = body(
            sign_refusal(
                no_nonce,
                &HeaderMap::new(),
                &Credentials::default(),
                &signer,
            )
            .into_response(),
        )
        .await;
        assert!(b.get("answerSig").is_none(), "{b}");
        let unsaid = ApiError::unauthorized("no");
        let b =
            body(sign_refusal(unsaid, &h, &Credentials::default(), &signer).into_response()).await;
        assert!(b.get("answerSig").is_none(), "{b}");
    }
}
