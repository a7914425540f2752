//! The event server signs its `200` for nodes of both ages: a request that sends a
//! nonce without `Auditrail-Answer-Version` (a node before `auditrail-answer-v3`) gets
//! an `answerSig` without `version`, over the `auditrail-answer-v2` text that node
//! checks; one that asks for version 3 gets `version: 3`, over the text that binds the
//! `Authorization` it sent. Each verifies under the server's exported key over its own
//! text alone. So servers can be upgraded before their nodes. Real server process,
//! plain HTTP requests as each node sends them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::answer::{
    authorization_digest, body_digest, signed_text, AnsweredRequest, Credential, NONCE_HEADER,
    VERSION_HEADER,
};
use common::events;

const NODE: &str = "node-secret-0123";

/// The answer to `POST /v1/events` of `body` with `nonce`, the node's key and, when
/// `version`, `Auditrail-Answer-Version: <version>`: its text.
async fn post(url: &str, body: &[u8], nonce: &str, version: Option<&str>) -> String {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/v1/events"))
        .header("content-type", "application/x-ndjson")
        .header("authorization", format!("Bearer {NODE}"))
        .header(NONCE_HEADER, nonce);
    if let Some(v) = version {
        req = req.header(VERSION_HEADER, v);
    }
    let resp = req.body(body.to_vec()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_node_gets_the_text_it_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let (server, key) = common::server_with_a_node_key(dir.path(), NODE, "");
    let public = {
        let text = key.to_string();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.strip_prefix("ed25519:").unwrap(), &mut bytes).unwrap();
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap()
    };
    let auth = authorization_digest([format!("Bearer {NODE}").as_bytes()]);
    for (version, bound) in [(None, false), (Some("3"), true)] {
        let mut body = Vec::new();
        for e in events(3, false) {
            e.write_json(&mut body);
            body.push(b'\n');
        }
        let digest = body_digest(&body);
        let nonce = "0123456789abcdef0123456789abcdef";
        let text = post(&server.url, &body, nonce, version).await;
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        let sig = &answer["answerSig"];
        assert_eq!(sig["key"], key.to_string(), "{answer}");
        assert_eq!(
            sig.get("version").and_then(|v| v.as_u64()),
            bound.then_some(3),
            "{answer}"
        );
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(sig["sig"].as_str().unwrap(), &mut bytes).unwrap();
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        // The receipt's text as written: what the signature covers.
        let fields: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(&text).unwrap();
        let receipt = fields
            .get("receipt")
            .map(|r| r.get())
            .filter(|r| *r != "null");
        assert!(receipt.is_some(), "{answer}");
        let text = |credential| {
            let request = AnsweredRequest {
                nonce,
                body_digest: &digest,
                credential,
            };
            signed_text(&request, 3, 0, true, receipt)
        };
        let v2 = text(None);
        let v3 = text(Some(Credential {
            authorization: &auth,
            client_cert: None,
        }));
        let (signed, other) = if bound { (v3, v2) } else { (v2, v3) };
        assert!(
            public.verify_strict(signed.as_bytes(), &signature).is_ok(),
            "{answer}"
        );
        assert!(
            public.verify_strict(other.as_bytes(), &signature).is_err(),
            "{answer}"
        );
    }
}
