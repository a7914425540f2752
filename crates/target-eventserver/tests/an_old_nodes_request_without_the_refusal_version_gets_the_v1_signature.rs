//! The event server signs its refusals for nodes of both ages. Every refusal of a batch
//! lists each event at fault (`events`) and names the first at top level (`line`), as
//! before. A request that sends a nonce without `Auditrail-Refusal-Version` (a node
//! before `auditrail-refusal-v2`, which gives up the `line` event alone) gets an
//! `answerSig` without `version`, over the `auditrail-refusal-v1` text that node
//! checks; one that asks for version 2 gets `version: 2`, over the text that covers the
//! list as written. Each verifies under the server's exported key over its own text
//! alone. So servers can be upgraded before their nodes. Real server process, plain
//! HTTP requests as each node sends them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::answer::{
    authorization_digest, body_digest, listed_refusal_text, refusal_text, Listed, Named,
    RefusedRequest, NONCE_HEADER, REFUSAL_VERSION_HEADER,
};
use common::events;

const NODE: &str = "node-secret-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_node_gets_the_refusal_text_it_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let (server, key) =
        common::server_with_a_node_key(dir.path(), NODE, "routing_keys = [\"allowed\"]\n");
    let public = {
        let text = key.to_string();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.strip_prefix("ed25519:").unwrap(), &mut bytes).unwrap();
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap()
    };
    let auth = authorization_digest([format!("Bearer {NODE}").as_bytes()]);
    // Events 0 and 3 (lines 1 and 4) carry routing key `forbidden`.
    let mut body = Vec::new();
    for e in events(6, true) {
        e.write_json(&mut body);
        body.push(b'\n');
    }
    let seen = format!("events lines sha256:{}", body_digest(&body));
    let nonce = "0123456789abcdef0123456789abcdef";
    for version in [None, Some("2")] {
        let mut req = reqwest::Client::new()
            .post(format!("{}/v1/events", server.url))
            .header("content-type", "application/x-ndjson")
            .header("authorization", format!("Bearer {NODE}"))
            .header(NONCE_HEADER, nonce);
        if let Some(v) = version {
            req = req.header(REFUSAL_VERSION_HEADER, v);
        }
        let resp = req.body(body.clone()).send().await.unwrap();
        assert_eq!(resp.status(), 403);
        let text = resp.text().await.unwrap();
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        // Both ages: the first event at fault at top level, every one listed.
        assert_eq!(
            (&answer["error"], &answer["line"], &answer["field"]),
            (
                &serde_json::json!("forbidden"),
                &serde_json::json!(1),
                &serde_json::json!("routingKey")
            ),
            "{answer}"
        );
        let listed: Vec<(u64, &str)> = answer["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["error"].as_str().unwrap()))
            .collect();
        assert_eq!(listed, [(1, "forbidden"), (4, "forbidden")], "{answer}");
        assert!(answer["events"][1]["message"]
            .as_str()
            .unwrap()
            .contains("may not write routingKey"));

        let sig = &answer["answerSig"];
        assert_eq!(sig["key"], key.to_string(), "{answer}");
        assert_eq!(sig["seen"], seen.as_str(), "{answer}");
        assert_eq!(
            sig.get("version").and_then(|v| v.as_u64()),
            version.map(|_| 2),
            "{answer}"
        );
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(sig["sig"].as_str().unwrap(), &mut bytes).unwrap();
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        let request = RefusedRequest {
            nonce,
            authorization: &auth,
            client_cert: None,
        };
        // The list as written: what the v2 text covers.
        let fields: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(&text).unwrap();
        let list = fields["events"].get();
        let v1 = refusal_text(403, "forbidden", Some(Named::Line(1)), &request, &seen);
        let v2 = listed_refusal_text(
            403,
            "forbidden",
            Some(Named::Line(1)),
            &request,
            &Listed {
                events: Some(list),
                more: 0,
            },
            &seen,
        );
        let verifies = |t: &str| public.verify_strict(t.as_bytes(), &signature).is_ok();
        assert_eq!(
            (verifies(&v1), verifies(&v2)),
            (version.is_none(), version.is_some()),
            "{answer}"
        );
    }
    // Nothing of the refused batches was stored.
    assert!(server.stored().is_empty());
}
