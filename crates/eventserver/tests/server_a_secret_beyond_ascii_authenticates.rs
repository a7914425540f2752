//! A key whose `secret` holds characters beyond ASCII (`pässwort-geheim`: the config
//! takes it) authenticates a request whose `Authorization` header carries it as UTF-8,
//! as a node's `auth_key` sends it. Before, the header was read as visible ASCII only, and
//! such a request was answered `401 missing Authorization`: the key could never be
//! used, though the server started with it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use reqwest::header::HeaderValue;
use serde_json::Value;
use server_support::*;

const KEYS: &str = "[[keys]]\nid = \"umlaut\"\nsecret = \"pässwort-geheim\"\n";

async fn send(s: &TestServer, seq: u64, authorization: &str) -> (u16, Value) {
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", "application/x-ndjson")
        .header(
            "authorization",
            HeaderValue::from_bytes(authorization.as_bytes()).unwrap(),
        )
        .body(ndjson(&[event("n1", seq)]))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn its_utf8_bearer_is_that_key() {
    let s = start(&format!("{STORE}{KEYS}")).await;
    let (status, answer) = send(&s, 1, "Bearer pässwort-geheim").await;
    assert_eq!(status, 200, "{answer}");
    let records = stored_records(&s.store());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["keyId"], "umlaut");

    let (status, answer) = send(&s, 2, "Bearer passwort-geheim").await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["message"], "unknown key", "{answer}");
}
