//! A `Content-Type` parameter value may be a quoted string holding `;` and `=`
//! (RFC 9110 section 5.6.4): `foo="a;charset=latin1"` is one parameter `foo`, not a
//! charset. The body is UTF-8 and is stored; only a real `charset` parameter naming
//! another charset is refused (`server_body_declared_in_another_charset_than_utf8_is_refused.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quoted_parameter_holding_charset_text_is_accepted() {
    let s = start(STORE).await;
    let mut e = event("n1", 1);
    e["message"]["authUser"] = "é".into();
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header(
            "content-type",
            r#"application/x-ndjson; profile="urn:x;charset=latin1"; charset=utf-8"#,
        )
        .body(ndjson(&[e]))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stored_ids(&s.store()).len(), 1, "the event is stored");
}
