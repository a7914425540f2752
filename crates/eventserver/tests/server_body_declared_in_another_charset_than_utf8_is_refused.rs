//! Events are JSON, which is UTF-8 (RFC 8259 section 8.1), and the server reads every
//! body as UTF-8. A body whose `Content-Type` declares another charset is refused with
//! `415` naming it, rather than read as other text than its sender wrote: the Latin-1
//! bytes of `Ã©` are the UTF-8 bytes of `é`, and were stored as `é` with a `200`.
//! `charset=utf-8` (any case, quoted or not) is accepted, and so is `charset=us-ascii`
//! (its text is UTF-8 byte for byte).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

async fn post_as(s: &TestServer, content_type: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_charset_is_415_naming_it_and_utf8_is_accepted() {
    let s = start(STORE).await;
    let mut e = event("n1", 1);
    e["message"]["authUser"] = "é".into();
    // In ISO-8859-1 these bytes read `Ã©`.
    let body = ndjson(&[e]).into_bytes();
    for content_type in [
        "application/x-ndjson; charset=iso-8859-1",
        "application/x-ndjson;charset=\"windows-1252\"",
        "application/json; charset=UTF-16",
    ] {
        let (status, answer) = post_as(&s, content_type, body.clone()).await;
        assert_eq!(status, 415, "{content_type}: {answer}");
        assert_eq!(answer["error"], "unsupported_media_type", "{answer}");
        let message = answer["message"].as_str().unwrap().to_ascii_lowercase();
        assert!(message.contains("charset"), "{message}");
    }
    assert!(stored_ids(&s.store()).is_empty(), "nothing stored");

    for (seq, content_type) in [
        (2, "application/x-ndjson; charset=utf-8"),
        (3, "application/x-ndjson; charset=\"UTF-8\""),
        (4, "application/x-ndjson; charset=US-ASCII"),
    ] {
        let (status, answer) =
            post_as(&s, content_type, ndjson(&[event("n1", seq)]).into_bytes()).await;
        assert_eq!(status, 200, "{content_type}: {answer}");
    }
}
