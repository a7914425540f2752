//! `Content-Type`, `Authorization` and `Host` each hold one value (RFC 9110 §5.3). A
//! request that sends one of them twice is refused with `400 repeated_header` naming
//! it, and nothing of its body is stored. Before, the first line alone was read: a
//! Latin-1 body whose charset was on the second `Content-Type` line was stored as
//! UTF-8 text (its bytes `C3 A9`, Latin-1 `Ã©`, stored as `é`), two bearer keys were
//! taken as the first, and two `Host` lines (which RFC 9112 §3.2 says a server must
//! answer with `400`) were answered as one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

const KEYS: &str = "[[keys]]\nid = \"svc-a\"\nsecret = \"secret-of-a\"\n\
                    [[keys]]\nid = \"svc-b\"\nsecret = \"secret-of-b\"\n";

async fn send(s: &TestServer, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, Value) {
    let mut req = s.client.post(s.url("/v1/events")).body(body);
    for (name, value) in headers {
        // `header` appends: each pair is a line of its own.
        req = req.header(*name, *value);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_such_header_sent_twice_is_400_naming_it_and_nothing_is_stored() {
    let s = start(&format!("{STORE}{KEYS}")).await;
    let host = s.url("").trim_start_matches("http://").to_owned();
    let mut e = event("n1", 1);
    e["message"]["authUser"] = "é".into();
    let body = ndjson(&[e]).into_bytes();
    let ndjson_type = ("content-type", "application/x-ndjson");
    let key_a = ("authorization", "Bearer secret-of-a");
    for (name, headers) in [
        (
            "Content-Type",
            vec![
                ndjson_type,
                ("content-type", "application/x-ndjson; charset=iso-8859-1"),
                key_a,
            ],
        ),
        (
            "Authorization",
            vec![ndjson_type, key_a, ("authorization", "Bearer secret-of-b")],
        ),
        (
            "Host",
            vec![
                ndjson_type,
                key_a,
                ("host", &host),
                ("host", "other.example"),
            ],
        ),
    ] {
        let (status, answer) = send(&s, &headers, body.clone()).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert_eq!(answer["error"], "repeated_header", "{name}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("the header {name} is sent 2 times")),
            "{message}"
        );
    }
    assert!(stored_ids(&s.store()).is_empty(), "nothing stored");

    // Each sent once: stored.
    let (status, answer) = send(&s, &[ndjson_type, key_a], body).await;
    assert_eq!(status, 200, "{answer}");
}
