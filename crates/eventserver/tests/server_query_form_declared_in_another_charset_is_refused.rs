//! `POST /v1/query` reads its form as UTF-8. A form whose `Content-Type` declares
//! another charset is refused with `415` naming it, as an event body is: read as UTF-8,
//! the Latin-1 bytes of `Ã©` are `é`, and the query ran about someone else than its
//! sender wrote (before, it was answered `200` with the rows of `é`).
//! `charset=utf-8` and `us-ascii` are accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

async fn ask(s: &TestServer, content_type: &str) -> (u16, Value) {
    // In ISO-8859-1 these bytes read `Ã©`; in UTF-8, `é`.
    let mut form = b"sql=SELECT+'".to_vec();
    form.extend_from_slice("é".as_bytes());
    form.extend_from_slice(b"'+AS+name");
    let resp = s
        .client
        .post(s.url("/v1/query"))
        .header("content-type", content_type)
        .body(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_charset_is_415_naming_it_and_utf8_is_answered() {
    let s = start(STORE).await;
    for content_type in [
        "application/x-www-form-urlencoded; charset=iso-8859-1",
        "application/x-www-form-urlencoded;charset=\"windows-1252\"",
        "application/x-www-form-urlencoded; charset=utf-8; charset=latin1",
    ] {
        let (status, answer) = ask(&s, content_type).await;
        assert_eq!(status, 415, "{content_type}: {answer}");
        assert_eq!(answer["error"], "unsupported_media_type", "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("charset"),
            "{answer}"
        );
    }
    for content_type in [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ] {
        let (status, answer) = ask(&s, content_type).await;
        assert_eq!(status, 200, "{content_type}: {answer}");
        assert_eq!(answer["rows"][0]["name"], "é", "{answer}");
    }
}
