//! `POST /v1/query` with a body that is not a form is refused `415` naming the
//! Content-Type sent (or that none was), and a form with a Content-Encoding naming the
//! coding: before, every such body got "takes a application/x-www-form-urlencoded body,
//! not compressed", which named neither, and spoke of compression to a JSON body that
//! was not compressed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

async fn refused(s: &TestServer, headers: &[(&str, &str)]) -> String {
    let mut req = s.client.post(s.url("/v1/query"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.body(r#"{"sql":"SELECT 1"}"#).send().await.unwrap();
    assert_eq!(resp.status(), 415, "{headers:?}");
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["error"], "unsupported_media_type", "{answer}");
    answer["message"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refusal_names_the_type_or_coding_sent() {
    let s = start(STORE).await;
    for ct in [
        "application/json",
        "text/plain",
        "application/json; charset=utf-8",
    ] {
        let message = refused(&s, &[("content-type", ct)]).await;
        assert!(
            message.starts_with("POST /v1/query takes an application/x-www-form-urlencoded"),
            "{message}"
        );
        assert!(
            message.ends_with(&format!("; this request has Content-Type {ct:?}")),
            "{ct}: {message}"
        );
        assert!(!message.contains("compressed"), "{message}");
    }
    let message = refused(&s, &[]).await;
    assert!(
        message.ends_with("; this request has no Content-Type"),
        "{message}"
    );
    let form = ("content-type", "application/x-www-form-urlencoded");
    let message = refused(&s, &[form, ("content-encoding", "gzip")]).await;
    assert!(
        message.ends_with("; this request has Content-Encoding \"gzip\""),
        "{message}"
    );
}
