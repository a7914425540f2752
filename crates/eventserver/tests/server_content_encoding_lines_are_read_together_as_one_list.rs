//! `Content-Encoding` is a list (RFC 9110 §8.4): two lines say what one line with both
//! codings says. `gzip` on two lines (a body compressed twice) is refused as `gzip,
//! gzip` is, `415` naming both, and so is `identity` then `gzip`, on `POST /v1/events`
//! and `POST /v1/query` alike. Before, the first line alone was read: the twice
//! compressed body was decoded once and refused as invalid JSON at line 1, and a gzip
//! body after an `identity` line was read without decoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use std::io::Write;

use serde_json::Value;
use server_support::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

async fn send(
    s: &TestServer,
    path: &str,
    content_type: &str,
    encodings: &[&str],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = s
        .client
        .post(s.url(path))
        .header("content-type", content_type)
        .body(body);
    for coding in encodings {
        // `header` appends: each coding is a line of its own.
        req = req.header("content-encoding", *coding);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_coding_lines_are_refused_as_the_list_they_make() {
    let s = start(STORE).await;
    let events = ndjson(&[event("n1", 1)]).into_bytes();
    let form = b"sql=SELECT+1".to_vec();
    for (path, content_type, plain) in [
        ("/v1/events", "application/x-ndjson", events.clone()),
        ("/v1/query", "application/x-www-form-urlencoded", form),
    ] {
        for (codings, body) in [
            (&["gzip", "gzip"][..], gzip(&gzip(&plain))),
            (&["identity", "gzip"][..], gzip(&plain)),
        ] {
            let (status, answer) = send(&s, path, content_type, codings, body).await;
            assert_eq!(status, 415, "{path} {codings:?}: {answer}");
            assert_eq!(answer["error"], "unsupported_media_type", "{answer}");
            if path == "/v1/events" {
                let list = codings.join(", ");
                assert!(
                    answer["message"].as_str().unwrap().contains(&list),
                    "{answer}"
                );
            }
        }
    }
    assert!(stored_ids(&s.store()).is_empty(), "nothing stored");
    let (status, answer) = send(
        &s,
        "/v1/events",
        "application/x-ndjson",
        &["gzip"],
        gzip(&events),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}
