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

use auditrail_core::answer::{is_nonce, RefusedRequest, NONCE_HEADER, NONCE_HEX_LEN};
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
const NOT_DURABLE: &str = "at least one destination uses a flush policy: the events are \
                           written but not yet fsynced, and a power loss may lose them";

/// The request's nonce, which the answer signs: `None` without the header. A header
/// that is not one nonce ([`NONCE_HEX_LEN`] hex digits, sent once) is `400
/// invalid_nonce`: only such text may enter the signed answer.
pub(super) fn request_nonce(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
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

/// The body of the answer, in this order (the receipt's text is written as signed).
#[derive(Serialize)]
struct Body<'a> {
    accepted: usize,
    duplicates: usize,
    durable: bool,
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
    let authorization = auditrail_core::answer::authorization_digest(
        headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .map(|v| v.as_bytes()),
    );
    let request = RefusedRequest {
        nonce: &nonce,
        authorization: &authorization,
        client_cert: credentials.cert.as_ref().map(|c| c.sha256.as_ref()),
    };
    let text = auditrail_core::answer::refusal_text(
        refused.status().as_u16(),
        refused.error,
        refused.named(),
        &request,
        &seen,
    );
    refused.signing = Some(Box::new(Signing::Signed(RefusalSig {
        key: signer.public_key().to_string(),
        sig: hex::encode(signer.sign(text.as_bytes())),
        seen,
    })));
    refused
}

/// What the batch's answer says.
pub(super) struct Outcome {
    pub(super) accepted: usize,
    pub(super) duplicates: usize,
    pub(super) durable: bool,
    /// The `"receipt"` value (`None`: no chained store, the key is left out).
    pub(super) receipt: Option<serde_json::Value>,
}

/// What the answer to a request that sent a nonce signs besides the answer itself.
pub(super) struct SignedFor {
    /// The request's `Auditrail-Request-Nonce`.
    pub(super) nonce: String,
    /// [`auditrail_core::answer::body_digest`] of the request's decoded body.
    pub(super) body_digest: String,
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
    let answer_sig = signed_for.map(|request| {
        let text = auditrail_core::answer::signed_text(
            &request.nonce,
            &request.body_digest,
            outcome.accepted as u64,
            outcome.duplicates as u64,
            outcome.durable,
            // `null` is no receipt, as an absent one (a node reads both as none).
            receipt.map(RawValue::get).filter(|r| *r != "null"),
        );
        AnswerSig {
            key: signer.public_key().to_string(),
            sig: hex::encode(signer.sign(text.as_bytes())),
        }
    });
    Ok(Json(Body {
        accepted: outcome.accepted,
        duplicates: outcome.duplicates,
        durable: outcome.durable,
        receipt,
        note: (!outcome.durable).then_some(NOT_DURABLE),
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
        }
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
            durable: true,
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
            let signed = auditrail_core::answer::signed_text(NONCE, &digest, 2, 1, true, text);
            assert!(signer.public_key().verify(signed.as_bytes(), &sig), "{b}");
            let other = auditrail_core::answer::signed_text(NONCE, &digest, 3, 0, true, text);
            assert!(!signer.public_key().verify(other.as_bytes(), &sig), "{b}");
            let other_body = auditrail_core::answer::body_digest(b"{} \n");
            let other = auditrail_core::answer::signed_text(NONCE, &other_body, 2, 1, true, text);
            assert!(!signer.public_key().verify(other.as_bytes(), &sig), "{b}");
        }
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
        not_durable.durable = false;
        let b = body(answer(not_durable, None, &signer).unwrap()).await;
        assert_eq!(
            b,
            serde_json::json!({"accepted": 2, "duplicates": 1, "durable": false,
                               "receipt": null, "note": NOT_DURABLE})
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
